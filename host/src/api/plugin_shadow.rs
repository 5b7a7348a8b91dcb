//! A plugin's shadow version over HTTP (admins only): upload a new version
//! to run beside the running one on live traffic, see how their answers,
//! latency and failures compare, then promote or discard it. The registry's
//! `shadow` module does the work.

use super::AppState;
use super::error::ApiResult;
use super::extract::{Json, Path, body_bytes, media_type};
use crate::auth::AuthAdmin;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use mailroom_plugin_host::registry::PluginView;
use mailroom_plugin_host::registry::shadow::{ShadowInstall, ShadowReport};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

type ErrorBody = super::error::ErrorBody;

pub fn routes(upload_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(
            routes!(upload_shadow, get_shadow, discard_shadow)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .routes(routes!(promote_shadow))
}

/// Installs a new version of the plugin as its shadow: called beside the
/// running version on the same live calls, its answers compared and never
/// applied (admins only). It goes through the upload's admission and golden
/// set; its metadata must name this plugin.
#[utoipa::path(post, path = "/plugins/{name}/shadow", tag = "plugins",
    params(("name" = String, Path)),
    request_body(description = "the component", content((Vec<u8> = "application/wasm"))),
    responses(
        (status = 201, description = "runs as the shadow, with what it answered on each golden case", body = ShadowInstall),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such plugin installed", body = ErrorBody),
        (status = 409, description = "another kind, or the running version's own bytes", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "refused, failed a golden case, or names another plugin", body = ErrorBody)))]
pub async fn upload_shadow(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
    request: Request,
) -> ApiResult<(StatusCode, Json<ShadowInstall>)> {
    if media_type(request.headers()).as_deref() != Some("application/wasm") {
        return Err(super::error::ApiError::unsupported_media_type(
            "upload the shadow's component as `application/wasm`",
        ));
    }
    let bytes = body_bytes(request, &state).await?.to_vec();
    let installed = state.registry.install_shadow(&p.org, &name, bytes).await?;
    let detail = serde_json::json!({
        "version": installed.shadow.shadow_version.metadata.version,
        "seq": installed.shadow.shadow_version.seq,
        "sha256": installed.shadow.shadow_version.sha256,
    });
    super::audit::record(&state, &p, "plugin.shadow.install", &name, detail).await;
    Ok((StatusCode::CREATED, Json(installed)))
}

/// How the shadow compares with the running version: calls compared, how
/// many answered differently with the newest examples, and both versions'
/// calls, failures and latency (admins only).
#[utoipa::path(get, path = "/plugins/{name}/shadow", tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 200, body = ShadowReport),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such plugin, or it has no shadow", body = ErrorBody)))]
pub async fn get_shadow(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
) -> ApiResult<Json<ShadowReport>> {
    Ok(Json(state.registry.shadow_report(&p.org, &name).await?))
}

/// Makes the shadow the running version; the old one stays a rollback target (admins only).
#[utoipa::path(post, path = "/plugins/{name}/shadow/promote", tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such plugin, or it has no shadow", body = ErrorBody)))]
pub async fn promote_shadow(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
) -> ApiResult<Json<PluginView>> {
    let view = state.registry.promote_shadow(&p.org, &name).await?;
    let detail = serde_json::json!({ "seq": view.active_version.seq, "version": view.active_version.metadata.version });
    super::audit::record(&state, &p, "plugin.shadow.promote", &name, detail).await;
    Ok(Json(view))
}

/// Stops the shadow; its version stays among the plugin's versions (admins only).
#[utoipa::path(delete, path = "/plugins/{name}/shadow", tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 204, description = "discarded"),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such plugin, or it has no shadow", body = ErrorBody)))]
pub async fn discard_shadow(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    state.registry.discard_shadow(&p.org, &name).await?;
    super::audit::record(
        &state,
        &p,
        "plugin.shadow.discard",
        &name,
        serde_json::Value::Null,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
