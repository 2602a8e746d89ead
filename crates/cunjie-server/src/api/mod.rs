//! The HTTP API (v1): routes, the error body, and the blocking-storage bridge.

mod error;
mod openapi;
mod routes;
mod uploads;

pub use error::ApiError;
pub(crate) use routes::router;

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// The security headers every answer carries, API and dashboard alike; only the content
/// policy differs between them.
pub(crate) fn security_headers<S: Clone + Send + Sync + 'static>(
    r: Router<S>,
    content_security_policy: &'static str,
) -> Router<S> {
    r.layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(content_security_policy),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("DENY"),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ))
}
pub use uploads::{SweepReport, sweep_uploads};
