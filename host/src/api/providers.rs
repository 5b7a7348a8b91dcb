//! Provider presets: the server presets the org's provider plugins offer
//! (`GET /v1/providers`, with the ones an email address's domain suggests
//! marked and first), and the preset a new account names or its domain
//! suggests.

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Query};
use super::new_account::CreateAccount;
use crate::auth::{AuthUser, Principal};
use axum::extract::State;
use mailroom_plugin_host::PluginKind;
use mailroom_plugin_host::bindings::latest::provider;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type ErrorBody = super::error::ErrorBody;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_providers))
}

/// A provider's presets as its plugin describes them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderPreset {
    /// The provider plugin that offers it.
    pub plugin: String,
    /// The provider's `provider-info` (id, name, domains, imap/pop3/smtp presets, auth methods …).
    #[schema(value_type = Object)]
    pub info: provider::ProviderInfo,
    /// The `email` asked about has one of this provider's domains.
    pub suggested: bool,
}

/// `GET /v1/providers?email=…`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProvidersQuery {
    /// An address whose domain marks the providers it suggests (listed first).
    pub email: Option<String>,
}

/// Whether `email`'s domain is one of the provider's domains (or below
/// one, e.g. `eu.example.com` under `example.com`).
pub fn suggests(info: &provider::ProviderInfo, email: &str) -> bool {
    let Some((_, domain)) = email.trim().rsplit_once('@') else {
        return false;
    };
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    !domain.is_empty()
        && info.domains.iter().any(|d| {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            domain == d || domain.ends_with(&format!(".{d}"))
        })
}

pub async fn providers(state: &AppState, p: &Principal) -> ApiResult<Vec<ProviderPreset>> {
    let plugins = state
        .registry
        .plugins_for(&p.org, PluginKind::Provider, Some(&p.user))
        .await?;
    let mut out = Vec::new();
    for plugin in plugins {
        match state.registry.provider_info(&plugin).await {
            Ok(info) => out.push(ProviderPreset {
                plugin: plugin.name().to_owned(),
                info,
                suggested: false,
            }),
            // One broken provider plugin must not hide the others; its failure is
            // already recorded against it.
            Err(e) => {
                tracing::warn!(org = %p.org, plugin = plugin.name(), error = %e, "provider_info failed")
            }
        }
    }
    Ok(out)
}

/// Server presets offered by the org's provider plugins; with `email`,
/// those its domain suggests are marked and listed first.
#[utoipa::path(get, path = "/providers", tag = "accounts", params(ProvidersQuery),
    responses((status = 200, body = Vec<ProviderPreset>), (status = 401, body = ErrorBody)))]
pub async fn list_providers(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Query(q): Query<ProvidersQuery>,
) -> ApiResult<Json<Vec<ProviderPreset>>> {
    let mut presets = providers(&state, &p).await?;
    if let Some(email) = &q.email {
        for preset in &mut presets {
            preset.suggested = suggests(&preset.info, email);
        }
        // Stable: suggested first, otherwise in the registry's order.
        presets.sort_by_key(|preset| !preset.suggested);
    }
    Ok(Json(presets))
}

/// The preset a new account builds on: the one `provider_id` names (which
/// must exist when it is to supply the servers), or, with neither servers
/// nor `provider_id`, the one the address's domain suggests — then recorded
/// as the account's provider, so its quirks apply too.
pub async fn preset_for(
    state: &AppState,
    p: &Principal,
    req: &mut CreateAccount,
) -> ApiResult<Option<provider::ProviderInfo>> {
    if req.provider_id.is_none() && req.incoming.is_some() {
        return Ok(None);
    }
    let presets = providers(state, p).await?;
    let Some(id) = &req.provider_id else {
        let suggested = presets
            .into_iter()
            .find(|pr| suggests(&pr.info, &req.email))
            .map(|pr| pr.info);
        req.provider_id = suggested.as_ref().map(|info| info.id.clone());
        return Ok(suggested);
    };
    let named = presets.into_iter().find(|pr| &pr.info.id == id);
    match named {
        Some(found) => Ok(Some(found.info)),
        None if req.incoming.is_some() => Ok(None),
        None => Err(ApiError::unprocessable(format!(
            "no provider plugin of this org offers preset {id:?}"
        ))),
    }
}
