//! Cunjie's domain: the words of rural sanitation work as Rust values, and the rules over them.
//!
//! This crate does no I/O. Time comes in through [`clock::Clock`] (the only wall-clock reader is
//! [`clock::SystemClock`]), ids through [`ids::IdGen`], and data as values. The standards catalog
//! is embedded data (`data/catalog.toml`). Storage lives in `cunjie-store` (phone) and
//! `cunjie-server`; the wire format lives in `cunjie-protocol`.
#![deny(missing_docs)]

pub mod amount;
pub mod catalog;
pub mod clock;
pub mod fact;
pub mod geo;
pub mod hlc;
pub mod ids;
pub mod person;
pub mod place;
pub mod scoring;
pub mod template;
pub mod validate;

pub use amount::Amount;
pub use catalog::{Catalog, SubjectKind};
pub use clock::{Clock, FakeClock, SystemClock};
pub use hlc::{Hlc, HlcClock};
