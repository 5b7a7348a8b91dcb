//! Connecting an account to its server: the connection test (a step-by-step
//! report with the server's words and the provider plugin's advice) and
//! "sync now", and the queue of the user's changes waiting to be written
//! back to the server. Any user who can see the account may use them.

use super::AppState;
use super::accounts::visible;
use super::error::{ApiResult, ErrorBody};
use super::extract::{Json, Path};
use crate::auth::AuthUser;
use axum::extract::State;
use axum::http::StatusCode;
use mailroom_core::ids::AccountId;
use mailroom_store::{ServerChangesStatus, SyncLease};
use mailroom_sync::PluginProvider;
use mailroom_sync::diagnose::{ConnectionReport, test_account};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(test_connection))
        .routes(routes!(sync_now))
        .routes(routes!(server_changes))
}

/// Tests the account's incoming connection step by step (DNS, TCP, TLS,
/// greeting, login, folder list), and its outgoing (SMTP) server up to the
/// login (no mail is sent) in `outgoing`. Failures are in the report, with
/// the provider plugin's diagnosis, not errors.
#[utoipa::path(post, path = "/accounts/{id}/test", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = ConnectionReport), (status = 404, body = ErrorBody)))]
pub async fn test_connection(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ConnectionReport>> {
    let account = visible(&state, &p, &AccountId(id)).await?;
    let diagnoser = PluginProvider::new(
        state.registry.clone(),
        p.org.clone(),
        account.provider_id.as_deref(),
    );
    let report = test_account(
        &state.store,
        &p.org,
        &account.id,
        &diagnoser,
        state.settings.connection_test.timeouts(),
    )
    .await?;
    Ok(Json(report))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncStarted {
    pub account: AccountId,
    /// Where to watch progress: the account's `status`, `last_sync_at`,
    /// `last_error`, `sync_lease`.
    pub status_url: String,
    /// Set when another node (server or command line) holds the account's
    /// sync lease: this sync starts when that lease ends, or lapses if its
    /// holder died (`until`, unless renewed; a live holder renews it).
    pub waiting_for_lease: Option<SyncLease>,
}

/// How long "sync now" keeps waiting for a lease a live node keeps renewing.
const LEASE_PATIENCE: Duration = Duration::from_secs(30 * 60);

/// Starts a sync of the account in the background (202). A sync already
/// running for it (here or on another node) makes this one wait its turn;
/// `waiting_for_lease` then says whose, and until when at most. An account
/// whose owner or integration is deactivated is not synced (409).
#[utoipa::path(post, path = "/accounts/{id}/sync", tag = "accounts", params(("id" = String, Path)),
    responses((status = 202, body = SyncStarted), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn sync_now(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<SyncStarted>)> {
    let account = visible(&state, &p, &AccountId(id)).await?;
    if let Some(stop) = state.store.sync_stopped(&p.org, &account.id).await? {
        return Err(super::error::ApiError::conflict(stop.reason()));
    }
    let scheduler = state.sync.clone();
    let waiting_for_lease = scheduler.waiting_for(&p.org, &account.id).await?;
    let (org, id) = (p.org.clone(), account.id.clone());
    tokio::spawn(async move {
        if let Err(e) = scheduler.sync_when_free(&org, &id, LEASE_PATIENCE).await {
            tracing::warn!(org = %org, account = %id, error = %e, "requested sync failed");
        }
    });
    let status_url = format!("/v1/accounts/{}", account.id);
    Ok((
        StatusCode::ACCEPTED,
        Json(SyncStarted {
            account: account.id,
            status_url,
            waiting_for_lease,
        }),
    ))
}

/// The account's two-way state queue: how many read/star/move changes made
/// in Mailroom still wait to be written to the server (each sync tries), how
/// many the server cannot take as things are, and the last error (e.g. a
/// missing folder to map with `PUT …/folders/mapping`).
#[utoipa::path(get, path = "/accounts/{id}/server-changes", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = ServerChangesStatus), (status = 404, body = ErrorBody)))]
pub async fn server_changes(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ServerChangesStatus>> {
    let account = visible(&state, &p, &AccountId(id)).await?;
    Ok(Json(
        state
            .store
            .server_changes_status(&p.org, &account.id)
            .await?,
    ))
}
