//! One org's stuck plugin delays no other org: with the server's pipeline
//! worker running, a classifier in org 1 waits out a long deadline on its
//! message while org 2's mail, synced from a real Dovecot meanwhile, is
//! processed within the worker's usual time; `/healthz`'s numbers see org
//! 1's waiting message.

use crate::imap_sync::support::{Login, Tenant, account, mail, registry_with_provider_and};
use mailroom::ids::{MessageId, OrgId};
use mailroom::pipeline::Pipeline;
use mailroom::pipeline::health::PipelineHealth;
use mailroom::plugin::Limits;
use mailroom::plugin::registry::RegistrySettings;
use mailroom::store::{Security, Store};
use mailroom::sync::{NoFolderMapper, sync_account};
use mailroom_plugin_artifacts as artifacts;
use mailroom_store::both_backends;
use mailroom_store::testing::local_org;
use mailroom_test_servers::{Dovecot, Layout};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long org 1's stuck call may run: far longer than the test waits.
const STUCK_DEADLINE_MS: u64 = 30_000;
/// What "within their normal time" means: a few worker intervals.
const NORMAL_TIME: Duration = Duration::from_secs(6);

async fn org(store: &Store, name: &str) -> Tenant {
    let (org, admin, _) = local_org(store, name, &format!("admin@{name}.example"), "Admin").await;
    Tenant {
        org: org.id,
        admin: admin.id,
    }
}

async fn run_status(store: &Store, org: &OrgId) -> Vec<String> {
    sqlx::query_scalar("SELECT status FROM pipeline_runs WHERE org_id = $1 ORDER BY message_id")
        .bind(org.as_str())
        .fetch_all(store.pool())
        .await
        .expect("runs")
}

both_backends! {
    async fn a_stuck_plugin_in_one_org_does_not_delay_another_orgs_mail(db) {
        let s = &db.store;
        let d = Dovecot::start(Layout::SpecialUse);
        let (alice, bob) = (d.users()[0].clone(), d.users()[1].clone());
        let stuck = org(s, "acme").await;
        let other = org(s, "globex").await;
        let port = d.ports().imap;
        let stuck_account = account(s, &stuck, &alice.name, port, Security::None, true, Login::Password(alice.password.clone())).await;
        let other_account = account(s, &other, &bob.name, port, Security::None, true, Login::Password(bob.password.clone())).await;

        // One registry for both orgs, as in the server.
        // The waiting plugin would fail the upload check (it never
        // answers); this test is about one that starts waiting later.
        let no_check = RegistrySettings { upload_check: false, ..RegistrySettings::default() };
        let registry = registry_with_provider_and(s, &stuck.org, artifacts::PROVIDER_GENERIC, no_check).await;
        let install = |org: OrgId, path: &'static str| {
            let registry = registry.clone();
            async move {
                registry.install(&org, std::fs::read(path).expect("artifact")).await.expect("install")
            }
        };
        install(other.org.clone(), artifacts::PROVIDER_GENERIC).await;
        let waiter = install(stuck.org.clone(), artifacts::POLLS_FOREVER).await.record.name;
        registry
            .set_limits(&stuck.org, &waiter, Some(Limits { deadline_ms: STUCK_DEADLINE_MS, ..Limits::default() }))
            .await
            .expect("limits");
        install(other.org.clone(), artifacts::CLASSIFIER_KEYWORDS).await;

        let pipeline = Arc::new(Pipeline::new(s.clone(), registry.clone()));
        let worker = tokio::spawn(mailroom::pipeline::run_worker(pipeline));

        // Org 1's message: its classifier call waits in a WASI poll.
        d.seed(&alice.name, "INBOX", &mail(1, "stuck here", 500));
        sync_account(s, &stuck.org, &stuck_account, &NoFolderMapper, |_| {}).await.expect("sync org 1");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(run_status(s, &stuck.org).await, ["pending"], "org 1's call is under way");

        // Org 2's mail arrives meanwhile and goes through in its usual time.
        for i in 0..3 {
            d.seed(&bob.name, "INBOX", &mail(10 + i, &format!("order {i}"), 800));
        }
        sync_account(s, &other.org, &other_account, &NoFolderMapper, |_| {}).await.expect("sync org 2");
        let synced = Instant::now();
        loop {
            let statuses = run_status(s, &other.org).await;
            if statuses.len() == 3 && statuses.iter().all(|st| st == "done") {
                break;
            }
            assert!(synced.elapsed() < NORMAL_TIME, "org 2's runs after {:?}: {statuses:?}", synced.elapsed());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let took = synced.elapsed();
        let classified = s.message_classifications(&other.org, &first_message(s, &other.org).await).await.expect("read");
        assert_eq!(classified.len(), 1, "{classified:?}");

        // Org 1's call is still running; the backlog shows its message.
        assert_eq!(run_status(s, &stuck.org).await, ["pending"], "org 1's call still runs after {took:?}");
        let health = PipelineHealth::of(&s.pipeline_backlog().await.expect("backlog"), mailroom::store::now_ms(), 1);
        assert_eq!((health.pending, health.orgs_waiting, health.worst_org_pending), (1, 1, 1), "{health:?}");
        assert!(health.oldest_pending_seconds >= 2 && health.behind, "{health:?}");
        worker.abort();
    }
}

async fn first_message(store: &Store, org: &OrgId) -> MessageId {
    let id: String = sqlx::query_scalar(
        "SELECT message_id FROM pipeline_runs WHERE org_id = $1 ORDER BY message_id LIMIT 1",
    )
    .bind(org.as_str())
    .fetch_one(store.pool())
    .await
    .expect("a run");
    MessageId(id)
}
