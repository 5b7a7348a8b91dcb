//! Expunges and flag changes made by other clients, against a real Dovecot:
//! with QRESYNC the next sync learns them from its SELECT alone; when the
//! server hides QRESYNC or the provider says it is broken (iCloud), the
//! UID SEARCH comparison still finds them. Either way the report says which
//! way was used, locations of expunged mail go, the messages stay, and the
//! user sees the server's read/starred changes.

use super::support::*;
use mailroom::ids::{AccountId, OrgId};
use mailroom::store::{MessageStateUpdate, Store};
use mailroom::sync::{
    ExpungeDetection, FolderMapper, FolderReport, NoFolderMapper, PluginProvider, SyncReport,
    sync_account_with, sync_folders_with,
};
use mailroom_test_servers::{Dovecot, DovecotOptions, Layout};

async fn sync_with(
    s: &Store,
    org: &OrgId,
    acc: &AccountId,
    mapper: &dyn FolderMapper,
) -> SyncReport {
    sync_account_with(s, org, acc, mapper, &options(50), |_| {})
        .await
        .expect("sync")
}

fn inbox(r: &SyncReport) -> &FolderReport {
    r.folder("INBOX").expect("an INBOX report")
}

/// Seeds four messages, syncs them, then has "another client" expunge the
/// second, mark the third read and star the fourth.
async fn synced_then_changed_elsewhere(
    s: &Store,
    t: &Tenant,
    d: &Dovecot,
    mapper: &dyn FolderMapper,
) -> AccountId {
    let user = d.user().name.clone();
    let uids: Vec<u32> = (0..4)
        .map(|i| d.seed(&user, "INBOX", &mail(i, &format!("note {i}"), 700)))
        .collect();
    let acc = plain_account(s, t, d).await;
    let first = sync_with(s, &t.org, &acc, mapper).await;
    assert_eq!(
        inbox(&first).expunge_detection,
        None,
        "nothing known to check yet"
    );
    d.expunge(&user, "INBOX", uids[1]);
    d.add_flags(&user, "INBOX", uids[2], "\\Seen");
    d.add_flags(&user, "INBOX", uids[3], "\\Flagged");
    acc
}

/// What a user relies on after the changes: the expunged message lost its
/// INBOX location but is still there, the flags show as read/starred.
async fn assert_changes_stored(s: &Store, t: &Tenant) {
    assert_eq!(
        totals(s).await,
        (4, 3, 4),
        "four messages, three locations, no new pipeline run"
    );
    let (gone, _) = by_subject(s, &t.org, "note 1").await;
    assert!(
        s.message_locations(&t.org, &gone)
            .await
            .expect("locations")
            .is_empty(),
        "the expunged message has no location any more"
    );
    assert!(by_subject(s, &t.org, "note 2").await.1.read);
    assert!(by_subject(s, &t.org, "note 3").await.1.starred);
    assert!(
        !by_subject(s, &t.org, "note 0").await.1.read,
        "untouched mail stays as it was"
    );
}

