//! The plugin host against real components built from `plugins/`: hostile
//! plugins are cut off with their specific error while other calls keep
//! working; auto-disable, hot swap, rollback, the precompile cache and
//! cross-org isolation behave as an org admin relies on.

use crate::common::engine;
use mailroom::ids::OrgId;
use mailroom::mime;
use mailroom::plugin::bindings::latest::types::{Classification, Message};
use mailroom::plugin::convert::{MessageContext, plugin_message};
use mailroom::plugin::registry::memory::InMemoryStorage;
use mailroom::plugin::registry::storage::{PluginEventKind, Rollout};
use mailroom::plugin::registry::{PluginRegistry, RegistryError, RegistrySettings};
use mailroom::plugin::{EngineSettings, PluginEngine, PluginError, PluginKind};
use mailroom_plugin_artifacts as artifacts;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A registry for the tests of what happens when a plugin misbehaves at run
/// time: the upload check is off so the hostile plugins install (its own
/// tests are in `upload_check`).
fn registry() -> Arc<PluginRegistry> {
    let settings = RegistrySettings {
        default_limits: mailroom::plugin::Limits {
            deadline_ms: 500,
            memory_bytes: 64 << 20,
            ..Default::default()
        },
        upload_check: false,
        ..Default::default()
    };
    PluginRegistry::new(engine(), Arc::new(InMemoryStorage::default()), settings)
}

fn wasm(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read plugin artifact {path}: {e}"))
}

fn message(subject: &str, body: &str) -> Message {
    let raw = format!(
        "From: Ann <ann@example.com>\r\nTo: bob@example.org\r\nSubject: {subject}\r\nMessage-ID: <t@example.com>\r\n\r\n{body}\r\n"
    );
    plugin_message(
        &mime::parse(raw.as_bytes()),
        MessageContext {
            id: "test".into(),
            ..Default::default()
        },
    )
}

async fn install(reg: &PluginRegistry, org: &OrgId, path: &str) -> String {
    reg.install(org, wasm(path))
        .await
        .unwrap_or_else(|e| panic!("install {path}: {e}"))
        .record
        .name
}

async fn classify(
    reg: &Arc<PluginRegistry>,
    org: &OrgId,
    name: &str,
    msg: Message,
) -> Result<Classification, PluginError> {
    let plugins = reg
        .plugins_for(org, PluginKind::Classifier, None)
        .await
        .expect("plugins");
    let plugin = plugins
        .iter()
        .find(|p| p.name() == name)
        .unwrap_or_else(|| panic!("{name} is not running"));
    reg.classify(plugin, msg).await
}

/// A well-behaved plugin answers; used after each hostile call to show the host still serves.
async fn still_serving(reg: &Arc<PluginRegistry>, org: &OrgId) {
    let c = classify(reg, org, "probe", message("still here", ""))
        .await
        .expect("probe still answers");
    assert_eq!(c.summary.as_deref(), Some("still here"));
}

