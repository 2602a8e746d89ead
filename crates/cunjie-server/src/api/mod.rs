//! The HTTP API (v1): routes, the error body, and the blocking-storage bridge.

mod error;
mod openapi;
mod routes;

pub use error::ApiError;
pub(crate) use routes::router;
