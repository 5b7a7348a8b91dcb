//! Downloading mail over POP3: initial and incremental (by UIDL), keeping
//! or deleting mail on the server, messages gone from the server, and a
//! connection cut mid-RETR.

use super::pop3_support::*;
use super::support::*;
use mailroom::ids::MessageId;
use mailroom::net::NetError;
use mailroom::sync::{NoFolderMapper, SyncError, SyncProgress, sync_account_with};
use mailroom_test_servers::{CuttingProxy, Dovecot, Layout};

mailroom_store::both_backends! {
    async fn initial_then_incremental_download_keeps_mail_on_the_server(db) {
        let s = &db.store;
        let t = tenant(s).await;
        let d = Dovecot::start(Layout::SpecialUse);
        let user = d.user().name.clone();
        for i in 0..3 {
            d.seed(&user, "INBOX", &mail(i, &format!("first {i}"), 2_000));
        }
        let acc = pop3_account(s, &t, &d, Pop3::plain(&d)).await;

        let mut events = Vec::new();
        let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(2), |p| events.push(p))
            .await
            .expect("initial sync");
        let inbox = r.folder("INBOX").expect("one pseudo-folder INBOX");
        assert_eq!((inbox.new_messages, inbox.fetched, inbox.deleted_from_server), (3, 3, 0));
        assert_eq!(inbox.role.as_deref(), Some("inbox"));
        assert_eq!(r.folders.len(), 1);
        let batches = events
            .iter()
            .filter(|e| matches!(e, SyncProgress::BatchCommitted { .. }))
            .count();
        assert_eq!(batches, 2, "3 messages in batches of 2: {events:?}");
        assert!(matches!(events.last(), Some(SyncProgress::FolderDone(_))));
        assert_eq!(totals(s).await, (3, 3, 3), "messages, UIDL locations, pipeline runs");
        let (_, state) = by_subject(s, &t.org, "first 1").await;
        assert_eq!(state.folder, "inbox");
        assert_eq!(on_server(&d), 3, "keep on server: nothing deleted");

        for i in 3..5 {
            d.seed(&user, "INBOX", &mail(i, &format!("later {i}"), 2_000));
        }
        let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(2), |_| {})
            .await
            .expect("incremental sync");
        assert_eq!((r.new_messages(), r.fetched()), (2, 2), "only the new UIDLs are downloaded");
        let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(2), |_| {})
            .await
            .expect("sync with nothing new");
        assert_eq!((r.new_messages(), r.fetched(), r.expunged()), (0, 0, 0));
        assert_eq!(totals(s).await, (5, 5, 5));
        assert_eq!(on_server(&d), 5);
        let account = s.get_account(&t.org, &acc).await.expect("account");
        assert_eq!(account.status, mailroom::store::AccountStatus::Ok);
        assert!(account.last_sync_at.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_on_server_off_deletes_only_what_is_stored() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    for i in 0..4 {
        d.seed(&user, "INBOX", &mail(i, &format!("take {i}"), 3_000));
    }
    let acc = pop3_account(s, &t, &d, Pop3::plain(&d).deleting()).await;
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(3), |_| {})
        .await
        .expect("sync");
    assert_eq!((r.new_messages(), r.deleted_from_server()), (4, 4), "{r:?}");
    assert_eq!(on_server(&d), 0, "the server is empty after the sync");
    let (messages, locations, runs) = totals(s).await;
    assert_eq!(
        (messages, runs),
        (4, 4),
        "everything deleted is stored and queued"
    );
    assert_eq!(
        locations, 0,
        "deleted UIDLs are forgotten (servers reuse them)"
    );

    d.seed(&user, "INBOX", &mail(9, "take 9", 3_000));
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(3), |_| {})
        .await
        .expect("second sync");
    assert_eq!((r.new_messages(), r.deleted_from_server()), (1, 1));
    assert_eq!(on_server(&d), 0);
    assert_eq!(count(s, "SELECT COUNT(*) FROM messages").await, 5);

    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(3), |_| {})
        .await
        .expect("an empty maildrop syncs");
    assert_eq!(
        (r.fetched(), r.deleted_from_server(), r.expunged()),
        (0, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_gone_from_the_server_lose_their_location_not_their_data() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    // A line starting with a dot is byte-stuffed on the wire.
    let stuffed = b"From: Ann <ann@customer.example>\r\nSubject: dots\r\n\
        Message-ID: <dots@customer.example>\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nend\r\n"
        .to_vec();
    d.seed(&user, "INBOX", &stuffed);
    let first = d.seed(&user, "INBOX", &mail(1, "goes away", 1_000));
    let acc = pop3_account(s, &t, &d, Pop3::plain(&d)).await;
    sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect("sync");
    let (id, _) = by_subject(s, &t.org, "dots").await;
    assert_eq!(
        id,
        MessageId::of_raw(&stuffed),
        "the stored bytes are the server's, dot-stuffing undone"
    );

    d.doveadm(&[
        "expunge",
        "-u",
        &user,
        "mailbox",
        "INBOX",
        "uid",
        &first.to_string(),
    ]);
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect("sync after the server lost one");
    assert_eq!((r.expunged(), r.fetched()), (1, 0));
    assert_eq!(
        totals(s).await,
        (2, 1, 2),
        "the message stays, only its location goes"
    );
    by_subject(s, &t.org, "goes away").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cut_mid_retr_loses_deletes_and_duplicates_nothing() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    for i in 0..6 {
        d.seed(&user, "INBOX", &mail(i, &format!("big {i}"), 20_000));
    }
    let proxy = CuttingProxy::start(
        format!("127.0.0.1:{}", d.ports().pop3)
            .parse()
            .expect("address"),
    );
    let how = Pop3 {
        port: proxy.port(),
        ..Pop3::plain(&d).deleting()
    };
    let acc = pop3_account(s, &t, &d, how).await;
    // ~20 KB per message, 2 per batch: 70 KB ends inside the second batch.
    proxy.cut_after_server_bytes(Some(70_000));
    let err = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(2), |_| {})
        .await
        .expect_err("the connection is cut");
    assert!(
        matches!(err, SyncError::Net(NetError::Connect { .. })),
        "{err:?}"
    );
    assert_eq!(proxy.cuts(), 1);
    let (stored, _, _) = totals(s).await;
    assert_eq!(
        stored, 2,
        "the first batch was committed, the cut one was not"
    );
    assert_eq!(
        on_server(&d),
        6,
        "no QUIT, so no DELE took effect: nothing deleted, stored or not"
    );

    proxy.cut_after_server_bytes(None);
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(2), |_| {})
        .await
        .expect("resync");
    assert_eq!(
        (r.new_messages(), r.fetched(), r.deleted_from_server()),
        (4, 4, 6),
        "the committed ones are not downloaded again, and are deleted now"
    );
    assert_eq!(on_server(&d), 0);
    assert_eq!(
        count(s, "SELECT COUNT(*) FROM messages").await,
        6,
        "no loss, no duplicates"
    );
    assert_eq!(count(s, "SELECT COUNT(*) FROM pipeline_runs").await, 6);
}

