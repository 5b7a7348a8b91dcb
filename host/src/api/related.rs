//! A CRM record's related list over HTTP: its mail by tab (`filter`: all,
//! sent through the CRM, IMAP, POP3, one user's), in either order, one
//! conversation at a time if asked, with the count of every tab so a page
//! can show them. The store applies the caller's visibility to each tab.

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::auth::Principal;
use mailroom_core::ids::UserId;
use mailroom_store::StoreError;
use mailroom_store::message_query::{MessageFilter, MessageSummary};
use mailroom_store::related::{RelatedCounts, RelatedSource, SortOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The tabs of a related list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RelatedFilter {
    /// Every message the caller sees.
    #[default]
    All,
    /// Sent with Mailroom's send route.
    CrmSent,
    /// Seen through IMAP accounts.
    Imap,
    /// Downloaded by POP3 accounts.
    Pop,
    /// Seen through the accounts of the user named by `user`.
    User,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RelatedQuery {
    /// The tab: `all` (default), `crm_sent`, `imap`, `pop` or `user`.
    #[param(inline)]
    pub filter: Option<RelatedFilter>,
    /// The user of `filter=user` (alone, it means `filter=user`).
    #[param(value_type = Option<String>)]
    pub user: Option<UserId>,
    /// `newest` (default) or `oldest` first.
    #[param(inline)]
    pub sort: Option<Sort>,
    /// Only this conversation: an item's `thread`.
    pub thread: Option<String>,
    /// `next_cursor` of the previous page (same `sort`).
    pub cursor: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RelatedPage {
    pub items: Vec<MessageSummary>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// Every tab's count for the whole record, as the caller sees it.
    pub counts: RelatedCounts,
}

/// The store's source for the query's tab; a `user` that contradicts the
/// tab, or `filter=user` without one, is refused saying what to send.
pub fn source_of(q: &RelatedQuery) -> ApiResult<Option<RelatedSource>> {
    let filter = match (q.filter, &q.user) {
        (None, Some(_)) => RelatedFilter::User,
        (filter, _) => filter.unwrap_or_default(),
    };
    Ok(match (filter, &q.user) {
        (RelatedFilter::User, Some(user)) => Some(RelatedSource::User(user.clone())),
        (RelatedFilter::User, None) => {
            return Err(ApiError::unprocessable(
                "filter=user needs the user's id: add user=<user id>",
            ));
        }
        (other, Some(_)) => {
            return Err(ApiError::unprocessable(format!(
                "user=<id> goes with filter=user, not filter={}",
                match other {
                    RelatedFilter::All => "all",
                    RelatedFilter::CrmSent => "crm_sent",
                    RelatedFilter::Imap => "imap",
                    RelatedFilter::Pop => "pop",
                    RelatedFilter::User => "user",
                }
            )));
        }
        (RelatedFilter::All, None) => None,
        (RelatedFilter::CrmSent, None) => Some(RelatedSource::CrmSent),
        (RelatedFilter::Imap, None) => Some(RelatedSource::Imap),
        (RelatedFilter::Pop, None) => Some(RelatedSource::Pop),
    })
}

/// One page of the related list of the record `record` names (contact or
/// lead set), as `p` sees it, with the tab counts.
pub async fn page(
    state: &AppState,
    p: &Principal,
    record: MessageFilter,
    q: RelatedQuery,
) -> ApiResult<RelatedPage> {
    let source = source_of(&q)?;
    if let Some(RelatedSource::User(user)) = &source {
        match state.store.get_user(&p.org, user).await {
            Err(StoreError::NotFound(_)) => {
                return Err(ApiError::unprocessable(format!(
                    "user={user} is no user of this org: pass the id of one (GET /v1/users)"
                )));
            }
            other => {
                other?;
            }
        }
    }
    let filter = MessageFilter {
        visible_to: Some(p.user.clone()),
        source,
        thread: q.thread,
        order: match q.sort.unwrap_or_default() {
            Sort::Newest => SortOrder::Newest,
            Sort::Oldest => SortOrder::Oldest,
        },
        ..record
    };
    let list = state
        .store
        .list_messages(&p.org, &filter, q.cursor.as_deref(), q.limit)
        .await?;
    let counts = state.store.related_counts(&p.org, &filter).await?;
    Ok(RelatedPage {
        items: list.items,
        next_cursor: list.next_cursor,
        counts,
    })
}
