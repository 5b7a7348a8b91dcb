//! Finding stored messages on the server by Message-ID and size, without
//! downloading them: after a UIDVALIDITY change, and for the copies of one
//! message in several label folders (Gmail).
//!
//! After a UIDVALIDITY change every stored UID of the folder is void. The
//! messages are still the same: find them again by Message-ID header and
//! size (one small FETCH of headers instead of downloading the folder),
//! bind them to their new UIDs, and leave the rest to the normal fetch,
//! where ingestion matches them by content hash. Either way a message keeps
//! its identity and its user state and is never counted as new.
//!
//! Only unambiguous pairs are matched: a Message-ID and size that occur
//! once among the folder's previous messages and once on the server.

use super::super::error::SyncResult;
use mailroom_core::ids::MessageId;
use mailroom_net::imap::{FetchedMessage, ImapSession, Selected};
use mailroom_store::mime_index::index_message;
use mailroom_store::{Account, Folder, MessageFingerprint, RelocatedUid, Store};
use std::collections::{BTreeSet, HashMap};

/// Re-binds the folder's known messages to their new UIDs; returns the UIDs
/// found again (to skip when fetching).
pub async fn rematch_folder(
    session: &mut ImapSession,
    store: &Store,
    account: &Account,
    folder: &Folder,
    selected: &Selected,
    condstore: bool,
) -> SyncResult<BTreeSet<u32>> {
    let (org, uidvalidity) = (&account.org, selected.uidvalidity);
    let previous = store.folder_uids(org, &folder.id).await?;
    if previous.is_empty() || selected.exists == 0 {
        store
            .relocate_folder(org, &account.id, &folder.id, uidvalidity, &[])
            .await?;
        return Ok(BTreeSet::new());
    }
    let mut ids: Vec<MessageId> = previous.into_iter().map(|p| p.message_id).collect();
    ids.sort();
    ids.dedup();
    let listing = session
        .uid_fetch("1:*", header_query(condstore), |_| true)
        .await?;
    let located = match_by_header(store.message_fingerprints(org, &ids).await?, listing);
    store
        .relocate_folder(org, &account.id, &folder.id, uidvalidity, &located)
        .await?;
    Ok(located.iter().map(|r| r.uid).collect())
}

/// Before downloading new messages of a folder on a server whose labels
/// appear as folders (Gmail), finds those the org already has (the same
/// message under another label) and records only where they are. Returns
/// the UIDs located, which need no download.
pub async fn locate_known_copies(
    session: &mut ImapSession,
    store: &Store,
    account: &Account,
    folder: &Folder,
    uidvalidity: u32,
    uids: &str,
    condstore: bool,
) -> SyncResult<BTreeSet<u32>> {
    let listing = session
        .uid_fetch(uids, header_query(condstore), |_| true)
        .await?;
    let mut header_ids: Vec<String> = listing
        .iter()
        .filter_map(|m| index_message(m.header.as_deref()?).header_message_id)
        .collect();
    header_ids.sort();
    header_ids.dedup();
    let stored = store
        .messages_by_header_ids(&account.org, &header_ids)
        .await?;
    let located = match_by_header(stored, listing);
    if !located.is_empty() {
        store
            .add_folder_locations(&account.org, &account.id, &folder.id, uidvalidity, &located)
            .await?;
    }
    Ok(located.iter().map(|r| r.uid).collect())
}

fn header_query(condstore: bool) -> &'static str {
    if condstore {
        "(UID FLAGS RFC822.SIZE MODSEQ BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
    } else {
        "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
    }
}

/// Pairs server messages (fetched with their Message-ID header and size)
/// with stored messages having the same Message-ID and size. Only
/// unambiguous pairs: a key that occurs once among `stored` and once on the
/// server.
pub(super) fn match_by_header(
    stored: Vec<MessageFingerprint>,
    listing: Vec<FetchedMessage>,
) -> Vec<RelocatedUid> {
    let mut known: HashMap<(String, u64), Option<MessageId>> = HashMap::new();
    for print in stored {
        let Some(mid) = print.header_message_id else {
            continue;
        };
        known
            .entry((mid, print.size))
            // A second message with the same key makes the key ambiguous.
            .and_modify(|e| *e = None)
            .or_insert(Some(print.message_id));
    }
    let keyed: Vec<((String, u64), FetchedMessage)> = listing
        .into_iter()
        .filter_map(|m| {
            let mid = index_message(m.header.as_deref()?).header_message_id?;
            Some(((mid, u64::from(m.size?)), m))
        })
        .collect();
    let mut on_server: HashMap<&(String, u64), usize> = HashMap::new();
    for (key, _) in &keyed {
        *on_server.entry(key).or_default() += 1;
    }
    keyed
        .iter()
        .filter(|(key, _)| on_server.get(key) == Some(&1))
        .filter_map(|(key, m)| {
            Some(RelocatedUid {
                uid: m.uid,
                message_id: known.get(key)?.clone()?,
                flags: m.flags.clone(),
                modseq: m.modseq,
            })
        })
        .collect()
}
