//! The outbox: messages to send, stored with their raw bytes before any
//! network call, and the state machine they go through:
//!
//! ```text
//! queued ──claim──► sending ──250──► sent ──copy claim──► appended
//!   ▲                 │  │                  │ (IMAP down: stays sent, retried)
//!   └──4xx, refused───┘  └──5xx──► failed   ▼
//! ```
//!
//! Every transition is one UPDATE guarded by the state it leaves (and, for
//! claims, by an expired lease), so two workers — or a worker restarted
//! after a crash — never both act on one entry, and a crash between two
//! steps leaves the entry in the state of the last committed step.
//!
//! An SMTP attempt is marked in flight (`in_flight_since`) just before it
//! starts and unmarked with its outcome. The claim that takes an entry over
//! from a dead worker moves a still-set mark to `interrupted_attempt_at`:
//! that attempt may or may not have gone out, which the worker can ask the
//! Sent folder about; a message sent after it is `possible_duplicate`.

use super::db::{from_json, get_bool, to_json};
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, MessageId, OrgId, OutboxId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        // Says for the OpenAPI document what the per-variant renames say
        // for serde (utoipa documented the variant names, `Imap`, without it).
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

text_enum!(
    /// Where an outbox entry is on its way.
    OutboxState {
        /// Waiting for its (next) SMTP attempt at `next_attempt_at`.
        Queued = "queued",
        /// A worker holds it and is talking to the SMTP server.
        Sending = "sending",
        /// The SMTP server accepted it; the copy in Sent is still to be made.
        Sent = "sent",
        /// Done: sent, the Sent copy handled (see `sent_copy`), stored.
        Appended = "appended",
        /// The server refused it for good (its words in `last_error`).
        Failed = "failed",
    }
);

text_enum!(
    /// How the copy in the Sent folder was handled.
    SentCopy {
        /// Mailroom appended it (IMAP APPEND).
        Appended = "appended",
        /// The server had already filed it (found by Message-ID).
        Found = "found",
        /// The provider files sent mail itself (plugin quirk or learned).
        Provider = "provider",
        /// The account's settings say not to keep a copy.
        Disabled = "disabled",
        /// The account has no Sent folder (or is POP3): stored locally only.
        NoSentFolder = "no_sent_folder",
        /// Appending kept failing; stored locally only (see `last_error`).
        GaveUp = "gave_up",
    }
);

/// An outbox entry without its bytes (see [`Store::outbox_raw`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub id: OutboxId,
    pub org: OrgId,
    pub account: AccountId,
    pub created_by: Option<UserId>,
    pub state: OutboxState,
    /// The Message-ID header, e.g. `<3f9c…@example.com>`.
    pub message_id: String,
    pub subject: String,
    pub envelope_from: String,
    /// Every recipient: to, cc and bcc.
    pub envelope_to: Vec<String>,
    /// SMTP attempts made so far.
    pub attempts: u32,
    /// Attempts at filing the Sent copy so far.
    pub copy_attempts: u32,
    /// When the next attempt is due (ms since the epoch), while queued or sent.
    pub next_attempt_at: Option<i64>,
    /// The last failure, in the server's words where it gave any.
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
    pub sent_copy: Option<SentCopy>,
    /// The message in the store, once ingested.
    pub stored_message_id: Option<MessageId>,
    /// When the running SMTP attempt began; `None` when none is running.
    pub in_flight_since: Option<i64>,
    /// When an earlier SMTP attempt began whose outcome was never recorded
    /// (its worker died mid-send): it may have gone out. Cleared once sent.
    pub interrupted_attempt_at: Option<i64>,
    /// Sent again after an interrupted attempt that may have gone out too:
    /// recipients may have it twice (with the same Message-ID).
    pub possible_duplicate: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What [`Store::create_outbox_entry`] stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOutboxEntry {
    pub account: AccountId,
    pub created_by: Option<UserId>,
    pub message_id: String,
    pub subject: String,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    /// The bytes sent over SMTP.
    pub raw: Vec<u8>,
    /// The Sent-folder copy, when it differs from `raw`.
    pub copy_raw: Option<Vec<u8>>,
}

