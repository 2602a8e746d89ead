//! The phone's sync engine: pushes the outbox, then pulls the device's scopes, over a
//! [`Transport`] ([`HttpTransport`] in the app, an in-memory fake in tests).
//!
//! What it relies on (sync.md §5.4–5.5, §5.8–5.9):
//! - **Exactly once by receipts.** A push whose answer is lost is sent again unchanged; the
//!   server answers seqs it already settled from its receipts. Mutations are marked in flight
//!   before they are sent and leave the outbox only in the transaction that applies the answer.
//! - **Pages with their cursor.** Each pulled page is applied with its cursor in one store
//!   transaction; the plan ([`cunjie_protocol::plan`]) decides per scope whether to pull,
//!   reset (new epoch) or drop (no longer visible).
//! - **An auth failure never deletes data.** A refused token only flags the enrollment
//!   ([`SyncStatus::needs_reenroll`]); the outbox, drafts and photos wait for a new enrollment.
//! - **Bounded retries.** Retryable errors (no signal, timeouts, 5xx, 429) are retried with
//!   jittered exponential backoff ([`SyncConfig::backoff`]); permanent ones end the run at once.
//!
//! The store is synchronous and shared as `Arc<Mutex<Store>>`; the engine locks it only around
//! each store call, never across a network wait.

/// A crash-test failpoint (R3, `docs/reliability.md`): `fail::fail_point!` with the
/// `failpoints` feature, nothing without it.
macro_rules! failpoint {
    ($name:literal) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name);
    };
}

mod engine;
mod http;
mod transport;
mod upload;

pub use backon::ExponentialBuilder;
pub use engine::{
    PhotoProgress, SyncConfig, SyncEngine, SyncError, SyncReport, SyncStatus, default_backoff,
};
pub use http::{DEFAULT_TIMEOUT, HttpTransport, ensure_crypto_provider};
pub use transport::{Transport, TransportError};
