//! Stored mail over HTTP: a filtered list with opaque cursor pagination, one
//! message with its parsed content, the raw bytes as `message/rfc822`, and
//! the message's state in each mailbox. A non-admin sees only mail held by
//! an account they may see (and only those accounts' locations and
//! states), changes state only in accounts they own; anything else is
//! 404 (or 403 for a mailbox shared with them to read).

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query};
use crate::auth::{AuthUser, Principal};
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use mailroom_core::ids::{AccountId, ContactId, LeadId, MessageId};
use mailroom_core::mime::{self, AttachmentInfo};
use mailroom_store::mailbox_state::Access;
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
        visible_to: Some(p.user.clone()),
        ..Default::default()
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

/// How `p` sees and changes mailbox state: the accounts visible to them
/// (Private is the owner's alone, admins included); an admin changes every
/// mailbox it sees.
fn access(p: &Principal) -> Access<'_> {
    Access::of(&p.user, p.is_admin())
}

/// The message as the caller may see it (through the accounts they may
/// see), else 404.
async fn visible(state: &AppState, p: &Principal, id: &MessageId) -> ApiResult<MessageDetail> {
    Ok(state.store.get_message_as(&p.org, id, access(p)).await?)
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

/// Changes the message's state (folder, labels, read, starred, reminder) in
/// the mailboxes of the caller's own accounts (every mailbox it sees for an
/// admin);
/// only those accounts' servers hear of it. A mailbox shared with the
/// caller is read-only to them (403).
#[utoipa::path(patch, path = "/messages/{id}/state", tag = "messages",
    params(("id" = String, Path)),
    request_body = MessageStateUpdate,
    responses((status = 200, body = MessageState),
        (status = 403, description = "the caller may only read the message's mailboxes", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_state(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
    Json(update): Json<MessageStateUpdate>,
) -> ApiResult<Json<MessageState>> {
    let id = MessageId(id);
    let mailboxes = state
        .store
        .message_mailboxes(&p.org, &id, access(&p))
        .await?;
    if mailboxes.is_empty() {
        return Err(ApiError::not_found("message"));
    }
    if !mailboxes.iter().any(|m| m.can_change) {
        return Err(ApiError::forbidden(
            "this message is in a mailbox shared with you to read; only the account's owner \
             or an org admin may change its state",
        ));
    }
    Ok(Json(
        state
            .store
            .update_message_state_as(&p.org, &id, &update, access(&p))
            .await?,
    ))
}
