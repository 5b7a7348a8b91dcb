//! Message state belongs to the mailbox that holds the message: two users'
//! private accounts holding the same bytes each keep their own read,
//! starred, folder and labels; a change reaches only the changer's own
//! accounts (and only their servers' write-back queue); a mailbox shared
//! with a user is theirs to read, not to change; a POP3 download stays its
//! account's after the server deleted it.

use super::*;
use crate::both_backends;
use crate::mailbox_state::Access;
use mailroom_core::ids::{AccountId, FolderId};

async fn user(s: &Store, org: &OrgId, email: &str) -> UserId {
    s.create_user(
        org,
        &NewUser {
            email: email.into(),
            display_name: email.into(),
            role: Role::User,
            licensed: true,
        },
    )
    .await
    .expect("user")
    .id
}

async fn inbox(s: &Store, org: &OrgId, account: &AccountId) -> FolderId {
    s.upsert_folder(
        org,
        account,
        &FolderInfo {
            name: "INBOX".into(),
            delimiter: None,
            special_use: None,
        },
        Some("inbox"),
    )
    .await
    .expect("folder")
    .id
}

fn at(folder: &FolderId, uid: u32) -> Location {
    Location::Imap {
        folder: folder.clone(),
        uidvalidity: 1,
        uid,
        flags: vec![],
        modseq: None,
    }
}

async fn queued_accounts(s: &Store, org: &OrgId) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT DISTINCT account_id FROM server_changes WHERE org_id = $1 ORDER BY account_id",
    )
    .bind(org.as_str())
    .fetch_all(s.pool())
    .await
    .expect("queue")
}

