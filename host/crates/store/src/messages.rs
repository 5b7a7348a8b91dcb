//! Message ingestion: the one path by which mail enters the store (sync,
//! send, the demo). A message is stored once per org under the sha256 of its
//! raw bytes; where it was seen on a server is a separate location row.
//! Ingesting the same bytes again adds or refreshes a location (and, the
//! first time an account holds it, that mailbox's state) and nothing else,
//! so resyncs and UIDVALIDITY changes never duplicate mail or reset the
//! mailbox's state. A batch (with its folder checkpoint) is one transaction:
//! after a crash either all of it is stored or none of it.

use super::db::{Arg, insert_rows, insert_rows_then};
use super::folders::{FolderCheckpoint, write_checkpoint};
use super::mailbox_state::{
    STATE_INSERT, STATE_KEEP, folder_of, follow_server_folders, initial_state_row,
};
use super::mime_index::{MimeIndex, index_parsed};
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, FolderId, MessageId, OrgId};
use mailroom_core::mime::ParsedMessage;
use serde::Serialize;
use sqlx::Row;
use sqlx::Transaction;
use sqlx::any::Any;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

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
        let parsed = parse_batch(items);
        let now = now_ms();
        // Rows go in content-hash order: two batches sharing messages (one
        // mail delivered to two colleagues, synced at once) then lock rows in
        // the same order, so PostgreSQL cannot deadlock them.
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|a, b| parsed[*a].0.cmp(&parsed[*b].0));
        let message_rows = order
            .iter()
            .map(|&i| {
                let received_at = items[i].received_at.unwrap_or(now);
                message_row(org, &parsed[i].0, items[i].raw, &parsed[i].1, received_at)
            })
            .collect();
        let mut tx = self.begin_write().await?;
        // One statement tells which messages the org did not have yet.
        let inserted: HashSet<String> = insert_rows_then(
            &mut tx,
            MESSAGE_INSERT,
            message_rows,
            " ON CONFLICT (org_id, id) DO NOTHING RETURNING id",
        )
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
        let mut out: Vec<Option<Ingested>> = vec![None; items.len()];
        let mut deferred = Deferred::default();
        let mut raws = Vec::new();
        let mut locations: BTreeMap<String, Vec<Arg>> = BTreeMap::new();
        let mut first_seen = HashSet::new();
        let mut states: BTreeMap<&str, Vec<Arg>> = BTreeMap::new();
        let mut imap_seen: BTreeSet<MessageId> = BTreeSet::new();
        for i in order {
            let (item, (id, index, message)) = (&items[i], &parsed[i]);
            // The same bytes twice in one batch: only the first is new.
            let new = inserted.contains(id.as_str()) && first_seen.insert(id.as_str());
            // The account's mailbox holds it from its first sighting there.
            states.entry(id.as_str()).or_insert_with(|| {
                let folder = match &item.location {
                    Location::Imap { folder, .. } => roles.get(folder).cloned(),
                    Location::Pop3 { .. } => None,
                    Location::Local { role, .. } => Some(role.clone()),
                };
                let folder = folder.unwrap_or_else(|| "inbox".to_owned());
                initial_state_row(org, account, id, &item.location, &folder, now)
            });
            if matches!(item.location, Location::Imap { .. }) {
                imap_seen.insert(id.clone());
            }
            if new {
                deferred.add(org, id, index, now);
                // Its pipeline run is queued in this transaction.
                self.recently_parsed.put(org, id, message.clone());
                raws.push(vec![
                    Arg::Text(org.as_str().to_owned()),
                    Arg::Text(id.as_str().to_owned()),
                    Arg::Blob(item.raw.to_vec()),
                ]);
            }
            // One row per location (PostgreSQL refuses to upsert a row twice
            // in one statement): the last sighting wins.
            locations.insert(
                item.location.key(),
                location_row(org, account, id, &item.location, now),
            );
            out[i] = Some(Ingested {
                message_id: id.clone(),
                new,
            });
        }
        insert_rows(
            &mut tx,
            "INSERT INTO message_raw (org_id, message_id, raw)",
            raws,
        )
        .await?;
        insert_rows_then(
            &mut tx,
            LOCATION_INSERT,
            locations.into_values().collect(),
            LOCATION_UPSERT,
        )
        .await?;
        let first_held: HashSet<String> = insert_rows_then(
            &mut tx,
            STATE_INSERT,
            states.into_values().collect(),
            &format!("{STATE_KEEP} RETURNING message_id"),
        )
        .await?
        .iter()
        .map(|r| r.try_get("message_id"))
        .collect::<Result<_, _>>()?;
        // A message the mailbox held already, seen in another folder now,
        // may have been moved on the server.
        imap_seen.retain(|id| !first_held.contains(id.as_str()));
        let moved: Vec<MessageId> = imap_seen.into_iter().collect();
        follow_server_folders(&mut tx, org, account, &moved).await?;
        deferred.write(&mut tx).await?;
        if let Some(cp) = checkpoint {
            write_checkpoint(&mut tx, org, cp).await?;
        }
        tx.commit().await?;
        Ok(out.into_iter().flatten().collect())
    }

    /// The mailbox folder (see `mailbox_state::folder_of`) of every server
    /// folder the batch mentions; also checks that each folder belongs to
    /// the account (and so to the org).
    async fn folder_roles(
        &self,
        org: &OrgId,
        account: &AccountId,
        items: &[IncomingMessage<'_>],
        checkpoint: Option<&FolderCheckpoint>,
    ) -> StoreResult<HashMap<FolderId, String>> {
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
            roles.insert(folder.clone(), folder_of(&f.name, f.role.as_deref()));
        }
        Ok(roles)
    }
}

