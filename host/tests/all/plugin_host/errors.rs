//! Each failure says what the plugin did, in words, once: an exit inside a
//! WASI call, a shadow-stack overflow, a panic after a flood of stderr, a
//! name too long to echo; concurrent failures disable the plugin with one
//! event; a chatty plugin is held to its log budget; `plugin check` judges
//! metadata by upload's rule and compiles once.

use super::*;
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exit_inside_a_wasi_call_is_said_in_words_not_called_invalid_output() {
    let (_, _, result) = hostile(artifacts::EXITS).await;
    match result {
        Err(PluginError::Trap(msg)) => {
            // WASI 0.2's `exit` carries success or failure only, so the
            // plugin's status 3 arrives as 1.
            assert!(msg.contains("called exit with status 1"), "{msg}")
        }
        other => panic!("expected a trap naming the exit, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_stack_overflow_is_called_a_stack_overflow() {
    let (_, _, result) = hostile(artifacts::SHADOW_STACK_OVERFLOW).await;
    match result {
        Err(PluginError::Trap(msg)) => assert!(msg.contains("stack overflow"), "{msg}"),
        other => panic!("expected a stack overflow trap, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_after_a_flood_of_stderr_is_still_reported() {
    let (_, _, result) = hostile(artifacts::STDERR_PREFILL).await;
    match result {
        Err(PluginError::Trap(msg)) => {
            assert!(
                msg.contains("the real reason: prefilled stderr to hide this"),
                "{msg}"
            );
            assert!(msg.len() < 2048, "{} bytes: {msg}", msg.len());
        }
        other => panic!("expected a trap with the panic message, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_name_is_refused_without_being_echoed_whole() {
    let err = registry()
        .install(&OrgId::generate(), wasm(artifacts::LONG_NAME))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            RegistryError::Rejected(PluginError::InvalidMetadata(_))
        ),
        "{err:?}"
    );
    assert!(message.contains("10008 bytes"), "{message}");
    assert!(message.len() < 400, "{} bytes echoed", message.len());
}

fn plugin_check(path: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(["plugin", "check", path])
        .output()
        .expect("run mailroom plugin check");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn plugin_check_refuses_what_upload_refuses_and_accepts_what_it_accepts() {
    let (ok, out) = plugin_check(artifacts::LONG_NAME);
    assert!(!ok, "{out}");
    assert!(
        out.contains("a name is 1–64 characters") && out.contains("10008 bytes"),
        "{out}"
    );
    let (ok, out) = plugin_check(artifacts::PROBE);
    assert!(ok, "{out}");
    assert!(
        out.contains("OK: the host would accept this component"),
        "{out}"
    );
}

#[test]
fn inspecting_a_component_compiles_it_once_and_admits_it() {
    let engine = PluginEngine::new(&EngineSettings::default()).expect("engine");
    let inspection = engine.inspect(&wasm(artifacts::PROBE));
    assert!(inspection.problems.is_empty(), "{:?}", inspection.problems);
    assert!(inspection.component.is_some());
    assert_eq!(
        engine
            .stats
            .compiled
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_failures_disable_the_plugin_with_exactly_one_event() {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::TRAP).await;
    let plugins = reg
        .plugins_for(&org, PluginKind::Classifier, None)
        .await
        .expect("plugins");
    let trap = plugins[0].clone();
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let (reg, trap) = (reg.clone(), trap.clone());
            tokio::spawn(async move { reg.classify(&trap, message("hi", "")).await })
        })
        .collect();
    for call in calls {
        assert!(call.await.expect("call").is_err());
    }
    let events = reg.events(&org, Some("trap"), 100).await.expect("events");
    let disabled: Vec<_> = events
        .iter()
        .filter(|e| e.kind == PluginEventKind::AutoDisabled)
        .collect();
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    assert!(
        disabled[0].message.contains("after 5 consecutive failures"),
        "{}",
        disabled[0].message
    );
    assert!(!reg.get(&org, "trap").await.expect("get").record.enabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chatty_plugin_is_held_to_its_log_budget() {
    crate::common::capture_logs();
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::LOG_FLOOD).await;
    for _ in 0..5 {
        let c = classify(&reg, &org, "log-flood", message("hi", ""))
            .await
            .expect("a chatty plugin still succeeds");
        assert_eq!(labels(&c), ["flooded"]);
    }
    let logged = crate::common::logs()
        .lines()
        .filter(|l| l.contains(org.as_str()) && l.contains("flood line"))
        .count();
    // 750 lines of 4 KiB were asked for; the budget is 256 KiB a minute.
    let budget = mailroom::plugin::log_budget::BYTES_PER_MINUTE / 4096;
    assert!(logged > 0 && logged <= budget, "{logged} lines logged");
}