both_backends! {
    async fn two_private_mailboxes_holding_one_message_keep_their_own_state(db) {
        let s = &db.store;
        let (org, _admin) = org_with_admin(s, "acme").await;
        let alice = user(s, &org, "alice@acme.example").await;
        let carol = user(s, &org, "carol@acme.example").await;
        let a = imap_account(s, &org, &alice, "alice@acme.example").await;
        let c = imap_account(s, &org, &carol, "carol@acme.example").await;
        let (fa, fc) = (inbox(s, &org, &a.id).await, inbox(s, &org, &c.id).await);
        // One mail sent to both: the same bytes, stored once for the org.
        let raw = mail("deals@x.example", "alice@acme.example, carol@acme.example", "offer", "Tue, 1 Jul 2003 10:52:37 +0200", "b");
        let id = s.ingest_message(&org, &a.id, &at(&fa, 1), &raw).await.expect("a").message_id;
        assert!(!s.ingest_message(&org, &c.id, &at(&fc, 7), &raw).await.expect("c").new, "content is org-wide");

        let all = MessageStateUpdate { folder: Some("trash".into()), read: Some(true), starred: Some(true), labels: Some(vec!["x".into()]), ..Default::default() };
        let changed = s.update_message_state_as(&org, &id, &all, Access::User(&alice)).await.expect("alice changes her mailbox");
        assert_eq!((changed.folder.as_str(), changed.read, changed.starred), ("trash", true, true));

        // Carol's mailbox is untouched, and her server hears nothing.
        let as_carol = s.get_message_as(&org, &id, Access::User(&carol)).await.expect("carol sees it");
        assert_eq!(as_carol.summary.mailbox, c.id);
        assert_eq!((as_carol.summary.state.folder.as_str(), as_carol.summary.state.read, as_carol.summary.state.starred), ("inbox", false, false));
        assert!(as_carol.summary.state.labels.is_empty(), "alice's label stays hers");
        assert_eq!(queued_accounts(s, &org).await, [a.id.as_str()], "write-back only to alice's account");
        // Each sees only their own account's location and mailbox.
        let as_alice = s.get_message_as(&org, &id, Access::User(&alice)).await.expect("alice");
        assert_eq!(as_alice.locations.iter().map(|l| l.account.clone()).collect::<Vec<_>>(), std::slice::from_ref(&a.id));
        assert_eq!(as_alice.mailboxes.iter().map(|m| m.account.clone()).collect::<Vec<_>>(), std::slice::from_ref(&a.id));
        assert_eq!(as_carol.locations.iter().map(|l| l.account.clone()).collect::<Vec<_>>(), std::slice::from_ref(&c.id));
        // Lists filter on the caller's own mailbox state.
        let carol_trash = MessageFilter { folder: Some("trash".into()), visible_to: Some(carol.clone()), ..Default::default() };
        assert!(s.list_messages(&org, &carol_trash, None, None).await.expect("list").items.is_empty());
        let alice_trash = MessageFilter { folder: Some("trash".into()), visible_to: Some(alice.clone()), ..Default::default() };
        assert_eq!(s.list_messages(&org, &alice_trash, None, None).await.expect("list").items.len(), 1);

        // Carol's server reporting \Seen changes only her mailbox.
        s.apply_server_flags(&org, &fc, &[ServerFlags { uid: 7, flags: vec!["\\Seen".into()], modseq: None }]).await.expect("flags");
        assert!(s.get_message_as(&org, &id, Access::User(&carol)).await.expect("c").summary.state.read);
        s.update_message_state_as(&org, &id, &MessageStateUpdate { read: Some(false), ..Default::default() }, Access::User(&alice)).await.expect("unread");
        assert!(s.get_message_as(&org, &id, Access::User(&carol)).await.expect("c").summary.state.read, "alice's unread is hers");
        // An admin (the org) sees both mailboxes.
        assert_eq!(s.get_message(&org, &id).await.expect("admin").mailboxes.len(), 2);
    }

    async fn a_mailbox_shared_to_read_cannot_be_changed_by_the_reader(db) {
        let s = &db.store;
        let (org, _admin) = org_with_admin(s, "acme").await;
        let alice = user(s, &org, "alice@acme.example").await;
        let bob = user(s, &org, "bob@acme.example").await;
        let mallory = user(s, &org, "mallory@acme.example").await;
        let a = s.create_account(&org, &NewAccount { sharing: Sharing::Custom, shared_with: vec![bob.clone()], ..new_account(&alice, "alice@acme.example") })
            .await
            .expect("shared account");
        let fa = inbox(s, &org, &a.id).await;
        let raw = mail("x@x.example", "alice@acme.example", "hi", "Tue, 1 Jul 2003 10:52:37 +0200", "b");
        let id = s.ingest_message(&org, &a.id, &at(&fa, 1), &raw).await.expect("ingest").message_id;

        let seen = s.message_mailboxes(&org, &id, Access::User(&bob)).await.expect("bob");
        assert_eq!(seen.len(), 1, "bob may read it");
        assert!(!seen[0].can_change, "but not change it");
        let star = MessageStateUpdate { starred: Some(true), ..Default::default() };
        assert!(matches!(s.update_message_state_as(&org, &id, &star, Access::User(&bob)).await, Err(StoreError::NotFound(_))));
        assert!(!s.get_message(&org, &id).await.expect("get").summary.state.starred);
        assert!(queued_accounts(s, &org).await.is_empty(), "nothing reaches the server");
        // Someone the account is not shared with sees nothing at all.
        assert!(s.message_mailboxes(&org, &id, Access::User(&mallory)).await.expect("m").is_empty());
        assert!(matches!(s.get_message_as(&org, &id, Access::User(&mallory)).await, Err(StoreError::NotFound(_))));
        // The owner may.
        assert!(s.message_mailboxes(&org, &id, Access::User(&alice)).await.expect("alice")[0].can_change);
        assert!(s.update_message_state_as(&org, &id, &star, Access::User(&alice)).await.expect("alice").starred);
    }

    async fn a_pop3_download_stays_in_its_mailbox_after_the_server_deleted_it(db) {
        let s = &db.store;
        let (org, _admin) = org_with_admin(s, "acme").await;
        let owner = user(s, &org, "pat@acme.example").await;
        let pop = s.create_account(&org, &NewAccount { protocol: Protocol::Pop3, pop3_keep_on_server: false, ..new_account(&owner, "pat@acme.example") })
            .await
            .expect("pop");
        let raw = mail("x@x.example", "pat@acme.example", "hi", "Tue, 1 Jul 2003 10:52:37 +0200", "b");
        let id = s.ingest_message(&org, &pop.id, &Location::Pop3 { uidl: "u1".into() }, &raw).await.expect("ingest").message_id;
        s.remove_pop3_uidl(&org, &pop.id, "u1").await.expect("deleted from the server");
        let mine = MessageFilter { account: Some(pop.id.clone()), folder: Some("inbox".into()), visible_to: Some(owner.clone()), ..Default::default() };
        assert_eq!(s.list_messages(&org, &mine, None, None).await.expect("list").items.len(), 1);
        assert_eq!(s.get_message_as(&org, &id, Access::User(&owner)).await.expect("owner").summary.mailbox, pop.id);
    }
}
