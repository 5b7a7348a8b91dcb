//! A mailbox's or a user's mail as one mbox file (mboxrd: RFC 4155 `From `
//! lines, body `From ` lines quoted with `>`), streamed message by message
//! oldest first, so no export holds a whole mailbox in memory. It is for
//! an admin or the account's (the user's) own self, and holds what the
//! caller may see (the one visibility rule: a Private account's mail is
//! its owner's alone). Every export is audited.

use super::AppState;
use super::accounts::visible;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::Path;
use crate::auth::{AuthUser, Principal};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use mailroom_core::ids::{AccountId, OrgId, UserId};
use mailroom_store::message_query::{MessageFilter, MessageSummary};
use mailroom_store::related::{RelatedSource, SortOrder};
use mailroom_store::{Store, StoreError};
use std::collections::VecDeque;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(account_mbox))
        .routes(routes!(user_mbox))
}

/// Messages listed per store round trip; their bytes are read one by one.
const PAGE: u32 = 200;

/// Where an export is in its list.
struct Export {
    store: Store,
    org: OrgId,
    filter: MessageFilter,
    pending: VecDeque<MessageSummary>,
    cursor: Option<String>,
    listed_all: bool,
}

impl Export {
    /// The next message as an mbox entry, `None` after the last.
    async fn next_entry(&mut self) -> Result<Option<Bytes>, StoreError> {
        loop {
            if let Some(m) = self.pending.pop_front() {
                let raw = self.store.get_raw_message(&self.org, &m.id).await?;
                let entry = mailroom_core::mbox::entry(m.from_address.as_deref(), m.sort_at, &raw);
                return Ok(Some(Bytes::from(entry)));
            }
            if self.listed_all {
                return Ok(None);
            }
            let page = self
                .store
                .list_messages(&self.org, &self.filter, self.cursor.as_deref(), Some(PAGE))
                .await?;
            self.pending.extend(page.items);
            self.listed_all = page.next_cursor.is_none();
            self.cursor = page.next_cursor;
        }
    }
}

/// The mbox file of what `filter` lists for `p`, streamed.
fn mbox_response(state: &AppState, p: &Principal, filter: MessageFilter, name: &str) -> Response {
    let export = Export {
        store: state.store.clone(),
        org: p.org.clone(),
        filter: MessageFilter {
            visible_to: Some(p.user.clone()),
            order: SortOrder::Oldest,
            ..filter
        },
        pending: VecDeque::new(),
        cursor: None,
        listed_all: false,
    };
    let entries = stream::try_unfold(export, |mut export| async move {
        let entry = export.next_entry().await.inspect_err(|e| {
            // The status line is gone: the client sees the transfer cut.
            tracing::error!(org = %export.org, error = %e, "mbox export cut short");
        })?;
        Ok::<_, StoreError>(entry.map(|e| (e, export)))
    });
    let file = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>();
    (
        [
            (header::CONTENT_TYPE, "application/mbox".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}.mbox\""),
            ),
        ],
        Body::from_stream(entries),
    )
        .into_response()
}

/// The account's mail as an mbox file (`application/mbox`, mboxrd), oldest
/// first: for an org admin or the account's owner, holding what the caller
/// may see.
#[utoipa::path(get, path = "/accounts/{id}/export.mbox", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, description = "the mbox file", body = String, content_type = "application/mbox"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn account_mbox(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let account = visible(&state, &p, &AccountId(id)).await?;
    if !p.is_admin() && account.owner != p.user {
        return Err(ApiError::forbidden(
            "only the account's owner or an org admin may export its mail",
        ));
    }
    super::audit::record(
        &state,
        &p,
        "account.export_mbox",
        account.id.as_str(),
        serde_json::Value::Null,
    )
    .await;
    let filter = MessageFilter {
        account: Some(account.id.clone()),
        ..Default::default()
    };
    Ok(mbox_response(&state, &p, filter, &account.email))
}

/// The mail of every account the user owns as one mbox file, oldest
/// first: for an org admin or the user, holding what the caller may see.
#[utoipa::path(get, path = "/users/{id}/export.mbox", tag = "users", params(("id" = String, Path)),
    responses((status = 200, description = "the mbox file", body = String, content_type = "application/mbox"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn user_mbox(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = UserId(id);
    if !p.is_admin() && id != p.user {
        return Err(ApiError::forbidden(
            "only the user or an org admin may export the user's mail",
        ));
    }
    let user = state.store.get_user(&p.org, &id).await?;
    super::audit::record(
        &state,
        &p,
        "user.export_mbox",
        id.as_str(),
        serde_json::Value::Null,
    )
    .await;
    let filter = MessageFilter {
        source: Some(RelatedSource::User(id)),
        ..Default::default()
    };
    Ok(mbox_response(&state, &p, filter, &user.email))
}
