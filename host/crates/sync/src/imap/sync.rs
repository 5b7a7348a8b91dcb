//! Incremental sync of one folder, in this order:
//!
//! 1. SELECT (with QRESYNC or CONDSTORE when the server has them, see
//!    `known`) and compare UIDVALIDITY with the checkpoint. A new UIDVALIDITY voids every stored
//!    UID: known messages are found again by Message-ID and size
//!    (`rematch`), the others are fetched again and match the stored
//!    messages by content hash, so no message is duplicated, loses its
//!    user state, or counts as new.
//! 2. Known messages: flag changes and expunges, from the QRESYNC SELECT's
//!    own answer or asked for (`known`), stored in one transaction with the
//!    checkpoint, which takes the mailbox's HIGHESTMODSEQ from SELECT:
//!    every change up to it is now stored. Locations a written-back move
//!    recorded above the checkpoint (COPYUID) count as known.
//! 3. New messages: their UIDs and sizes first, then `UID FETCH` of the
//!    bodies in batches bounded by count and bytes. Each batch is stored
//!    with its checkpoint (last UID) in one transaction, so a sync cut off
//!    anywhere resumes after the last committed batch: nothing lost, and
//!    nothing stored twice (ingestion is idempotent anyway).

use super::super::SyncOptions;
use super::super::batch::plan_batches;
use super::super::error::{SyncError, SyncResult};
use super::super::report::{FolderReport, SyncProgress};
use super::known;
use super::rematch::{locate_known_copies, rematch_folder};
use super::storing::{Carry, StoringBatch};
use mailroom_net::NetError;
use mailroom_net::imap::{FetchedMessage, ImapSession, Selected};
use mailroom_store::{Account, Folder, FolderCheckpoint, Store};
use std::collections::{BTreeSet, HashMap};

/// Syncs one folder of `account`; `folder` is its stored row (checkpoint).
/// With `labels_as_folders` (Gmail), new messages the org already has under
/// another label are located by Message-ID and size instead of downloaded.
#[allow(clippy::too_many_arguments)]
pub async fn sync_folder(
    session: &mut ImapSession,
    store: &Store,
    account: &Account,
    folder: &Folder,
    quirks: FolderQuirks,
    options: &SyncOptions,
    carry: &mut Carry,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> SyncResult<FolderReport> {
    let org = &account.org;
    let condstore = session.has_capability("CONDSTORE");
    let (selected, qresync) = known::select(session, folder, quirks.qresync_broken).await?;
    let mut report = FolderReport {
        folder: folder.name.clone(),
        role: folder.role.clone(),
        ..Default::default()
    };
    let mut last_uid = folder.last_uid;
    let mut stored_modseq = folder.highestmodseq;
    let mut located = BTreeSet::new();
    let mut stored = Vec::new();
    if folder.uidvalidity != Some(selected.uidvalidity) {
        report.uidvalidity_changed = folder.uidvalidity.is_some();
        carry.settle(&mut report, progress).await?;
        located = rematch_folder(session, store, account, folder, &selected, condstore).await?;
        report.rematched = located.len() as u64;
        last_uid = 0;
        stored_modseq = None;
    } else {
        stored = store.folder_uids(org, &folder.id).await?;
        // Locations above the checkpoint were recorded by a written-back
        // move (the server's COPYUID): known already, not downloaded.
        located.extend(stored.iter().map(|s| s.uid).filter(|uid| *uid > last_uid));
    }
    // Flags and expunges are stored as of SELECT: record that mod-sequence
    // (also stamps the folder as synced when nothing is new).
    let modseq = selected
        .highestmodseq
        .filter(|_| condstore || qresync.is_some());
    let checkpoint = FolderCheckpoint {
        folder: folder.id.clone(),
        uidvalidity: selected.uidvalidity,
        last_uid,
        highestmodseq: modseq,
    };
    let changes = match qresync {
        Some(reported) => Some(known::from_qresync(&stored, reported)),
        None if last_uid > 0 || !stored.is_empty() => {
            let window = known::Window {
                last_uid,
                stored_modseq,
                selected: &selected,
            };
            Some(known::by_search(session, &stored, &window, options).await?)
        }
        None => None,
    };
    // A first sync writes its checkpoint with the first batch (or at the
    // end when nothing is new), so the previous folder's last batch can
    // still be committing while this folder is read.
    let checkpoint_written = changes.is_some();
    if let Some(changes) = changes {
        carry.settle(&mut report, progress).await?;
        let (flags, gone) = store
            .apply_folder_changes(org, &changes.flags, &changes.gone, &checkpoint)
            .await?;
        report.updated_flags = flags;
        report.expunged = gone;
        report.expunge_detection = changes.detection;
    }

    let new = NewMail {
        selected: &selected,
        located: &located,
        checkpoint,
        checkpoint_written,
        labels_as_folders: quirks.labels_as_folders,
    };
    fetch_new(
        session,
        store,
        account,
        folder,
        new,
        options,
        &mut report,
        carry,
        progress,
    )
    .await?;
    Ok(report)
}

/// What the provider says that changes how a folder is synced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FolderQuirks {
    /// Gmail: look for copies of stored messages before downloading.
    pub labels_as_folders: bool,
    /// iCloud: QRESYNC is advertised but must not be used.
    pub qresync_broken: bool,
}

