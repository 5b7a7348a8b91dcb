//! Push against a real Dovecot: new INBOX mail and expunges arrive without
//! waiting for a full sync, other folders are caught by cheap STATUS polls
//! that leave unchanged folders alone, IDLE is re-issued on schedule, a cut
//! connection is re-established, an account never holds more IMAP
//! connections than its budget, and nodes sharing a database keep one push
//! connection per account between them. Bounds are generous: they assert that
//! things happen, not how fast.

use super::support::*;
use mailroom::backoff::Backoff;
use mailroom::ids::{AccountId, OrgId};
use mailroom::store::{AccountLease, Security, Store};
use mailroom::sync::scheduler::{SchedulerSettings, SyncScheduler};
use mailroom::sync::watch::{WatchCounts, WatchSettings, WatchStats};
use mailroom_test_servers::{CuttingProxy, Dovecot, Layout, SilentServer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const BOUND: Duration = Duration::from_secs(20);

/// Push settings for tests: quick retries, a short debounce, and polls
/// rare enough that only push can explain prompt INBOX delivery.
pub(super) fn settings() -> SchedulerSettings {
    SchedulerSettings {
        backoff: Backoff {
            base: Duration::from_millis(200),
            max: Duration::from_secs(1),
        },
        watch: WatchSettings {
            poll_interval: Duration::from_secs(600),
            debounce: Duration::from_millis(100),
            ..WatchSettings::default()
        },
        sync: options(50),
        ..SchedulerSettings::default()
    }
}

/// Waits until `check` holds, failing after [`BOUND`].
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually_within(what, BOUND, check).await;
}

