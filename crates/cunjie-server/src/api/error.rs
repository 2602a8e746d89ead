//! Every error is a JSON `ErrorBody { code, message }` with a stable code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cunjie_protocol::v1::{ErrorBody, codes};

use crate::core::auth::AuthError;
use crate::core::pull::PullError;
use crate::core::push::PushError;
use crate::core::registry::RegistryError;
use crate::store::StorageError;

/// An API error: status, stable code, message for a person.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// What happened and what to do next.
    pub message: String,
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "the server failed; nothing was lost on the phone, try again later",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                code: self.code.to_owned(),
                message: self.message,
            }),
        )
            .into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::INTERNAL,
                "the database is busy; try again",
            ),
            other => Self::internal(other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Storage(s) => s.into(),
            AuthError::CodeInvalid => Self::new(
                StatusCode::BAD_REQUEST,
                codes::ENROLLMENT_INVALID,
                e.to_string(),
            ),
            AuthError::BadPublicKey => {
                Self::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, e.to_string())
            }
            AuthError::Unauthorised | AuthError::BadLogin => {
                Self::new(StatusCode::UNAUTHORIZED, codes::UNAUTHORISED, e.to_string())
            }
            AuthError::DeviceExists(_)
            | AuthError::RoleNotHeld { .. }
            | AuthError::UnknownPerson(_) => {
                Self::new(StatusCode::CONFLICT, codes::BAD_REQUEST, e.to_string())
            }
            AuthError::Hash(_) => Self::internal(e),
        }
    }
}

impl From<PushError> for ApiError {
    fn from(e: PushError) -> Self {
        match e {
            PushError::Storage(s) => s.into(),
            PushError::SeqGap { .. } => {
                Self::new(StatusCode::CONFLICT, codes::SEQ_GAP, e.to_string())
            }
            PushError::DeviceMismatch(_) => Self::new(
                StatusCode::BAD_REQUEST,
                codes::DEVICE_MISMATCH,
                e.to_string(),
            ),
        }
    }
}

impl From<PullError> for ApiError {
    fn from(e: PullError) -> Self {
        match e {
            PullError::Storage(s) => s.into(),
            PullError::NotYourScope(_) => {
                Self::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, e.to_string())
            }
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Storage(s) => s.into(),
            other => Self::new(
                StatusCode::BAD_REQUEST,
                codes::BAD_REQUEST,
                other.to_string(),
            ),
        }
    }
}