/// What step 3 starts from.
struct NewMail<'a> {
    selected: &'a Selected,
    /// UIDs already bound to stored messages (found again after a
    /// UIDVALIDITY change): not downloaded.
    located: &'a BTreeSet<u32>,
    checkpoint: FolderCheckpoint,
    /// Whether `checkpoint` is stored already.
    checkpoint_written: bool,
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
    carry: &mut Carry,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> SyncResult<()> {
    let NewMail {
        selected,
        located,
        mut checkpoint,
        mut checkpoint_written,
        labels_as_folders,
    } = new;
    let after = checkpoint.last_uid;
    if selected.exists == 0
        || selected
            .uidnext
            .is_some_and(|next| next <= after.saturating_add(1))
    {
        if !checkpoint_written {
            carry.settle(report, progress).await?;
            store.checkpoint_folder(&account.org, &checkpoint).await?;
        }
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
        // Copies the previous folder's last batch is storing count too.
        carry.settle(report, progress).await?;
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
            carry,
            progress,
        )
        .await?;
        checkpoint_written = true;
    }
    // UIDs after the last batch were all found again: move past them.
    let found_again = last_listed.is_some_and(|last| last > checkpoint.last_uid);
    if found_again || !checkpoint_written {
        carry.settle(report, progress).await?;
        checkpoint.last_uid = checkpoint.last_uid.max(last_listed.unwrap_or(0));
        store.checkpoint_folder(&account.org, &checkpoint).await?;
    }
    Ok(())
}

/// Downloads `pending` in batches, each stored with its checkpoint. While a
/// batch is being stored (parsing, hashing, one transaction) the next one is
/// already being fetched, so the network and the store work at the same
/// time; batches still commit one after the other, in UID order, so the
/// checkpoint only ever moves forward over stored mail. The last batch is
/// left committing in `carry` (see `storing.rs`).
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
    carry: &mut Carry,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> SyncResult<()> {
    let query = if checkpoint.highestmodseq.is_some() {
        "(UID FLAGS INTERNALDATE RFC822.SIZE MODSEQ BODY.PEEK[])"
    } else {
        "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"
    };
    let sizes: Vec<(u32, u64)> = pending
        .iter()
        .map(|m| (m.uid, u64::from(m.size.unwrap_or(0))))
        .collect();
    for batch in plan_batches(&sizes, options) {
        let fetched = fetch_batch(session, &batch, query, checkpoint.last_uid).await;
        // What was fetched before a failure is complete: store it first.
        carry.settle(report, progress).await?;
        let FetchedBatch {
            messages,
            upto,
            stop_at,
        } = fetched?;
        checkpoint.last_uid = checkpoint.last_uid.max(upto);
        let batch = StoringBatch::start(store, account, folder, messages, checkpoint.clone());
        carry.hand_over(batch, folder);
        if let Some(uid) = stop_at {
            carry.settle(report, progress).await?;
            return Err(SyncError::Net(NetError::Protocol(format!(
                "{} did not deliver message UID {uid} of {:?}; the folder resumes there next time",
                session.server(),
                folder.name
            ))));
        }
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
}
