//! The phone as one API: what the app (and the simulated devices of the tests) can ask for,
//! over the store, the photo pipeline and the sync engine.
//!
//! So far it holds the capture of evidence photos ([`capture_photo`]): camera bytes in, a
//! watermarked, signed derivative kept durably with its attestation queued for the server.
//! The rest of the phone's operations move here with the app (issue 5).

mod photo;

pub use photo::{CaptureContext, DeviceError, capture_photo, device_key};
