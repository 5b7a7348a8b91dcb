//! Sending mail over HTTP: `POST /accounts/{id}/send` builds the message and
//! commits it to the outbox, then answers 202 — the SMTP work happens in the
//! background worker, which the request wakes. `GET /accounts/{id}/outbox`
//! shows where each message is (queued, sent, appended, failed and why).
//!
//! Who may: whoever sees the account (its owner, users it is shared with,
//! org admins); for anyone else the account does not exist (404).

use super::AppState;
use super::accounts::visible;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query};
use crate::auth::AuthUser;
use axum::extract::State;
use axum::http::StatusCode;
use mailroom_core::ids::AccountId;
use mailroom_send::{OutgoingMessage, SendError};
use mailroom_store::OutboxEntry;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type ErrorBody = super::error::ErrorBody;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_message))
        .routes(routes!(list_outbox))
}

impl From<SendError> for ApiError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Invalid(m) => ApiError::unprocessable(m),
            SendError::Store(s) => s.into(),
            // Not raised while queueing: the network is the worker's.
            other => ApiError::internal(&other),
        }
    }
}

/// Queues a message for sending from the account. The from-address must be
/// the account's email or one of its from-addresses (the default one when
/// absent). Answers with the outbox entry; follow it in the outbox list.
#[utoipa::path(post, path = "/accounts/{id}/send", tag = "messages",
    params(("id" = String, Path)), request_body = OutgoingMessage,
    responses((status = 202, description = "queued in the outbox", body = OutboxEntry),
        (status = 404, body = ErrorBody),
        (status = 422, description = "a from-address that is not the account's, a malformed \
            recipient, no recipient, no outgoing server", body = ErrorBody)))]
pub async fn send_message(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
    Json(msg): Json<OutgoingMessage>,
) -> ApiResult<(StatusCode, Json<OutboxEntry>)> {
    let id = AccountId(id);
    visible(&state, &p, &id).await?;
    let entry = mailroom_send::enqueue(&state.store, &p.org, &id, &msg, Some(&p.user)).await?;
    state.outbox_wakeup.notify_one();
    // Who sent what to how many; not the addresses or the text.
    let detail = serde_json::json!({
        "outbox": entry.id,
        "message_id": entry.message_id,
        "recipients": entry.envelope_to.len(),
    });
    super::audit::record(&state, &p, "message.send", id.as_str(), detail).await;
    Ok((StatusCode::ACCEPTED, Json(entry)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// Page size (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// The account's outbox, newest first: each message's state, attempts,
/// next attempt and last error.
#[utoipa::path(get, path = "/accounts/{id}/outbox", tag = "messages",
    params(("id" = String, Path), OutboxQuery),
    responses((status = 200, body = Vec<OutboxEntry>), (status = 404, body = ErrorBody)))]
pub async fn list_outbox(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
    Query(q): Query<OutboxQuery>,
) -> ApiResult<Json<Vec<OutboxEntry>>> {
    let id = AccountId(id);
    visible(&state, &p, &id).await?;
    let entries = state
        .store
        .list_outbox(&p.org, &id, q.limit.unwrap_or(100))
        .await?;
    Ok(Json(entries))
}
