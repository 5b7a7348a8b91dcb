//! Deactivating and activating an account's integration over HTTP. The
//! caller says what becomes of the mail (`retain` or `delete`, required:
//! deleting is not a default anyone should get by omission). Whoever may
//! change the account may do it (its owner while an admin has not locked
//! it, or an admin); what runs for the account stops at once. Audited.

use super::AppState;
use super::accounts::changeable;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Json, Path};
use crate::auth::AuthUser;
use axum::extract::State;
use mailroom_core::ids::AccountId;
use mailroom_store::Account;
use mailroom_store::accounts::{DeactivationMode, DeactivationReport};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(deactivate_account))
        .routes(routes!(activate_account))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deactivate {
    /// `retain`: stop syncing, keep messages, folders, rules and labels
    /// (they re-attach on activation); `delete`: also remove folders,
    /// rules, labels and the messages no other account holds.
    pub mode: Option<DeactivationMode>,
}

/// Deactivates the account's integration (its owner unless locked, or an
/// admin): it stops syncing at once; `mode` says what becomes of its mail,
/// and the answer what was removed.
#[utoipa::path(post, path = "/accounts/{id}/deactivate", tag = "accounts", params(("id" = String, Path)),
    request_body = Deactivate,
    responses((status = 200, body = DeactivationReport),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deactivate_account(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
    Json(body): Json<Deactivate>,
) -> ApiResult<Json<DeactivationReport>> {
    let Some(mode) = body.mode else {
        return Err(ApiError::unprocessable(
            "say what becomes of the account's mail: {\"mode\": \"retain\"} keeps messages, \
             folders, rules and labels for when it is activated again; {\"mode\": \"delete\"} \
             removes them (messages other accounts hold stay)",
        ));
    };
    let account = changeable(&state, &p, &AccountId(id)).await?;
    let report = state
        .store
        .deactivate_account(&p.org, &account.id, mode)
        .await?;
    state.sync.stop_account(&p.org, &account.id).await;
    let detail = serde_json::json!({
        "mode": mode,
        "folders_removed": report.folders_removed,
        "rules_removed": report.rules_removed,
        "messages_removed": report.messages_removed,
    });
    super::audit::record(
        &state,
        &p,
        "account.deactivate",
        account.id.as_str(),
        detail,
    )
    .await;
    Ok(Json(report))
}

/// Activates a deactivated account's integration: it syncs again, matching
/// what the server has to what is stored (nothing stored is downloaded
/// again).
#[utoipa::path(post, path = "/accounts/{id}/activate", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = Account),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn activate_account(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Account>> {
    let account = changeable(&state, &p, &AccountId(id)).await?;
    let account = state.store.activate_account(&p.org, &account.id).await?;
    super::audit::record(
        &state,
        &p,
        "account.activate",
        account.id.as_str(),
        serde_json::Value::Null,
    )
    .await;
    Ok(Json(account))
}
