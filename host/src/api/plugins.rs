//! The org's plugins over HTTP, backed by the plugin registry. Any user of
//! the org may list and read them; everything that changes one is for admins.
//!
//! Upload: `Content-Type: application/wasm` with the component as the body,
//! or `multipart/form-data` with a `component` file part and an optional
//! `manifest` JSON part `{ "enabled", "config", "position" }` applied right
//! after install. A manifest that cannot be applied undoes the upload (a new
//! plugin is removed, an upgrade rolled back), so an upload is all or nothing.

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, body_bytes, media_type};
use crate::auth::{AuthAdmin, AuthUser, Principal};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use mailroom_core::secret::Secret;
use mailroom_plugin_host::Limits;
use mailroom_plugin_host::registry::storage::{PluginEvent, PluginVersionRecord, Rollout};
use mailroom_plugin_host::registry::{CheckedInstall, PluginView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

type ErrorBody = super::error::ErrorBody;

/// How many recent events `GET /plugins/{name}` shows.
const EVENTS_SHOWN: u32 = 50;

pub fn routes(upload_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins))
        // Only the upload takes a body the size of a component.
        .routes(routes!(upload_plugin).layer(DefaultBodyLimit::max(upload_limit)))
        .routes(routes!(get_plugin, delete_plugin))
        .routes(routes!(enable_plugin))
        .routes(routes!(disable_plugin))
        .routes(routes!(set_rollout))
        .routes(routes!(set_config))
        .routes(routes!(set_secret, delete_secret))
        .routes(routes!(set_position))
        .routes(routes!(set_limits))
        .routes(routes!(rollback_plugin))
}

/// The org's plugins with their running version and metrics.
#[utoipa::path(get, path = "/plugins", tag = "plugins",
    responses((status = 200, description = "PluginView list", body = Vec<PluginView>),
        (status = 401, body = ErrorBody)))]
pub async fn list_plugins(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
) -> ApiResult<Json<Vec<PluginView>>> {
    Ok(Json(state.registry.list(&p.org).await?))
}

/// Applied right after an upload.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub config: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub position: Option<i64>,
}

/// The parts of a multipart upload.
async fn read_multipart(
    state: &AppState,
    request: Request,
) -> ApiResult<(Vec<u8>, Option<Manifest>)> {
    let reject = |r: axum::extract::multipart::MultipartRejection| {
        ApiError::from_rejection(r.status(), r.body_text())
    };
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(reject)?;
    let field_error = |e: axum::extract::multipart::MultipartError| {
        ApiError::from_rejection(e.status(), e.body_text())
    };
    let (mut component, mut manifest) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(field_error)? {
        match field.name().unwrap_or("") {
            "component" => component = Some(field.bytes().await.map_err(field_error)?.to_vec()),
            "manifest" => {
                let bytes = field.bytes().await.map_err(field_error)?;
                let parsed: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_manifest",
                        format!("manifest part: {e}"),
                    )
                })?;
                manifest = Some(parsed);
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unexpected multipart part {other:?}; send `component` (the .wasm file) and optionally `manifest` (JSON)"
                )));
            }
        }
    }
    let component = component
        .ok_or_else(|| ApiError::bad_request("the multipart body has no `component` part"))?;
    Ok((component, manifest))
}

/// Applies a manifest; on failure undoes the install it belongs to.
async fn apply_manifest(
    state: &AppState,
    p: &Principal,
    view: PluginView,
    manifest: Manifest,
    undo: Undo,
) -> ApiResult<PluginView> {
    let name = view.record.name.clone();
    let applied = async {
        let mut view = view;
        if let Some(config) = manifest.config {
            view = state.registry.set_config(&p.org, &name, config).await?;
        }
        if let Some(position) = manifest.position {
            view = state.registry.set_position(&p.org, &name, position).await?;
        }
        if let Some(enabled) = manifest.enabled {
            view = state.registry.set_enabled(&p.org, &name, enabled).await?;
        }
        Ok::<_, ApiError>(view)
    }
    .await;
    let Err(error) = applied else { return applied };
    let undone = match undo {
        Undo::Remove => state.registry.remove(&p.org, &name).await.map(|_| ()),
        Undo::RollbackTo(seq) => state
            .registry
            .rollback(&p.org, &name, Some(seq))
            .await
            .map(|_| ()),
        Undo::Nothing => Ok(()),
    };
    if let Err(e) = undone {
        tracing::error!(org = %p.org, plugin = %name, error = %e, "could not undo an upload whose manifest failed");
    }
    Err(ApiError {
        message: format!(
            "the manifest could not be applied, so the upload was undone: {}",
            error.message
        ),
        ..error
    })
}

enum Undo {
    Remove,
    RollbackTo(i64),
    Nothing,
}

