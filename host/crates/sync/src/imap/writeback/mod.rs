//! Writing the user's changes back to the IMAP server (two-way state). Runs
//! at the start of each account sync, on the sync's session and before the
//! pull, so the pull already sees the server changed and does not undo the
//! user's change. Queued changes (`store::server_changes`) are planned into
//! commands (`plan`), grouped by folder:
//!
//! - read/starred: `UID STORE ±FLAGS.SILENT (\Seen / \Flagged)`;
//! - folder: `UID MOVE` when the server has MOVE, else `UID COPY` +
//!   `UID STORE +FLAGS.SILENT (\Deleted)` + `UID EXPUNGE` (UIDPLUS), or a
//!   plain `EXPUNGE` only when no other message is marked `\Deleted`.
//!
//! After a move the old location is forgotten. With UIDPLUS the server
//! says where the message went (`COPYUID`), and that location is recorded
//! in the same transaction, so the pull of the target folder knows it and
//! downloads nothing; without it the pull finds the message there and
//! ingestion matches it by content, so it stays one message with its state.
//!
//! Crash-safe and idempotent: a change is deleted from the queue only after
//! the server confirmed it. Run again, a flag change is harmless; a move
//! whose UID is gone from the source folder already happened; a COPY that
//! may have happened before a cut is not repeated when the target already
//! holds the message (Message-ID and size). A folder renumbered since
//! (UIDVALIDITY) defers its changes until the pull has found the message
//! again. Failures stay queued with their error (and a back-off); one that
//! cannot succeed as things are (no folder for the role) is marked failed
//! without holding up the others.

pub mod plan;

use super::super::error::{SyncError, SyncResult};
use super::super::report::WriteBackReport;
use mailroom_core::ids::{FolderId, MessageId};
use mailroom_net::NetError;
use mailroom_net::imap::{CopyUid, ImapSession};
use mailroom_store::{Account, ChangeOutcome, Folder, MovedTo, ServerChange, Store};
use plan::{Loc, Op, Step};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Most changes written back in one sync; the rest wait for the next.
const BATCH: u32 = 500;

/// Writes the account's due changes to the server. A broken connection
/// ends it with the error (the changes stay queued); anything else is
/// recorded on the change it concerns.
pub async fn write_back(
    session: &mut ImapSession,
    store: &Store,
    account: &Account,
    labels_as_folders: bool,
) -> SyncResult<WriteBackReport> {
    let org = &account.org;
    let changes = store.due_server_changes(org, &account.id, BATCH).await?;
    if changes.is_empty() {
        return Ok(WriteBackReport::default());
    }
    let mut folders = store.list_folders(org, &account.id).await?;
    super::folder_mapping::by_preference(&mut folders, account);
    let mut locations = Vec::with_capacity(changes.len());
    for c in &changes {
        locations.push(imap_locations(store, account, &c.message).await?);
    }
    let planned = plan::plan(&changes, &locations, &folders, labels_as_folders);
    let mut outcomes: Vec<Option<ChangeOutcome>> = vec![None; changes.len()];
    let mut steps_left = vec![0usize; changes.len()];
    for s in &planned.steps {
        steps_left[s.change] += 1;
    }
    for (i, outcome) in planned.settled {
        merge(&mut outcomes[i], outcome);
    }
    let mut by_folder: BTreeMap<FolderId, Vec<Step>> = BTreeMap::new();
    for s in planned.steps {
        by_folder.entry(s.at.folder.clone()).or_default().push(s);
    }
    let ctx = Ctx {
        store,
        account,
        folders: &folders,
        changes: &changes,
    };
    for (folder_id, steps) in by_folder {
        let Some(folder) = folders.iter().find(|f| f.id == folder_id) else {
            continue;
        };
        let done = match run_folder(session, &ctx, folder, &steps).await {
            Ok(done) => done,
            // The server refused something of this folder (e.g. NO to
            // SELECT): its changes are retried later, the others go on.
            Err(SyncError::Net(NetError::Protocol(why))) => steps
                .iter()
                .map(|s| (s.change, ChangeOutcome::Retry(why.clone())))
                .collect(),
            Err(e) => {
                record(store, account, &changes, &outcomes, &steps_left, Some(&e)).await?;
                return Err(e);
            }
        };
        for (i, outcome) in done {
            steps_left[i] -= 1;
            merge(&mut outcomes[i], outcome);
        }
    }
    record(store, account, &changes, &outcomes, &steps_left, None).await
}

/// The message's IMAP locations in this account.
async fn imap_locations(
    store: &Store,
    account: &Account,
    message: &MessageId,
) -> SyncResult<Vec<Loc>> {
    Ok(store
        .message_locations(&account.org, message)
        .await?
        .into_iter()
        .filter(|l| l.account == account.id)
        .filter_map(|l| {
            Some(Loc {
                folder: l.folder?,
                uidvalidity: l.uidvalidity?,
                uid: l.uid?,
            })
        })
        .collect())
}

