//! Sync against a real Dovecot: what a user relies on after each sync —
//! every message there once, flags and deletions from the server shown,
//! user state kept through renumbering and interrupted syncs.

use super::support::*;
use mailroom::net::NetError;
use mailroom::store::MessageStateUpdate;
use mailroom::sync::{
    NoFolderMapper, PluginProvider, SyncError, SyncOptions, SyncProgress, sync_account,
    sync_account_with,
};
use mailroom_test_servers::{CuttingProxy, Dovecot, DovecotOptions, Layout};

mailroom_store::both_backends! {
    async fn initial_then_incremental_sync_with_flags_and_expunges(db) {
        let s = &db.store;
        let t = tenant(s).await;
        let d = Dovecot::start(Layout::SpecialUse);
        let user = d.user().name.clone();
        for i in 0..5 {
            d.seed(&user, "INBOX", &mail(i, &format!("inbox {i}"), 3000));
        }
        let seen_uid = d.seed(&user, "INBOX", &mail(5, "already read", 500));
        d.add_flags(&user, "INBOX", seen_uid, "\\Seen");
        d.seed(&user, "Sent", &mail(6, "my reply", 800));
        let acc = plain_account(s, &t, &d).await;

        // Initial sync: everything, once, in the right SalesInbox folders.
        let mut events = Vec::new();
        let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(2), |e| events.push(e)).await.expect("initial sync");
        assert_eq!((r.new_messages(), r.fetched()), (7, 7));
        assert!(r.bytes() > 15_000, "{r:?}");
        assert_eq!(r.folder("INBOX").map(|f| f.new_messages), Some(6));
        assert_eq!(totals(s).await, (7, 7, 7));
        let batches = events.iter().filter(|e| matches!(e, SyncProgress::BatchCommitted { folder, .. } if folder == "INBOX")).count();
        assert_eq!(batches, 3, "6 INBOX messages in batches of 2");
        for (name, role) in [("INBOX", "inbox"), ("Sent", "sent"), ("Drafts", "drafts"), ("Junk", "spam"), ("Trash", "trash"), ("Archive", "archive")] {
            assert_eq!(role_of(&db, &t, &acc, name).await.as_deref(), Some(role), "{name}");
        }
        let (_, sent) = by_subject(s, &t.org, "my reply").await;
        assert_eq!(sent.folder, "sent");
        let (_, read) = by_subject(s, &t.org, "already read").await;
        assert!(read.read, "\\Seen on the server: read in Mailroom");
        let (_, unread) = by_subject(s, &t.org, "inbox 0").await;
        assert!(!unread.read);
        let account = s.get_account(&t.org, &acc).await.expect("account");
        assert_eq!(account.status, mailroom::store::AccountStatus::Ok);
        assert!(account.last_sync_at.is_some());

        // Nothing changed: nothing fetched.
        let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(2), |_| {}).await.expect("no-op sync");
        assert_eq!((r.new_messages(), r.fetched(), r.updated_flags(), r.expunged()), (0, 0, 0, 0));

        // New mail: only the new messages come, once.
        d.seed(&user, "INBOX", &mail(7, "new one", 1000));
        d.seed(&user, "INBOX", &mail(8, "new two", 1000));
        let r = sync_account(s, &t.org, &acc, &NoFolderMapper, |_| {}).await.expect("incremental sync");
        assert_eq!((r.new_messages(), r.fetched()), (2, 2));
        assert_eq!(totals(s).await, (9, 9, 9), "no duplicates, one pipeline run each");

        // Flags changed by another client show up; so does a deletion.
        d.add_flags(&user, "INBOX", 1, "\\Seen");
        d.add_flags(&user, "INBOX", 2, "\\Flagged");
        d.remove_flags(&user, "INBOX", seen_uid, "\\Seen");
        d.expunge(&user, "INBOX", 3);
        let r = sync_account(s, &t.org, &acc, &NoFolderMapper, |_| {}).await.expect("sync changes");
        assert_eq!((r.updated_flags(), r.expunged(), r.fetched()), (3, 1, 0), "{r:?}");
        assert!(by_subject(s, &t.org, "inbox 0").await.1.read);
        assert!(by_subject(s, &t.org, "inbox 1").await.1.starred);
        assert!(!by_subject(s, &t.org, "already read").await.1.read, "unread again on the server");
        let (gone, _) = by_subject(s, &t.org, "inbox 2").await;
        assert!(s.message_locations(&t.org, &gone).await.expect("locations").is_empty(), "expunged: no longer in the folder");
        assert_eq!(totals(s).await, (9, 8, 9), "the message itself (and its CRM links) stays");
    }

    async fn uidvalidity_change_keeps_user_state_without_duplicates(db) {
        let s = &db.store;
        let t = tenant(s).await;
        let d = Dovecot::start(Layout::SpecialUse);
        let user = d.user().name.clone();
        let mut raws: Vec<Vec<u8>> = (0..4).map(|i| mail(i, &format!("archived {i}"), 2000)).collect();
        // No Message-ID: only its content can tell it is the same message.
        raws.push(b"From: Bob <bob@customer.example>\r\nSubject: no id\r\n\r\nbody\r\n".to_vec());
        for raw in &raws {
            d.seed(&user, "Archive", raw);
        }
        let acc = plain_account(s, &t, &d).await;
        sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(3), |_| {}).await.expect("initial sync");
        let (id, _) = by_subject(s, &t.org, "archived 1").await;
        let update = MessageStateUpdate { labels: Some(vec!["vip".into()]), read: Some(true), starred: Some(true), ..Default::default() };
        s.update_message_state(&t.org, &id, &update).await.expect("user state");
        let before = d.uidvalidity(&user, "Archive");

        // The mailbox is deleted and recreated: new UIDVALIDITY, the same
        // mail under other UIDs (reverse order), plus one new message.
        d.delete_mailbox(&user, "Archive");
        d.create_mailbox(&user, "Archive");
        for raw in raws.iter().rev() {
            d.seed(&user, "Archive", raw);
        }
        d.seed(&user, "Archive", &mail(9, "arrived meanwhile", 500));
        assert_ne!(d.uidvalidity(&user, "Archive"), before);
        let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(3), |_| {}).await.expect("resync");
        let archive = r.folder("Archive").expect("archive report");
        assert!(archive.uidvalidity_changed);
        assert_eq!(archive.rematched, 4, "known mail found again by Message-ID, not downloaded");
        assert_eq!((archive.new_messages, archive.fetched), (1, 2), "the id-less one is downloaded and matched by content; only the new one is new");
        assert_eq!(totals(s).await, (6, 6, 6), "no duplicates; each message through the pipeline once");
        let (same, state) = by_subject(s, &t.org, "archived 1").await;
        assert_eq!(same, id);
        assert_eq!((state.labels.clone(), state.read, state.starred), (vec!["vip".to_owned()], true, true), "user state intact");
        let uids = s.folder_uids(&t.org, &folder_id(&db, &t, &acc, "Archive").await).await.expect("uids");
        assert_eq!(uids.iter().map(|u| u.uid).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6], "locations follow the new UIDs");
        assert_eq!(uids.iter().find(|u| u.message_id == id).map(|u| u.uid), Some(4), "reverse order: archived 1 is now UID 4");

        // Same UIDs, new UIDVALIDITY (the server rebuilt its index).
        d.set_uidvalidity(&user, "Archive", d.uidvalidity(&user, "Archive") + 100);
        let r = sync_account(s, &t.org, &acc, &NoFolderMapper, |_| {}).await.expect("resync");
        let archive = r.folder("Archive").expect("archive report");
        assert!(archive.uidvalidity_changed);
        assert_eq!((archive.rematched, archive.fetched, archive.new_messages), (5, 1, 0));
        assert_eq!(totals(s).await, (6, 6, 6));
        assert_eq!(by_subject(s, &t.org, "archived 1").await.1.labels, ["vip"]);
    }
}