async fn hostile(
    path: &str,
) -> (
    Arc<PluginRegistry>,
    OrgId,
    Result<Classification, PluginError>,
) {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::PROBE).await;
    let name = install(&reg, &org, path).await;
    let result = classify(&reg, &org, &name, message("hi", "hello")).await;
    still_serving(&reg, &org).await;
    (reg, org, result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_stopped_at_the_deadline() {
    let started = std::time::Instant::now();
    let (_, _, result) = hostile(artifacts::INFINITE_LOOP).await;
    assert!(
        matches!(result, Err(PluginError::DeadlineExceeded(500))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allocating_a_gigabyte_hits_the_memory_cap() {
    let (_, _, result) = hostile(artifacts::ALLOC_1GIB).await;
    assert!(
        matches!(result, Err(PluginError::MemoryLimit(limit)) if limit == 64 << 20),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_is_a_stack_overflow_trap() {
    let (_, _, result) = hostile(artifacts::DEEP_RECURSION).await;
    match result {
        Err(PluginError::Trap(msg)) => assert!(msg.contains("stack overflow"), "{msg}"),
        other => panic!("expected a stack overflow trap, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_trap_with_the_panic_message() {
    let (_, _, result) = hostile(artifacts::TRAP).await;
    match result {
        Err(PluginError::Trap(msg)) => {
            assert!(msg.contains("deliberate panic in test plugin"), "{msg}")
        }
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_output_is_refused() {
    let (_, _, result) = hostile(artifacts::OVERSIZED_OUTPUT).await;
    assert!(
        matches!(result, Err(PluginError::OutputTooLarge { size, limit }) if size > limit && limit == 1 << 20),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_has_no_files_no_env_and_no_network() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let target = listener.local_addr().expect("addr").to_string();

    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::PROBE).await;
    let name = install(&reg, &org, artifacts::SANDBOX_ESCAPE).await;
    reg.set_config(&org, &name, BTreeMap::from([("target".to_owned(), target)]))
        .await
        .expect("config");
    let c = classify(&reg, &org, &name, message("x", "y"))
        .await
        .expect("the plugin runs and reports");
    let labels: Vec<&str> = c.tags.iter().map(|t| t.label.as_str()).collect();
    assert!(!labels.is_empty());
    for label in &labels {
        assert!(
            !label.contains(":ok"),
            "something was reachable from the sandbox: {labels:?}"
        );
    }
    assert!(labels.iter().any(|l| l.starts_with("fs:")), "{labels:?}");
    assert!(labels.iter().any(|l| l.starts_with("net:")), "{labels:?}");
    assert!(
        listener.accept().is_err(),
        "the plugin reached the host's socket"
    );
    still_serving(&reg, &org).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ungranted_import_is_refused_and_named() {
    let err = registry()
        .install(&OrgId::generate(), wasm(artifacts::UNGRANTED_IMPORT))
        .await
        .unwrap_err();
    match err {
        RegistryError::Rejected(PluginError::UngrantedImports(names)) => {
            assert!(names.iter().any(|n| n.contains("raw-net")), "{names:?}");
            assert!(
                !names
                    .iter()
                    .any(|n| n.starts_with("mailroom:plugin/") || n.starts_with("wasi:")),
                "{names:?}"
            );
        }
        other => panic!("expected an ungranted import, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_claiming_the_wrong_kind_is_refused() {
    let err = registry()
        .install(&OrgId::generate(), wasm(artifacts::WRONG_KIND))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            RegistryError::Rejected(PluginError::InvalidMetadata(_))
        ),
        "{err:?}"
    );
    assert!(
        text.contains("workflow") && text.contains("classifier"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn things_that_are_not_components_are_refused_in_words() {
    let reg = registry();
    let org = OrgId::generate();
    let cases: [(&[u8], &str); 4] = [
        (b"", "empty"),
        (
            b"\x7fELF\x02\x01\x01\x00 random bytes, not wasm",
            "not WebAssembly",
        ),
        (b"\0asm\x01\0\0\0", "core WebAssembly module"),
        (
            b"\0asm\x0d\0\x01\0\xff\xff\xff",
            "not a WebAssembly component",
        ),
    ];
    for (bytes, expected) in cases {
        let err = reg.install(&org, bytes.to_vec()).await.unwrap_err();
        assert!(
            matches!(
                err,
                RegistryError::Rejected(PluginError::InvalidComponent(_))
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(expected), "{expected}: {err}");
    }
    assert!(reg.list(&org).await.expect("list").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_disable_the_plugin_and_say_why() {
    let reg = registry();
    let org = OrgId::generate();
    let name = install(&reg, &org, artifacts::TRAP).await;
    let plugin = reg
        .plugins_for(&org, PluginKind::Classifier, None)
        .await
        .expect("plugins")
        .remove(0);
    for _ in 0..5 {
        assert!(matches!(
            reg.classify(&plugin, message("a", "b")).await,
            Err(PluginError::Trap(_))
        ));
    }
    assert!(
        reg.plugins_for(&org, PluginKind::Classifier, None)
            .await
            .expect("plugins")
            .is_empty()
    );
    let view = reg.get(&org, &name).await.expect("get");
    assert!(!view.record.enabled);
    assert!(
        view.record
            .disabled_reason
            .as_deref()
            .is_some_and(|r| r.contains("5 consecutive failures"))
    );
    assert_eq!(view.metrics.failures.get("trap"), Some(&5));
    let events = reg.events(&org, Some(&name), 50).await.expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.kind == PluginEventKind::AutoDisabled)
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == PluginEventKind::Failure)
            .count(),
        5
    );

    reg.set_enabled(&org, &name, true).await.expect("enable");
    assert_eq!(
        reg.plugins_for(&org, PluginKind::Classifier, None)
            .await
            .expect("plugins")
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_and_key_value_data_never_cross_orgs() {
    let reg = registry();
    let (a, b) = (OrgId::generate(), OrgId::generate());
    install(&reg, &a, artifacts::PROBE).await;
    install(&reg, &b, artifacts::PROBE).await;
    reg.set_config(
        &a,
        "probe",
        BTreeMap::from([("probe".to_owned(), "alpha".to_owned())]),
    )
    .await
    .expect("config");
    let labels = |c: Classification| c.tags.into_iter().map(|t| t.label).collect::<Vec<_>>();

    for _ in 0..2 {
        classify(&reg, &a, "probe", message("a", ""))
            .await
            .expect("a");
    }
    let a3 = labels(
        classify(&reg, &a, "probe", message("a", ""))
            .await
            .expect("a"),
    );
    assert!(
        a3.contains(&"config:alpha".to_owned()) && a3.contains(&"counter:3".to_owned()),
        "{a3:?}"
    );
    let b1 = labels(
        classify(&reg, &b, "probe", message("b", ""))
            .await
            .expect("b"),
    );
    assert!(
        b1.contains(&"config:none".to_owned()) && b1.contains(&"counter:1".to_owned()),
        "{b1:?}"
    );

    let err = reg
        .set_config(
            &a,
            "probe",
            BTreeMap::from([("nope".to_owned(), "x".to_owned())]),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phased_rollout_runs_only_for_selected_users() {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::PROBE).await;
    let pilot = mailroom::ids::UserId::generate();
    reg.set_rollout(&org, "probe", Rollout::Users(vec![pilot.clone()]))
        .await
        .expect("rollout");
    let other = mailroom::ids::UserId::generate();
    assert_eq!(
        reg.plugins_for(&org, PluginKind::Classifier, Some(&pilot))
            .await
            .expect("p")
            .len(),
        1
    );
    assert!(
        reg.plugins_for(&org, PluginKind::Classifier, Some(&other))
            .await
            .expect("p")
            .is_empty()
    );
    assert!(
        reg.plugins_for(&org, PluginKind::Classifier, None)
            .await
            .expect("p")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_host_loads_components_from_the_precompile_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = EngineSettings {
        cache_dir: Some(dir.path().to_owned()),
        max_instances: 16,
        ..Default::default()
    };
    let bytes = wasm(artifacts::CLASSIFIER_KEYWORDS);
    {
        let first = PluginEngine::new(&settings).expect("engine");
        // Written only once admitted (the registry keeps what it runs).
        let loaded = first.load(&bytes).expect("load");
        first.keep(&loaded);
        assert_eq!(
            first
                .stats
                .compiled
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
    }
    let second = PluginEngine::new(&settings).expect("engine");
    let component = second.load(&bytes).expect("load from cache");
    assert_eq!(
        second
            .stats
            .compiled
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    assert_eq!(
        second
            .stats
            .loaded_from_cache
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(component.world.kind, PluginKind::Classifier);
}

fn labels(c: &Classification) -> Vec<String> {
    c.tags.iter().map(|t| t.label.clone()).collect()
}

async fn running(
    reg: &Arc<PluginRegistry>,
    org: &OrgId,
) -> Arc<mailroom::plugin::registry::ActivePlugin> {
    reg.plugins_for(org, PluginKind::Classifier, None)
        .await
        .expect("plugins")
        .remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_swaps_versions_while_calls_in_flight_finish_on_the_old_one() {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::SWAP_V1).await;
    reg.set_config(
        &org,
        "swap",
        BTreeMap::from([("ms".to_owned(), "300".to_owned())]),
    )
    .await
    .expect("config");

    let v1 = running(&reg, &org).await;
    let in_flight: Vec<_> = (0..4)
        .map(|_| {
            let (reg, plugin) = (reg.clone(), v1.clone());
            tokio::spawn(async move { reg.classify(&plugin, message("s", "")).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let upgraded = reg
        .install(&org, wasm(artifacts::SWAP_V2))
        .await
        .expect("upgrade");
    assert_eq!(upgraded.active_version.metadata.version, "2.0.0");
    assert_eq!(
        upgraded.record.config.get("ms").map(String::as_str),
        Some("300"),
        "config survives an upgrade"
    );

    for call in in_flight {
        let c = call.await.expect("join").expect("in-flight call finishes");
        assert_eq!(labels(&c), ["v1"]);
    }
    let now = running(&reg, &org).await;
    assert_eq!(
        labels(
            &reg.classify(&now, message("s", ""))
                .await
                .expect("new call")
        ),
        ["v2"]
    );
    // Each version counts its own calls: the four in flight were v1's.
    let view = reg.get(&org, "swap").await.expect("view");
    assert_eq!(view.metrics.calls, 1, "{:?}", view.metrics);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_returns_to_the_previous_version() {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::SWAP_V1).await;
    install(&reg, &org, artifacts::SWAP_V2).await;
    assert_eq!(reg.versions(&org, "swap").await.expect("versions").len(), 2);

    let view = reg.rollback(&org, "swap", None).await.expect("rollback");
    assert_eq!(view.active_version.metadata.version, "1.0.0");
    assert_eq!(
        labels(
            &reg.classify(&running(&reg, &org).await, message("s", ""))
                .await
                .expect("call")
        ),
        ["v1"]
    );
    assert!(matches!(
        reg.rollback(&org, "swap", None).await,
        Err(RegistryError::Conflict(_))
    ));
    let view = reg
        .rollback(&org, "swap", Some(2))
        .await
        .expect("forward again");
    assert_eq!(view.active_version.metadata.version, "2.0.0");
    let events = reg.events(&org, Some("swap"), 10).await.expect("events");
    assert!(events.iter().any(|e| e.kind == PluginEventKind::RolledBack));
    assert!(events.iter().any(|e| e.kind == PluginEventKind::Upgraded));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploading_the_same_bytes_twice_adds_no_version() {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::PROBE).await;
    install(&reg, &org, artifacts::PROBE).await;
    assert_eq!(
        reg.versions(&org, "probe").await.expect("versions").len(),
        1
    );
}

/// The follow-up workflow built once against contract 0.1.0 and committed
/// (never rebuilt; see its README).
const FOLLOW_UP_V0_1_0: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/contract-v0.1.0/follow-up-v0.1.0.wasm"
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_built_against_contract_0_1_0_runs_next_to_its_0_2_0_twin() {
    use mailroom::plugin::bindings::latest::types::{
        Action, ClassificationPart, CrmRecordKind, Reason, Recipient, ScoredLabel, TaskPriority,
    };
    use mailroom::plugin::bindings::latest::workflow::{CrmLink, Event, Trigger};
    use mailroom::plugin::bindings::{self, SUPPORTED_CONTRACT_VERSIONS};

    // Admission tells the versions apart by what the components export and import.
    let old = engine().load(&wasm(FOLLOW_UP_V0_1_0)).expect("load 0.1.0");
    let new = engine()
        .load(&wasm(artifacts::WORKFLOW_FOLLOW_UP))
        .expect("load 0.2.0");
    assert_eq!(
        (old.world.version, old.world.kind),
        ("0.1.0", PluginKind::Workflow)
    );
    assert_eq!(
        (new.world.version, new.world.kind),
        (bindings::latest::VERSION, PluginKind::Workflow)
    );
    assert_eq!(SUPPORTED_CONTRACT_VERSIONS, ["0.1.0", "0.2.0"]);
    assert!(
        old.shape
            .imports
            .contains(&"mailroom:plugin/host@0.1.0".to_owned()),
        "{:?}",
        old.shape.imports
    );

    let reg = registry();
    let org = OrgId::generate();
    let old_view = reg
        .install(&org, wasm(FOLLOW_UP_V0_1_0))
        .await
        .expect("install 0.1.0");
    let new_view = reg
        .install(&org, wasm(artifacts::WORKFLOW_FOLLOW_UP))
        .await
        .expect("install 0.2.0");
    assert_eq!(old_view.active_version.contract, "0.1.0");
    assert_eq!(new_view.active_version.contract, bindings::latest::VERSION);
    // 0.1.0's metadata reaches the host like 0.2.0's.
    let keys = |v: &mailroom::plugin::registry::PluginView| {
        let m = &v.active_version.metadata;
        (
            m.kind,
            m.config_keys
                .iter()
                .map(|k| k.name.clone())
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(keys(&old_view), keys(&new_view));
    let (old_name, new_name) = (old_view.record.name, new_view.record.name);
    assert_eq!(old_name, "follow-up-v0.1.0");

    // The running pair; a config change swaps in new instances, so ask again after one.
    let running_pair = || {
        let (reg, org) = (reg.clone(), org.clone());
        let names = (old_name.clone(), new_name.clone());
        async move {
            let workflows = reg
                .plugins_for(&org, PluginKind::Workflow, None)
                .await
                .expect("plugins");
            let by_name = |name: &str| {
                workflows
                    .iter()
                    .find(|p| p.name() == name)
                    .unwrap_or_else(|| panic!("{name} is not running"))
                    .clone()
            };
            (by_name(&names.0), by_name(&names.1))
        }
    };

    let classification = |intent: &str| Classification {
        sentiment: None,
        intent: Some(ScoredLabel {
            label: intent.into(),
            score: 0.9,
        }),
        summary: Some("Ann accepts the offer.".into()),
        signature: None,
        activities: vec![],
        tags: vec![],
        // Only 0.2.0 plugins see these; the 0.1.0 one gets the rest.
        reasons: vec![Reason {
            part: ClassificationPart::Intent,
            label: intent.into(),
            index: None,
            feature: "cue:test".into(),
            evidence: None,
            weight: 0.5,
        }],
    };
    let event = |trigger: Trigger, subject: &str, intent: &str| Event {
        trigger,
        message: message(subject, "Fine by me."),
        classifications: vec![classification(intent)],
        links: vec![CrmLink {
            kind: CrmRecordKind::Contact,
            id: "c1".into(),
            email: "ann@example.com".into(),
            name: Some("Ann Lee".into()),
        }],
    };
    let reply = event(Trigger::ReplyReceived, "Re: Offer 42", "other");
    let complaint = event(Trigger::Incoming, "Late delivery", "complaint");
    let outgoing = event(Trigger::Outgoing, "Offer 43", "complaint");

    // Both read the config through their own version's `host` import.
    let run = |events: Vec<Event>| {
        let reg = reg.clone();
        let pair = running_pair();
        async move {
            let (old, new) = pair.await;
            let mut results = Vec::new();
            for e in events {
                let a = reg.on_event(&old, e.clone()).await.expect("0.1.0 on-event");
                let b = reg.on_event(&new, e).await.expect("0.2.0 on-event");
                // Identical where the contract did not change, and 0.1.0's
                // actions come out with 0.2.0's new fields at their defaults.
                assert_eq!(
                    serde_json::to_value(&a).expect("json"),
                    serde_json::to_value(&b).expect("json"),
                    "0.1.0 gave {a:?}, 0.2.0 gave {b:?}"
                );
                results.push(a);
            }
            results
        }
    };
    let defaults = run(vec![reply.clone(), complaint.clone(), outgoing.clone()]).await;
    match defaults[0].as_slice() {
        [Action::CreateTask(task)] => {
            assert_eq!(task.title, "Reply from Ann: Offer 42");
            assert_eq!(task.notes.as_deref(), Some("Ann accepts the offer."));
            assert_eq!((task.due_in_days, task.due_at), (Some(1), None));
            assert!(matches!(task.assignee, Recipient::AccountOwner));
            assert!(matches!(task.priority, TaskPriority::Normal));
            assert!(task.regarding.is_none());
        }
        other => panic!("{other:?}"),
    }
    match defaults[1].as_slice() {
        [Action::Notify(n), Action::AddLabel(label)] => {
            assert!(matches!(n.target, Recipient::AccountOwner));
            assert_eq!(n.title, None);
            assert_eq!(n.text, "Complaint from Ann: Late delivery");
            assert_eq!(label, "complaint");
        }
        other => panic!("{other:?}"),
    }
    assert!(defaults[2].is_empty());

    let config = BTreeMap::from([
        ("due-days".to_owned(), "3".to_owned()),
        ("notify-user".to_owned(), "boss@example.com".to_owned()),
    ]);
    for name in [&old_name, &new_name] {
        reg.set_config(&org, name, config.clone())
            .await
            .expect("config");
    }
    let configured = run(vec![reply, complaint]).await;
    assert!(
        matches!(&configured[0][..], [Action::CreateTask(t)] if t.due_in_days == Some(3)),
        "{:?}",
        configured[0]
    );
    assert!(
        matches!(&configured[1][0], Action::Notify(n)
            if matches!(&n.target, Recipient::User(u) if u == "boss@example.com")),
        "{:?}",
        configured[1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_of_an_unknown_contract_version_is_refused_with_the_supported_ones() {
    // The 0.1.0 fixture with its version strings rewritten to 9.9.9 in place
    // (same length): a plugin of a contract this host has never seen.
    let mut bytes = wasm(FOLLOW_UP_V0_1_0);
    let (from, to) = (
        b"mailroom:plugin/workflow@0.1.0",
        b"mailroom:plugin/workflow@9.9.9",
    );
    let mut replaced = 0;
    for i in 0..bytes.len().saturating_sub(from.len()) {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + to.len()].copy_from_slice(to);
            replaced += 1;
        }
    }
    assert!(replaced > 0, "the fixture names its export");
    let err = engine().load(&bytes).expect_err("refused");
    let text = err.to_string();
    assert!(matches!(err, PluginError::UnknownWorld { .. }), "{text}");
    assert!(text.contains("mailroom:plugin/workflow@9.9.9"), "{text}");
    assert!(text.contains("mailroom:plugin/host@0.1.0"), "{text}");
    assert!(text.contains("0.1.0, 0.2.0"), "{text}");
}

mod errors;
mod kv;
mod liveness;
mod outbound_http;
mod poison;
mod secret_config;
mod upload_check;
mod uploads;