/// A downloaded POP3 message belongs to its account and inbox for good:
/// with keep-on-server off the server forgets it, the owner does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_sees_every_download_with_keep_on_server_off_then_on() {
    use mailroom::store::{Access, AccountUpdate, MessageFilter, NewUser, Role};
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let owner = s
        .create_user(
            &t.org,
            &NewUser {
                email: "pat@acme.example".into(),
                display_name: "Pat".into(),
                role: Role::User,
                licensed: true,
            },
        )
        .await
        .expect("user")
        .id;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    for i in 0..3 {
        d.seed(&user, "INBOX", &mail(i, &format!("taken {i}"), 1_000));
    }
    let acc = pop3_account(s, &t, &d, Pop3::plain(&d).deleting()).await;
    let to_pat = AccountUpdate {
        owner: Some(owner.clone()),
        ..Default::default()
    };
    s.update_account(&t.org, &acc, &to_pat)
        .await
        .expect("owned by a user");
    sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect("sync off");
    assert_eq!(on_server(&d), 0, "downloaded and deleted from the server");

    let keep = AccountUpdate {
        pop3_keep_on_server: Some(true),
        ..Default::default()
    };
    s.update_account(&t.org, &acc, &keep)
        .await
        .expect("keep on");
    for i in 3..5 {
        d.seed(&user, "INBOX", &mail(i, &format!("kept {i}"), 1_000));
    }
    sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {})
        .await
        .expect("sync on");
    assert_eq!(on_server(&d), 2);

    let owners_inbox = MessageFilter {
        account: Some(acc.clone()),
        folder: Some("inbox".into()),
        visible_to: Some(owner.clone()),
        ..Default::default()
    };
    let page = s
        .list_messages(&t.org, &owners_inbox, None, None)
        .await
        .expect("owner's inbox");
    assert_eq!(
        page.items.len(),
        5,
        "the owner sees every message: {:?}",
        page.items.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert_eq!(
        s.account_message_counts(&t.org, &acc)
            .await
            .expect("counts")
            .messages,
        5,
        "the account view counts them"
    );
    let (gone, _) = by_subject(s, &t.org, "taken 0").await;
    let seen = s
        .get_message_as(&t.org, &gone, Access::User(&owner))
        .await
        .expect("the owner opens a deleted download");
    assert_eq!(seen.summary.mailbox, acc);
    assert_eq!(seen.summary.state.folder, "inbox");
}
