//! The queue of user changes to write back to IMAP servers (two-way state).
//!
//! A change of read, starred or folder is queued for each account whose
//! mailbox state changed and that holds the message on an IMAP server (see
//! `mailbox_state`), inside the transaction that changes that state, so a change the user was told about is never lost. A
//! row is keyed by (account, message, kind): a later change of the same
//! kind replaces the earlier one, so the server gets the last wish only.
//! The executor (`sync::imap::writeback`) deletes a row once the server
//! confirmed it, and only if the row was not replaced meanwhile.
//!
//! While a read/starred change is queued, the server's flags do not
//! overwrite the user's state (see `locations::apply_server_flags`): the
//! local change is newer until it is written.

use super::db::SqlBuilder;
use super::{Store, StoreResult};
use mailroom_core::backoff::{self, Backoff};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, MessageId, OrgId};
use serde::Serialize;
use sqlx::any::Any;
use sqlx::{Row, Transaction};
use std::time::Duration;

/// What a queued change sets on the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerChangeKind {
    /// `\Seen` set (true) or cleared.
    Read(bool),
    /// `\Flagged` set (true) or cleared.
    Starred(bool),
    /// Move to the account's folder of this SalesInbox role.
    Folder(String),
}

impl ServerChangeKind {
    fn column_values(&self) -> (&'static str, String) {
        match self {
            ServerChangeKind::Read(v) => ("read", v.to_string()),
            ServerChangeKind::Starred(v) => ("starred", v.to_string()),
            ServerChangeKind::Folder(role) => ("folder", role.clone()),
        }
    }

    fn from_columns(kind: &str, value: &str) -> Option<Self> {
        match kind {
            "read" => Some(ServerChangeKind::Read(value == "true")),
            "starred" => Some(ServerChangeKind::Starred(value == "true")),
            "folder" => Some(ServerChangeKind::Folder(value.to_owned())),
            _ => None,
        }
    }

    /// The kind column, e.g. `read`.
    pub fn name(&self) -> &'static str {
        self.column_values().0
    }
}

/// One queued change, as the executor sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerChange {
    pub account: AccountId,
    pub message: MessageId,
    pub kind: ServerChangeKind,
    pub attempts: u32,
    /// The row's version: the executor deletes it only if unchanged.
    pub updated_at: i64,
}

/// How an attempt at a change ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// The server has it (or had it already): drop the change.
    Done,
    /// Try again later (after a back-off growing with the attempts).
    Retry(String),
    /// Try again at the next sync, without counting an attempt (e.g. the
    /// folder was renumbered and the message must be found again first).
    Deferred(String),
    /// The server cannot take it as things are; kept and shown as failed,
    /// planned again at each sync (no server command until it can work).
    Failed(String),
}

/// The queue of one account, for the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ServerChangesStatus {
    /// Changes waiting to be written to the server (retried at each sync).
    pub pending: i64,
    /// Changes the server cannot take as things are (see `last_error`).
    pub failed: i64,
    /// The most recent error of any queued change, if any.
    pub last_error: Option<String>,
}

/// The spacing of tries to write a change back: 30 s doubling, at most an
/// hour (retried at each sync once due).
pub const RETRY_BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(30),
    max: Duration::from_secs(3600),
};

