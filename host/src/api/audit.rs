//! The org's audit log: what admins (and users, on their own tokens and
//! accounts) changed. Entries are written after the change succeeded and
//! never carry secrets or config values, only which keys changed. Reading
//! the log is for admins.

use super::AppState;
use super::error::ApiResult;
use super::extract::{Json, Query};
use crate::auth::{AuthAdmin, Principal};
use axum::extract::State;
use mailroom_store::AuditEntry;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Appends an entry. The change it records has already happened, so a
/// failure to write the entry is logged rather than failing the request.
pub async fn record(
    state: &AppState,
    p: &Principal,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) {
    if let Err(e) = state
        .store
        .audit(&p.org, Some(&p.user), action, Some(target), &detail)
        .await
    {
        tracing::error!(org = %p.org, action, target, error = %e, "could not write the audit log");
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries older than this entry id (the `id` of the last entry of the previous page).
    pub before: Option<i64>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// The org's audit log, newest first (admins only).
#[utoipa::path(get, path = "/audit", tag = "users", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>),
              (status = 403, body = super::error::ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    Ok(Json(
        state
            .store
            .list_audit(&p.org, q.before, q.limit.unwrap_or(100))
            .await?,
    ))
}