/// The bytes of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRaw {
    pub raw: Vec<u8>,
    pub copy_raw: Option<Vec<u8>>,
}

impl OutboxRaw {
    /// What goes into the Sent folder and the store.
    pub fn copy(&self) -> &[u8] {
        self.copy_raw.as_deref().unwrap_or(&self.raw)
    }
}

const COLUMNS: &str = "id, org_id, account_id, created_by, state, message_id, subject, envelope_from, \
    envelope_to, attempts, copy_attempts, next_attempt_at, last_error, sent_at, sent_copy, \
    stored_message_id, in_flight_since, interrupted_attempt_at, possible_duplicate, created_at, \
    updated_at";

fn count(row: &AnyRow, col: &str) -> StoreResult<u32> {
    let v: i64 = row.try_get(col)?;
    u32::try_from(v).map_err(|_| StoreError::Invalid(format!("stored {col} {v}")))
}

fn entry_from_row(row: &AnyRow) -> StoreResult<OutboxEntry> {
    let state: String = row.try_get("state")?;
    let sent_copy: Option<String> = row.try_get("sent_copy")?;
    Ok(OutboxEntry {
        id: OutboxId(row.try_get("id")?),
        org: OrgId(row.try_get("org_id")?),
        account: AccountId(row.try_get("account_id")?),
        created_by: row.try_get::<Option<String>, _>("created_by")?.map(UserId),
        state: OutboxState::parse(&state)
            .ok_or_else(|| StoreError::Invalid(format!("stored outbox state {state:?}")))?,
        message_id: row.try_get("message_id")?,
        subject: row.try_get("subject")?,
        envelope_from: row.try_get("envelope_from")?,
        envelope_to: from_json(&row.try_get::<String, _>("envelope_to")?)?,
        attempts: count(row, "attempts")?,
        copy_attempts: count(row, "copy_attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        sent_at: row.try_get("sent_at")?,
        sent_copy: sent_copy
            .map(|s| {
                SentCopy::parse(&s)
                    .ok_or_else(|| StoreError::Invalid(format!("stored sent_copy {s:?}")))
            })
            .transpose()?,
        stored_message_id: row
            .try_get::<Option<String>, _>("stored_message_id")?
            .map(MessageId),
        in_flight_since: row.try_get("in_flight_since")?,
        interrupted_attempt_at: row.try_get("interrupted_attempt_at")?,
        possible_duplicate: get_bool(row, "possible_duplicate")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Errors are stored for people to read; a server can say a lot.
fn clip(error: &str) -> String {
    super::mime_index::clean_text(error, 2000)
}

impl Store {
    /// Stores a message to send, queued for now. Nothing has touched the
    /// network yet: this commit is what makes the send durable.
    pub async fn create_outbox_entry(
        &self,
        org: &OrgId,
        new: &NewOutboxEntry,
    ) -> StoreResult<OutboxEntry> {
        self.check_account(org, &new.account).await?;
        let mut tx = self.begin_write().await?;
        let id = insert_outbox_entry(&mut tx, org, new).await?;
        tx.commit().await?;
        self.get_outbox_entry(org, &id).await
    }

    pub async fn get_outbox_entry(&self, org: &OrgId, id: &OutboxId) -> StoreResult<OutboxEntry> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("outbox entry"))?;
        entry_from_row(&row)
    }

    /// The account's outbox, newest first.
    pub async fn list_outbox(
        &self,
        org: &OrgId,
        account: &AccountId,
        limit: u32,
    ) -> StoreResult<Vec<OutboxEntry>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE org_id = $1 AND account_id = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(account.as_str())
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    pub async fn outbox_raw(&self, org: &OrgId, id: &OutboxId) -> StoreResult<OutboxRaw> {
        let row = sqlx::query("SELECT raw, copy_raw FROM outbox WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("outbox entry"))?;
        Ok(OutboxRaw {
            raw: row.try_get("raw")?,
            copy_raw: row.try_get("copy_raw")?,
        })
    }

    /// Entries of every org with work due at `now`: queued or sent with
    /// their next attempt due and no live lease, and `sending` entries whose
    /// worker's lease ran out (it crashed mid-send). Oldest first.
    pub async fn due_outbox(&self, now: i64, limit: u32) -> StoreResult<Vec<(OrgId, OutboxId)>> {
        let rows = sqlx::query(
            "SELECT org_id, id FROM outbox WHERE \
             (state IN ('queued', 'sent') AND COALESCE(next_attempt_at, 0) <= $1 \
              AND COALESCE(lease_until, 0) < $1) \
             OR (state = 'sending' AND COALESCE(lease_until, 0) < $1) \
             ORDER BY created_at, id LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((OrgId(r.try_get("org_id")?), OutboxId(r.try_get("id")?))))
            .collect()
    }

    /// Takes a queued entry (due at `now`), or a `sending` one whose lease
    /// expired, for an SMTP attempt until `now + lease_ms`; counts the
    /// attempt. False when it is not due or another worker holds it. An
    /// in-flight mark left by a dead worker becomes `interrupted_attempt_at`
    /// (the right-hand sides read the row as it was).
    pub async fn claim_outbox_send(
        &self,
        org: &OrgId,
        id: &OutboxId,
        now: i64,
        lease_ms: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, lease_until = $1, \
             interrupted_attempt_at = COALESCE(in_flight_since, interrupted_attempt_at), \
             in_flight_since = NULL, updated_at = $2 WHERE org_id = $3 AND id = $4 AND \
             ((state = 'queued' AND COALESCE(next_attempt_at, 0) <= $5 AND COALESCE(lease_until, 0) < $5) \
              OR (state = 'sending' AND COALESCE(lease_until, 0) < $5))",
        )
        .bind(now.saturating_add(lease_ms))
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The SMTP attempt of a claimed entry starts now: committed before the
    /// first byte goes to the server, so a crash during it is known later.
    pub async fn mark_outbox_in_flight(&self, org: &OrgId, id: &OutboxId) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE outbox SET in_flight_since = $1, updated_at = $1 \
             WHERE org_id = $2 AND id = $3 AND state = 'sending'",
        )
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        expect_one(done.rows_affected(), id, "sending")
    }

    /// The SMTP server accepted the message: `sending` → `sent`, with the
    /// Sent copy due at once (no next-attempt time). After an interrupted
    /// attempt this may be the second copy: flagged `possible_duplicate`.
    pub async fn mark_outbox_sent(&self, org: &OrgId, id: &OutboxId) -> StoreResult<()> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = $1, next_attempt_at = NULL, \
             lease_until = NULL, last_error = NULL, in_flight_since = NULL, \
             possible_duplicate = (possible_duplicate OR interrupted_attempt_at IS NOT NULL), \
             interrupted_attempt_at = NULL, updated_at = $1 \
             WHERE org_id = $2 AND id = $3 AND state = 'sending'",
        )
        .bind(now)
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        expect_one(done.rows_affected(), id, "sending")
    }

    /// The interrupted attempt did go out (its copy is in Sent):
    /// `sending` → `sent` without sending again, as of that attempt.
    pub async fn mark_outbox_sent_by_interrupted_attempt(
        &self,
        org: &OrgId,
        id: &OutboxId,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = interrupted_attempt_at, \
             next_attempt_at = NULL, lease_until = NULL, last_error = NULL, \
             in_flight_since = NULL, interrupted_attempt_at = NULL, updated_at = $1 \
             WHERE org_id = $2 AND id = $3 AND state = 'sending' \
             AND interrupted_attempt_at IS NOT NULL",
        )
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        expect_one(
            done.rows_affected(),
            id,
            "sending after an interrupted attempt",
        )
    }

    /// A transient failure: `sending` → `queued`, tried again at `next_at`.
    pub async fn retry_outbox_later(
        &self,
        org: &OrgId,
        id: &OutboxId,
        error: &str,
        next_at: i64,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'queued', next_attempt_at = $1, lease_until = NULL, \
             in_flight_since = NULL, last_error = $2, updated_at = $3 \
             WHERE org_id = $4 AND id = $5 AND state = 'sending'",
        )
        .bind(next_at)
        .bind(clip(error))
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        expect_one(done.rows_affected(), id, "sending")
    }

    /// A permanent failure (or the retries ran out): `sending` → `failed`.
    pub async fn fail_outbox(&self, org: &OrgId, id: &OutboxId, error: &str) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'failed', next_attempt_at = NULL, lease_until = NULL, \
             in_flight_since = NULL, last_error = $1, updated_at = $2 \
             WHERE org_id = $3 AND id = $4 AND state = 'sending'",
        )
        .bind(clip(error))
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        expect_one(done.rows_affected(), id, "sending")
    }

    /// Takes a sent entry (due at `now`, no live lease) to file its Sent
    /// copy until `now + lease_ms`; counts the attempt.
    pub async fn claim_outbox_copy(
        &self,
        org: &OrgId,
        id: &OutboxId,
        now: i64,
        lease_ms: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET copy_attempts = copy_attempts + 1, lease_until = $1, updated_at = $2 \
             WHERE org_id = $3 AND id = $4 AND state = 'sent' \
             AND COALESCE(next_attempt_at, 0) <= $5 AND COALESCE(lease_until, 0) < $5",
        )
        .bind(now.saturating_add(lease_ms))
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Filing the Sent copy failed (IMAP unreachable, say): stays `sent`,
    /// tried again at `next_at`. The message is not sent again.
    pub async fn retry_outbox_copy_later(
        &self,
        org: &OrgId,
        id: &OutboxId,
        error: &str,
        next_at: i64,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1, lease_until = NULL, last_error = $2, \
             updated_at = $3 WHERE org_id = $4 AND id = $5 AND state = 'sent'",
        )
        .bind(next_at)
        .bind(clip(error))
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        expect_one(done.rows_affected(), id, "sent")
    }

    /// Done: `sent` → `appended`, with how the copy was handled and the
    /// stored message. `error` keeps why a copy could not be made.
    pub async fn finish_outbox(
        &self,
        org: &OrgId,
        id: &OutboxId,
        copy: SentCopy,
        stored: &MessageId,
        error: Option<&str>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'appended', sent_copy = $1, stored_message_id = $2, \
             next_attempt_at = NULL, lease_until = NULL, last_error = $3, updated_at = $4 \
             WHERE org_id = $5 AND id = $6 AND state = 'sent'",
        )
        .bind(copy.as_str())
        .bind(stored.as_str())
        .bind(error.map(clip))
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        expect_one(done.rows_affected(), id, "sent")
    }
}

/// A guarded transition changed nothing: the entry left the state the
/// step expected (another worker finished it, or it does not exist).
fn expect_one(rows: u64, id: &OutboxId, expected: &str) -> StoreResult<()> {
    if rows == 1 {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "outbox entry {id} is no longer {expected}"
    )))
}

/// Queues `new` inside `tx` (the caller checked the account): how
/// [`Store::create_outbox_entry`] and the `forward` executor, whose entry
/// commits with the action's `done`, both queue a message.
pub(crate) async fn insert_outbox_entry(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    new: &NewOutboxEntry,
) -> StoreResult<OutboxId> {
    let id = OutboxId::generate();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO outbox (id, org_id, account_id, created_by, state, message_id, subject, \
         envelope_from, envelope_to, raw, copy_raw, next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10, $11, $11, $11)",
    )
    .bind(id.as_str())
    .bind(org.as_str())
    .bind(new.account.as_str())
    .bind(new.created_by.as_ref().map(|u| u.as_str().to_owned()))
    .bind(&new.message_id)
    .bind(&new.subject)
    .bind(&new.envelope_from)
    .bind(to_json(&new.envelope_to)?)
    .bind(new.raw.clone())
    .bind(new.copy_raw.clone())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}