async fn folder_id(
    db: &mailroom::store::testing::TestDb,
    t: &Tenant,
    acc: &mailroom::ids::AccountId,
    name: &str,
) -> mailroom::ids::FolderId {
    db.store
        .list_folders(&t.org, acc)
        .await
        .expect("folders")
        .into_iter()
        .find(|f| f.name == name)
        .expect("folder")
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_dropped_mid_fetch_resumes_without_loss_or_duplicates() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    for i in 0..30 {
        d.seed(&user, "INBOX", &mail(i, &format!("m{i}"), 4000));
    }
    let acc = plain_account(s, &t, &d).await;
    // Stop the sync (drop its future) right after its second batch commit,
    // while it is fetching the third.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut batches = 0;
    let opts = options(5);
    let sync = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &opts, |e| {
        if matches!(e, SyncProgress::BatchCommitted { .. }) {
            batches += 1;
            if batches == 2 {
                let _ = tx.send(());
            }
        }
    });
    tokio::select! {
        r = sync => panic!("the sync should have been dropped mid-fetch, it finished: {r:?}"),
        _ = rx.recv() => {}
    }
    let (stored, _, _) = totals(s).await;
    assert!(
        (10..30).contains(&stored),
        "two batches committed, not all: {stored}"
    );

    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(5), |_| {})
        .await
        .expect("resync");
    assert_eq!(
        r.new_messages() as i64,
        30 - stored,
        "the rest, and only the rest, is new"
    );
    assert_eq!(totals(s).await, (30, 30, 30), "no loss, no duplicates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cut_mid_fetch_then_resync_loses_and_duplicates_nothing() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().clone();
    for i in 0..20 {
        d.seed(&user.name, "INBOX", &mail(i, &format!("big {i}"), 20_000));
    }
    let proxy = CuttingProxy::start(d.imap_addr());
    let acc = account(
        s,
        &t,
        &user.name,
        proxy.port(),
        mailroom::store::Security::None,
        true,
        Login::Password(user.password.clone()),
    )
    .await;
    // ~20 KB per message, 4 per batch: 150 KB ends inside the second batch.
    proxy.cut_after_server_bytes(Some(150_000));
    let err = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(4), |_| {})
        .await
        .expect_err("the connection is cut");
    assert!(
        matches!(err, SyncError::Net(NetError::Connect { .. })),
        "{err:?}"
    );
    assert_eq!(proxy.cuts(), 1);
    let (stored, _, _) = totals(s).await;
    assert_eq!(
        stored, 4,
        "the first batch was committed, the cut one was not"
    );
    let account = s.get_account(&t.org, &acc).await.expect("account");
    assert_eq!(account.status, mailroom::store::AccountStatus::Error);
    assert!(
        account
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("connection")),
        "{:?}",
        account.last_error
    );

    proxy.cut_after_server_bytes(None);
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(4), |_| {})
        .await
        .expect("resync");
    assert_eq!(
        (r.new_messages(), r.fetched()),
        (16, 16),
        "resumes after the committed batch"
    );
    assert_eq!(totals(s).await, (20, 20, 20));
    assert_eq!(
        s.get_account(&t.org, &acc)
            .await
            .expect("account")
            .last_error,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_standard_server_folders_are_mapped_by_the_provider_plugin() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::NonStandard);
    let user = d.user().name.clone();
    d.seed(
        &user,
        "INBOX.Sent Items",
        &mail(1, "sent from another client", 500),
    );
    d.seed(&user, "INBOX.Papierkorb", &mail(2, "thrown away", 500));
    d.seed(&user, "INBOX", &mail(3, "hello", 500));
    let acc = plain_account(s, &t, &d).await;

    // Without provider knowledge only INBOX is known.
    sync_account(s, &t.org, &acc, &NoFolderMapper, |_| {})
        .await
        .expect("sync without plugin");
    assert_eq!(role_of(&db, &t, &acc, "INBOX.Sent Items").await, None);

    let registry = registry_with_generic_provider(s, &t.org).await;
    let provider = PluginProvider::new(registry, t.org.clone(), Some("generic"));
    // A manual mapping beats every automatic guess.
    s.set_folder_override(&t.org, &acc, "INBOX.Projects", Some("archive"))
        .await
        .expect("override");
    let r = sync_account(s, &t.org, &acc, &provider, |_| {})
        .await
        .expect("sync with plugin");
    assert_eq!(r.new_messages(), 0, "already stored");
    for (name, role) in [
        ("INBOX", Some("inbox")),
        ("INBOX.Sent Items", Some("sent")),
        ("INBOX.Papierkorb", Some("trash")),
        ("INBOX.Entw&APw-rfe", Some("drafts")),
        ("INBOX.Projects", Some("archive")),
    ] {
        assert_eq!(
            role_of(&db, &t, &acc, name).await.as_deref(),
            role,
            "{name}"
        );
    }

    // A fresh account mapped from the start files mail in the right place.
    let db2 = mailroom::store::testing::TestDb::sqlite().await;
    let s2 = &db2.store;
    let t2 = tenant(s2).await;
    let acc2 = plain_account(s2, &t2, &d).await;
    let registry = registry_with_generic_provider(s2, &t2.org).await;
    let provider = PluginProvider::new(registry, t2.org.clone(), Some("generic"));
    sync_account(s2, &t2.org, &acc2, &provider, |_| {})
        .await
        .expect("sync");
    assert_eq!(
        by_subject(s2, &t2.org, "sent from another client")
            .await
            .1
            .folder,
        "sent"
    );
    assert_eq!(
        by_subject(s2, &t2.org, "thrown away").await.1.folder,
        "trash"
    );
    assert_eq!(by_subject(s2, &t2.org, "hello").await.1.folder, "inbox");
}

