//! Reading messages: filtered lists with cursor pagination, one message with
//! its addresses and locations, the raw bytes, and the user's state on it.
//!
//! Lists are ordered newest (or oldest) first by (sort time, id). The
//! cursor is that pair of the last item and the order, opaque to clients; a
//! page continues strictly after it, so messages arriving meanwhile never
//! make one appear twice.

use super::db::{Arg, SqlBuilder, get_bool, like_escape};
use super::mailbox_state::{Access, MailboxState, held_sql, push_visible, state_from_row};
use super::mime_index::AddressField;
use super::related::{RelatedSource, SortOrder, push_records, push_source};
use super::{Store, StoreError, StoreResult};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use mailroom_core::ids::{AccountId, ContactId, FolderId, LeadId, MessageId, OrgId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 500;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageFilter {
    /// Seen through this account.
    pub account: Option<AccountId>,
    /// SalesInbox folder role (see `store::folders`), e.g. `inbox`.
    pub folder: Option<String>,
    /// Any address field (from, sender, to, cc, bcc, reply-to) equals this.
    pub address: Option<String>,
    /// Related to a contact / lead: any of its emails in any address field.
    pub contact: Option<ContactId>,
    pub lead: Option<LeadId>,
    /// Case-insensitive substring of the subject or sender.
    pub text: Option<String>,
    /// Sort time strictly before (ms).
    pub before: Option<i64>,
    /// Sort time at or after (ms).
    pub after: Option<i64>,
    pub read: Option<bool>,
    pub starred: Option<bool>,
    /// Only the related-list tab (see `related`); `None`: every message.
    #[serde(skip)]
    pub source: Option<RelatedSource>,
    /// Only this conversation (a [`MessageSummary::thread`]).
    pub thread: Option<String>,
    #[serde(skip)]
    pub order: SortOrder,
    /// Only messages seen through an account this user may see (owner,
    /// public, or custom sharing naming them; Private is the owner's alone,
    /// admins included). `None`: no restriction (the org's own processes).
    #[serde(skip)]
    pub visible_to: Option<UserId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MessageSummary {
    pub id: MessageId,
    pub subject: Option<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub sent_at: Option<i64>,
    pub received_at: i64,
    pub sort_at: i64,
    pub size: i64,
    pub has_attachments: bool,
    pub snippet: String,
    /// The conversation: the root Message-ID of its `References`, else
    /// `In-Reply-To`, else its own Message-ID (`None` without any).
    pub thread: Option<String>,
    /// The account whose mailbox `state` is: the first (by id) the caller
    /// may see that matches the filter.
    pub mailbox: AccountId,
    pub state: MessageState,
}

/// A message's state in one mailbox (see `mailbox_state`); survives
/// resyncs and server-side moves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MessageState {
    pub folder: String,
    pub labels: Vec<String>,
    pub read: bool,
    pub starred: bool,
    pub reminder_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MessageAddress {
    pub field: String,
    pub address: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MessageLocation {
    pub account: AccountId,
    pub folder: Option<FolderId>,
    pub uidvalidity: Option<u32>,
    pub uid: Option<u32>,
    pub pop3_uidl: Option<String>,
    pub flags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MessageDetail {
    #[serde(flatten)]
    pub summary: MessageSummary,
    pub header_message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub addresses: Vec<MessageAddress>,
    /// Where it sits on servers, in accounts the caller may see.
    pub locations: Vec<MessageLocation>,
    /// Its state in each mailbox the caller may see.
    pub mailboxes: Vec<MailboxState>,
    pub parse_problem: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MessagePage {
    pub items: Vec<MessageSummary>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A partial update of [`MessageState`]; `reminder_at: Some(None)` clears it.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageStateUpdate {
    pub folder: Option<String>,
    pub labels: Option<Vec<String>>,
    pub read: Option<bool>,
    pub starred: Option<bool>,
    #[serde(default, deserialize_with = "some")]
    pub reminder_at: Option<Option<i64>>,
}

fn some<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The cursor's prefix per order: a cursor of one order is refused by the
/// other rather than silently skipping mail.
fn cursor_prefix(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Newest => "v1:",
        SortOrder::Oldest => "o1:",
    }
}

fn encode_cursor(order: SortOrder, sort_at: i64, id: &str) -> String {
    B64.encode(format!("{}{sort_at}:{id}", cursor_prefix(order)))
}

fn decode_cursor(order: SortOrder, cursor: &str) -> StoreResult<(i64, String)> {
    let bad = || StoreError::Invalid("invalid pagination cursor".into());
    let bytes = B64.decode(cursor.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let other = match order {
        SortOrder::Newest => SortOrder::Oldest,
        SortOrder::Oldest => SortOrder::Newest,
    };
    if text.starts_with(cursor_prefix(other)) {
        return Err(StoreError::Invalid(
            "the cursor is of a list in the other order: pass the same sort as for its first page"
                .into(),
        ));
    }
    let rest = text.strip_prefix(cursor_prefix(order)).ok_or_else(bad)?;
    let (at, id) = rest.split_once(':').ok_or_else(bad)?;
    let at = at.parse::<i64>().map_err(|_| bad())?;
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    Ok((at, id.to_owned()))
}

const SUMMARY_COLUMNS: &str = "m.id, m.subject, m.from_address, m.from_name, m.sent_at, m.received_at, \
    m.sort_at, m.size, m.has_attachments, m.snippet, m.thread_id, s.account_id, s.folder, s.labels, s.is_read, s.is_starred, \
    s.reminder_at";

fn summary_from_row(row: &AnyRow) -> StoreResult<MessageSummary> {
    Ok(MessageSummary {
        id: MessageId(row.try_get("id")?),
        subject: row.try_get("subject")?,
        from_address: row.try_get("from_address")?,
        from_name: row.try_get("from_name")?,
        sent_at: row.try_get("sent_at")?,
        received_at: row.try_get("received_at")?,
        sort_at: row.try_get("sort_at")?,
        size: row.try_get("size")?,
        has_attachments: get_bool(row, "has_attachments")?,
        snippet: row.try_get("snippet")?,
        thread: row.try_get("thread_id")?,
        mailbox: AccountId(row.try_get("account_id")?),
        state: state_from_row(row)?,
    })
}

/// What the pipeline reads of a message besides its bytes: the user's state
/// and the first place it was seen.
#[derive(Clone, Debug)]
pub struct PipelineSource {
    pub state: MessageState,
    pub account: AccountId,
    pub folder: Option<FolderId>,
}

/// Picks the mailbox whose state a list row shows: the first (by account
/// id) the caller may see that matches the filter's mailbox conditions
/// (account, folder, read, starred). One row per message, so a message
/// held by two of the caller's mailboxes is listed once.
fn push_chosen_mailbox(q: &mut SqlBuilder, filter: &MessageFilter) {
    q.push(
        " AND s.account_id = (SELECT MIN(ms.account_id) FROM mailbox_state ms \
         JOIN mail_accounts a ON a.id = ms.account_id \
         WHERE ms.org_id = m.org_id AND ms.message_id = m.id",
    );
    if let Some(account) = &filter.account {
        q.push(" AND ms.account_id = ")
            .bind_text(account.as_str())
            .push(" AND ")
            .push(&held_sql("ms"));
    }
    let access = filter.visible_to.as_ref().map_or(Access::Org, Access::User);
    push_visible(q, access, "ms");
    if let Some(folder) = &filter.folder {
        // Standard roles match in any case; a folder's own name as spelt.
        let folder =
            super::folders::check_role(folder).unwrap_or_else(|_| folder.trim().to_owned());
        q.push(" AND ms.folder = ").bind_text(folder);
    }
    if let Some(read) = filter.read {
        q.push(" AND ms.is_read = ").bind(Arg::Bool(read));
    }
    if let Some(starred) = filter.starred {
        q.push(" AND ms.is_starred = ").bind(Arg::Bool(starred));
    }
    if let Some(source) = &filter.source {
        push_source(q, source);
    }
    q.push(")");
}

impl Store {
    /// One page of the org's messages matching `filter`, in its order.
    pub async fn list_messages(
        &self,
        org: &OrgId,
        filter: &MessageFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> StoreResult<MessagePage> {
        let limit = limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let mut q = SqlBuilder::new(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM messages m JOIN mailbox_state s \
             ON s.org_id = m.org_id AND s.message_id = m.id WHERE m.org_id = "
        ));
        q.bind_text(org.as_str());
        push_chosen_mailbox(&mut q, filter);
        if let Some(address) = &filter.address {
            q.push(" AND m.id IN (SELECT x.message_id FROM message_addresses x WHERE x.org_id = m.org_id AND x.address = ")
                .bind_text(address.trim().to_lowercase())
                .push(")");
        }
        push_records(&mut q, filter, "m.id", "m.org_id");
        if let Some(thread) = &filter.thread {
            q.push(" AND m.thread_id = ").bind_text(thread.trim());
        }
        if let Some(text) = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let n = q.arg(Arg::Text(format!(
                "%{}%",
                like_escape(&text.to_lowercase())
            )));
            q.push(&format!(
                " AND (LOWER(m.subject) LIKE ${n} ESCAPE '\\' OR m.from_address LIKE ${n} ESCAPE '\\' \
                 OR LOWER(m.from_name) LIKE ${n} ESCAPE '\\')"
            ));
        }
        if let Some(before) = filter.before {
            q.push(" AND m.sort_at < ").bind_i64(before);
        }
        if let Some(after) = filter.after {
            q.push(" AND m.sort_at >= ").bind_i64(after);
        }
        let (after, direction) = match filter.order {
            SortOrder::Newest => ("<", "DESC"),
            SortOrder::Oldest => (">", "ASC"),
        };
        if let Some(cursor) = cursor {
            let (at, id) = decode_cursor(filter.order, cursor)?;
            let a = q.arg(Arg::I64(at));
            let i = q.arg(Arg::Text(id));
            q.push(&format!(
                " AND (m.sort_at {after} ${a} OR (m.sort_at = ${a} AND m.id {after} ${i}))"
            ));
        }
        q.push(&format!(
            " ORDER BY m.sort_at {direction}, m.id {direction} LIMIT "
        ))
        .bind_i64(i64::from(limit) + 1);
        let rows = q.query().fetch_all(self.pool()).await?;
        let mut items = rows
            .iter()
            .map(summary_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items
                .last()
                .map(|m| encode_cursor(filter.order, m.sort_at, m.id.as_str()))
        } else {
            None
        };
        Ok(MessagePage { items, next_cursor })
    }

    /// One message with its addresses, server locations and mailbox
    /// states, as the org sees it (every mailbox).
    pub async fn get_message(&self, org: &OrgId, id: &MessageId) -> StoreResult<MessageDetail> {
        self.get_message_as(org, id, Access::Org).await
    }

    /// One message as `access` sees it: its state is that of the first
    /// mailbox they may see, and only those mailboxes and their accounts'
    /// locations are listed. `NotFound` when they may see none.
    pub async fn get_message_as(
        &self,
        org: &OrgId,
        id: &MessageId,
        access: Access<'_>,
    ) -> StoreResult<MessageDetail> {
        let mailboxes = self.message_mailboxes(org, id, access).await?;
        let first = mailboxes.first().ok_or(StoreError::NotFound("message"))?;
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, m.header_message_id, m.in_reply_to, m.parse_problem FROM messages m \
             JOIN mailbox_state s ON s.org_id = m.org_id AND s.message_id = m.id \
             WHERE m.org_id = $1 AND m.id = $2 AND s.account_id = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(first.account.as_str())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("message"))?;
        let addresses = sqlx::query(
            "SELECT field, address, name FROM message_addresses WHERE org_id = $1 AND message_id = $2 ORDER BY position",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let field: String = r.try_get("field")?;
            Ok(MessageAddress {
                field: AddressField::parse(&field).map(|f| f.as_str().to_owned()).unwrap_or(field),
                address: r.try_get("address")?,
                name: r.try_get("name")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(MessageDetail {
            summary: summary_from_row(&row)?,
            header_message_id: row.try_get("header_message_id")?,
            in_reply_to: row.try_get("in_reply_to")?,
            addresses,
            locations: self
                .message_locations(org, id)
                .await?
                .into_iter()
                .filter(|l| mailboxes.iter().any(|m| m.account == l.account))
                .collect(),
            mailboxes,
            parse_problem: row.try_get("parse_problem")?,
        })
    }

    /// Where the message sits on servers (for writing user actions back).
    pub async fn message_locations(
        &self,
        org: &OrgId,
        id: &MessageId,
    ) -> StoreResult<Vec<MessageLocation>> {
        let rows = sqlx::query(
            "SELECT account_id, folder_id, uidvalidity, uid, pop3_uidl, flags FROM message_locations \
             WHERE org_id = $1 AND message_id = $2 ORDER BY account_id, location_key",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let u32_col = |c: &str| -> StoreResult<Option<u32>> {
                    Ok(r.try_get::<Option<i64>, _>(c)?
                        .and_then(|v| u32::try_from(v).ok()))
                };
                let flags: String = r.try_get("flags")?;
                Ok(MessageLocation {
                    account: AccountId(r.try_get("account_id")?),
                    folder: r.try_get::<Option<String>, _>("folder_id")?.map(FolderId),
                    uidvalidity: u32_col("uidvalidity")?,
                    uid: u32_col("uid")?,
                    pop3_uidl: r.try_get("pop3_uidl")?,
                    flags: flags.split_whitespace().map(str::to_owned).collect(),
                })
            })
            .collect()
    }

    /// The [`PipelineSource`] of each of `ids` that has a location, in one
    /// query (the pipeline reads thousands of messages a second during an
    /// initial sync). The raw bytes are not part of it: the pipeline mostly
    /// has the parse ingestion made (`RecentlyParsed`).
    pub async fn pipeline_sources(
        &self,
        org: &OrgId,
        ids: &[MessageId],
    ) -> StoreResult<HashMap<MessageId, PipelineSource>> {
        let mut sources = HashMap::new();
        for chunk in ids.chunks(500) {
            // The state is that of the mailbox of the first location.
            let mut q = SqlBuilder::new(
                "SELECT s.message_id, s.folder, s.labels, s.is_read, s.is_starred, s.reminder_at, \
                 l.account_id, l.folder_id FROM mailbox_state s \
                 JOIN message_locations l ON l.org_id = s.org_id AND l.message_id = s.message_id \
                 AND l.account_id = s.account_id WHERE s.org_id = ",
            );
            q.bind_text(org.as_str());
            // The first location of each message (one row per location).
            q.push(" AND s.message_id IN ")
                .bind_list(chunk.iter().map(|id| id.as_str()))
                .push(" ORDER BY s.message_id, l.account_id, l.location_key");
            for row in q.into_query().fetch_all(self.pool()).await? {
                let id = MessageId(row.try_get("message_id")?);
                if sources.contains_key(&id) {
                    continue;
                }
                let source = PipelineSource {
                    state: state_from_row(&row)?,
                    account: AccountId(row.try_get("account_id")?),
                    folder: row.try_get::<Option<String>, _>("folder_id")?.map(FolderId),
                };
                sources.insert(id, source);
            }
        }
        Ok(sources)
    }

    /// The message exactly as received (`message/rfc822`).
    pub async fn get_raw_message(&self, org: &OrgId, id: &MessageId) -> StoreResult<Vec<u8>> {
        let raw: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT raw FROM message_raw WHERE org_id = $1 AND message_id = $2")
                .bind(org.as_str())
                .bind(id.as_str())
                .fetch_optional(self.pool())
                .await?;
        raw.flatten().ok_or(StoreError::NotFound("message"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_roundtrip_and_rejects_garbage() {
        let c = encode_cursor(SortOrder::Newest, 1_700_000_000_000, "ab12");
        assert_eq!(
            decode_cursor(SortOrder::Newest, &c).expect("decode"),
            (1_700_000_000_000, "ab12".to_owned())
        );
        let oldest = encode_cursor(SortOrder::Oldest, 1, "ab");
        assert!(
            decode_cursor(SortOrder::Newest, &oldest)
                .is_err_and(|e| e.to_string().contains("other order"))
        );
        for bad in [
            "",
            "!!",
            &B64.encode("v2:1:ab"),
            &B64.encode("v1:x:ab"),
            &B64.encode("v1:1:a'b"),
        ] {
            assert!(decode_cursor(SortOrder::Newest, bad).is_err(), "{bad}");
        }
    }
}
