//! The phone as one API: everything the app's UI (through the Tauri shell) and the simulated
//! devices of the tests can do, over the store, the photo pipeline and the sync engine.
//!
//! [`Device`] opens the phone's data folder and offers typed operations: enrollment and sync,
//! the inspector's households and checklists, the cleaner's zones, rounds and checkpoints,
//! rectifications, history, settings, and evidence photos ([`capture_photo`]: camera bytes in,
//! a watermarked, signed derivative kept durably with its attestation queued). Each write is
//! saved at once; only enrollment and sync need the network. The values it returns
//! ([`api`]) are what the UI receives as JSON.

pub mod api;
mod device;
mod error;
mod photo;

pub use device::{BUSINESS_TEMPLATE, Device, DeviceOptions, HOUSEHOLD_TEMPLATE};
pub use error::DeviceError;
pub use photo::{CaptureContext, attest_unattested_photos, capture_photo, device_key};