/// Keeps the outcome that matters most for a change with several steps:
/// failed, then retry, then deferred, then done.
fn merge(slot: &mut Option<ChangeOutcome>, new: ChangeOutcome) {
    let rank = |o: &ChangeOutcome| match o {
        ChangeOutcome::Done => 0,
        ChangeOutcome::Deferred(_) => 1,
        ChangeOutcome::Retry(_) => 2,
        ChangeOutcome::Failed(_) => 3,
    };
    if slot.as_ref().is_none_or(|old| rank(&new) > rank(old)) {
        *slot = Some(new);
    }
}

/// Stores the outcome of every change whose steps all ran; with `broken`
/// (the connection failed), notes that error on the others.
async fn record(
    store: &Store,
    account: &Account,
    changes: &[ServerChange],
    outcomes: &[Option<ChangeOutcome>],
    steps_left: &[usize],
    broken: Option<&SyncError>,
) -> SyncResult<WriteBackReport> {
    let mut report = WriteBackReport::default();
    for (i, change) in changes.iter().enumerate() {
        match (&outcomes[i], steps_left[i], broken) {
            (Some(outcome), 0, _) => {
                store
                    .finish_server_change(&account.org, change, outcome)
                    .await?;
                match outcome {
                    ChangeOutcome::Done => report.applied += 1,
                    ChangeOutcome::Retry(_) => report.retried += 1,
                    ChangeOutcome::Deferred(_) => report.deferred += 1,
                    ChangeOutcome::Failed(e) => {
                        tracing::warn!(account = %account.id, message = %change.message.as_str(), error = %e, "a change cannot be written to the server");
                        report.failed += 1;
                    }
                }
            }
            (_, _, Some(e)) => {
                store
                    .note_server_change_error(&account.org, change, &e.to_string())
                    .await?;
            }
            _ => {}
        }
    }
    Ok(report)
}

/// What every folder's work needs.
struct Ctx<'a> {
    store: &'a Store,
    account: &'a Account,
    folders: &'a [Folder],
    changes: &'a [ServerChange],
}