/// Queues `kinds` (the server side of a state update, see
/// `mailbox_state`) inside the caller's transaction: one change per kind
/// per account of `changed` that holds the message on an IMAP server. No
/// other account hears of it: its mailbox state did not change.
pub(crate) async fn enqueue_for_update(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    message: &MessageId,
    kinds: &[ServerChangeKind],
    changed: &[AccountId],
) -> StoreResult<()> {
    if kinds.is_empty() || changed.is_empty() {
        return Ok(());
    }
    let mut q = SqlBuilder::new(
        "SELECT DISTINCT account_id FROM message_locations WHERE uid IS NOT NULL AND org_id = ",
    );
    q.bind_text(org.as_str())
        .push(" AND message_id = ")
        .bind_text(message.as_str())
        .push(" AND account_id IN ")
        .bind_list(changed.iter().map(AccountId::as_str))
        .push(" ORDER BY account_id");
    let accounts: Vec<String> = q
        .into_query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("account_id"))
        .collect::<Result<_, _>>()?;
    let now = now_ms();
    for account in &accounts {
        for kind in kinds {
            let (kind, value) = kind.column_values();
            sqlx::query(
                "INSERT INTO server_changes (org_id, account_id, message_id, kind, value, status, \
                 attempts, next_attempt_at, last_error, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, NULL, $6, $6) \
                 ON CONFLICT (account_id, message_id, kind) DO UPDATE SET value = excluded.value, \
                 status = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at, \
                 last_error = NULL, updated_at = excluded.updated_at",
            )
            .bind(org.as_str())
            .bind(account.as_str())
            .bind(message.as_str())
            .bind(kind)
            .bind(value)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Whether a change of `kind` of the message in the account's mailbox
/// waits to be written: then the user's value wins over what the server
/// reports.
pub(crate) async fn change_pending(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    account: &str,
    message: &str,
    kind: &str,
) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM server_changes WHERE org_id = $1 AND message_id = $2 \
         AND kind = $3 AND status = 'pending' AND account_id = $4",
    )
    .bind(org.as_str())
    .bind(message)
    .bind(kind)
    .bind(account)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

impl Store {
    /// The account's changes due now, oldest first. Moves that failed for
    /// want of a folder are planned again each time (that costs no server
    /// command), so mapping or creating the folder is all it takes.
    pub async fn due_server_changes(
        &self,
        org: &OrgId,
        account: &AccountId,
        limit: u32,
    ) -> StoreResult<Vec<ServerChange>> {
        let rows = sqlx::query(
            "SELECT message_id, kind, value, attempts, updated_at FROM server_changes \
             WHERE org_id = $1 AND account_id = $2 \
             AND ((status = 'pending' AND next_attempt_at <= $3) OR (status = 'failed' AND kind = 'folder')) \
             ORDER BY updated_at, message_id, kind LIMIT $4",
        )
        .bind(org.as_str())
        .bind(account.as_str())
        .bind(now_ms())
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let kind: String = r.try_get("kind")?;
            let value: String = r.try_get("value")?;
            let Some(kind) = ServerChangeKind::from_columns(&kind, &value) else {
                continue;
            };
            let attempts: i64 = r.try_get("attempts")?;
            out.push(ServerChange {
                account: account.clone(),
                message: MessageId(r.try_get("message_id")?),
                kind,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                updated_at: r.try_get("updated_at")?,
            });
        }
        Ok(out)
    }

    /// Whether the account has changes waiting and due now (failed moves
    /// left out: they wait for a folder, not for a connection).
    pub async fn server_changes_due(&self, org: &OrgId, account: &AccountId) -> StoreResult<bool> {
        let due: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 AS one FROM server_changes WHERE org_id = $1 \
             AND account_id = $2 AND status = 'pending' AND next_attempt_at <= $3 LIMIT 1) due",
        )
        .bind(org.as_str())
        .bind(account.as_str())
        .bind(now_ms())
        .fetch_one(self.pool())
        .await?;
        Ok(due > 0)
    }

    /// Records how an attempt ended. A change replaced meanwhile (newer
    /// `updated_at`) is left alone: the newer wish still has to be written.
    pub async fn finish_server_change(
        &self,
        org: &OrgId,
        change: &ServerChange,
        outcome: &ChangeOutcome,
    ) -> StoreResult<()> {
        const WHERE: &str = "org_id = $1 AND account_id = $2 AND message_id = $3 AND kind = $4 \
            AND updated_at = $5";
        let next = backoff::at(
            now_ms(),
            RETRY_BACKOFF.delay(change.attempts.saturating_add(1)),
        );
        let (sql, error, next) = match outcome {
            ChangeOutcome::Done => (
                format!("DELETE FROM server_changes WHERE {WHERE}"),
                None,
                None,
            ),
            ChangeOutcome::Retry(e) => (
                format!(
                    "UPDATE server_changes SET attempts = attempts + 1, last_error = $6, \
                     next_attempt_at = $7 WHERE {WHERE}"
                ),
                Some(e),
                Some(next),
            ),
            ChangeOutcome::Deferred(e) => (
                format!("UPDATE server_changes SET last_error = $6 WHERE {WHERE}"),
                Some(e),
                None,
            ),
            ChangeOutcome::Failed(e) => (
                format!(
                    "UPDATE server_changes SET status = 'failed', attempts = attempts + 1, \
                     last_error = $6 WHERE {WHERE}"
                ),
                Some(e),
                None,
            ),
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str().to_owned())
            .bind(change.account.as_str().to_owned())
            .bind(change.message.as_str().to_owned())
            .bind(change.kind.name())
            .bind(change.updated_at);
        if let Some(e) = error {
            q = q.bind(super::mime_index::clean_text(e, 2000));
        }
        if let Some(next) = next {
            q = q.bind(next);
        }
        q.execute(self.pool()).await?;
        Ok(())
    }

    /// Records an error that stopped the whole write-back (a broken
    /// connection) on the changes it was working on, counting an attempt
    /// but without back-off: the next sync tries again.
    pub async fn note_server_change_error(
        &self,
        org: &OrgId,
        change: &ServerChange,
        error: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE server_changes SET attempts = attempts + 1, last_error = $1 \
             WHERE org_id = $2 AND account_id = $3 AND message_id = $4 AND kind = $5 AND updated_at = $6",
        )
        .bind(super::mime_index::clean_text(error, 2000))
        .bind(org.as_str())
        .bind(change.account.as_str())
        .bind(change.message.as_str())
        .bind(change.kind.name())
        .bind(change.updated_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// How many changes of the account wait or failed, and the last error.
    pub async fn server_changes_status(
        &self,
        org: &OrgId,
        account: &AccountId,
    ) -> StoreResult<ServerChangesStatus> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM server_changes WHERE org_id = $1 AND account_id = $2 \
             GROUP BY status",
        )
        .bind(org.as_str())
        .bind(account.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut status = ServerChangesStatus::default();
        for r in &rows {
            let s: String = r.try_get("status")?;
            let n: i64 = r.try_get("n")?;
            match s.as_str() {
                "pending" => status.pending = n,
                _ => status.failed = n,
            }
        }
        status.last_error = sqlx::query_scalar(
            "SELECT last_error FROM server_changes WHERE org_id = $1 AND account_id = $2 \
             AND last_error IS NOT NULL ORDER BY updated_at DESC LIMIT 1",
        )
        .bind(org.as_str())
        .bind(account.as_str())
        .fetch_optional(self.pool())
        .await?;
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_columns() {
        for k in [
            ServerChangeKind::Read(true),
            ServerChangeKind::Starred(false),
            ServerChangeKind::Folder("custom:Deals".into()),
        ] {
            let (kind, value) = k.column_values();
            assert_eq!(ServerChangeKind::from_columns(kind, &value), Some(k));
        }
    }
}