/// A folder's last batch commits while the next folder is read: each
/// folder's report and its announcement must still be complete, in order,
/// and every folder's checkpoint stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_reports_are_complete_while_last_batches_commit_behind_the_next_folder() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    let seeded = [("INBOX", 5u64), ("Sent", 3), ("Archive", 4), ("Trash", 1)];
    let mut n = 0;
    for (folder, count) in seeded {
        for _ in 0..count {
            d.seed(&user, folder, &mail(n, &format!("{folder} {n}"), 4000));
            n += 1;
        }
    }
    let acc = plain_account(s, &t, &d).await;
    let mut events = Vec::new();
    // Batches of 4: INBOX's last batch and every other folder's only one
    // are left committing while the next folder is selected.
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(4), |e| {
        events.push(e)
    })
    .await
    .expect("initial sync");
    assert_eq!(r.new_messages(), n as u64);
    let mut announced = std::collections::HashMap::new();
    let mut committed: std::collections::HashMap<String, u64> = Default::default();
    for event in &events {
        match event {
            SyncProgress::BatchCommitted {
                folder, messages, ..
            } => {
                assert!(
                    !announced.contains_key(folder),
                    "{folder}: a batch committed after the folder was announced done"
                );
                *committed.entry(folder.clone()).or_default() += messages;
            }
            SyncProgress::FolderDone(report) => {
                assert!(
                    announced
                        .insert(report.folder.clone(), report.new_messages)
                        .is_none(),
                    "{} announced twice",
                    report.folder
                );
            }
            _ => {}
        }
    }
    for (folder, count) in seeded {
        assert_eq!(
            announced.get(folder),
            Some(&count),
            "{folder} announced with all its messages"
        );
        assert_eq!(committed.get(folder), Some(&count), "{folder}");
        assert_eq!(
            r.folder(folder).map(|f| (f.new_messages, f.fetched)),
            Some((count, count)),
            "{folder}"
        );
    }
    assert_eq!(
        announced.len(),
        r.folders.len(),
        "every folder announced, empty ones too"
    );
    assert_eq!(totals(s).await, (n as i64, n as i64, n as i64));
    let again = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(4), |_| {})
        .await
        .expect("resync");
    assert_eq!(
        (again.new_messages(), again.fetched()),
        (0, 0),
        "every folder's checkpoint was stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_without_condstore_gets_a_bounded_flag_refresh() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start_hiding(Layout::SpecialUse, &["CONDSTORE", "QRESYNC"]);
    let user = d.user().name.clone();
    for i in 0..6 {
        d.seed(&user, "INBOX", &mail(i, &format!("plain {i}"), 800));
    }
    let acc = plain_account(s, &t, &d).await;
    let opts = SyncOptions {
        flag_window: 3,
        ..options(10)
    };
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &opts, |_| {})
        .await
        .expect("initial sync");
    assert_eq!(r.new_messages(), 6);
    let inbox = folder_id(&db, &t, &acc, "INBOX").await;
    assert_eq!(
        s.get_folder(&t.org, &inbox)
            .await
            .expect("folder")
            .highestmodseq,
        None,
        "no mod-sequences without CONDSTORE"
    );

    d.add_flags(&user, "INBOX", 6, "\\Seen");
    d.add_flags(&user, "INBOX", 1, "\\Seen");
    d.expunge(&user, "INBOX", 5);
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &opts, |_| {})
        .await
        .expect("resync");
    assert_eq!(
        (r.updated_flags(), r.expunged(), r.fetched()),
        (1, 1, 0),
        "{r:?}"
    );
    assert!(
        by_subject(s, &t.org, "plain 5").await.1.read,
        "a recent message's flag change shows up"
    );
    assert!(
        !by_subject(s, &t.org, "plain 0").await.1.read,
        "older messages are outside the refresh window (bounded cost)"
    );
}

