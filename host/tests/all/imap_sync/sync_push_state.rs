//! Mailbox state while the push connection is up, against a real Dovecot:
//! a folder mapping made meanwhile holds on that connection's full syncs
//! and re-files the mail already stored from the folder; mail in a folder
//! with no role is in its own folder, not `inbox`; a star set in Mailroom
//! reaches the server within seconds; a move made on the server changes the
//! message's folder within the polling interval.

use super::support::*;
use super::sync_push::{Watched, eventually_within, settings};
use mailroom::ids::OrgId;
use mailroom::store::{MessageStateUpdate, Store};
use mailroom::sync::NoFolderMapper;
use mailroom::sync::imap::folder_mapping::{FolderMappingChange, change_folder_mapping};
use mailroom_test_servers::{Dovecot, Layout};
use std::time::Duration;

async fn folder_of(s: &Store, org: &OrgId, subject: &str) -> String {
    by_subject(s, org, subject).await.1.folder
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_made_while_pushing_survives_full_syncs_and_refiles_stored_mail() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let d = Dovecot::start(Layout::NonStandard);
    let user = d.user().name.clone();
    d.seed(&user, "INBOX", &mail(0, "in the inbox", 500));
    for i in 1..=3 {
        d.seed(
            &user,
            "INBOX.Projects",
            &mail(i, &format!("project {i}"), 500),
        );
    }
    let mut quick = settings();
    quick.watch.full_sync_interval = Duration::from_secs(2);
    let w = Watched::start(s, &d, None, quick).await;
    // A folder without a role is its own folder, not the inbox.
    assert_eq!(
        folder_of(s, &w.org, "project 1").await,
        "custom:INBOX.Projects"
    );
    assert_eq!(folder_of(s, &w.org, "in the inbox").await, "inbox");

    let account = s.get_account(&w.org, &w.account).await.expect("account");
    let change = FolderMappingChange {
        folder: "INBOX.Projects".into(),
        role: Some("archive".into()),
    };
    change_folder_mapping(s, &account, &NoFolderMapper, &change)
        .await
        .expect("map");
    for i in 1..=3 {
        assert_eq!(
            folder_of(s, &w.org, &format!("project {i}")).await,
            "archive",
            "re-filed at once"
        );
    }
    // The watcher's full syncs (it connected before the mapping) keep it.
    let before = w.counts().full_syncs;
    eventually_within("two more full syncs", Duration::from_secs(30), || async {
        w.counts().full_syncs >= before + 2
    })
    .await;
    let folders = s.list_folders(&w.org, &w.account).await.expect("folders");
    let projects = folders
        .iter()
        .find(|f| f.name == "INBOX.Projects")
        .expect("INBOX.Projects");
    assert_eq!(
        projects.role.as_deref(),
        Some("archive"),
        "the mapping holds"
    );
    assert_eq!(folder_of(s, &w.org, "project 2").await, "archive");
    let inbox = mailroom::store::MessageFilter {
        folder: Some("inbox".into()),
        ..Default::default()
    };
    assert_eq!(
        s.list_messages(&w.org, &inbox, None, None)
            .await
            .expect("inbox")
            .items
            .len(),
        1,
        "only INBOX mail is in the inbox"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_star_reaches_the_server_within_seconds_with_push() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    let uid = d.seed(&user, "INBOX", &mail(0, "star me", 500));
    let w = Watched::start(s, &d, None, settings()).await;
    let (id, _) = by_subject(s, &w.org, "star me").await;
    s.update_message_state(
        &w.org,
        &id,
        &MessageStateUpdate {
            starred: Some(true),
            ..Default::default()
        },
    )
    .await
    .expect("star");
    eventually_within(
        "the star is on the server",
        Duration::from_secs(5),
        || async {
            d.flags(&user, "INBOX", uid)
                .iter()
                .any(|f| f == "\\Flagged")
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_on_the_server_changes_the_folder_within_the_polling_interval() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    let raw = mail(0, "moved away", 500);
    let uid = d.seed(&user, "INBOX", &raw);
    let mut quick = settings();
    quick.watch.poll_interval = Duration::from_secs(2);
    let w = Watched::start(s, &d, None, quick).await;
    assert_eq!(folder_of(s, &w.org, "moved away").await, "inbox");
    // A move as a mail client makes it: a copy in Trash, gone from INBOX.
    d.seed(&user, "Trash", &raw);
    d.expunge(&user, "INBOX", uid);
    eventually_within(
        "the message is in the trash",
        Duration::from_secs(10),
        || async { folder_of(s, &w.org, "moved away").await == "trash" },
    )
    .await;
}