mailroom_store::both_backends! {
    async fn qresync_finds_expunges_and_flag_changes_in_the_select(db) {
        let s = &db.store;
        let t = tenant(s).await;
        let d = Dovecot::start(Layout::SpecialUse);
        let user = d.user().name.clone();
        let acc = synced_then_changed_elsewhere(s, &t, &d, &NoFolderMapper).await;

        let r = sync_with(s, &t.org, &acc, &NoFolderMapper).await;
        let folder = inbox(&r);
        assert_eq!(folder.expunge_detection, Some(ExpungeDetection::Qresync), "{r:?}");
        assert_eq!((folder.expunged, folder.updated_flags, folder.fetched), (1, 2, 0), "{r:?}");
        // The API shows the same report as JSON.
        let json = serde_json::to_value(folder).expect("report as JSON");
        assert_eq!(json["expunge_detection"], "qresync");
        assert_changes_stored(s, &t).await;

        // Nothing is reported twice; new mail and an expunge in one go.
        let again = sync_with(s, &t.org, &acc, &NoFolderMapper).await;
        assert_eq!((inbox(&again).expunged, inbox(&again).updated_flags), (0, 0), "{again:?}");
        d.seed(&user, "INBOX", &mail(9, "arrived later", 700));
        d.expunge(&user, "INBOX", d.uids(&user, "INBOX")[0]);
        let r = sync_with(s, &t.org, &acc, &NoFolderMapper).await;
        let folder = inbox(&r);
        assert_eq!(folder.expunge_detection, Some(ExpungeDetection::Qresync));
        assert_eq!((folder.expunged, folder.new_messages), (1, 1), "{r:?}");
        assert_eq!(totals(s).await, (5, 3, 5));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_qresync_gets_the_uid_search() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start_hiding(Layout::SpecialUse, &["QRESYNC"]);
    let acc = synced_then_changed_elsewhere(s, &t, &d, &NoFolderMapper).await;

    let r = sync_with(s, &t.org, &acc, &NoFolderMapper).await;
    assert_found_by_uid_search(&r);
    assert_changes_stored(s, &t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_icloud_quirk_keeps_qresync_off_even_when_advertised() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let registry =
        registry_with_provider(s, &t.org, mailroom_plugin_artifacts::PROVIDER_ICLOUD).await;
    let icloud = PluginProvider::new(registry, t.org.clone(), Some("icloud"));
    assert!(
        icloud.qresync_broken().await,
        "the iCloud plugin declares the quirk"
    );
    let d = Dovecot::start(Layout::SpecialUse);
    let acc = synced_then_changed_elsewhere(s, &t, &d, &icloud).await;

    let r = sync_with(s, &t.org, &acc, &icloud).await;
    assert_found_by_uid_search(&r);
    assert_changes_stored(s, &t).await;
}

/// The changes `synced_then_changed_elsewhere` made, found the old way.
fn assert_found_by_uid_search(r: &SyncReport) {
    let folder = inbox(r);
    assert_eq!(
        folder.expunge_detection,
        Some(ExpungeDetection::UidSearch),
        "{r:?}"
    );
    assert_eq!(
        (folder.expunged, folder.updated_flags, folder.fetched),
        (1, 2, 0),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_message_expunged_before_its_folder_is_synced_is_found_either_way() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    for hide in [vec![], vec!["QRESYNC".to_owned()]] {
        let d = Dovecot::start_with(DovecotOptions {
            hide_capabilities: hide.clone(),
            ..DovecotOptions::new(Layout::SpecialUse)
        });
        let user = d.user().name.clone();
        let subject = format!("moved then deleted {}", hide.len());
        d.seed(&user, "INBOX", &mail(hide.len(), &subject, 700));
        let acc = plain_account(s, &t, &d).await;
        sync_with(s, &t.org, &acc, &NoFolderMapper).await;

        // Archived in Mailroom; only INBOX is synced (as push does), so the
        // move's new location waits above Archive's checkpoint.
        let (id, _) = by_subject(s, &t.org, &subject).await;
        let archive = MessageStateUpdate {
            folder: Some("archive".into()),
            ..Default::default()
        };
        s.update_message_state(&t.org, &id, &archive)
            .await
            .expect("archive");
        let folders = s.list_folders(&t.org, &acc).await.expect("folders");
        let inbox_id = folders
            .iter()
            .find(|f| f.name == "INBOX")
            .expect("INBOX")
            .id
            .clone();
        let r = sync_folders_with(
            s,
            &t.org,
            &acc,
            &NoFolderMapper,
            &[inbox_id],
            &options(50),
            |_| {},
        )
        .await
        .expect("INBOX sync");
        assert_eq!(r.write_back.applied, 1, "{r:?}");
        assert_eq!(
            s.message_locations(&t.org, &id)
                .await
                .expect("locations")
                .len(),
            1
        );

        // Another client deletes it from Archive before Archive is synced.
        d.expunge(&user, "Archive", d.uids(&user, "Archive")[0]);
        let r = sync_with(s, &t.org, &acc, &NoFolderMapper).await;
        let archived = r.folder("Archive").expect("Archive");
        assert_eq!(
            (archived.expunged, archived.fetched),
            (1, 0),
            "hidden {hide:?}: {r:?}"
        );
        assert!(
            s.message_locations(&t.org, &id)
                .await
                .expect("locations")
                .is_empty(),
            "hidden {hide:?}: no stale location"
        );
    }
}
