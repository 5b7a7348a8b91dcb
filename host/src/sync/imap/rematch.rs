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
use super::session::{ImapSession, Selected};
use crate::ids::MessageId;
use crate::store::mime_index::index_message;
use crate::store::{Account, Folder, RelocatedUid, Store};
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
    let mut stored: HashMap<(String, u64), Option<MessageId>> = HashMap::new();
    for print in store.message_fingerprints(org, &ids).await? {
        let Some(mid) = print.header_message_id else {
            continue;
        };
        stored
            .entry((mid, print.size))
            // A second message with the same key makes the key ambiguous.
            .and_modify(|e| *e = None)
            .or_insert(Some(print.message_id));
    }
    let query = if condstore {
        "(UID FLAGS RFC822.SIZE MODSEQ BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
    } else {
        "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
    };
    let listing = session.uid_fetch("1:*", query, |_| true).await?;
    let keyed: Vec<((String, u64), _)> = listing
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
    let located: Vec<RelocatedUid> = keyed
        .iter()
        .filter(|(key, _)| on_server.get(key) == Some(&1))
        .filter_map(|(key, m)| {
            Some(RelocatedUid {
                uid: m.uid,
                message_id: stored.get(key)?.clone()?,
                flags: m.flags.clone(),
                modseq: m.modseq,
            })
        })
        .collect();
    store
        .relocate_folder(org, &account.id, &folder.id, uidvalidity, &located)
        .await?;
    Ok(located.iter().map(|r| r.uid).collect())
}
