//! Cunjie's township server.
//!
//! One binary, `cunjie-server`, keeps the township's registry and every synced fact. Phones
//! enroll with a one-time code, push their outbox (applied once, however often it is retried)
//! and pull the scopes their enrollment and assignments give them. Storage is SQLite in the
//! data directory by default, or PostgreSQL; both run the same rules (`core`) through one small
//! seam (`store::Tx`).
//!
//! Photos follow their records: a phone pushes a signed attestation of each photo with its
//! outbox, then uploads the bytes by tus (`/api/v1/uploads`); they end up in [`Blobs`] (a local
//! folder, or S3 with the `s3` feature), checked against the attestation.
//!
//! The library exposes what the binary and the tests need: [`app`], [`serve`], [`AppState`],
//! [`Blobs`], [`sweep_uploads`], and [`Township`] for the office's operations (init, import,
//! enroll, revoke).

/// A crash-test failpoint (R3, `docs/reliability.md`): `fail::fail_point!` with the
/// `failpoints` feature, nothing without it.
macro_rules! failpoint {
    ($name:literal) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name);
    };
}

mod api;
pub mod blobs;
mod core;
mod dashboard;
pub mod demo;
pub mod import;
mod ops;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use cunjie_domain::clock::Clock;
use tokio::net::TcpListener;

pub use api::{ApiError, SweepReport, sweep_uploads};
pub use blobs::{BlobError, Blobs};
pub use core::DeviceCtx;
pub use core::audit::{AuditEntry, AuditReport};
pub use core::auth::{AuthError, DEVICE_TOKEN_IDLE_DAYS};
pub use core::registry::{RegistryError, RegistryItem};
pub use core::scoring::{
    Appeal, BoardHousehold, DEFAULT_SCHEME, PeriodKey, Ranking, RedBlack, Review, SAMPLE_MIN,
    SAMPLE_PCT, ScoringError, VillageRank, sample_size,
};
pub use ops::{Counts, Township};
pub use store::{Db, StorageError};

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The server clock.
    pub clock: Arc<dyn Clock>,
    /// Photo blobs and partial uploads.
    pub blobs: Blobs,
}

impl AppState {
    /// The state of a server on `db`, reading time from `clock`, keeping photos in `blobs`
    /// (for example `Blobs::local(data_dir)?`).
    pub fn new(db: Db, clock: Arc<dyn Clock>, blobs: Blobs) -> Self {
        Self { db, clock, blobs }
    }
}

/// The HTTP application.
pub fn app(state: AppState) -> Router {
    api::router(state.clone()).merge(dashboard::router(state))
}

/// Sweeps expired uploads now and then every `every` until the task is dropped (see
/// [`sweep_uploads`]); errors are logged and the next round tries again.
pub async fn sweep_periodically(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match sweep_uploads(&state).await {
            Ok(r) if r.expired > 0 || r.files_removed > 0 => {
                tracing::info!(
                    expired = r.expired,
                    files_removed = r.files_removed,
                    "swept uploads"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.message, "upload sweep failed"),
        }
        // The month's household samples, drawn early so the phones get them with a pull.
        let (db, now) = (state.db.clone(), state.clock.now());
        match tokio::task::spawn_blocking(move || db.tx(|tx| core::scoring::draw_current(tx, now)))
            .await
        {
            Ok(Ok(n)) if n > 0 => tracing::info!(townships = n, "drew the month's samples"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "drawing the month's samples failed"),
            Err(e) => tracing::warn!(error = %e, "drawing the month's samples panicked"),
        }
    }
}

/// Serves the app on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?addr, "cunjie-server listening");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
