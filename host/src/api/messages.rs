//! Stored mail over HTTP: a filtered list with opaque cursor pagination, one
//! message with its parsed content, the raw bytes as `message/rfc822`, and
//! the user's state on a message. A non-admin sees only mail seen through an
//! account they may see; anything else is 404.

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query};
use crate::auth::{AuthUser, Principal};
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use mailroom_core::ids::{AccountId, ContactId, LeadId, MessageId};
use mailroom_core::mime::{self, AttachmentInfo};
use mailroom_store::message_query::{
    MessageDetail, MessageFilter, MessagePage, MessageState, MessageStateUpdate,
};
use mailroom_store::pipeline_results::{StoredAction, StoredClassification};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type ErrorBody = super::error::ErrorBody;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages))
        .routes(routes!(get_message))
        .routes(routes!(raw_message))
        .routes(routes!(update_state))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MessageQuery {
    /// Seen through this account.
    #[param(value_type = Option<String>)]
    pub account: Option<AccountId>,
    /// SalesInbox folder role, e.g. `inbox`, `sent`.
    pub folder: Option<String>,
    /// Any address field equals this address.
    pub address: Option<String>,
    /// Related to this contact (any of its emails in any address field).
    #[param(value_type = Option<String>)]
    pub contact: Option<ContactId>,
    #[param(value_type = Option<String>)]
    pub lead: Option<LeadId>,
    /// Case-insensitive part of the subject or sender.
    pub text: Option<String>,
    /// Sort time (ms since the epoch) strictly before.
    pub before: Option<i64>,
    /// Sort time (ms since the epoch) at or after.
    pub after: Option<i64>,
    pub read: Option<bool>,
    pub starred: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
}

/// The store filter for `q` as `p` may see it.
pub fn filter_for(p: &Principal, q: &MessageQuery) -> MessageFilter {
    MessageFilter {
        account: q.account.clone(),
        folder: q.folder.clone(),
        address: q.address.clone(),
        contact: q.contact.clone(),
        lead: q.lead.clone(),
        text: q.text.clone(),
        before: q.before,
        after: q.after,
        read: q.read,
        starred: q.starred,
        visible_to: (!p.is_admin()).then(|| p.user.clone()),
    }
}

/// Messages, newest first, one page at a time.
#[utoipa::path(get, path = "/messages", tag = "messages", params(MessageQuery),
    responses((status = 200, body = MessagePage),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 422, description = "e.g. an invalid cursor", body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Query(q): Query<MessageQuery>,
) -> ApiResult<Json<MessagePage>> {
    let filter = filter_for(&p, &q);
    Ok(Json(
        state
            .store
            .list_messages(&p.org, &filter, q.cursor.as_deref(), q.limit)
            .await?,
    ))
}

/// The message if the caller may see it: an admin always, a user when one
/// of its locations is in an account they may see.
async fn visible(state: &AppState, p: &Principal, id: &MessageId) -> ApiResult<MessageDetail> {
    let detail = state.store.get_message(&p.org, id).await?;
    if p.is_admin() {
        return Ok(detail);
    }
    let mut accounts: Vec<&AccountId> = detail.locations.iter().map(|l| &l.account).collect();
    accounts.dedup();
    for account in accounts {
        if state
            .store
            .account_visible_to(&p.org, account, &p.user)
            .await?
        {
            return Ok(detail);
        }
    }
    Err(ApiError::not_found("message"))
}

/// A message: index fields, addresses, locations, and its parsed content.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    #[serde(flatten)]
    pub detail: MessageDetail,
    pub text_body: String,
    pub html_body: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<AttachmentInfo>,
    /// Every header in order, values unfolded.
    pub headers: Vec<(String, String)>,
    pub list_id: Option<String>,
    pub references: Vec<String>,
    /// What the org's classifier plugins said (empty until the pipeline ran).
    pub classifications: Vec<StoredClassification>,
    /// What rules and workflows asked for, applied or pending.
    pub actions: Vec<StoredAction>,
}

/// One message, parsed.
#[utoipa::path(get, path = "/messages/{id}", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, body = MessageView), (status = 404, body = ErrorBody)))]
pub async fn get_message(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<MessageView>> {
    let id = MessageId(id);
    let detail = visible(&state, &p, &id).await?;
    let raw = state.store.get_raw_message(&p.org, &id).await?;
    // Parsing is CPU work proportional to the message: keep it off the reactor.
    let parsed = tokio::task::spawn_blocking(move || mime::parse(&raw))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(MessageView {
        detail,
        text_body: parsed.text_body,
        html_body: parsed.html_body,
        attachments: parsed.attachments,
        headers: parsed.headers,
        list_id: parsed.list_id,
        references: parsed.references,
        classifications: state.store.message_classifications(&p.org, &id).await?,
        actions: state.store.message_actions(&p.org, &id).await?,
    }))
}

/// The message exactly as stored, as `message/rfc822`.
#[utoipa::path(get, path = "/messages/{id}/raw", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, content_type = "message/rfc822", body = Vec<u8>),
        (status = 404, body = ErrorBody)))]
pub async fn raw_message(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = MessageId(id);
    visible(&state, &p, &id).await?;
    let raw = state.store.get_raw_message(&p.org, &id).await?;
    // The id is hex (checked by the lookup above), so it is safe in a header.
    let disposition = format!("attachment; filename=\"{id}.eml\"");
    Ok((
        [
            (CONTENT_TYPE, "message/rfc822".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        raw,
    )
        .into_response())
}

/// Changes the user's state on a message (folder, labels, read, starred, reminder).
#[utoipa::path(patch, path = "/messages/{id}/state", tag = "messages",
    params(("id" = String, Path)),
    request_body = MessageStateUpdate,
    responses((status = 200, body = MessageState),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_state(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
    Json(update): Json<MessageStateUpdate>,
) -> ApiResult<Json<MessageState>> {
    let id = MessageId(id);
    visible(&state, &p, &id).await?;
    Ok(Json(
        state
            .store
            .update_message_state(&p.org, &id, &update)
            .await?,
    ))
}
