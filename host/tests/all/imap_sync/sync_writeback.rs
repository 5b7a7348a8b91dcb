//! Two-way state against a real Dovecot: what a user does in Mailroom
//! (read, star, move, delete — by hand or by a workflow) reaches the IMAP
//! server at the next sync, exactly once, and the pull that follows keeps
//! the user's state instead of undoing it.

use super::support::*;
use mailroom::ids::{AccountId, MessageId, OrgId};
use mailroom::store::pipeline_results::{CompletedRun, RunResults};
use mailroom::store::{MessageStateUpdate, ServerFlags, Store};
use mailroom::sync::{NoFolderMapper, SyncReport, sync_account_with};
use mailroom_test_servers::{CuttingProxy, Dovecot, Layout};

async fn sync(s: &Store, org: &OrgId, acc: &AccountId) -> SyncReport {
    sync_account_with(s, org, acc, &NoFolderMapper, &options(50), |_| {})
        .await
        .expect("sync")
}

async fn change(s: &Store, org: &OrgId, subject: &str, update: MessageStateUpdate) -> MessageId {
    let (id, _) = by_subject(s, org, subject).await;
    s.update_message_state(org, &id, &update)
        .await
        .expect("update state");
    id
}

fn read(v: bool) -> MessageStateUpdate {
    MessageStateUpdate {
        read: Some(v),
        ..Default::default()
    }
}

fn starred(v: bool) -> MessageStateUpdate {
    MessageStateUpdate {
        starred: Some(v),
        ..Default::default()
    }
}

fn folder(role: &str) -> MessageStateUpdate {
    MessageStateUpdate {
        folder: Some(role.into()),
        ..Default::default()
    }
}

/// The server names of the folders that hold the message, sorted.
async fn held_in(s: &Store, org: &OrgId, acc: &AccountId, id: &MessageId) -> Vec<String> {
    let folders = s.list_folders(org, acc).await.expect("folders");
    let mut names: Vec<String> = s
        .message_locations(org, id)
        .await
        .expect("locations")
        .into_iter()
        .filter_map(|l| {
            let f = l.folder?;
            folders.iter().find(|x| x.id == f).map(|x| x.name.clone())
        })
        .collect();
    names.sort();
    names
}

fn has(flags: &[String], flag: &str) -> bool {
    flags.iter().any(|f| f == flag)
}

