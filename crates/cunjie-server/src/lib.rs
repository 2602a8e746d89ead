//! Cunjie's township server.
//!
//! One binary, `cunjie-server`, keeps the township's registry and every synced fact. Phones
//! enroll with a one-time code, push their outbox (applied once, however often it is retried)
//! and pull the scopes their enrollment and assignments give them. Storage is SQLite in the
//! data directory by default, or PostgreSQL; both run the same rules (`core`) through one small
//! seam (`store::Tx`).
//!
//! The library exposes what the binary and the tests need: [`app`], [`serve`], [`AppState`],
//! and [`Township`] for the office's operations (init, import, enroll, revoke).

mod api;
mod core;
pub mod demo;
pub mod import;
mod ops;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use cunjie_domain::clock::Clock;
use tokio::net::TcpListener;

pub use api::ApiError;
pub use core::DeviceCtx;
pub use core::auth::AuthError;
pub use core::registry::{RegistryError, RegistryItem};
pub use ops::{Counts, Township};
pub use store::{Db, StorageError};

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The server clock.
    pub clock: Arc<dyn Clock>,
}

/// The HTTP application.
pub fn app(state: AppState) -> Router {
    api::router(state)
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
