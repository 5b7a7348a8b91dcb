//! A plugin's outbound HTTPS grant over HTTP (admins only): which hosts the
//! plugin may call, with which CA and caps, or none. The registry checks
//! and keeps it; `mailroom-plugin-host::outbound` enforces it per request.

use super::AppState;
use super::error::ApiResult;
use super::extract::{Json, Path};
use crate::auth::AuthAdmin;
use axum::extract::State;
use mailroom_plugin_host::outbound::OutboundGrant;
use mailroom_plugin_host::registry::PluginView;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type ErrorBody = super::error::ErrorBody;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(grant_outbound_http, revoke_outbound_http))
}

/// Lets the plugin call these hosts over HTTPS, replacing an earlier grant
/// (admins only). Requests go to the listed hosts and ports only, through
/// the org's destination policy (a private or loopback address needs its
/// entry there too), with at most `max_requests_per_call` requests per
/// plugin call, bodies capped, and the call's deadline over it all. The
/// plugin must ask for the `outbound-http` permission in its metadata.
#[utoipa::path(put, path = "/plugins/{name}/outbound-http", tag = "plugins",
    params(("name" = String, Path)),
    request_body(content = OutboundGrant, example = json!({"hosts": ["models.example.com", "crm.example.com:8443"], "max_requests_per_call": 2})),
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "a host, cap or CA that cannot apply, or a plugin that does not ask for outbound HTTP", body = ErrorBody)))]
pub async fn grant_outbound_http(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
    Json(grant): Json<OutboundGrant>,
) -> ApiResult<Json<PluginView>> {
    let detail =
        json!({ "hosts": grant.hosts, "max_requests_per_call": grant.max_requests_per_call });
    let view = state
        .registry
        .set_outbound_http(&p.org, &name, Some(grant))
        .await?;
    super::plugins::audited(&state, &p, "plugin.outbound_http", view, detail).await
}

/// Takes the plugin's outbound HTTPS grant back (admins only): its
/// requests are refused from its next call on.
#[utoipa::path(delete, path = "/plugins/{name}/outbound-http", tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn revoke_outbound_http(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
) -> ApiResult<Json<PluginView>> {
    let view = state
        .registry
        .set_outbound_http(&p.org, &name, None)
        .await?;
    super::plugins::audited(
        &state,
        &p,
        "plugin.outbound_http",
        view,
        json!({ "hosts": [] }),
    )
    .await
}
