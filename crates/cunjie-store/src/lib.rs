//! The phone's database.
//!
//! One SQLite file per device, opened in WAL mode with `synchronous=FULL`: a phone that dies of
//! a flat battery must not lose a commit it already showed as saved. The store is synchronous
//! and owns its connection; the sync engine and the UI reach it through typed methods.
//!
//! **Invariant:** every user-visible write that must reach the server (submitting an
//! inspection or a round, issuing or closing a rectification, editing a registry field) is one
//! SQLite transaction holding the domain rows *and* their outbox row; an error rolls back both.
//! Drafts are local only and never touch the outbox.
//!
//! What this crate does not do: network (see `cunjie-sync`), image work (`cunjie-media`),
//! or deciding what is valid (that is `cunjie_domain::validate`, which the store calls).

/// A crash-test failpoint (R3, `docs/reliability.md`): `fail::fail_point!` with the
/// `failpoints` feature, nothing without it.
macro_rules! failpoint {
    ($name:literal) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name);
    };
}

mod db;
mod draft;
mod enrollment;
mod error;
mod fact;
mod outbox;
mod photo;
mod pull;
mod rectification;
mod registry;

pub use db::{Store, StoreOptions, migrations};
pub use enrollment::Enrollment;
pub use error::StoreError;
pub use fact::HistoryEntry;
pub use outbox::{PendingCounts, SyncState};
pub use photo::{
    NewPhoto, PhotoRow, PhotoState, PhotoSweep, PhotoTotals, UnattestedPhoto, UploadJob,
};
pub use pull::ApplyOutcome;
pub use registry::{HOUSEHOLD_EDITABLE, HouseholdRow};