mailroom_store::both_backends! {
    async fn read_star_move_and_delete_reach_the_server(db) {
        let s = &db.store;
        let t = tenant(s).await;
        let d = Dovecot::start(Layout::SpecialUse);
        let user = d.user().name.clone();
        for (i, subject) in ["read me", "star me", "archive me", "trash me"].iter().enumerate() {
            d.seed(&user, "INBOX", &mail(i, subject, 600));
        }
        let acc = plain_account(s, &t, &d).await;
        sync(s, &t.org, &acc).await;

        let read_id = change(s, &t.org, "read me", read(true)).await;
        change(s, &t.org, "star me", starred(true)).await;
        let archived = change(s, &t.org, "archive me", folder("archive")).await;
        change(s, &t.org, "trash me", folder("trash")).await;
        let queue = s.server_changes_status(&t.org, &acc).await.expect("status");
        assert_eq!((queue.pending, queue.failed), (4, 0), "queued with the state change");

        // The server still says unread (the pull's view): while the user's
        // change waits, it must not undo it.
        let inbox = s.list_folders(&t.org, &acc).await.expect("folders")
            .into_iter().find(|f| f.name == "INBOX").expect("INBOX").id;
        s.apply_server_flags(&t.org, &inbox, &[ServerFlags { uid: 1, flags: vec![], modseq: None }])
            .await.expect("server flags");
        assert!(by_subject(s, &t.org, "read me").await.1.read, "the queued local change wins");

        let r = sync(s, &t.org, &acc).await;
        assert_eq!((r.write_back.applied, r.write_back.failed, r.write_back.retried), (4, 0, 0), "{r:?}");
        assert!(has(&d.flags(&user, "INBOX", 1), "\\Seen"));
        assert!(has(&d.flags(&user, "INBOX", 2), "\\Flagged"));
        assert!(!has(&d.flags(&user, "INBOX", 2), "\\Seen"), "only what the user changed");
        assert_eq!(d.uids(&user, "INBOX"), vec![1, 2], "moved messages left the inbox");
        assert_eq!(d.uids(&user, "Archive").len(), 1);
        assert_eq!(d.uids(&user, "Trash").len(), 1);
        assert_eq!(s.server_changes_status(&t.org, &acc).await.expect("status").pending, 0);

        // Mailroom still has each message once, where the user put it.
        assert_eq!(totals(s).await, (4, 4, 4), "no duplicate after the pull found the moved mail");
        let (_, state) = by_subject(s, &t.org, "archive me").await;
        assert_eq!(state.folder, "archive");
        assert_eq!(held_in(s, &t.org, &acc, &archived).await, vec!["Archive"]);
        assert_eq!(by_subject(s, &t.org, "trash me").await.1.folder, "trash");
        assert!(by_subject(s, &t.org, "read me").await.1.read);
        assert!(by_subject(s, &t.org, "star me").await.1.starred);

        // Unread and unstar go back the same way; a further sync changes nothing.
        change(s, &t.org, "read me", read(false)).await;
        change(s, &t.org, "star me", starred(false)).await;
        let r = sync(s, &t.org, &acc).await;
        assert_eq!(r.write_back.applied, 2);
        assert!(!has(&d.flags(&user, "INBOX", 1), "\\Seen"));
        assert!(!has(&d.flags(&user, "INBOX", 2), "\\Flagged"));
        let r = sync(s, &t.org, &acc).await;
        assert_eq!((r.write_back.applied, r.new_messages(), r.updated_flags()), (0, 0, 0), "{r:?}");
        assert!(!by_subject(s, &t.org, "read me").await.1.read);
        assert!(!by_subject(s, &t.org, "star me").await.1.starred);
        assert_eq!(by_subject(s, &t.org, "archive me").await.1.folder, "archive");
        assert_eq!(held_in(s, &t.org, &acc, &read_id).await, vec!["INBOX"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_that_archives_is_written_back() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    d.seed(&user, "INBOX", &mail(1, "newsletter", 900));
    let acc = plain_account(s, &t, &d).await;
    sync(s, &t.org, &acc).await;
    let (id, _) = by_subject(s, &t.org, "newsletter").await;
    // What the pipeline commits when a rule says Archive + MarkRead.
    let results = RunResults {
        state: Some(MessageStateUpdate {
            folder: Some("archive".into()),
            read: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let run = CompletedRun {
        org: t.org.clone(),
        message: id.clone(),
        results,
    };
    assert_eq!(
        s.complete_pipeline_runs(&[run])
            .await
            .expect("complete run"),
        vec![true]
    );

    let r = sync(s, &t.org, &acc).await;
    assert_eq!(r.write_back.applied, 2, "{r:?}");
    assert!(d.uids(&user, "INBOX").is_empty());
    let archived = d.uids(&user, "Archive");
    assert_eq!(archived.len(), 1);
    assert!(
        has(&d.flags(&user, "Archive", archived[0]), "\\Seen"),
        "read, then moved with its flags"
    );
    let (_, state) = by_subject(s, &t.org, "newsletter").await;
    assert_eq!((state.folder.as_str(), state.read), ("archive", true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_move_a_copy_and_expunge_moves_only_our_message() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start_hiding(Layout::SpecialUse, &["MOVE", "UIDPLUS"]);
    let user = d.user().name.clone();
    d.seed(&user, "INBOX", &mail(1, "to archive", 700));
    let other = d.seed(&user, "INBOX", &mail(2, "deleted elsewhere", 700));
    d.seed(&user, "INBOX", &mail(3, "stays", 700));
    let acc = plain_account(s, &t, &d).await;
    sync(s, &t.org, &acc).await;

    // Another client marked a message deleted but did not expunge it: a
    // plain EXPUNGE would take it too, so Mailroom refuses and says why.
    d.add_flags(&user, "INBOX", other, "\\Deleted");
    change(s, &t.org, "to archive", folder("archive")).await;
    let r = sync(s, &t.org, &acc).await;
    assert_eq!(
        (r.write_back.applied, r.write_back.retried),
        (0, 1),
        "{r:?}"
    );
    assert_eq!(d.uids(&user, "INBOX").len(), 3, "nothing expunged");
    assert!(d.uids(&user, "Archive").is_empty(), "nothing copied");
    let queue = s.server_changes_status(&t.org, &acc).await.expect("status");
    assert_eq!(queue.pending, 1, "kept for later");
    let why = queue.last_error.expect("an error is shown");
    assert!(why.contains("other messages marked as deleted"), "{why}");

    // Once the other client's flag is gone the move goes through (after
    // the back-off, which the test skips by making the change due now).
    d.remove_flags(&user, "INBOX", other, "\\Deleted");
    sqlx::query("UPDATE server_changes SET next_attempt_at = 0")
        .execute(s.pool())
        .await
        .expect("make due");
    let r = sync(s, &t.org, &acc).await;
    assert_eq!(r.write_back.applied, 1, "{r:?}");
    assert_eq!(d.uids(&user, "INBOX").len(), 2);
    assert_eq!(d.uids(&user, "Archive").len(), 1);
    assert_eq!(totals(s).await.0, 3);
    assert_eq!(
        by_subject(s, &t.org, "to archive").await.1.folder,
        "archive"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_folder_is_a_clear_error_and_the_other_changes_go_on() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    d.seed(&user, "INBOX", &mail(1, "escalate me", 700));
    d.seed(&user, "INBOX", &mail(2, "just read", 700));
    let acc = plain_account(s, &t, &d).await;
    sync(s, &t.org, &acc).await;

    change(s, &t.org, "escalate me", folder("custom:Escalations")).await;
    change(s, &t.org, "just read", read(true)).await;
    let r = sync(s, &t.org, &acc).await;
    assert_eq!((r.write_back.applied, r.write_back.failed), (1, 1), "{r:?}");
    assert!(
        has(&d.flags(&user, "INBOX", 2), "\\Seen"),
        "the other change was written"
    );
    let queue = s.server_changes_status(&t.org, &acc).await.expect("status");
    assert_eq!((queue.pending, queue.failed), (0, 1));
    assert_eq!(
        queue.last_error.as_deref(),
        Some(
            "the server has no \"Escalations\" folder; map one of the account's folders to it (PUT /v1/accounts/{id}/folders/mapping)"
        )
    );
    assert_eq!(
        by_subject(s, &t.org, "escalate me").await.1.folder,
        "custom:Escalations",
        "the user's choice stays"
    );

    // The admin creates the folder and maps it in the account's folder
    // settings: the move goes through at the next sync.
    d.create_mailbox(&user, "Team/Escalations");
    s.set_folder_override(&t.org, &acc, "Team/Escalations", Some("custom:Escalations"))
        .await
        .expect("map");
    let r = sync(s, &t.org, &acc).await;
    assert_eq!(r.write_back.applied, 1, "{r:?}");
    assert_eq!(d.uids(&user, "Team/Escalations").len(), 1);
    assert_eq!(d.uids(&user, "INBOX").len(), 1);
    assert_eq!(
        s.server_changes_status(&t.org, &acc)
            .await
            .expect("status")
            .failed,
        0
    );
}

/// The server renumbered the folder and the old UID now belongs to another
/// message: the change waits until the pull has found its message again,
/// and then goes to the right one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renumbered_folder_gets_the_change_after_the_message_is_found_again() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    d.create_mailbox(&user, "Projects");
    let first = mail(1, "first project", 700);
    let second = mail(2, "second project", 700);
    d.seed(&user, "Projects", &first);
    d.seed(&user, "Projects", &second);
    let acc = plain_account(s, &t, &d).await;
    sync(s, &t.org, &acc).await;
    change(s, &t.org, "second project", starred(true)).await;

    // Rebuilt in the other order: UID 2 is now the first message.
    let old = d.uidvalidity(&user, "Projects");
    d.delete_mailbox(&user, "Projects");
    d.create_mailbox(&user, "Projects");
    d.set_uidvalidity(&user, "Projects", old + 7);
    assert_eq!(d.seed(&user, "Projects", &second), 1);
    assert_eq!(d.seed(&user, "Projects", &first), 2);

    let r = sync(s, &t.org, &acc).await;
    assert_eq!(
        (r.write_back.applied, r.write_back.deferred),
        (1, 0),
        "{r:?}"
    );
    assert!(
        has(&d.flags(&user, "Projects", 1), "\\Flagged"),
        "the starred message"
    );
    assert!(
        !has(&d.flags(&user, "Projects", 2), "\\Flagged"),
        "not the one now at its old UID"
    );
    assert!(by_subject(s, &t.org, "second project").await.1.starred);
    assert!(!by_subject(s, &t.org, "first project").await.1.starred);
    assert_eq!(totals(s).await.0, 2);
}

/// Cuts the connection at every point of a write-back in turn (a growing
/// byte budget), syncing again each time, on a server without MOVE where a
/// repeated COPY would duplicate: each move still happens exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_mid_write_back_loses_nothing_and_repeats_nothing() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start_hiding(Layout::SpecialUse, &["MOVE"]);
    let user = d.user().clone();
    let subjects = ["cut one", "cut two"];
    for (i, subject) in subjects.iter().enumerate() {
        d.seed(&user.name, "INBOX", &mail(i, subject, 1500));
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
    sync(s, &t.org, &acc).await;

    for subject in subjects {
        change(s, &t.org, subject, folder("archive")).await;
        change(s, &t.org, subject, read(true)).await;
        let mut budget = 100;
        let mut cut_runs = 0;
        loop {
            assert!(budget < 40_000, "the write-back never completed");
            proxy.cut_after_server_bytes(Some(budget));
            let cuts = proxy.cuts();
            let done =
                sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(50), |_| {}).await;
            if done.is_ok() && proxy.cuts() == cuts {
                break;
            }
            cut_runs += 1;
            // Make retried changes due again at once (the back-off is for
            // servers that refuse, not for broken connections).
            sqlx::query("UPDATE server_changes SET next_attempt_at = 0")
                .execute(s.pool())
                .await
                .expect("due");
            budget += 40;
        }
        assert!(
            cut_runs > 5,
            "the connection was cut at many points ({cut_runs})"
        );
        proxy.cut_after_server_bytes(None);
        sync(s, &t.org, &acc).await;
        let (id, state) = by_subject(s, &t.org, subject).await;
        assert_eq!(
            (state.folder.as_str(), state.read),
            ("archive", true),
            "{subject}"
        );
        assert_eq!(
            held_in(s, &t.org, &acc, &id).await,
            vec!["Archive"],
            "{subject}"
        );
    }
    assert!(d.uids(&user.name, "INBOX").is_empty());
    let archived = d.uids(&user.name, "Archive");
    assert_eq!(archived.len(), 2, "each message moved exactly once");
    for uid in archived {
        assert!(has(&d.flags(&user.name, "Archive", uid), "\\Seen"));
    }
    assert_eq!(totals(s).await.0, 2);
    assert_eq!(
        s.server_changes_status(&t.org, &acc)
            .await
            .expect("status")
            .pending,
        0
    );
}

/// The UID of the message's one stored location.
async fn stored_uid(s: &Store, org: &OrgId, id: &MessageId) -> u32 {
    let locations = s.message_locations(org, id).await.expect("locations");
    assert_eq!(locations.len(), 1, "one location: {locations:?}");
    locations[0].uid.expect("an IMAP location")
}

mailroom_store::both_backends! {
    async fn a_moved_message_is_known_where_it_went_and_not_downloaded_again(db) {
        let s = &db.store;
        let t = tenant(s).await;
        let d = Dovecot::start(Layout::SpecialUse);
        let user = d.user().name.clone();
        d.seed(&user, "INBOX", &mail(1, "archive me", 800));
        d.seed(&user, "INBOX", &mail(2, "stays", 800));
        let acc = plain_account(s, &t, &d).await;
        sync(s, &t.org, &acc).await;

        // UID MOVE answers with COPYUID: the new location is recorded with
        // the move, so the pull of Archive downloads nothing.
        let id = change(s, &t.org, "archive me", folder("archive")).await;
        let r = sync(s, &t.org, &acc).await;
        assert_eq!(r.write_back.applied, 1, "{r:?}");
        let archive = r.folder("Archive").expect("Archive synced");
        assert_eq!((archive.fetched, archive.new_messages, archive.expunged), (0, 0, 0), "{r:?}");
        assert_eq!(held_in(s, &t.org, &acc, &id).await, vec!["Archive"]);
        let on_server = d.uids(&user, "Archive");
        assert_eq!(vec![stored_uid(s, &t.org, &id).await], on_server, "the server's UID");
        assert_eq!(totals(s).await, (2, 2, 2));

        // It is a location like any other: synced again it stays, and an
        // expunge by another client is seen.
        let r = sync(s, &t.org, &acc).await;
        let archive = r.folder("Archive").expect("Archive synced");
        assert_eq!((archive.fetched, archive.expunged), (0, 0), "{r:?}");
        d.expunge(&user, "Archive", on_server[0]);
        let r = sync(s, &t.org, &acc).await;
        assert_eq!(r.folder("Archive").expect("Archive synced").expunged, 1, "{r:?}");
        assert!(held_in(s, &t.org, &acc, &id).await.is_empty());
        assert_eq!(totals(s).await.0, 2, "the message itself stays");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_with_uidplus_records_where_it_went_unless_the_target_was_renumbered() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    // UIDPLUS without MOVE: COPYUID comes in the tagged OK of UID COPY.
    let d = Dovecot::start_hiding(Layout::SpecialUse, &["MOVE"]);
    let user = d.user().name.clone();
    d.seed(&user, "INBOX", &mail(1, "archive me", 800));
    d.seed(&user, "INBOX", &mail(2, "trash me", 800));
    let acc = plain_account(s, &t, &d).await;
    sync(s, &t.org, &acc).await;

    let archived = change(s, &t.org, "archive me", folder("archive")).await;
    let r = sync(s, &t.org, &acc).await;
    assert_eq!(r.write_back.applied, 1, "{r:?}");
    assert_eq!(r.folder("Archive").expect("Archive").fetched, 0, "{r:?}");
    assert_eq!(
        vec![stored_uid(s, &t.org, &archived).await],
        d.uids(&user, "Archive")
    );

    // Trash was renumbered since the store saw it: the COPYUID does not fit
    // the stored UIDVALIDITY, so nothing is recorded there early; the pull
    // downloads the message, which matches the stored one by content.
    let trash_uidvalidity = d.uidvalidity(&user, "Trash");
    d.set_uidvalidity(&user, "Trash", trash_uidvalidity + 50);
    let trashed = change(s, &t.org, "trash me", folder("trash")).await;
    let r = sync(s, &t.org, &acc).await;
    assert_eq!(r.write_back.applied, 1, "{r:?}");
    let trash = r.folder("Trash").expect("Trash");
    assert_eq!((trash.fetched, trash.new_messages), (1, 0), "{r:?}");
    assert_eq!(held_in(s, &t.org, &acc, &trashed).await, vec!["Trash"]);
    assert!(d.uids(&user, "INBOX").is_empty());
    assert_eq!(
        totals(s).await,
        (2, 2, 2),
        "each message once, in one place"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_uidplus_the_pull_finds_the_moved_message() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start_hiding(Layout::SpecialUse, &["UIDPLUS"]);
    let user = d.user().name.clone();
    d.seed(&user, "INBOX", &mail(1, "archive me", 800));
    let acc = plain_account(s, &t, &d).await;
    sync(s, &t.org, &acc).await;

    // Whatever the server says without promising UIDPLUS is not relied on:
    // the pull downloads the message, which matches the stored one by
    // content.
    let archived = change(s, &t.org, "archive me", folder("archive")).await;
    let r = sync(s, &t.org, &acc).await;
    assert_eq!(r.write_back.applied, 1, "{r:?}");
    let archive = r.folder("Archive").expect("Archive");
    assert_eq!((archive.fetched, archive.new_messages), (1, 0), "{r:?}");
    assert_eq!(held_in(s, &t.org, &acc, &archived).await, vec!["Archive"]);
    assert_eq!(totals(s).await, (1, 1, 1), "one message, in one place");
}
