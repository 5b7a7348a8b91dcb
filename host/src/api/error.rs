//! The API's one error shape, `{ "error": { "code": "…", "message": "…" } }`,
//! and the mapping of every lower-level error onto it with the right status.
//! Server-side failures are logged here with their cause and answered with a
//! generic message; client errors are not logged, because their message may
//! echo what the client sent (a password in a mistyped field, say).

use crate::auth::AuthError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mailroom_plugin_host::PluginError;
use mailroom_plugin_host::registry::RegistryError;
use mailroom_store::StoreError;
use serde::Serialize;
use std::borrow::Cow;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable, e.g. `not_found`, `invalid_body`, `trap`.
    pub code: String,
    /// What went wrong, in words a person can act on.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// The same answer for "does not exist" and "exists in another org".
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// Logs `cause` (never shown to the client) and answers 500.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error while serving a request");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error; see the server log",
        )
    }

    /// Maps one of axum's extractor rejections (bad JSON, wrong content
    /// type, body too large, bad path or query) by its status.
    pub fn from_rejection(status: StatusCode, text: String) -> Self {
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
            StatusCode::BAD_REQUEST => "bad_request",
            s if s.is_server_error() => return Self::internal(&text),
            _ => "bad_request",
        };
        let message = match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                format!("{text}: the request body is larger than this route accepts")
            }
            _ => text,
        };
        Self::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.into_owned(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::not_found(what),
            StoreError::Conflict(m) => Self::conflict(m),
            StoreError::Invalid(m) => Self::unprocessable(m),
            e @ (StoreError::Database(_) | StoreError::Crypto(_)) => Self::internal(&e),
        }
    }
}

impl From<PluginError> for ApiError {
    fn from(e: PluginError) -> Self {
        let status = match e {
            PluginError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            PluginError::Host(_) => return Self::internal(&e),
            // Admission problems and failed calls alike: the request could not
            // be carried out because of what the component does.
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Self::new(status, e.kind().as_str(), e.to_string())
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Rejected(p) => p.into(),
            RegistryError::NotFound(what) => Self::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("plugin {what} not found"),
            ),
            e @ RegistryError::NoShadow(_) => {
                Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            RegistryError::Conflict(m) => Self::conflict(m),
            RegistryError::Invalid(m) => Self::unprocessable(m),
            e @ RegistryError::UploadCheck(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "upload_check_failed",
                e.to_string(),
            ),
            e @ RegistryError::TooLarge { .. } => Self::too_large(e.to_string()),
            e @ RegistryError::Storage(_) => Self::internal(&e),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Missing | AuthError::Malformed | AuthError::Invalid => {
                Self::new(StatusCode::UNAUTHORIZED, "unauthorized", e.to_string())
            }
            AuthError::TooManyFailures { .. } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                e.to_string(),
            ),
            AuthError::NotAdmin => Self::forbidden(e.to_string()),
            AuthError::Store(s) => s.into(),
        }
    }
}

/// The auth extractors' rejection answers in the same shape as everything else.
impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            AuthError::TooManyFailures { retry_after } => Some(retry_after.as_secs().max(1)),
            _ => None,
        };
        let mut response = ApiError::from(self).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if response.status() == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_statuses() {
        assert_eq!(
            ApiError::from(StoreError::NotFound("account")).status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ApiError::from(StoreError::Conflict("x".into())).status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            ApiError::from(StoreError::Invalid("x".into())).status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let internal = ApiError::from(StoreError::Crypto("key mismatch".into()));
        assert_eq!(internal.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !internal.message.contains("key mismatch"),
            "causes stay in the log"
        );
    }

    #[test]
    fn registry_errors_map_to_statuses() {
        let refused = ApiError::from(RegistryError::Rejected(PluginError::InvalidComponent(
            "not wasm".into(),
        )));
        assert_eq!(
            (refused.status, refused.code.as_ref()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_component")
        );
        assert!(refused.message.contains("not wasm"));
        let big = ApiError::from(RegistryError::TooLarge { size: 10, limit: 5 });
        assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            ApiError::from(RegistryError::NotFound("p".into())).status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ApiError::from(RegistryError::Conflict("c".into())).status,
            StatusCode::CONFLICT
        );
    }

    #[test]
    fn auth_errors_are_401_or_403() {
        assert_eq!(
            ApiError::from(AuthError::Missing).status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            ApiError::from(AuthError::Invalid).status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            ApiError::from(AuthError::NotAdmin).status,
            StatusCode::FORBIDDEN
        );
    }
}
