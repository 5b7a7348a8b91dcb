//! Deciding from a STATUS answer alone whether a folder needs a sync, so
//! an unchanged folder costs one STATUS and nothing else.

use mailroom_net::imap::FolderStatus;
use mailroom_store::Folder;

/// Whether `status` shows changes not in the store. `seen` is the STATUS
/// this watcher saw when the folder was last known to be in sync; without
/// one the stored checkpoint decides: another UIDVALIDITY, a UIDNEXT past
/// the last stored UID, another HIGHESTMODSEQ (flag changes, with
/// CONDSTORE), or another message count than `stored_messages`
/// (expunges).
pub fn folder_changed(
    status: &FolderStatus,
    seen: Option<&FolderStatus>,
    folder: &Folder,
    stored_messages: u64,
) -> bool {
    if let Some(seen) = seen {
        return seen != status;
    }
    let renumbered = status.uidvalidity.is_some() && status.uidvalidity != folder.uidvalidity;
    // UIDNEXT may pass the last stored UID with nothing to fetch (mail that
    // came and went): then one sync records the STATUS as `seen`, and the
    // next polls compare with that.
    let new_mail = status
        .uidnext
        .is_none_or(|next| next > folder.last_uid.saturating_add(1));
    let flags = match (status.highestmodseq, folder.highestmodseq) {
        (Some(now), Some(stored)) => now != stored,
        _ => false,
    };
    renumbered || new_mail || flags || u64::from(status.messages) != stored_messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::ids::{AccountId, FolderId, OrgId};

    fn folder(uidvalidity: u32, last_uid: u32, modseq: Option<u64>) -> Folder {
        Folder {
            id: FolderId("fld_1".into()),
            org: OrgId("org_1".into()),
            account: AccountId("acc_1".into()),
            name: "Archive".into(),
            delimiter: Some("/".into()),
            special_use: None,
            role: Some("archive".into()),
            uidvalidity: Some(uidvalidity),
            last_uid,
            highestmodseq: modseq,
            last_synced_at: None,
        }
    }

    fn status(messages: u32, uidnext: u32, uidvalidity: u32, modseq: Option<u64>) -> FolderStatus {
        FolderStatus {
            messages,
            uidnext: Some(uidnext),
            uidvalidity: Some(uidvalidity),
            highestmodseq: modseq,
        }
    }

    #[test]
    fn the_checkpoint_decides_until_a_status_was_seen() {
        let f = folder(7, 10, Some(40));
        assert!(!folder_changed(&status(10, 11, 7, Some(40)), None, &f, 10));
        assert!(
            folder_changed(&status(11, 12, 7, Some(41)), None, &f, 10),
            "new mail"
        );
        assert!(
            folder_changed(&status(9, 11, 7, Some(41)), None, &f, 10),
            "expunge"
        );
        assert!(
            folder_changed(&status(10, 11, 7, Some(41)), None, &f, 10),
            "flags"
        );
        assert!(
            folder_changed(&status(10, 11, 8, Some(40)), None, &f, 10),
            "renumbered"
        );
        let never_synced = Folder {
            uidvalidity: None,
            last_uid: 0,
            ..f.clone()
        };
        assert!(folder_changed(
            &status(0, 1, 7, None),
            None,
            &never_synced,
            0
        ));
    }

    #[test]
    fn after_a_seen_status_only_a_different_one_counts() {
        let f = folder(7, 10, None);
        // Mail came and went: UIDNEXT is past the checkpoint for good.
        let now = status(10, 15, 7, None);
        assert!(folder_changed(&now, None, &f, 10));
        assert!(!folder_changed(&now, Some(&now.clone()), &f, 10));
        assert!(folder_changed(&status(11, 16, 7, None), Some(&now), &f, 10));
    }
}
