//! What changed on the server about the messages a folder sync already
//! knows: flags changed and messages gone (expunged or moved away). Two
//! ways to find out:
//!
//! - QRESYNC (RFC 7162), when the server has it, the provider does not call
//!   it broken (`qresync_broken`) and the folder has a checkpoint with a
//!   mod-sequence: `SELECT mailbox (QRESYNC (uidvalidity modseq))` answers
//!   with `VANISHED (EARLIER)` UIDs and a FETCH per changed message, so no
//!   further command is needed.
//! - Otherwise flag changes by `CHANGEDSINCE` the stored mod-sequence with
//!   CONDSTORE (else a refresh of the newest `flag_window` UIDs), and
//!   expunges by `UID SEARCH` diffed with the stored UIDs (skipped when the
//!   counts prove nothing went).
//!
//! Either way the result is the same [`KnownChanges`], which the caller
//! stores with the folder's checkpoint in one transaction.

use super::super::SyncOptions;
use super::super::error::{SyncError, SyncResult};
use super::super::report::ExpungeDetection;
use mailroom_net::NetError;
use mailroom_net::imap::{FetchedMessage, ImapSession, QresyncChanges, Selected};
use mailroom_store::{Folder, ServerFlags, StoredUid};
use std::collections::{BTreeSet, HashMap};

/// Known messages' changes, ready for `Store::apply_folder_changes`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownChanges {
    pub flags: Vec<ServerFlags>,
    /// Stored UIDs no longer in the folder.
    pub gone: Vec<u32>,
    pub detection: Option<ExpungeDetection>,
}

/// Step 1 of a folder sync: SELECT, with QRESYNC when it can be used
/// (`qresync_broken` is the provider's quirk); then the answer already
/// holds the known messages' changes, unless the folder was renumbered.
pub async fn select(
    session: &mut ImapSession,
    folder: &Folder,
    qresync_broken: bool,
) -> SyncResult<(Selected, Option<QresyncChanges>)> {
    let checkpoint = folder.uidvalidity.zip(folder.highestmodseq);
    if let Some((uidvalidity, modseq)) = checkpoint
        && !qresync_broken
        && session.has_capability("QRESYNC")
        && session.enable_qresync().await?
    {
        match session
            .select_qresync(&folder.name, uidvalidity, modseq)
            .await
        {
            Ok((selected, changes)) => {
                let changes = (selected.uidvalidity == uidvalidity).then_some(changes);
                return Ok((selected, changes));
            }
            // Refused (a server with an unknown QRESYNC bug, or a folder
            // gone since): a plain SELECT either works, and the folder is
            // synced the other way, or says what is wrong.
            Err(NetError::Protocol(why)) => {
                tracing::warn!(server = session.server(), folder = %folder.name, why,
                    "SELECT with QRESYNC failed; trying a plain SELECT");
            }
            Err(e) => return Err(e.into()),
        }
    }
    let condstore = session.has_capability("CONDSTORE");
    Ok((session.select(&folder.name, condstore).await?, None))
}

/// What the folder looked like at the last sync and now.
pub struct Window<'a> {
    /// Every stored UID at or below it was seen on the server.
    pub last_uid: u32,
    pub stored_modseq: Option<u64>,
    pub selected: &'a Selected,
}

/// Step 2 by QRESYNC: the SELECT's report, narrowed to stored messages.
pub fn from_qresync(stored: &[StoredUid], reported: QresyncChanges) -> KnownChanges {
    let vanished = reported.vanished_uids();
    KnownChanges {
        flags: flag_changes(stored, reported.changed),
        gone: stored
            .iter()
            .map(|s| s.uid)
            .filter(|uid| vanished.contains(*uid))
            .collect(),
        detection: Some(ExpungeDetection::Qresync),
    }
}

/// Step 2 without QRESYNC: asks the server for flag changes, then for the
/// UIDs still there.
pub async fn by_search(
    session: &mut ImapSession,
    stored: &[StoredUid],
    w: &Window<'_>,
    options: &SyncOptions,
) -> SyncResult<KnownChanges> {
    if stored.is_empty() {
        return Ok(KnownChanges {
            detection: Some(ExpungeDetection::UidSearch),
            ..Default::default()
        });
    }
    let fetched = changed_flags(session, stored, w, options).await?;
    Ok(KnownChanges {
        flags: flag_changes(stored, fetched),
        gone: expunged(session, stored, w).await?,
        detection: Some(ExpungeDetection::UidSearch),
    })
}

