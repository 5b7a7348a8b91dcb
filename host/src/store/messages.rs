//! Message ingestion: the one path by which mail enters the store (sync,
//! send, the demo). A message is stored once per org under the sha256 of its
//! raw bytes; where it was seen on a server is a separate location row.
//! Ingesting the same bytes again adds or refreshes a location and nothing
//! else, so resyncs and UIDVALIDITY changes never duplicate mail or reset the
//! user's state. A batch (with its folder checkpoint) is one transaction:
//! after a crash either all of it is stored or none of it.

use super::db::{Arg, insert_rows, now_ms};
use super::folders::{FolderCheckpoint, write_checkpoint};
use super::mime_index::{MimeIndex, index_message};
use super::{Store, StoreError, StoreResult};
use crate::ids::{AccountId, FolderId, MessageId, OrgId};
use serde::Serialize;
use sqlx::Transaction;
use sqlx::any::Any;
use std::collections::HashMap;

/// Where a message was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Imap {
        folder: FolderId,
        uidvalidity: u32,
        uid: u32,
        /// IMAP flags as the server reports them, e.g. `\Seen`.
        flags: Vec<String>,
        modseq: Option<u64>,
    },
    Pop3 {
        uidl: String,
    },
    /// Not on a server (an import, the demo, a message composed here);
    /// `key` makes re-importing idempotent, `role` is its SalesInbox folder.
    Local {
        key: String,
        role: String,
    },
}

impl Location {
    /// Unique per account; the primary key of the location row.
    pub(super) fn key(&self) -> String {
        match self {
            Location::Imap {
                folder,
                uidvalidity,
                uid,
                ..
            } => format!("imap:{folder}:{uidvalidity}:{uid}"),
            Location::Pop3 { uidl } => format!("pop3:{uidl}"),
            Location::Local { key, .. } => format!("local:{key}"),
        }
    }
}

/// One message of a batch.
#[derive(Clone, Debug)]
pub struct IncomingMessage<'a> {
    pub location: Location,
    pub raw: &'a [u8],
    /// When the server received it (IMAP INTERNALDATE), ms; now when unknown.
    pub received_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ingested {
    pub message_id: MessageId,
    /// False when the org already had these exact bytes.
    pub new: bool,
}

/// Sort by the Date header unless it is missing or claims to be far in the
/// future (spam does that), then by arrival.
fn sort_time(sent_at: Option<i64>, received_at: i64) -> i64 {
    const DAY_MS: i64 = 86_400_000;
    match sent_at {
        Some(t) if t <= received_at.saturating_add(DAY_MS) => t,
        _ => received_at,
    }
}

fn flag_set(flags: &[String], flag: &str) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case(flag))
}

impl Store {
    /// Stores one message seen at `location` of `account`.
    pub async fn ingest_message(
        &self,
        org: &OrgId,
        account: &AccountId,
        location: &Location,
        raw: &[u8],
    ) -> StoreResult<Ingested> {
        let item = IncomingMessage {
            location: location.clone(),
            raw,
            received_at: None,
        };
        let mut out = self
            .ingest_batch(org, account, std::slice::from_ref(&item), None)
            .await?;
        out.pop()
            .ok_or_else(|| StoreError::Invalid("empty ingest batch".into()))
    }

    /// Stores a batch of messages and, optionally, the folder checkpoint
    /// that covers them, in one transaction.
    pub async fn ingest_batch(
        &self,
        org: &OrgId,
        account: &AccountId,
        items: &[IncomingMessage<'_>],
        checkpoint: Option<&FolderCheckpoint>,
    ) -> StoreResult<Vec<Ingested>> {
        self.check_account(org, account).await?;
        let roles = self.folder_roles(org, account, items, checkpoint).await?;
        // Parsing is CPU work: do it before taking the write lock.
        let parsed: Vec<(MessageId, MimeIndex)> = items
            .iter()
            .map(|m| (MessageId::of_raw(m.raw), index_message(m.raw)))
            .collect();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let mut out: Vec<Option<Ingested>> = vec![None; items.len()];
        let mut deferred = Deferred::default();
        // Insert in content-hash order: two batches sharing messages (one
        // mail delivered to two colleagues, synced at once) then lock rows in
        // the same order, so PostgreSQL cannot deadlock them.
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|a, b| parsed[*a].0.cmp(&parsed[*b].0));
        for i in order {
            let (item, (id, index)) = (&items[i], &parsed[i]);
            let role = match &item.location {
                Location::Imap { folder, .. } => roles.get(folder).cloned().flatten(),
                Location::Pop3 { .. } => None,
                Location::Local { role, .. } => Some(role.clone()),
            };
            let received_at = item.received_at.unwrap_or(now);
            let new = insert_message(&mut tx, org, id, item, index, received_at).await?;
            if new {
                deferred.add(org, id, item, index, role.as_deref(), now);
            }
            upsert_location(&mut tx, org, account, id, &item.location, now).await?;
            out[i] = Some(Ingested {
                message_id: id.clone(),
                new,
            });
        }
        deferred.write(&mut tx).await?;
        if let Some(cp) = checkpoint {
            write_checkpoint(&mut tx, org, cp).await?;
        }
        tx.commit().await?;
        Ok(out.into_iter().flatten().collect())
    }