/// Installs a component, or a new version of an installed plugin (admins only).
#[utoipa::path(post, path = "/plugins", tag = "plugins",
    request_body(
        description = "the component as `application/wasm`, or `multipart/form-data` with parts \
                       `component` (the .wasm file) and optional `manifest` (JSON: enabled, config, position)",
        content((Vec<u8> = "application/wasm"), (Manifest = "multipart/form-data")),
    ),
    responses(
        (status = 201, description = "installed or upgraded, with what it answered on each golden case", body = CheckedInstall),
        (status = 200, description = "identical bytes were already running", body = CheckedInstall),
        (status = 403, body = ErrorBody),
            (status = 413, body = ErrorBody),
            (status = 415, body = ErrorBody),
        (status = 422, description = "the component was refused, or failed a golden case (`upload_check_failed`); the message says why", body = ErrorBody)))]
pub async fn upload_plugin(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    request: Request,
) -> ApiResult<(StatusCode, Json<CheckedInstall>)> {
    let (bytes, manifest) = match media_type(request.headers()).as_deref() {
        Some("application/wasm") => (body_bytes(request, &state).await?.to_vec(), None),
        Some("multipart/form-data") => read_multipart(&state, request).await?,
        other => {
            return Err(ApiError::unsupported_media_type(format!(
                "upload a component as `application/wasm` or `multipart/form-data`, not {}",
                other.unwrap_or("a body without Content-Type")
            )));
        }
    };
    let before: BTreeMap<String, i64> = state
        .registry
        .list(&p.org)
        .await?
        .into_iter()
        .map(|v| (v.record.name, v.record.active_seq))
        .collect();
    let CheckedInstall {
        plugin: view,
        upload_check,
    } = state.registry.install_checked(&p.org, bytes).await?;
    let undo = match before.get(&view.record.name) {
        None => Undo::Remove,
        Some(&seq) if seq != view.record.active_seq => Undo::RollbackTo(seq),
        Some(_) => Undo::Nothing,
    };
    let status = if matches!(undo, Undo::Nothing) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let view = match manifest {
        Some(m) => apply_manifest(&state, &p, view, m, undo).await?,
        None => view,
    };
    let detail = serde_json::json!({
        "version": view.active_version.metadata.version,
        "seq": view.active_version.seq,
        "sha256": view.active_version.sha256,
    });
    super::audit::record(&state, &p, "plugin.upload", &view.record.name, detail).await;
    Ok((
        status,
        Json(CheckedInstall {
            plugin: view,
            upload_check,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PluginDetail {
    #[serde(flatten)]
    pub plugin: PluginView,
    /// Every uploaded version, oldest first (rollback targets).
    pub versions: Vec<PluginVersionRecord>,
    /// Recent events, newest first.
    pub events: Vec<PluginEvent>,
}

/// One plugin: metadata, config, versions, metrics and recent events.
#[utoipa::path(get, path = "/plugins/{name}", tag = "plugins", params(("name" = String, Path)),
    responses((status = 200, body = PluginDetail), (status = 404, body = ErrorBody)))]
pub async fn get_plugin(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(name): Path<String>,
) -> ApiResult<Json<PluginDetail>> {
    let plugin = state.registry.get(&p.org, &name).await?;
    let versions = state.registry.versions(&p.org, &name).await?;
    let events = state
        .registry
        .events(&p.org, Some(&name), EVENTS_SHOWN)
        .await?;
    Ok(Json(PluginDetail {
        plugin,
        versions,
        events,
    }))
}

/// Removes the plugin with all its versions and data (admins only).
#[utoipa::path(delete, path = "/plugins/{name}", tag = "plugins", params(("name" = String, Path)),
    responses((status = 204, description = "removed"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_plugin(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    state.registry.remove(&p.org, &name).await?;
    super::audit::record(&state, &p, "plugin.remove", &name, serde_json::Value::Null).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables the plugin (clears an automatic disable) (admins only).
#[utoipa::path(post, path = "/plugins/{name}/enable", tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn enable_plugin(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
) -> ApiResult<Json<PluginView>> {
    let view = state.registry.set_enabled(&p.org, &name, true).await?;
    audited(&state, &p, "plugin.enable", view, serde_json::Value::Null).await
}

/// Disables the plugin (admins only).
#[utoipa::path(post, path = "/plugins/{name}/disable", tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn disable_plugin(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
) -> ApiResult<Json<PluginView>> {
    let view = state.registry.set_enabled(&p.org, &name, false).await?;
    audited(&state, &p, "plugin.disable", view, serde_json::Value::Null).await
}

/// Who the plugin runs for: `{"mode":"everyone"}` or `{"mode":"users","users":["usr_…"]}` (admins only).
#[utoipa::path(put, path = "/plugins/{name}/rollout", tag = "plugins",
    params(("name" = String, Path)),
    request_body(content = serde_json::Value, example = json!({"mode": "users", "users": ["usr_0123"]})),
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_rollout(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
    Json(rollout): Json<Rollout>,
) -> ApiResult<Json<PluginView>> {
    if let Rollout::Users(users) = &rollout {
        for u in users {
            // A user of another org is as unknown as a made-up id.
            if state.store.get_user(&p.org, u).await.is_err() {
                return Err(ApiError::unprocessable(format!("unknown user {u}")));
            }
        }
    }
    let view = state.registry.set_rollout(&p.org, &name, rollout).await?;
    let detail = serde_json::to_value(&view.record.rollout).unwrap_or_default();
    audited(&state, &p, "plugin.rollout", view, detail).await
}

/// Replaces the plugin's config; only keys the plugin declares (admins only).
#[utoipa::path(put, path = "/plugins/{name}/config", tag = "plugins",
    params(("name" = String, Path)),
    request_body = BTreeMap<String, String>,
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_config(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
    Json(config): Json<BTreeMap<String, String>>,
) -> ApiResult<Json<PluginView>> {
    // Keys only: config values may be credentials of the plugin's own.
    let keys: Vec<String> = config.keys().cloned().collect();
    let view = state.registry.set_config(&p.org, &name, config).await?;
    audited(
        &state,
        &p,
        "plugin.config",
        view,
        serde_json::json!({ "keys": keys }),
    )
    .await
}

/// A config value to hold as a secret.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretValue {
    pub value: Secret,
}

/// Stores one config key of the plugin as a secret: sealed at rest, never
/// returned (the plugin's `secret_keys` lists its name), given to the plugin
/// like any config value. Replaces a plain value of the same key (admins only).
#[utoipa::path(put, path = "/plugins/{name}/secrets/{key}", tag = "plugins",
    params(("name" = String, Path), ("key" = String, Path)),
    request_body = SecretValue,
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_secret(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path((name, key)): Path<(String, String)>,
    Json(secret): Json<SecretValue>,
) -> ApiResult<Json<PluginView>> {
    let view = state
        .registry
        .set_secret(&p.org, &name, &key, Some(secret.value))
        .await?;
    let detail = serde_json::json!({ "key": key });
    audited(&state, &p, "plugin.secret.set", view, detail).await
}

/// Removes a secret config key of the plugin; removing one that is not set
/// changes nothing (admins only).
#[utoipa::path(delete, path = "/plugins/{name}/secrets/{key}", tag = "plugins",
    params(("name" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn delete_secret(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path((name, key)): Path<(String, String)>,
) -> ApiResult<Json<PluginView>> {
    let view = state.registry.set_secret(&p.org, &name, &key, None).await?;
    let detail = serde_json::json!({ "key": key });
    audited(&state, &p, "plugin.secret.remove", view, detail).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionRequest {
    /// Lower runs first among plugins of the same kind.
    pub position: i64,
}

/// Sets the plugin's order among plugins of its kind (admins only).
#[utoipa::path(put, path = "/plugins/{name}/position", tag = "plugins",
    params(("name" = String, Path)), request_body = PositionRequest,
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn set_position(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
    Json(req): Json<PositionRequest>,
) -> ApiResult<Json<PluginView>> {
    let view = state
        .registry
        .set_position(&p.org, &name, req.position)
        .await?;
    audited(
        &state,
        &p,
        "plugin.position",
        view,
        serde_json::json!({ "position": req.position }),
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsRequest {
    /// `null` returns to the server's defaults. Required: a body without
    /// it (e.g. the limits not wrapped in `limits`) is refused, not read
    /// as `null`.
    #[serde(deserialize_with = "Option::deserialize")]
    pub limits: Option<Limits>,
}

/// Overrides the per-call limits of this plugin (admins only).
#[utoipa::path(put, path = "/plugins/{name}/limits", tag = "plugins",
    params(("name" = String, Path)),
    request_body(content = LimitsRequest, example = json!({"limits": {"deadline_ms": 500, "memory_bytes": 67108864}})),
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_limits(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
    Json(req): Json<LimitsRequest>,
) -> ApiResult<Json<PluginView>> {
    let view = state.registry.set_limits(&p.org, &name, req.limits).await?;
    let detail = serde_json::to_value(view.record.limits).unwrap_or_default();
    audited(&state, &p, "plugin.limits", view, detail).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RollbackQuery {
    /// The version to run; the one before the running one when absent.
    pub to_seq: Option<i64>,
}

/// Runs an earlier version again (admins only).
#[utoipa::path(post, path = "/plugins/{name}/rollback", tag = "plugins",
    params(("name" = String, Path), RollbackQuery),
    responses((status = 200, body = PluginView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "no older version", body = ErrorBody)))]
pub async fn rollback_plugin(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(name): Path<String>,
    Query(q): Query<RollbackQuery>,
) -> ApiResult<Json<PluginView>> {
    let view = state.registry.rollback(&p.org, &name, q.to_seq).await?;
    let detail = serde_json::json!({ "seq": view.active_version.seq, "version": view.active_version.metadata.version });
    audited(&state, &p, "plugin.rollback", view, detail).await
}

/// Records an admin change in the audit log and answers with the plugin.
pub(super) async fn audited(
    state: &AppState,
    p: &Principal,
    action: &str,
    view: PluginView,
    detail: serde_json::Value,
) -> ApiResult<Json<PluginView>> {
    super::audit::record(state, p, action, &view.record.name, detail).await;
    Ok(Json(view))
}
