//! Limits on a request's head, answered in the API's error shape: a target
//! (path and query) longer than `max_uri_bytes` is 414, headers over
//! `max_header_bytes` or [`MAX_HEADERS`] in number are 431. The HTTP stack
//! below has higher limits of its own, so these are the ones clients meet.

use super::AppState;
use super::error::ApiError;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Most header fields a request may carry.
pub const MAX_HEADERS: usize = 100;

/// Why a request head is refused, if it is.
pub fn check(request: &Request, max_uri_bytes: usize, max_header_bytes: usize) -> Option<ApiError> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > max_uri_bytes {
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!(
                "the request target is {target} bytes; at most {max_uri_bytes} are accepted (send long input in the body)"
            ),
        ));
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if headers.len() > MAX_HEADERS || bytes > max_header_bytes {
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "the request has {} header fields in {bytes} bytes; at most {MAX_HEADERS} fields in {max_header_bytes} bytes are accepted",
                headers.len()
            ),
        ));
    }
    None
}

/// Middleware applying [`check`] with the server's settings.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let http = &state.settings.http;
    match check(&request, http.max_uri_bytes, http.max_header_bytes) {
        Some(refusal) => refusal.into_response(),
        None => next.run(request).await,
    }
}