/// A provider whose labels appear as folders (like Gmail's plugin says).
struct LabelsAsFolders;

#[async_trait::async_trait]
impl mailroom::sync::FolderMapper for LabelsAsFolders {
    async fn map_folder(&self, _mailbox: &mailroom::net::imap::MailboxInfo) -> Option<String> {
        None
    }
    async fn labels_as_folders(&self) -> bool {
        true
    }
}

mailroom_store::both_backends! {
    async fn a_message_under_two_labels_is_downloaded_once(db) {
        let s = &db.store;
        let t = tenant(s).await;
        let d = Dovecot::start(Layout::SpecialUse);
        let user = d.user().name.clone();
        d.create_mailbox(&user, "Customers");
        let labelled = mail(1, "labelled twice", 3000);
        d.seed(&user, "INBOX", &labelled);
        d.seed(&user, "Customers", &labelled);
        d.seed(&user, "Customers", &mail(2, "only under the label", 3000));
        let acc = plain_account(s, &t, &d).await;

        let r = sync_account_with(s, &t.org, &acc, &LabelsAsFolders, &options(10), |_| {})
            .await
            .expect("sync");
        let rematched: u64 = r.folders.iter().map(|f| f.rematched).sum();
        assert_eq!((r.fetched(), rematched), (2, 1), "the second copy is located, not downloaded: {r:?}");
        assert_eq!(totals(s).await, (2, 3, 2), "two messages, three locations, two pipeline runs");
        let again = sync_account_with(s, &t.org, &acc, &LabelsAsFolders, &options(10), |_| {})
            .await
            .expect("resync");
        assert_eq!((again.fetched(), again.new_messages()), (0, 0));
        assert_eq!(totals(s).await, (2, 3, 2));

        // Without the quirk every copy is downloaded (and still stored once).
        let other = Dovecot::start(Layout::SpecialUse);
        other.create_mailbox(&user, "Customers");
        other.seed(&user, "INBOX", &labelled);
        other.seed(&user, "Customers", &labelled);
        let plain = plain_account(s, &t, &other).await;
        let r = sync_account_with(s, &t.org, &plain, &NoFolderMapper, &options(10), |_| {})
            .await
            .expect("sync without the quirk");
        assert_eq!((r.fetched(), r.new_messages()), (2, 0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_says_it_is_gmail_gets_labels_as_folders_without_a_provider_plugin() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start_with(DovecotOptions {
        extra_capabilities: vec!["X-GM-EXT-1".into()],
        ..DovecotOptions::new(Layout::SpecialUse)
    });
    let user = d.user().name.clone();
    d.create_mailbox(&user, "Customers");
    let labelled = mail(1, "labelled twice", 3000);
    d.seed(&user, "INBOX", &labelled);
    d.seed(&user, "Customers", &labelled);
    let acc = plain_account(s, &t, &d).await;
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect("sync");
    let rematched: u64 = r.folders.iter().map(|f| f.rematched).sum();
    assert_eq!(
        (r.fetched(), rematched),
        (1, 1),
        "the label's copy is located: {r:?}"
    );
}
