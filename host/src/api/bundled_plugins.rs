//! The plugins this server carries, per org (`crate::bundled`): what the org
//! runs next to each, and installing one (a new org gets them all; an admin
//! takes a newer bundled version, or brings back a removed one, here).

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path};
use crate::auth::AuthAdmin;
use crate::bundled::{self, BundledError, BundledOffer};
use axum::extract::State;
use axum::http::StatusCode;
use mailroom_plugin_host::registry::PluginView;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type ErrorBody = super::error::ErrorBody;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_bundled))
        .routes(routes!(install_bundled))
}

impl From<BundledError> for ApiError {
    fn from(e: BundledError) -> Self {
        match e {
            e @ BundledError::Unknown(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            BundledError::Registry(e) => e.into(),
        }
    }
}

/// Every plugin this server carries next to what the org runs under its
/// name: `current`, `not-installed`, `upgrade-available` (the org runs an
/// older version; nothing is replaced until an admin installs it) or
/// `replaced` (the org runs its own upload, a newer or a rolled-back
/// version). Admins only.
#[utoipa::path(get, path = "/bundled-plugins", tag = "plugins",
    responses((status = 200, body = Vec<BundledOffer>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_bundled(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
) -> ApiResult<Json<Vec<BundledOffer>>> {
    Ok(Json(bundled::offers(&state.registry, &p.org).await?))
}

/// Installs the bundled plugin `name` into the org: a fresh install, or an
/// upgrade of the version it runs (which stays a rollback target). The
/// version already running answers 200 and changes nothing. Admins only.
#[utoipa::path(post, path = "/bundled-plugins/{name}/install", tag = "plugins",
    params(("name" = String, Path)),
    responses(
        (status = 201, description = "installed or upgraded", body = PluginView),
        (status = 200, description = "that version was already running", body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "the server carries no such plugin", body = ErrorBody),
        (status = 409, description = "the org runs another kind of plugin under this name", body = ErrorBody)))]
pub async fn install_bundled(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
) -> ApiResult<(StatusCode, Json<PluginView>)> {
    let before = state
        .registry
        .get(&p.org, &name)
        .await
        .ok()
        .map(|v| v.active_version.sha256);
    let view = bundled::install_one(&state.registry, &p.org, &name).await?;
    if before.as_deref() == Some(view.active_version.sha256.as_str()) {
        return Ok((StatusCode::OK, Json(view)));
    }
    let detail = serde_json::json!({
        "version": view.active_version.metadata.version,
        "seq": view.active_version.seq,
        "sha256": view.active_version.sha256,
        "bundled": true,
    });
    super::audit::record(&state, &p, "plugin.upload", &view.record.name, detail).await;
    Ok((StatusCode::CREATED, Json(view)))
}
