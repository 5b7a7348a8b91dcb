//! Every plugin call ends by its wall-clock deadline whatever the plugin
//! does: waiting inside a WASI call (a poll, a blocked pollable), in
//! `metadata` at upload, or running while both cores are busy.

use super::*;
use std::time::Instant;

/// What a user accepts on top of a deadline on a busy machine.
const SLACK: Duration = Duration::from_millis(250);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_waiting_in_a_wasi_poll_is_cut_off_and_counted() {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::PROBE).await;
    let name = install(&reg, &org, artifacts::POLLS_FOREVER).await;
    // Only the call is timed: compiling at install is not part of it.
    let started = Instant::now();
    let result = classify(&reg, &org, &name, message("hi", "hello")).await;
    let took = started.elapsed();
    assert!(
        matches!(result, Err(PluginError::DeadlineExceeded(500))),
        "{result:?}"
    );
    assert!(took <= Duration::from_millis(500) + SLACK, "took {took:?}");
    still_serving(&reg, &org).await;
    let view = reg.get(&org, "polls-forever").await.expect("get");
    assert_eq!(view.metrics.failures.get("deadline_exceeded"), Some(&1));
    let events = reg
        .events(&org, Some("polls-forever"), 10)
        .await
        .expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.kind == PluginEventKind::Failure && e.message.contains("deadline")),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_metadata_never_returns_is_refused_at_the_deadline() {
    let reg = registry();
    let org = OrgId::generate();
    let started = Instant::now();
    let result = reg.install(&org, wasm(artifacts::STALLED_METADATA)).await;
    let took = started.elapsed();
    assert!(
        matches!(
            result,
            Err(RegistryError::Rejected(PluginError::DeadlineExceeded(500)))
        ),
        "{result:?}"
    );
    // Compiling comes first and is not part of the call's deadline.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(reg.list(&org).await.expect("list").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_is_wall_clock_time_with_both_cores_busy() {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::INFINITE_LOOP).await;
    install(&reg, &org, artifacts::POLLS_FOREVER).await;
    // Both cores busy outside the runtime for the whole test.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let burners: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            })
        })
        .collect();
    let calls: Vec<_> = (0..8)
        .map(|i| {
            let (reg, org) = (reg.clone(), org.clone());
            let name = if i % 2 == 0 {
                "infinite-loop"
            } else {
                "polls-forever"
            };
            tokio::spawn(async move {
                let started = Instant::now();
                let result = classify(&reg, &org, name, message("hi", "")).await;
                (name, result, started.elapsed())
            })
        })
        .collect();
    let mut took = Vec::new();
    for call in calls {
        let (name, result, elapsed) = call.await.expect("call task");
        assert!(
            matches!(result, Err(PluginError::DeadlineExceeded(500))),
            "{name}: {result:?}"
        );
        took.push(elapsed);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for burner in burners {
        burner.join().expect("burner");
    }
    for elapsed in &took {
        assert!(
            *elapsed >= Duration::from_millis(500)
                && *elapsed <= Duration::from_millis(500) + SLACK,
            "a 500 ms deadline took {took:?}"
        );
    }
}
