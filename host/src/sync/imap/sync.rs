//! Incremental sync of one folder, in this order:
//!
//! 1. SELECT (with CONDSTORE when the server has it) and compare
//!    UIDVALIDITY with the checkpoint. A new UIDVALIDITY voids every stored
//!    UID: known messages are found again by Message-ID and size
//!    (`rematch`), the others are fetched again and match the stored
//!    messages by content hash, so no message is duplicated, loses its
//!    user state, or counts as new.
//! 2. Known messages: flag changes (`CHANGEDSINCE` the stored mod-sequence
//!    with CONDSTORE, else a refresh of the newest `flag_window` UIDs), then
//!    expunges (`UID SEARCH` diffed with the stored UIDs, skipped when the
//!    counts prove nothing went). Then the checkpoint takes the mailbox's
//!    HIGHESTMODSEQ from SELECT: every change up to it is now stored.
//! 3. New messages: their UIDs and sizes first, then `UID FETCH` of the
//!    bodies in batches bounded by count and bytes. Each batch is stored
//!    with its checkpoint (last UID) in one transaction, so a sync cut off
//!    anywhere resumes after the last committed batch: nothing lost, and
//!    nothing stored twice (ingestion is idempotent anyway).

use super::super::SyncOptions;
use super::super::batch::plan_batches;
use super::super::error::{SyncError, SyncResult};
use super::super::report::{FolderReport, SyncProgress};
use super::rematch::{locate_known_copies, rematch_folder};
use super::session::{FetchedMessage, ImapSession, Selected};
use crate::store::{
    Account, Folder, FolderCheckpoint, IncomingMessage, Location, ServerFlags, Store, StoredUid,
};
use std::collections::{BTreeSet, HashMap};

/// Syncs one folder of `account`; `folder` is its stored row (checkpoint).
/// With `labels_as_folders` (Gmail), new messages the org already has under
/// another label are located by Message-ID and size instead of downloaded.
pub async fn sync_folder(
    session: &mut ImapSession,
    store: &Store,
    account: &Account,
    folder: &Folder,
    labels_as_folders: bool,
    options: &SyncOptions,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> SyncResult<FolderReport> {
    let org = &account.org;
    let condstore = session.has_capability("CONDSTORE");
    let selected = session.select(&folder.name, condstore).await?;
    let mut report = FolderReport {
        folder: folder.name.clone(),
        role: folder.role.clone(),
        ..Default::default()
    };
    let mut last_uid = folder.last_uid;
    let mut stored_modseq = folder.highestmodseq;
    let mut located = BTreeSet::new();
    if folder.uidvalidity != Some(selected.uidvalidity) {
        report.uidvalidity_changed = folder.uidvalidity.is_some();
        located = rematch_folder(session, store, account, folder, &selected, condstore).await?;
        report.rematched = located.len() as u64;
        last_uid = 0;
        stored_modseq = None;
    }

    if last_uid > 0 {
        let stored = store.folder_uids(org, &folder.id).await?;
        let window = Window {
            last_uid,
            stored_modseq,
            selected: &selected,
        };
        report.updated_flags =
            sync_flags(session, store, account, folder, &stored, &window, options).await?;
        report.expunged = sync_expunges(session, store, account, folder, &stored, &window).await?;
    }
    // Flags and expunges are stored as of SELECT: record that mod-sequence
    // (also stamps the folder as synced when nothing is new).
    let modseq = selected.highestmodseq.filter(|_| condstore);
    let checkpoint = FolderCheckpoint {
        folder: folder.id.clone(),
        uidvalidity: selected.uidvalidity,
        last_uid,
        highestmodseq: modseq,
    };
    store.checkpoint_folder(org, &checkpoint).await?;

    let new = NewMail {
        selected: &selected,
        located: &located,
        checkpoint,
        labels_as_folders,
    };
    fetch_new(
        session,
        store,
        account,
        folder,
        new,
        options,
        &mut report,
        progress,
    )
    .await?;
    Ok(report)
}

/// What is known of the folder before step 2.
struct Window<'a> {
    last_uid: u32,
    stored_modseq: Option<u64>,
    selected: &'a Selected,
}

