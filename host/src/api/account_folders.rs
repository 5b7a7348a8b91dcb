//! An account's server folders: their SalesInbox roles, where each role
//! came from and how many stored messages each holds; and the manual
//! mapping that corrects the automatic roles on a non-standard server.
//! Anyone who can see the account sees its folders; changing the mapping
//! is for whoever may change the account.

use super::AppState;
use super::accounts::{changeable, visible};
use super::error::{ApiResult, ErrorBody};
use super::extract::{Json, Path};
use crate::auth::AuthUser;
use axum::extract::State;
use mailroom_core::ids::AccountId;
use mailroom_sync::PluginProvider;
use mailroom_sync::imap::folder_mapping::{
    AccountFolders, FolderMappingChange, account_folders, change_folder_mapping,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_folders))
        .routes(routes!(change_mapping))
}

/// The account's server folders (as of its last sync) with their roles,
/// the roles' sources, and message counts.
#[utoipa::path(get, path = "/accounts/{id}/folders", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = AccountFolders), (status = 404, body = ErrorBody)))]
pub async fn list_folders(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountFolders>> {
    let account = visible(&state, &p, &AccountId(id)).await?;
    Ok(Json(account_folders(&state.store, &account).await?))
}

/// Maps a server folder to a SalesInbox role by hand (`role`: `inbox`,
/// `drafts`, `sent`, `outbox`, `spam`, `trash`, `archive` or
/// `custom:NAME`), or with `role: null` gives it back its automatic role.
/// A folder the server does not have yet is mapped when it appears.
#[utoipa::path(put, path = "/accounts/{id}/folders/mapping", tag = "accounts",
    params(("id" = String, Path)), request_body = FolderMappingChange,
    responses((status = 200, body = AccountFolders),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn change_mapping(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
    Json(change): Json<FolderMappingChange>,
) -> ApiResult<Json<AccountFolders>> {
    let account = changeable(&state, &p, &AccountId(id)).await?;
    let provider = PluginProvider::new(
        state.registry.clone(),
        p.org.clone(),
        account.provider_id.as_deref(),
    );
    let folders = change_folder_mapping(&state.store, &account, &provider, &change).await?;
    let detail = serde_json::json!({ "folder": change.folder, "role": change.role });
    super::audit::record(
        &state,
        &p,
        "account.folder_mapping",
        account.id.as_str(),
        detail,
    )
    .await;
    Ok(Json(folders))
}