    /// The role of every folder the batch mentions; also checks that each
    /// folder belongs to the account (and so to the org).
    async fn folder_roles(
        &self,
        org: &OrgId,
        account: &AccountId,
        items: &[IncomingMessage<'_>],
        checkpoint: Option<&FolderCheckpoint>,
    ) -> StoreResult<HashMap<FolderId, Option<String>>> {
        let mut roles = HashMap::new();
        let folders = items
            .iter()
            .filter_map(|m| match &m.location {
                Location::Imap { folder, .. } => Some(folder),
                _ => None,
            })
            .chain(checkpoint.map(|c| &c.folder));
        for folder in folders {
            if roles.contains_key(folder) {
                continue;
            }
            let f = self.get_folder(org, folder).await?;
            if &f.account != account {
                return Err(StoreError::NotFound("folder"));
            }
            roles.insert(folder.clone(), f.role);
        }
        Ok(roles)
    }
}

/// Inserts the message and its raw bytes unless the org already has it.
/// Returns whether it was new.
async fn insert_message(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    id: &MessageId,
    item: &IncomingMessage<'_>,
    ix: &MimeIndex,
    received_at: i64,
) -> StoreResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO messages (org_id, id, size, header_message_id, subject, sent_at, received_at, sort_at, \
         from_address, from_name, has_attachments, snippet, in_reply_to, parse_problem) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (org_id, id) DO NOTHING",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(i64::try_from(item.raw.len()).unwrap_or(i64::MAX))
    .bind(ix.header_message_id.clone())
    .bind(ix.subject.clone())
    .bind(ix.sent_at)
    .bind(received_at)
    .bind(sort_time(ix.sent_at, received_at))
    .bind(ix.from_address.clone())
    .bind(ix.from_name.clone())
    .bind(ix.has_attachments)
    .bind(ix.snippet.clone())
    .bind(ix.in_reply_to.clone())
    .bind(ix.parse_problem.clone())
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("INSERT INTO message_raw (org_id, message_id, raw) VALUES ($1, $2, $3)")
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(item.raw.to_vec())
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

/// Rows of new messages written once per batch with multi-row inserts:
/// addresses, initial user state, and the pending pipeline run.
#[derive(Default)]
struct Deferred {
    addresses: Vec<Vec<Arg>>,
    states: Vec<Vec<Arg>>,
    runs: Vec<Vec<Arg>>,
}

impl Deferred {
    fn add(
        &mut self,
        org: &OrgId,
        id: &MessageId,
        item: &IncomingMessage<'_>,
        ix: &MimeIndex,
        role: Option<&str>,
        now: i64,
    ) {
        let o = || Arg::Text(org.as_str().to_owned());
        let m = || Arg::Text(id.as_str().to_owned());
        for (position, a) in ix.addresses.iter().enumerate() {
            self.addresses.push(vec![
                o(),
                m(),
                Arg::Text(a.field.as_str().to_owned()),
                Arg::I64(position as i64),
                Arg::Text(a.address.clone()),
                Arg::from(a.name.clone()),
            ]);
        }
        let (read, starred) = match &item.location {
            Location::Imap { flags, .. } => {
                (flag_set(flags, "\\Seen"), flag_set(flags, "\\Flagged"))
            }
            Location::Local { .. } => (true, false),
            Location::Pop3 { .. } => (false, false),
        };
        self.states.push(vec![
            o(),
            m(),
            Arg::Text(role.unwrap_or("inbox").to_owned()),
            Arg::Bool(read),
            Arg::Bool(starred),
            Arg::I64(now),
        ]);
        self.runs
            .push(vec![o(), m(), Arg::Text("pending".into()), Arg::I64(now)]);
    }

    async fn write(self, tx: &mut Transaction<'static, Any>) -> StoreResult<()> {
        insert_rows(
            tx,
            "INSERT INTO message_addresses (org_id, message_id, field, position, address, name)",
            self.addresses,
        )
        .await?;
        insert_rows(tx, "INSERT INTO message_state (org_id, message_id, folder, is_read, is_starred, updated_at)", self.states).await?;
        insert_rows(
            tx,
            "INSERT INTO pipeline_runs (org_id, message_id, status, queued_at)",
            self.runs,
        )
        .await?;
        Ok(())
    }
}

pub(super) async fn upsert_location(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    account: &AccountId,
    id: &MessageId,
    location: &Location,
    now: i64,
) -> StoreResult<()> {
    let (folder, uidvalidity, uid, uidl, flags, modseq) = match location {
        Location::Imap {
            folder,
            uidvalidity,
            uid,
            flags,
            modseq,
        } => (
            Some(folder.as_str()),
            Some(i64::from(*uidvalidity)),
            Some(i64::from(*uid)),
            None,
            flags.join(" "),
            modseq.map(|m| i64::try_from(m).unwrap_or(i64::MAX)),
        ),
        Location::Pop3 { uidl } => (None, None, None, Some(uidl.as_str()), String::new(), None),
        Location::Local { .. } => (None, None, None, None, String::new(), None),
    };
    sqlx::query(
        "INSERT INTO message_locations (org_id, account_id, location_key, message_id, folder_id, uidvalidity, \
         uid, pop3_uidl, flags, modseq, seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (account_id, location_key) DO UPDATE SET message_id = excluded.message_id, \
         flags = excluded.flags, modseq = excluded.modseq, seen_at = excluded.seen_at",
    )
    .bind(org.as_str())
    .bind(account.as_str())
    .bind(location.key())
    .bind(id.as_str())
    .bind(folder)
    .bind(uidvalidity)
    .bind(uid)
    .bind(uidl)
    .bind(flags)
    .bind(modseq)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
