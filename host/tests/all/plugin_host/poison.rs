//! Poison outputs: values outside their range (`validate`) fail the call
//! with the field named, count against the plugin like any failure
//! (metrics, a Failure event, auto-disable), and never reach the store or a
//! log. Metadata out of range is refused at upload.

use super::*;
use mailroom::plugin::bindings::latest::workflow::{Event, Trigger};

async fn configure(reg: &PluginRegistry, org: &OrgId, name: &str, poison: &str) {
    reg.set_config(
        org,
        name,
        BTreeMap::from([("poison".to_owned(), poison.to_owned())]),
    )
    .await
    .expect("config");
}

async fn workflow_call(reg: &Arc<PluginRegistry>, org: &OrgId) -> Result<usize, PluginError> {
    let plugins = reg
        .plugins_for(org, PluginKind::Workflow, None)
        .await
        .expect("plugins");
    let plugin = plugins.first().expect("the workflow runs");
    let event = Event {
        trigger: Trigger::Incoming,
        message: message("hi", "hello"),
        classifications: vec![],
        links: vec![],
    };
    reg.on_event(plugin, event).await.map(|a| a.len())
}

/// The error of a refused output: its text names `field`.
fn assert_refused<T: std::fmt::Debug>(result: Result<T, PluginError>, field: &str) {
    match result {
        Err(PluginError::InvalidOutput(why)) => assert!(
            why.starts_with(&format!("`{field}`")) && !why.contains('\n'),
            "expected `{field}` to be named: {why}"
        ),
        other => panic!("expected invalid output naming `{field}`, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_actions_the_store_cannot_hold_are_refused_and_disable_the_plugin() {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::PROBE).await;
    let name = install(&reg, &org, artifacts::POISON_WORKFLOW).await;
    configure(&reg, &org, &name, "none").await;
    assert_eq!(
        workflow_call(&reg, &org).await.expect("an ordinary label"),
        1
    );
    for (poison, field) in [
        ("label-escape", "actions[0].add-label"),
        ("labels-150", "actions"),
        ("move-blank", "actions[0].move-to"),
        ("label-200k", "actions[0].add-label"),
        ("webhook-script", "actions[0].webhook.url"),
    ] {
        configure(&reg, &org, &name, poison).await;
        assert_refused(workflow_call(&reg, &org).await, field);
        still_serving(&reg, &org).await;
    }
    let view = reg.get(&org, &name).await.expect("get");
    assert_eq!(view.metrics.failures.get("invalid_output"), Some(&5));
    // Five failures in a row: the default threshold disables it.
    assert!(!view.record.enabled, "{:?}", view.record);
    let events = reg.events(&org, Some(&name), 20).await.expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.kind == PluginEventKind::Failure
                && e.message.contains("actions[0].webhook.url")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.kind == PluginEventKind::AutoDisabled),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classifications_out_of_range_are_refused_with_the_field_named() {
    let reg = registry();
    let org = OrgId::generate();
    install(&reg, &org, artifacts::PROBE).await;
    let name = install(&reg, &org, artifacts::POISON_CLASSIFIER).await;
    configure(&reg, &org, &name, "none").await;
    let fine = classify(&reg, &org, &name, message("hi", ""))
        .await
        .expect("ordinary");
    assert_eq!(fine.tags.len(), 1);
    for (poison, field) in [
        ("score-nan", "sentiment.score"),
        ("score-huge", "intent.score"),
        ("starts-at-min", "activities[0].starts-at"),
        ("website-script", "signature.website"),
        ("tag-rtl", "tags[0].label"),
    ] {
        configure(&reg, &org, &name, poison).await;
        assert_refused(classify(&reg, &org, &name, message("hi", "")).await, field);
    }
    still_serving(&reg, &org).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_out_of_range_is_refused_at_upload_with_the_field_named() {
    let reg = registry();
    let org = OrgId::generate();
    for (path, field) in [
        (artifacts::METADATA_FORGED_VERSION, "version"),
        (artifacts::METADATA_HUGE_DESCRIPTION, "description"),
        (artifacts::METADATA_REPEATED_CONFIG_KEYS, "config-keys"),
    ] {
        match reg.install(&org, wasm(path)).await {
            Err(RegistryError::Rejected(PluginError::InvalidMetadata(why))) => {
                assert!(why.starts_with(&format!("`{field}`")), "{path}: {why}");
                // The forged log line stays on the refusal's one line.
                assert!(!why.contains('\n') && why.len() < 1000, "{path}: {why}");
            }
            other => panic!("{path}: expected invalid metadata, got {other:?}"),
        }
    }
    assert!(reg.list(&org).await.expect("list").is_empty());
}