/// The flags of known messages that may have changed.
async fn changed_flags(
    session: &mut ImapSession,
    stored: &[StoredUid],
    w: &Window<'_>,
    options: &SyncOptions,
) -> SyncResult<Vec<FetchedMessage>> {
    // Only UIDs up to the checkpoint were seen by a sync; ones above it
    // (recorded by a move) get their flags when the checkpoint passes them.
    let below: Vec<u32> = stored
        .iter()
        .map(|s| s.uid)
        .filter(|uid| *uid <= w.last_uid)
        .collect();
    let Some(&oldest) = below.first() else {
        return Ok(Vec::new());
    };
    let condstore = (w.stored_modseq, w.selected.highestmodseq);
    match condstore {
        (Some(old), Some(now)) if session.has_capability("CONDSTORE") => {
            if now <= old {
                return Ok(Vec::new());
            }
            let modifier = format!("(UID FLAGS) (CHANGEDSINCE {old})");
            session
                .uid_fetch(&format!("1:{}", w.last_uid), &modifier, |uid| {
                    uid <= w.last_uid
                })
                .await
                .map_err(SyncError::from)
        }
        // No mod-sequences: re-read the flags of the newest messages, where
        // changes happen; older ones are refreshed when the window moves.
        _ => {
            let first = below
                .len()
                .checked_sub(options.flag_window.max(1))
                .map_or(oldest, |i| below[i]);
            session
                .uid_fetch(&format!("{first}:{}", w.last_uid), "(UID FLAGS)", |uid| {
                    uid >= first && uid <= w.last_uid
                })
                .await
                .map_err(SyncError::from)
        }
    }
}

/// The fetched flags that differ from the stored ones (or carry a new
/// mod-sequence); UIDs not stored are left out (new mail is fetched
/// whole).
fn flag_changes(stored: &[StoredUid], fetched: Vec<FetchedMessage>) -> Vec<ServerFlags> {
    let known: HashMap<u32, &StoredUid> = stored.iter().map(|s| (s.uid, s)).collect();
    fetched
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
        .collect()
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

/// Stored UIDs gone from the folder.
async fn expunged(
    session: &mut ImapSession,
    stored: &[StoredUid],
    w: &Window<'_>,
) -> SyncResult<Vec<u32>> {
    // Every message the server has at or below `last_uid` is stored (UIDs
    // only grow), so when nothing arrived since and the counts match,
    // nothing was expunged: no need to ask.
    let nothing_new = w.selected.uidnext == Some(w.last_uid.saturating_add(1));
    if nothing_new && w.selected.exists as usize == stored.len() {
        return Ok(Vec::new());
    }
    // Up to the highest stored UID: a written-back move may have recorded
    // one above the checkpoint, and it can vanish before the folder's next
    // sync.
    let upto = stored.iter().map(|s| s.uid).fold(w.last_uid, u32::max);
    let on_server = session.uid_search(&format!("UID 1:{upto}")).await?;
    Ok(stored
        .iter()
        .map(|s| s.uid)
        .filter(|uid| !on_server.contains(uid))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::ids::MessageId;

    fn stored(uid: u32, flags: &[&str]) -> StoredUid {
        StoredUid {
            uid,
            uidvalidity: 1,
            message_id: MessageId(format!("m{uid}")),
            flags: flags.iter().map(|f| (*f).to_owned()).collect(),
            modseq: Some(5),
        }
    }

    fn fetched(uid: u32, flags: &[&str], modseq: u64) -> FetchedMessage {
        FetchedMessage {
            uid,
            flags: flags.iter().map(|f| (*f).to_owned()).collect(),
            internal_date_ms: None,
            size: None,
            modseq: Some(modseq),
            header: None,
            body: None,
        }
    }

    #[test]
    fn recent_and_case_do_not_count_as_flag_changes() {
        let f = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(same_flags(&f(&["\\Seen"]), &f(&["\\seen", "\\Recent"])));
        assert!(!same_flags(&f(&["\\Seen"]), &f(&[])));
    }

    #[test]
    fn a_qresync_report_is_narrowed_to_stored_messages() {
        let known = [stored(1, &[]), stored(2, &["\\Seen"]), stored(3, &[])];
        let reported = QresyncChanges {
            // 9 and above were never stored (servers may report more than
            // asked); a range to the top UID is a few bytes on the wire and
            // must not be expanded.
            vanished: vec![9..=u32::MAX, 3..=3],
            changed: vec![
                fetched(1, &["\\Seen"], 7),
                fetched(2, &["\\Seen"], 5),
                fetched(10, &["\\Seen"], 8),
            ],
        };
        let changes = from_qresync(&known, reported);
        assert_eq!(changes.gone, vec![3]);
        assert_eq!(
            changes.flags.iter().map(|f| f.uid).collect::<Vec<_>>(),
            vec![1],
            "unchanged and unknown messages are left out"
        );
        assert_eq!(changes.detection, Some(ExpungeDetection::Qresync));
    }
}
