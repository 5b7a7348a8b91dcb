//! The CRM side's queries on both back ends: related-list tabs and their
//! counts (one visibility rule), a deactivated owner's mail hidden until
//! backed up, account usage, no lease for an unsyncable account, and an
//! account's deactivation deleting only what no other account holds.

use super::*;
use crate::accounts::DeactivationMode;
use crate::both_backends;
use crate::related::{RelatedSource, SortOrder};
use mailroom_core::ids::{AccountId, ContactId, MessageId};

async fn local(s: &Store, org: &OrgId, account: &AccountId, key: &str, raw: &[u8]) -> MessageId {
    let at = Location::Local {
        key: key.into(),
        role: "inbox".into(),
    };
    s.ingest_message(org, account, &at, raw)
        .await
        .expect("ingest")
        .message_id
}

async fn subjects(s: &Store, org: &OrgId, filter: &MessageFilter) -> Vec<String> {
    s.list_messages(org, filter, None, None)
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|m| m.subject)
        .collect()
}

fn related(contact: &ContactId, viewer: &UserId, source: Option<RelatedSource>) -> MessageFilter {
    MessageFilter {
        contact: Some(contact.clone()),
        visible_to: Some(viewer.clone()),
        source,
        ..Default::default()
    }
}

both_backends! {
    async fn tabs_counts_backup_usage_and_deactivation(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let bea = s.create_user(&org, &NewUser { email: "bea@acme.example".into(), display_name: "Bea".into(),
            role: Role::User, licensed: true }).await.expect("bea").id;
        let imap = imap_account(s, &org, &admin, "admin@acme.example").await.id;
        let pop = s.create_account(&org, &NewAccount { protocol: Protocol::Pop3, ..new_account(&bea, "bea@acme.example") })
            .await.expect("pop").id;
        for a in [&imap, &pop] {
            s.set_account_sharing(&org, a, Sharing::Public, &[]).await.expect("public");
        }
        let tom = s.create_contact(&org, &NewCrmRecord { name: "Tom".into(), primary_email: Some("tom@x.example".into()),
            secondary_emails: vec!["ap@x.example".into()], owner: None, fields: serde_json::json!({}) })
            .await.expect("contact").id;
        let first = mail("tom@x.example", "a@acme.example", "First", "Mon, 03 Nov 2025 09:00:00 +0000", "1");
        let both = mail("ap@x.example", "a@acme.example", "Both", "Mon, 03 Nov 2025 10:00:00 +0000", "2");
        let popped = mail("ap@x.example", "b@acme.example", "Popped", "Mon, 03 Nov 2025 11:00:00 +0000", "3");
        local(s, &org, &imap, "1", &first).await;
        local(s, &org, &imap, "2", &both).await;
        local(s, &org, &pop, "2", &both).await;
        let popped_id = local(s, &org, &pop, "3", &popped).await;

        let viewer = &admin;
        assert_eq!(subjects(s, &org, &related(&tom, viewer, None)).await, ["Popped", "Both", "First"]);
        assert_eq!(subjects(s, &org, &related(&tom, viewer, Some(RelatedSource::Imap))).await, ["Both", "First"]);
        assert_eq!(subjects(s, &org, &related(&tom, viewer, Some(RelatedSource::Pop))).await, ["Popped", "Both"]);
        assert_eq!(subjects(s, &org, &related(&tom, viewer, Some(RelatedSource::User(bea.clone())))).await, ["Popped", "Both"]);
        assert!(subjects(s, &org, &related(&tom, viewer, Some(RelatedSource::CrmSent))).await.is_empty());
        let oldest = MessageFilter { order: SortOrder::Oldest, ..related(&tom, viewer, None) };
        assert_eq!(subjects(s, &org, &oldest).await, ["First", "Both", "Popped"]);
        let counts = s.related_counts(&org, &related(&tom, viewer, None)).await.expect("counts");
        assert_eq!((counts.all, counts.crm_sent, counts.imap, counts.pop), (3, 0, 2, 2));
        let mut by_user: Vec<_> = counts.by_user.iter().map(|u| (u.user.clone(), u.count)).collect();
        by_user.sort();
        let mut expected = vec![(admin.clone(), 2), (bea.clone(), 2)];
        expected.sort();
        assert_eq!(by_user, expected);

        // Bea leaves: her mailbox is hidden and her account gets no lease.
        s.set_user_active(&org, &bea, false).await.expect("deactivate");
        assert_eq!(subjects(s, &org, &related(&tom, viewer, None)).await, ["Both", "First"]);
        assert_eq!(s.related_counts(&org, &related(&tom, viewer, None)).await.expect("counts").pop, 0);
        assert!(!s.try_lease_account(&org, &pop, AccountLease::Sync, "node", 60_000).await.expect("lease"));
        assert_eq!(s.sync_stopped(&org, &pop).await.expect("stop"), Some(SyncStop::OwnerInactive));
        let usage = s.account_usage(&org, Some(&bea)).await.expect("usage");
        assert_eq!((usage.len(), usage[0].messages), (1, 2));
        assert_eq!(usage[0].storage_bytes, i64::try_from(both.len() + popped.len()).expect("size"));
        let backup = s.back_up_user_mail(&org, &bea).await.expect("backup");
        assert_eq!((backup.backed_up, backup.messages), (vec![pop.clone()], 2));
        assert_eq!(subjects(s, &org, &related(&tom, viewer, None)).await, ["Popped", "Both", "First"]);
        s.set_user_active(&org, &bea, true).await.expect("reactivate");
        assert!(s.try_lease_account(&org, &pop, AccountLease::Sync, "node", 60_000).await.expect("lease"));
        s.release_account_lease(&org, &pop, AccountLease::Sync, "node").await.expect("release");

        // Deleting the POP3 account's integration removes what only it held.
        let report = s.deactivate_account(&org, &pop, DeactivationMode::Delete).await.expect("delete");
        assert_eq!((report.messages_removed, report.messages_kept), (1, 1));
        assert!(matches!(s.get_message(&org, &popped_id).await, Err(StoreError::NotFound(_))));
        assert_eq!(subjects(s, &org, &related(&tom, viewer, None)).await, ["Both", "First"]);
        assert_eq!(s.sync_stopped(&org, &pop).await.expect("stop"), Some(SyncStop::AccountDeactivated));
        assert!(matches!(s.deactivate_account(&org, &pop, DeactivationMode::Retain).await, Err(StoreError::Conflict(_))));
        s.activate_account(&org, &pop).await.expect("activate");
        assert_eq!(s.sync_stopped(&org, &pop).await.expect("stop"), None);
    }
}