/// Step 2a: flag changes of known messages. Returns how many changed.
async fn sync_flags(
    session: &mut ImapSession,
    store: &Store,
    account: &Account,
    folder: &Folder,
    stored: &[StoredUid],
    w: &Window<'_>,
    options: &SyncOptions,
) -> SyncResult<u64> {
    if stored.is_empty() {
        return Ok(0);
    }
    let condstore = (w.stored_modseq, w.selected.highestmodseq);
    let fetched = match condstore {
        (Some(old), Some(now)) if session.has_capability("CONDSTORE") => {
            if now <= old {
                return Ok(0);
            }
            let modifier = format!("(UID FLAGS) (CHANGEDSINCE {old})");
            session
                .uid_fetch(&format!("1:{}", w.last_uid), &modifier, |uid| {
                    uid <= w.last_uid
                })
                .await?
        }
        // No mod-sequences: re-read the flags of the newest messages, where
        // changes happen; older ones are refreshed when the window moves.
        _ => {
            let first = stored
                .len()
                .checked_sub(options.flag_window.max(1))
                .map_or(stored[0].uid, |i| stored[i].uid);
            session
                .uid_fetch(&format!("{first}:{}", w.last_uid), "(UID FLAGS)", |uid| {
                    uid >= first && uid <= w.last_uid
                })
                .await?
        }
    };
    let known: HashMap<u32, &StoredUid> = stored.iter().map(|s| (s.uid, s)).collect();
    let changes: Vec<ServerFlags> = fetched
        .into_iter()
        .filter(|m| {
            known
                .get(&m.uid)
                .is_some_and(|s| !same_flags(&s.flags, &m.flags) || s.modseq != m.modseq)
        })
        .map(|m| ServerFlags {
            uid: m.uid,
            flags: m.flags,
            modseq: m.modseq,
        })
        .collect();
    if changes.is_empty() {
        return Ok(0);
    }
    Ok(store
        .apply_server_flags(&account.org, &folder.id, &changes)
        .await?)
}

fn same_flags(a: &[String], b: &[String]) -> bool {
    let norm = |f: &[String]| -> BTreeSet<String> {
        f.iter()
            .filter(|x| !x.eq_ignore_ascii_case("\\Recent"))
            .map(|x| x.to_lowercase())
            .collect()
    };
    norm(a) == norm(b)
}

/// Step 2b: known messages gone from the folder. Returns how many.
async fn sync_expunges(
    session: &mut ImapSession,
    store: &Store,
    account: &Account,
    folder: &Folder,
    stored: &[StoredUid],
    w: &Window<'_>,
) -> SyncResult<u64> {
    if stored.is_empty() {
        return Ok(0);
    }
    // Every message the server has at or below `last_uid` is stored (UIDs
    // only grow), so when nothing arrived since and the counts match,
    // nothing was expunged: no need to ask.
    let nothing_new = w.selected.uidnext == Some(w.last_uid.saturating_add(1));
    if nothing_new && w.selected.exists as usize == stored.len() {
        return Ok(0);
    }
    let on_server = session.uid_search(&format!("UID 1:{}", w.last_uid)).await?;
    let gone: Vec<u32> = stored
        .iter()
        .map(|s| s.uid)
        .filter(|uid| !on_server.contains(uid))
        .collect();
    if gone.is_empty() {
        return Ok(0);
    }
    Ok(store
        .remove_folder_uids(&account.org, &folder.id, &gone)
        .await?)
}

/// What step 3 starts from.
struct NewMail<'a> {
    selected: &'a Selected,
    /// UIDs already bound to stored messages (found again after a
    /// UIDVALIDITY change): not downloaded.
    located: &'a BTreeSet<u32>,
    checkpoint: FolderCheckpoint,
    /// Look for copies of stored messages before downloading (Gmail).
    labels_as_folders: bool,
}

