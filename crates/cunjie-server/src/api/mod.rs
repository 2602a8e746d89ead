//! The HTTP API (v1): routes, the error body, and the blocking-storage bridge.

mod error;
mod openapi;
mod routes;
mod uploads;

pub use error::ApiError;
pub(crate) use routes::router;
pub use uploads::{SweepReport, sweep_uploads};