/// Waits until `check` holds, failing after `bound`.
pub(super) async fn eventually_within<F, Fut>(what: &str, bound: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + bound;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn stored(store: &Store, subject: &str) -> bool {
    let sql = format!("SELECT COUNT(*) FROM messages WHERE subject = '{subject}'");
    count(store, &sql).await == 1
}

/// A scheduler with the generic provider, watching a fresh account of
/// `dovecot` (reached through `via` when given), after its first full sync.
pub(super) struct Watched {
    scheduler: SyncScheduler,
    pub(super) org: OrgId,
    pub(super) account: AccountId,
    stats: Arc<WatchStats>,
}

impl Watched {
    pub(super) async fn start(
        store: &Store,
        dovecot: &Dovecot,
        via: Option<SocketAddr>,
        settings: SchedulerSettings,
    ) -> Watched {
        let t = tenant(store).await;
        let user = dovecot.user();
        let port = via.map_or(dovecot.ports().imap, |a| a.port());
        let account = account(
            store,
            &t,
            &user.name,
            port,
            Security::None,
            true,
            Login::Password(user.password.clone()),
        )
        .await;
        let registry = registry_with_generic_provider(store, &t.org).await;
        let scheduler = SyncScheduler::new(store.clone(), registry, settings);
        let stats = scheduler.watch(&t.org, &account).await.expect("watch");
        let w = Watched {
            scheduler,
            org: t.org,
            account,
            stats,
        };
        eventually("the watcher listens after its first full sync", || async {
            let c = w.counts();
            c.full_syncs >= 1 && c.idles >= 1
        })
        .await;
        w
    }

    pub(super) fn counts(&self) -> WatchCounts {
        self.stats.counts()
    }
}

mailroom_store::both_backends! {
    async fn new_inbox_mail_and_expunges_are_pushed(db) {
        let s = &db.store;
        let d = Dovecot::start(Layout::SpecialUse);
        let user = d.user().name.clone();
        d.seed(&user, "INBOX", &mail(0, "before watching", 800));
        let w = Watched::start(s, &d, None, settings()).await;
        assert!(stored(s, "before watching").await, "the first full sync stores what was there");

        let uid = d.seed(&user, "INBOX", &mail(1, "pushed", 800));
        eventually("the new INBOX message is stored", || stored(s, "pushed")).await;
        let c = w.counts();
        assert!(c.pushes >= 1, "delivered by push: {c:?}");
        assert_eq!(c.polls, 0, "no poll was due: {c:?}");

        // That INBOX sync had a checkpoint, so the session now has QRESYNC
        // on: the server reports the expunge during IDLE as VANISHED.
        let (id, _) = by_subject(s, &w.org, "pushed").await;
        d.expunge(&user, "INBOX", uid);
        eventually("the expunged message loses its INBOX location", || async {
            s.message_locations(&w.org, &id).await.expect("locations").is_empty()
        })
        .await;
        assert_eq!(count(s, "SELECT COUNT(*) FROM messages").await, 2, "the message itself stays");
        let account = s.get_account(&w.org, &w.account).await.expect("account");
        assert_eq!(account.status, mailroom::store::AccountStatus::Ok);

        // The expunge came by push too; then a quiet mailbox causes no
        // further syncs.
        eventually("the expunge's push is done", || async { w.counts().pushes >= 2 }).await;
        let quiet = w.counts();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(w.counts(), quiet);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_polls_sync_only_the_folders_that_changed() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    d.seed(&user, "Sent", &mail(0, "sent earlier", 500));
    let mut poll_fast = settings();
    poll_fast.watch.poll_interval = Duration::from_millis(300);
    let w = Watched::start(s, &d, None, poll_fast).await;
    let synced_at = |name: &'static str| {
        let (org, account) = (w.org.clone(), w.account.clone());
        async move {
            let folders = s.list_folders(&org, &account).await.expect("folders");
            let f = folders.into_iter().find(|f| f.name == name).expect(name);
            f.last_synced_at
        }
    };
    let sent_synced = synced_at("Sent").await;
    let archive_synced = synced_at("Archive").await;

    // Polls of unchanged folders sync (and so SELECT) nothing.
    let before = w.counts();
    eventually("three polls", || async {
        w.counts().polls >= before.polls + 3
    })
    .await;
    assert_eq!(
        w.counts().folders_synced_by_polls,
        before.folders_synced_by_polls
    );
    assert_eq!(synced_at("Sent").await, sent_synced, "Sent was not synced");
    assert_eq!(
        synced_at("Archive").await,
        archive_synced,
        "Archive was not synced"
    );

    // Mail filed into Archive by another client comes with the next poll,
    // and only Archive is synced for it.
    d.seed(&user, "Archive", &mail(1, "filed away", 500));
    eventually("the archived message is stored", || stored(s, "filed away")).await;
    let (_, state) = by_subject(s, &w.org, "filed away").await;
    assert_eq!(state.folder, "archive");
    let after = w.counts();
    assert_eq!(
        after.folders_synced_by_polls,
        before.folders_synced_by_polls + 1,
        "{after:?}"
    );
    assert_eq!(
        synced_at("Sent").await,
        sent_synced,
        "Sent still not synced"
    );
    assert_eq!(after.full_syncs, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_is_reissued_on_the_restart_interval_and_still_delivers() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    let mut restart_fast = settings();
    restart_fast.watch.idle_restart = Some(Duration::from_millis(300));
    let w = Watched::start(s, &d, None, restart_fast).await;
    eventually("IDLE restarted twice", || async {
        w.counts().idle_restarts >= 2
    })
    .await;
    d.seed(&user, "INBOX", &mail(1, "after restarts", 500));
    eventually("the new message is stored", || stored(s, "after restarts")).await;
    let c = w.counts();
    assert_eq!(
        (c.connects, c.errors),
        (1, 0),
        "one connection throughout: {c:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_idle_connection_is_reestablished() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    let upstream = SocketAddr::from(([127, 0, 0, 1], d.ports().imap));
    let proxy = CuttingProxy::start(upstream);
    let w = Watched::start(s, &d, Some(proxy.addr()), settings()).await;
    proxy.cut_all();
    eventually("the watcher reconnects", || async {
        w.counts().connects >= 2
    })
    .await;
    d.seed(&user, "INBOX", &mail(1, "after the cut", 500));
    eventually("mail after the cut is stored", || {
        stored(s, "after the cut")
    })
    .await;
    assert!(w.counts().errors >= 1);
    eventually("the reconnect's sync clears the error", || async {
        let account = s.get_account(&w.org, &w.account).await.expect("account");
        account.status == mailroom::store::AccountStatus::Ok && account.last_error.is_none()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_and_a_full_sync_share_a_budget_of_one_connection() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    let upstream = SocketAddr::from(([127, 0, 0, 1], d.ports().imap));
    let proxy = CuttingProxy::start(upstream);
    let mut one = settings();
    one.max_connections = Some(1);
    let w = Watched::start(s, &d, Some(proxy.addr()), one).await;

    // A full sync while the watcher holds the only connection: the watcher
    // steps aside, the sync runs, the watcher comes back.
    d.seed(&user, "Drafts", &mail(1, "a draft", 500));
    let report = w
        .scheduler
        .sync_one(&w.org, &w.account)
        .await
        .expect("full sync within the budget");
    assert_eq!(report.new_messages(), 1);
    assert!(w.counts().yields >= 1);
    eventually("the watcher reconnects", || async {
        w.counts().connects >= 2
    })
    .await;
    d.seed(&user, "INBOX", &mail(2, "pushed after the sync", 500));
    eventually("push works again", || stored(s, "pushed after the sync")).await;

    assert!(proxy.accepted() >= 3, "watcher, sync, watcher again");
    assert_eq!(proxy.peak_open(), 1, "never two connections at once");
    assert_eq!(w.scheduler.peak_connections(&w.account), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_syncs_nothing_while_another_node_holds_the_lease() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    d.seed(&user, "INBOX", &mail(0, "behind a lease", 500));
    let t = tenant(s).await;
    let acc = plain_account(s, &t, &d).await;
    assert!(
        s.try_lease_account(&t.org, &acc, AccountLease::Sync, "other-node", 60_000)
            .await
            .expect("lease")
    );
    let registry = registry_with_generic_provider(s, &t.org).await;
    let mut retry_fast = settings();
    retry_fast.watch.poll_interval = Duration::from_millis(300);
    let scheduler = SyncScheduler::new(s.clone(), registry, retry_fast);
    let stats = scheduler.watch(&t.org, &acc).await.expect("watch");

    eventually("the watcher connects", || async {
        stats.counts().connects >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !stored(s, "behind a lease").await,
        "the other node's sync is not overlapped"
    );
    assert_eq!(stats.counts().full_syncs, 0);

    s.release_account_lease(&t.org, &acc, AccountLease::Sync, "other-node")
        .await
        .expect("release");
    eventually("synced once the lease is free", || {
        stored(s, "behind a lease")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_scheduler_watches_imap_accounts() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let d = Dovecot::start(Layout::SpecialUse);
    let user = d.user().name.clone();
    d.seed(&user, "INBOX", &mail(0, "there at start", 500));
    let t = tenant(s).await;
    let acc = plain_account(s, &t, &d).await;
    let registry = registry_with_generic_provider(s, &t.org).await;
    let mut quick = settings();
    quick.interval = Duration::from_millis(200);
    let scheduler = SyncScheduler::new(s.clone(), registry, quick);
    let running = tokio::spawn(scheduler.clone().run());

    eventually("the first sync", || stored(s, "there at start")).await;
    let stats = scheduler
        .watch(&t.org, &acc)
        .await
        .expect("the running watcher");
    eventually("the watcher listens", || async {
        stats.counts().idles >= 1
    })
    .await;
    d.seed(&user, "INBOX", &mail(1, "served by push", 500));
    eventually("new mail is pushed", || stored(s, "served by push")).await;
    // The push is counted once its INBOX sync returns, just after the commit
    // the line above saw.
    eventually("the push is counted", || async {
        stats.counts().pushes >= 1
    })
    .await;
    let c = stats.counts();
    assert_eq!(
        (c.connects, c.full_syncs),
        (1, 1),
        "one watcher, no minute-by-minute full syncs: {c:?}"
    );
    running.abort();
    scheduler.stop().await;
}

mailroom_store::both_backends! {
    async fn one_node_keeps_the_push_connection_and_another_takes_over_when_it_dies(db) {
        let s = &db.store;
        let d = Dovecot::start(Layout::SpecialUse);
        let user = d.user().name.clone();
        let t = tenant(s).await;
        let acc = plain_account(s, &t, &d).await;
        let registry = registry_with_generic_provider(s, &t.org).await;
        let mut short_lease = settings();
        // Renewed every second: two missed renewals before it lapses.
        short_lease.watch.push_lease = Duration::from_secs(3);
        let node = || SyncScheduler::new(s.clone(), registry.clone(), short_lease.clone());

        let first = node();
        let first_stats = first.watch(&t.org, &acc).await.expect("watch on the first node");
        eventually("the first node listens", || async { first_stats.counts().idles >= 1 }).await;
        let second = node();
        let second_stats = second.watch(&t.org, &acc).await.expect("watch on the second node");
        eventually("the second node sees the push is taken", || async {
            second_stats.counts().watched_elsewhere >= 2
        })
        .await;
        assert_eq!(second_stats.counts().connects, 0, "one push connection between the nodes");
        d.seed(&user, "INBOX", &mail(0, "pushed to the first node", 500));
        eventually("the first node delivers", || stored(s, "pushed to the first node")).await;
        assert!(first_stats.counts().pushes >= 1, "{:?}", first_stats.counts());
        assert_eq!(first_stats.counts().leases_lost, 0, "renewed in time: {:?}", first_stats.counts());

        // The first node dies without a word: its lease runs out, and the
        // second node's watcher connects and catches up.
        drop(first);
        d.seed(&user, "INBOX", &mail(1, "arrived while nobody listened", 500));
        eventually("the second node takes over", || async {
            let c = second_stats.counts();
            c.full_syncs >= 1 && c.idles >= 1
        })
        .await;
        assert!(stored(s, "arrived while nobody listened").await);
        d.seed(&user, "INBOX", &mail(2, "pushed to the second node", 500));
        eventually("the second node delivers", || stored(s, "pushed to the second node")).await;

        // A node that stops cleanly hands over at once: a third node
        // finds the push free on its first try.
        second.stop().await;
        let third = node();
        let third_stats = third.watch(&t.org, &acc).await.expect("watch on the third node");
        eventually("the third node listens", || async { third_stats.counts().idles >= 1 }).await;
        assert_eq!(third_stats.counts().watched_elsewhere, 0, "{:?}", third_stats.counts());
        third.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_node_gives_back_the_lease_of_a_sync_it_cut_off() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    // A server that never greets: the sync sits in its first command,
    // holding the account's lease, for as long as the test needs.
    let silent = SilentServer::start();
    let t = tenant(s).await;
    let acc = account(
        s,
        &t,
        "alice",
        silent.port(),
        Security::None,
        true,
        Login::Password("secret".into()),
    )
    .await;
    let registry = registry_with_generic_provider(s, &t.org).await;
    let mut full_syncs = settings();
    full_syncs.push = false;
    full_syncs.interval = Duration::from_millis(100);
    full_syncs.sync.timeouts.connect = Duration::from_secs(120);
    full_syncs.sync.timeouts.command = Duration::from_secs(120);
    let scheduler = SyncScheduler::new(s.clone(), registry, full_syncs);
    let running = tokio::spawn(scheduler.clone().run());
    let held = "SELECT COUNT(*) FROM mail_accounts WHERE lease_owner LIKE 'node-%'";
    eventually("the scheduler's sync holds the lease", || async {
        count(s, held).await == 1
    })
    .await;

    running.abort();
    let _ = running.await;
    scheduler.stop().await;
    assert!(
        s.try_lease_account(&t.org, &acc, AccountLease::Sync, "other-node", 60_000)
            .await
            .expect("lease"),
        "free at once, not in 15 minutes"
    );
}