/// Step 3: new messages, batch by batch.
#[allow(clippy::too_many_arguments)]
async fn fetch_new(
    session: &mut ImapSession,
    store: &Store,
    account: &Account,
    folder: &Folder,
    new: NewMail<'_>,
    options: &SyncOptions,
    report: &mut FolderReport,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> SyncResult<()> {
    let NewMail {
        selected,
        located,
        mut checkpoint,
        labels_as_folders,
    } = new;
    let after = checkpoint.last_uid;
    if selected.exists == 0
        || selected
            .uidnext
            .is_some_and(|next| next <= after.saturating_add(1))
    {
        return Ok(());
    }
    let mut pending = session
        .uid_fetch(
            &format!("{}:*", after.saturating_add(1)),
            "(UID RFC822.SIZE)",
            |uid| uid > after,
        )
        .await?;
    pending.sort_by_key(|m| m.uid);
    pending.dedup_by_key(|m| m.uid);
    let last_listed = pending.last().map(|m| m.uid);
    pending.retain(|m| !located.contains(&m.uid));
    if labels_as_folders && !pending.is_empty() {
        let uids: Vec<u32> = pending.iter().map(|m| m.uid).collect();
        let condstore = checkpoint.highestmodseq.is_some();
        let known = locate_known_copies(
            session,
            store,
            account,
            folder,
            checkpoint.uidvalidity,
            &uid_set(&uids),
            condstore,
        )
        .await?;
        report.rematched += known.len() as u64;
        pending.retain(|m| !known.contains(&m.uid));
    }
    if !pending.is_empty() {
        progress(SyncProgress::FolderStarted {
            folder: folder.name.clone(),
            messages: pending.len() as u64,
            bytes: pending.iter().map(|m| u64::from(m.size.unwrap_or(0))).sum(),
        });
        fetch_batches(
            session,
            store,
            account,
            folder,
            &pending,
            &mut checkpoint,
            options,
            report,
            progress,
        )
        .await?;
    }
    // UIDs after the last batch were all found again: move past them.
    if let Some(last) = last_listed
        && last > checkpoint.last_uid
    {
        checkpoint.last_uid = last;
        store.checkpoint_folder(&account.org, &checkpoint).await?;
    }
    Ok(())
}

/// Downloads `pending` in batches, each stored with its checkpoint. While a
/// batch is being stored (parsing, hashing, one transaction) the next one is
/// already being fetched, so the network and the store work at the same
/// time; batches still commit one after the other, in UID order, so the
/// checkpoint only ever moves forward over stored mail.
#[allow(clippy::too_many_arguments)]
async fn fetch_batches(
    session: &mut ImapSession,
    store: &Store,
    account: &Account,
    folder: &Folder,
    pending: &[FetchedMessage],
    checkpoint: &mut FolderCheckpoint,
    options: &SyncOptions,
    report: &mut FolderReport,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> SyncResult<()> {
    let query = if checkpoint.highestmodseq.is_some() {
        "(UID FLAGS INTERNALDATE RFC822.SIZE MODSEQ BODY.PEEK[])"
    } else {
        "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"
    };
    let mut storing: Option<StoringBatch> = None;
    let sizes: Vec<(u32, u64)> = pending
        .iter()
        .map(|m| (m.uid, u64::from(m.size.unwrap_or(0))))
        .collect();
    for batch in plan_batches(&sizes, options) {
        let fetched = fetch_batch(session, &batch, query, checkpoint.last_uid).await;
        // What was fetched before a failure is complete: store it first.
        if let Some(previous) = storing.take() {
            previous.finish(folder, report, progress).await?;
        }
        let FetchedBatch {
            messages,
            upto,
            stop_at,
        } = fetched?;
        checkpoint.last_uid = checkpoint.last_uid.max(upto);
        let batch = StoringBatch::start(store, account, folder, messages, checkpoint.clone());
        if let Some(uid) = stop_at {
            batch.finish(folder, report, progress).await?;
            return Err(SyncError::Protocol(format!(
                "{} did not deliver message UID {uid} of {:?}; the folder resumes there next time",
                session.server(),
                folder.name
            )));
        }
        storing = Some(batch);
    }
    if let Some(last) = storing.take() {
        last.finish(folder, report, progress).await?;
    }
    Ok(())
}

/// The messages of one batch that can be stored, and how far the
/// checkpoint may move.
struct FetchedBatch {
    messages: Vec<FetchedMessage>,
    /// The checkpoint may move up to this UID.
    upto: u32,
    /// A UID the server still has but did not deliver: stop before it.
    stop_at: Option<u32>,
}

async fn fetch_batch(
    session: &mut ImapSession,
    batch: &[u32],
    query: &str,
    last_uid: u32,
) -> SyncResult<FetchedBatch> {
    let wanted: BTreeSet<u32> = batch.iter().copied().collect();
    let fetched = session
        .uid_fetch(&uid_set(batch), query, |uid| wanted.contains(&uid))
        .await?;
    let mut by_uid: HashMap<u32, FetchedMessage> =
        fetched.into_iter().map(|m| (m.uid, m)).collect();
    // A planned UID missing from the answer was either expunged meanwhile
    // (fine) or not delivered (then the checkpoint must stay below it, or
    // the message would be skipped for good).
    let missing: Vec<u32> = batch
        .iter()
        .copied()
        .filter(|uid| by_uid.get(uid).is_none_or(|m| m.body.is_none()))
        .collect();
    let mut stop_at = None;
    if !missing.is_empty() {
        let still_there = session
            .uid_search(&format!("UID {}", uid_set(&missing)))
            .await?;
        stop_at = still_there
            .iter()
            .copied()
            .filter(|uid| missing.contains(uid))
            .min();
    }
    let upto = match stop_at {
        Some(uid) => uid.saturating_sub(1),
        None => batch.last().copied().unwrap_or(last_uid),
    };
    let messages = batch
        .iter()
        .filter(|uid| **uid <= upto)
        .filter_map(|uid| by_uid.remove(uid))
        .filter(|m| m.body.is_some())
        .collect();
    Ok(FetchedBatch {
        messages,
        upto,
        stop_at,
    })
}

/// One fetched batch being stored in a task of its own (so its parsing
/// and hashing use another core than the fetch). Dropping it, as when the
/// sync is cancelled, aborts the task: the transaction rolls back and the
/// batch is fetched again next time.
struct StoringBatch {
    task: tokio::task::JoinHandle<SyncResult<StoredBatch>>,
}

struct StoredBatch {
    messages: u64,
    new: u64,
    bytes: u64,
}

impl StoringBatch {
    fn start(
        store: &Store,
        account: &Account,
        folder: &Folder,
        messages: Vec<FetchedMessage>,
        checkpoint: FolderCheckpoint,
    ) -> StoringBatch {
        let (store, org, account, folder_id) = (
            store.clone(),
            account.org.clone(),
            account.id.clone(),
            folder.id.clone(),
        );
        let task = tokio::spawn(async move {
            let items: Vec<IncomingMessage<'_>> = messages
                .iter()
                .filter_map(|m| {
                    Some(IncomingMessage {
                        location: Location::Imap {
                            folder: folder_id.clone(),
                            uidvalidity: checkpoint.uidvalidity,
                            uid: m.uid,
                            flags: m.flags.clone(),
                            modseq: m.modseq,
                        },
                        raw: m.body.as_deref()?,
                        received_at: m.internal_date_ms,
                    })
                })
                .collect();
            let ingested = store
                .ingest_batch(&org, &account, &items, Some(&checkpoint))
                .await?;
            Ok(StoredBatch {
                messages: items.len() as u64,
                new: ingested.iter().filter(|i| i.new).count() as u64,
                bytes: items.iter().map(|i| i.raw.len() as u64).sum(),
            })
        });
        StoringBatch { task }
    }

    /// Waits for the batch to commit and reports it.
    async fn finish(
        mut self,
        folder: &Folder,
        report: &mut FolderReport,
        progress: &mut (dyn FnMut(SyncProgress) + Send),
    ) -> SyncResult<()> {
        let stored = (&mut self.task)
            .await
            .map_err(|e| SyncError::Protocol(format!("storing a batch failed: {e}")))??;
        report.new_messages += stored.new;
        report.fetched += stored.messages;
        report.bytes += stored.bytes;
        progress(SyncProgress::BatchCommitted {
            folder: folder.name.clone(),
            messages: stored.messages,
            bytes: stored.bytes,
        });
        Ok(())
    }
}

impl Drop for StoringBatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An IMAP sequence set of sorted UIDs, with ranges: `1:3,7,9:12`.
pub(crate) fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end.saturating_add(1) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_use_ranges() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10, 11, 12]), "1:3,7,9:12");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            format!("{}:{}", u32::MAX - 1, u32::MAX)
        );
    }

    #[test]
    fn recent_and_case_do_not_count_as_flag_changes() {
        let f = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(same_flags(&f(&["\\Seen"]), &f(&["\\seen", "\\Recent"])));
        assert!(!same_flags(&f(&["\\Seen"]), &f(&[])));
    }
}