/// Runs one source folder's steps; returns one outcome per step.
async fn run_folder(
    session: &mut ImapSession,
    ctx: &Ctx<'_>,
    folder: &Folder,
    steps: &[Step],
) -> SyncResult<Vec<(usize, ChangeOutcome)>> {
    let org = &ctx.account.org;
    let selected = session.select(&folder.name, false).await?;
    let mut out = Vec::new();
    let (current, renumbered): (Vec<&Step>, Vec<&Step>) = steps
        .iter()
        .partition(|s| s.at.uidvalidity == selected.uidvalidity);
    out.extend(renumbered.into_iter().map(|s| {
        (
            s.change,
            ChangeOutcome::Deferred(format!(
                "{:?} was renumbered on the server; the change is written once sync has found the message again",
                folder.name
            )),
        )
    }));
    if current.is_empty() {
        return Ok(out);
    }
    let uids: BTreeSet<u32> = current.iter().map(|s| s.at.uid).collect();
    let on_server = session
        .uid_search(&format!("UID {}", uid_set(&uids)))
        .await?;
    let mut gone = Vec::new();
    let mut flags: BTreeMap<(&'static str, bool), Vec<&Step>> = BTreeMap::new();
    let mut moves: BTreeMap<FolderId, Vec<&Step>> = BTreeMap::new();
    for s in current {
        match &s.op {
            // Gone from the folder: a move already happened (perhaps ours,
            // cut off before it was recorded); a flag has nothing to go on
            // here, and the pull forgets the location.
            _ if !on_server.contains(&s.at.uid) => {
                gone.push(s.at.uid);
                out.push((s.change, ChangeOutcome::Done));
            }
            Op::Flag { flag, set } => flags.entry((flag, *set)).or_default().push(s),
            Op::Move { target } => moves.entry(target.clone()).or_default().push(s),
        }
    }
    if !gone.is_empty() {
        tracing::info!(account = %ctx.account.id, folder = %folder.name, uids = ?gone,
            "written-back changes found their messages gone from the folder: already moved, nothing to do");
        ctx.store.remove_folder_uids(org, &folder.id, &gone).await?;
    }
    // Flags first: a message moved afterwards takes them along.
    for ((flag, set), group) in flags {
        let set_text = uid_set(&group.iter().map(|s| s.at.uid).collect());
        let outcome = match session.uid_store_flags(&set_text, set, flag).await {
            Ok(()) => {
                for s in &group {
                    ctx.store
                        .set_location_flag(org, &folder.id, s.at.uid, flag, set)
                        .await?;
                }
                ChangeOutcome::Done
            }
            Err(NetError::Protocol(why)) => ChangeOutcome::Retry(why),
            Err(e) => return Err(e.into()),
        };
        out.extend(group.iter().map(|s| (s.change, outcome.clone())));
    }
    for (target, group) in moves {
        let Some(target) = ctx.folders.iter().find(|f| f.id == target) else {
            continue;
        };
        let outcome = match move_group(session, ctx, folder, target, &group).await {
            Ok(copied) => {
                let uids: Vec<u32> = group.iter().map(|s| s.at.uid).collect();
                let to = copied.as_ref().map(|c| MovedTo {
                    folder: &target.id,
                    uidvalidity: c.uidvalidity,
                    uids: &c.uids,
                });
                ctx.store
                    .record_move(org, &ctx.account.id, &folder.id, &uids, to)
                    .await?;
                ChangeOutcome::Done
            }
            Err(MoveError::Refused(why)) => ChangeOutcome::Retry(why),
            Err(MoveError::Sync(SyncError::Net(NetError::Protocol(why)))) => {
                ChangeOutcome::Retry(why)
            }
            Err(MoveError::Sync(e)) => return Err(e),
        };
        out.extend(group.iter().map(|s| (s.change, outcome.clone())));
    }
    Ok(out)
}

enum MoveError {
    /// Mailroom will not do it this way (it would hurt other mail).
    Refused(String),
    Sync(SyncError),
}

impl From<SyncError> for MoveError {
    fn from(e: SyncError) -> Self {
        MoveError::Sync(e)
    }
}

impl From<NetError> for MoveError {
    fn from(e: NetError) -> Self {
        MoveError::Sync(e.into())
    }
}

impl From<mailroom_store::StoreError> for MoveError {
    fn from(e: mailroom_store::StoreError) -> Self {
        MoveError::Sync(e.into())
    }
}

/// Moves the group's UIDs from the selected `source` to `target`; returns
/// where they went when the server said so (COPYUID, with UIDPLUS).
async fn move_group(
    session: &mut ImapSession,
    ctx: &Ctx<'_>,
    source: &Folder,
    target: &Folder,
    group: &[&Step],
) -> Result<Option<CopyUid>, MoveError> {
    let uids: BTreeSet<u32> = group.iter().map(|s| s.at.uid).collect();
    let all = uid_set(&uids);
    // A COPYUID is only trusted from a server that promises it (UIDPLUS).
    let uidplus = session.has_capability("UIDPLUS");
    if session.has_capability("MOVE") {
        let moved = session.uid_move(&all, &target.name).await?;
        return Ok(moved.filter(|_| uidplus));
    }
    if !uidplus {
        let deleted = session.uid_search("DELETED").await?;
        if deleted.iter().any(|u| !uids.contains(u)) {
            return Err(MoveError::Refused(format!(
                "{:?} has other messages marked as deleted, and the server has neither MOVE nor \
                 UIDPLUS, so moving would expunge them too; expunge or undelete them in a mail \
                 client, then sync again",
                source.name
            )));
        }
    }
    let to_copy = not_yet_copied(session, ctx, source, target, group).await?;
    let mut copied = None;
    if !to_copy.is_empty() {
        copied = session
            .uid_copy(&uid_set(&to_copy), &target.name)
            .await?
            .filter(|_| uidplus);
    }
    session.uid_store_flags(&all, true, "\\Deleted").await?;
    if uidplus {
        session.uid_expunge(&all).await?;
    } else {
        session.expunge_all().await?;
    }
    Ok(copied)
}

/// The group's UIDs still to copy. A change tried before may have been cut
/// off after its COPY: then the target already has the message (same
/// Message-ID and size), and copying again would duplicate it. Leaves
/// `source` selected.
async fn not_yet_copied(
    session: &mut ImapSession,
    ctx: &Ctx<'_>,
    source: &Folder,
    target: &Folder,
    group: &[&Step],
) -> Result<BTreeSet<u32>, MoveError> {
    let mut to_copy: BTreeSet<u32> = group.iter().map(|s| s.at.uid).collect();
    let retried: Vec<&&Step> = group
        .iter()
        .filter(|s| ctx.changes[s.change].attempts > 0)
        .collect();
    if retried.is_empty() {
        return Ok(to_copy);
    }
    let ids: Vec<MessageId> = retried
        .iter()
        .map(|s| ctx.changes[s.change].message.clone())
        .collect();
    let prints: HashMap<MessageId, (Option<String>, u64)> = ctx
        .store
        .message_fingerprints(&ctx.account.org, &ids)
        .await?
        .into_iter()
        .map(|p| (p.message_id, (p.header_message_id, p.size)))
        .collect();
    session.select(&target.name, false).await?;
    for s in retried {
        let Some((Some(mid), size)) = prints.get(&ctx.changes[s.change].message) else {
            continue;
        };
        let Ok(found) = session.search_header("Message-ID", mid).await else {
            continue;
        };
        if found.is_empty() {
            continue;
        }
        let sizes = session
            .uid_fetch(&uid_set(&found), "(UID RFC822.SIZE)", |u| {
                found.contains(&u)
            })
            .await?;
        if sizes.iter().any(|m| m.size.map(u64::from) == Some(*size)) {
            to_copy.remove(&s.at.uid);
        }
    }
    session.select(&source.name, false).await?;
    Ok(to_copy)
}

/// An IMAP UID set with ranges: `3,7:9`.
fn uid_set(uids: &BTreeSet<u32>) -> String {
    super::sync::uid_set(&uids.iter().copied().collect::<Vec<_>>())
}
