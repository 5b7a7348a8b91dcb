//! The org's destination policy over HTTP (admins only): which hosts and
//! ports the org's accounts, connection tests and OAuth token URLs may
//! reach ([`DestinationPolicy`]). Admins are bound by it like everyone
//! else; changing it is their deliberate, audited act.

use super::AppState;
use super::error::{ApiResult, ErrorBody};
use super::extract::Json;
use crate::auth::AuthAdmin;
use axum::extract::State;
use mailroom_core::destinations::DestinationPolicy;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_destination_policy, put_destination_policy))
}

/// The org's destination policy (admins only). By default public addresses
/// on the mail ports (and 443 for OAuth token URLs) only.
#[utoipa::path(get, path = "/org/destination-policy", tag = "users",
    responses((status = 200, body = DestinationPolicy), (status = 403, body = ErrorBody)))]
pub async fn get_destination_policy(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
) -> ApiResult<Json<DestinationPolicy>> {
    Ok(Json(state.store.destination_policy(&p.org).await?))
}

/// Replaces the org's destination policy (admins only); an entry that
/// cannot apply is refused (422) with which one and why, and nothing
/// changes. Recorded in the audit log.
#[utoipa::path(put, path = "/org/destination-policy", tag = "users",
    request_body = DestinationPolicy,
    responses((status = 200, body = DestinationPolicy), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_destination_policy(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Json(policy): Json<DestinationPolicy>,
) -> ApiResult<Json<DestinationPolicy>> {
    state.store.set_destination_policy(&p.org, &policy).await?;
    super::audit::record(
        &state,
        &p,
        "org.destination_policy.update",
        p.org.as_str(),
        serde_json::to_value(&policy).unwrap_or_default(),
    )
    .await;
    Ok(Json(policy))
}
