//! The key-value store under attack: a call that floods it (huge keys,
//! millions of operations, thousands of distinct keys) is trapped with the
//! bound it broke while host memory stays flat; a plugin saving the largest
//! batch one call may write never starves a user's write to the same
//! database; and a save that fails fails the call, so what the plugin sees
//! next is what is stored.

use super::*;
use mailroom::store::{NewUser, Role, Store};
use mailroom_store::both_backends;
use std::time::Instant;

/// Resident memory of this process, from `/proc/self/statm`.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// Runs `work`, sampling RSS meanwhile; returns its output and the most
/// RSS grew above where it started.
async fn rss_growth_during<F: Future>(work: F) -> (F::Output, u64) {
    let before = rss_bytes();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = before;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_bytes());
                std::thread::sleep(Duration::from_millis(2));
            }
            peak.max(rss_bytes())
        })
    };
    let out = work.await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().expect("sampler");
    (out, peak.saturating_sub(before))
}

async fn set_mode(reg: &PluginRegistry, org: &OrgId, mode: &str) {
    reg.set_config(
        org,
        "kv-flood",
        BTreeMap::from([("mode".to_owned(), mode.to_owned())]),
    )
    .await
    .expect("config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kv_flood_traps_with_the_bound_it_broke_and_host_memory_stays_flat() {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::PROBE).await;
    install(&reg, &org, artifacts::KV_FLOOD).await;
    for (mode, expected) in [
        (
            "huge-keys",
            "kv-delete was given a key of 1048576 bytes; keys are at most 256 bytes",
        ),
        (
            "distinct-deletes",
            "kv-delete: more than 10000 key-value calls in one plugin call",
        ),
        (
            "distinct-sets",
            "kv-set: more than 10000 key-value calls in one plugin call",
        ),
        (
            "many-ops",
            "kv-get: more than 10000 key-value calls in one plugin call",
        ),
    ] {
        set_mode(&reg, &org, mode).await;
        let (result, growth) =
            rss_growth_during(classify(&reg, &org, "kv-flood", message("hi", ""))).await;
        match result {
            Err(PluginError::Trap(msg)) => assert!(msg.contains(expected), "{mode}: {msg}"),
            other => panic!("{mode}: expected a trap, got {other:?}"),
        }
        // The plugin's own memory is capped at 64 MiB; before the bounds, a
        // flood of 1 MiB keys took the host past 2 GB.
        assert!(
            growth < 192 << 20,
            "{mode}: host memory grew by {} MiB",
            growth >> 20
        );
        still_serving(&reg, &org).await;
    }
    // Nothing of the trapped calls was kept.
    set_mode(&reg, &org, "largest-batch").await;
    let c = classify(&reg, &org, "kv-flood", message("hi", ""))
        .await
        .expect("the largest allowed batch succeeds");
    assert_eq!(labels(&c), ["done:largest-batch"]);
}

fn user(i: usize) -> NewUser {
    NewUser {
        email: format!("user{i}@kv.example"),
        display_name: format!("User {i}"),
        role: Role::User,
        licensed: true,
    }
}

fn registry_on(store: &Store) -> Arc<PluginRegistry> {
    PluginRegistry::new(
        engine(),
        Arc::new(store.clone()),
        RegistrySettings {
            default_limits: mailroom::plugin::Limits {
                deadline_ms: 5_000,
                ..Default::default()
            },
            // The flooding plugin would fail it; this is about run time.
            upload_check: false,
            ..Default::default()
        },
    )
}

both_backends! {
    async fn user_writes_go_through_while_plugins_save_their_largest_batches(db) {
        let store = db.store.clone();
        let org = store.create_org("Kv").await.expect("org").id;
        let reg = registry_on(&store);
        install(&reg, &org, artifacts::KV_FLOOD).await;
        set_mode(&reg, &org, "largest-batch").await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flooders: Vec<_> = (0..3)
            .map(|_| {
                let (reg, org, stop) = (reg.clone(), org.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut calls = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        classify(&reg, &org, "kv-flood", message("hi", ""))
                            .await
                            .expect("a batch within the bounds is saved");
                        calls += 1;
                    }
                    calls
                })
            })
            .collect();
        // Let the batches start, then write as a user would, throughout.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut slowest = Duration::ZERO;
        for i in 0..20 {
            let started = Instant::now();
            store.create_user(&org, &user(i)).await.expect("the user's write goes through");
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut calls = 0;
        for flooder in flooders {
            calls += flooder.await.expect("flooder");
        }
        assert!(calls >= 3, "only {calls} batches were saved");
        assert!(slowest < Duration::from_secs(1), "a user's write waited {slowest:?}");
        let stored = mailroom::plugin::registry::storage::RegistryStorage::kv_load(&store, &org, "kv-flood")
            .await
            .expect("kv");
        assert_eq!(stored.len(), 1_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kv_save_that_fails_fails_the_call_and_the_plugin_never_sees_its_changes() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let store = db.store.clone();
    let org = store.create_org("Kv").await.expect("org").id;
    let reg = registry_on(&store);
    install(&reg, &org, artifacts::PROBE).await;
    let counter = |c: &Classification| labels(c)[1].clone();
    let first = classify(&reg, &org, "probe", message("a", ""))
        .await
        .expect("probe");
    assert_eq!(counter(&first), "counter:1");
    // The database refuses the plugin's writes (as a full disk would).
    sqlx::query(
        "CREATE TRIGGER refuse_kv BEFORE UPDATE ON plugin_kv \
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .execute(store.pool())
    .await
    .expect("trigger");
    match classify(&reg, &org, "probe", message("b", "")).await {
        Err(PluginError::Host(msg)) => assert!(
            msg.contains("key-value changes could not be saved")
                && msg.contains("refused by the test"),
            "{msg}"
        ),
        other => panic!("expected the failed save to fail the call, got {other:?}"),
    }
    sqlx::query("DROP TRIGGER refuse_kv")
        .execute(store.pool())
        .await
        .expect("drop trigger");
    let next = classify(&reg, &org, "probe", message("c", ""))
        .await
        .expect("probe");
    assert_eq!(
        counter(&next),
        "counter:2",
        "the failed call's write must not be seen"
    );
}