/// A message of a batch as ingestion reads it.
type ParsedItem = (MessageId, MimeIndex, Arc<ParsedMessage>);

/// Hashes and parses a batch on all cores: it is most of a sync's CPU, and
/// one core doing it all while the others waited for the batch to commit
/// left the machine a quarter idle.
fn parse_batch(items: &[IncomingMessage<'_>]) -> Vec<ParsedItem> {
    mailroom_core::parallel::map_on_cores(items, |m| {
        let message = Arc::new(mailroom_core::mime::parse(m.raw));
        (MessageId::of_raw(m.raw), index_parsed(&message), message)
    })
}

const MESSAGE_INSERT: &str = "INSERT INTO messages (org_id, id, size, header_message_id, subject, \
     sent_at, received_at, sort_at, from_address, from_name, has_attachments, snippet, in_reply_to, \
     parse_problem, thread_id)";

/// A `messages` row for [`MESSAGE_INSERT`].
fn message_row(
    org: &OrgId,
    id: &MessageId,
    raw: &[u8],
    ix: &MimeIndex,
    received_at: i64,
) -> Vec<Arg> {
    let opt_i64 = |v: Option<i64>| v.map_or(Arg::NullI64, Arg::I64);
    vec![
        Arg::Text(org.as_str().to_owned()),
        Arg::Text(id.as_str().to_owned()),
        Arg::I64(i64::try_from(raw.len()).unwrap_or(i64::MAX)),
        Arg::from(ix.header_message_id.clone()),
        Arg::from(ix.subject.clone()),
        opt_i64(ix.sent_at),
        Arg::I64(received_at),
        Arg::I64(sort_time(ix.sent_at, received_at)),
        Arg::from(ix.from_address.clone()),
        Arg::from(ix.from_name.clone()),
        Arg::Bool(ix.has_attachments),
        Arg::Text(ix.snippet.clone()),
        Arg::from(ix.in_reply_to.clone()),
        Arg::from(ix.parse_problem.clone()),
        Arg::from(ix.thread_id.clone()),
    ]
}

/// Rows of new messages written once per batch with multi-row inserts:
/// addresses and the pending pipeline run.
#[derive(Default)]
struct Deferred {
    addresses: Vec<Vec<Arg>>,
    runs: Vec<Vec<Arg>>,
}

impl Deferred {
    fn add(&mut self, org: &OrgId, id: &MessageId, ix: &MimeIndex, now: i64) {
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
    let row = location_row(org, account, id, location, now);
    insert_rows_then(tx, LOCATION_INSERT, vec![row], LOCATION_UPSERT).await?;
    // A copy found in another account (by Message-ID and size) puts the
    // message in that account's mailbox too.
    let folder = match location {
        Location::Imap { folder, .. } => {
            let row = sqlx::query("SELECT name, role FROM folders WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(folder.as_str())
                .fetch_optional(&mut **tx)
                .await?;
            match row {
                Some(r) => folder_of(
                    &r.try_get::<String, _>("name")?,
                    r.try_get::<Option<String>, _>("role")?.as_deref(),
                ),
                None => "inbox".to_owned(),
            }
        }
        Location::Pop3 { .. } => "inbox".to_owned(),
        Location::Local { role, .. } => role.clone(),
    };
    let state = initial_state_row(org, account, id, location, &folder, now);
    insert_rows_then(tx, STATE_INSERT, vec![state], STATE_KEEP).await?;
    Ok(())
}

const LOCATION_INSERT: &str = "INSERT INTO message_locations (org_id, account_id, location_key, \
     message_id, folder_id, uidvalidity, uid, pop3_uidl, flags, modseq, seen_at)";

/// A location seen again keeps its row and takes the new facts.
const LOCATION_UPSERT: &str = " ON CONFLICT (account_id, location_key) DO UPDATE SET \
     message_id = excluded.message_id, flags = excluded.flags, modseq = excluded.modseq, \
     seen_at = excluded.seen_at";

/// A `message_locations` row for [`LOCATION_INSERT`].
fn location_row(
    org: &OrgId,
    account: &AccountId,
    id: &MessageId,
    location: &Location,
    now: i64,
) -> Vec<Arg> {
    let text = |v: Option<&str>| v.map_or(Arg::NullText, |v| Arg::Text(v.to_owned()));
    let (folder, uidvalidity, uid, uidl, flags, modseq) = match location {
        Location::Imap {
            folder,
            uidvalidity,
            uid,
            flags,
            modseq,
        } => (
            text(Some(folder.as_str())),
            Arg::I64(i64::from(*uidvalidity)),
            Arg::I64(i64::from(*uid)),
            Arg::NullText,
            flags.join(" "),
            modseq.map_or(Arg::NullI64, |m| {
                Arg::I64(i64::try_from(m).unwrap_or(i64::MAX))
            }),
        ),
        Location::Pop3 { uidl } => (
            Arg::NullText,
            Arg::NullI64,
            Arg::NullI64,
            text(Some(uidl)),
            String::new(),
            Arg::NullI64,
        ),
        Location::Local { .. } => (
            Arg::NullText,
            Arg::NullI64,
            Arg::NullI64,
            Arg::NullText,
            String::new(),
            Arg::NullI64,
        ),
    };
    vec![
        Arg::Text(org.as_str().to_owned()),
        Arg::Text(account.as_str().to_owned()),
        Arg::Text(location.key()),
        Arg::Text(id.as_str().to_owned()),
        folder,
        uidvalidity,
        uid,
        uidl,
        Arg::Text(flags),
        modseq,
        Arg::I64(now),
    ]
}
