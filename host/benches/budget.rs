//! Two orgs' pipelines side by side when one org's classifier burns its
//! whole deadline on every message: how fast the other org's mail is
//! processed alone, next to the burning org without a plugin time budget,
//! and next to it with the default budget (60 s of plugin time per minute)
//! once the burning org has used it up.
//!
//! Run: `cargo bench -p mailroom --bench budget` (default: 2,000 messages
//! for the org measured; `-- --messages N`). The README says what it measures.

// Test code: a failed set-up fails the test with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/all/imap_sync/support.rs"]
mod support;

#[allow(dead_code)]
#[path = "../tests/all/test_engine.rs"]
mod test_engine;

use mailroom::ids::OrgId;
use mailroom::pipeline::Pipeline;
use mailroom::plugin::budget::CpuBudget;
use mailroom::plugin::registry::{PluginRegistry, RegistrySettings};
use mailroom::plugin::{EngineSettings, Limits, PluginEngine};
use mailroom::store::testing::{TestDb, local_org};
use mailroom::store::{Location, Security, Store};
use mailroom_plugin_artifacts as artifacts;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Login, Tenant, account};

/// The burning org's deadline: every call runs this long, then is cut off.
const DEADLINE_MS: u64 = 250;

fn messages() -> usize {
    let mut args = std::env::args().skip(1);
    let mut messages = 2_000;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--messages" => {
                messages = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--messages needs a number")
            }
            "--bench" => {}
            other => panic!("unknown argument {other:?}; use --messages N"),
        }
    }
    messages
}

/// An org with one account and `count` messages waiting for the pipeline.
async fn org_with_mail(store: &Store, name: &str, count: usize) -> OrgId {
    let (org, admin, _) = local_org(store, name, &format!("admin@{name}.example"), "Admin").await;
    let tenant = Tenant {
        org: org.id.clone(),
        admin: admin.id,
    };
    let account = account(
        store,
        &tenant,
        "sales",
        1,
        Security::None,
        true,
        Login::Password("unused".into()),
    )
    .await;
    for n in 0..count {
        let raw = format!(
            "From: Dana Client <dana@client.example>\r\nTo: sales@{name}.example\r\n\
             Subject: Order {n}\r\nMessage-ID: <order-{n}@{name}.client.example>\r\n\r\n\
             Hi, could you please confirm order {n} and send the invoice? The last one \
             was late and we are a bit disappointed. Thanks!\r\n"
        );
        let location = Location::Local {
            key: format!("m{n}"),
            role: "inbox".into(),
        };
        store
            .ingest_message(&org.id, &account, &location, raw.as_bytes())
            .await
            .expect("ingest");
    }
    org.id
}

/// How many messages per second the measured org's pipeline finishes, with
/// or without a burning org beside it and with `budget`.
async fn light_rate(
    engine: &Arc<PluginEngine>,
    messages: usize,
    burning: bool,
    budget: Option<CpuBudget>,
) -> f64 {
    let db = TestDb::sqlite().await;
    let store = &db.store;
    let registry = PluginRegistry::new(
        engine.clone(),
        Arc::new(store.clone()),
        RegistrySettings {
            upload_check: false,
            // The burning plugin fails every call: it must stay enabled.
            failure_threshold: u32::MAX,
            cpu_budget: budget,
            ..RegistrySettings::default()
        },
    );
    let light = org_with_mail(store, "light", messages).await;
    let read = |path: &str| std::fs::read(path).expect("artifact");
    registry
        .install(&light, read(artifacts::CLASSIFIER_KEYWORDS))
        .await
        .expect("install");
    let pipeline = Arc::new(Pipeline::new(store.clone(), registry.clone()));

    let burner = if burning {
        let heavy = org_with_mail(store, "heavy", 400).await;
        let name = registry
            .install(&heavy, read(artifacts::INFINITE_LOOP))
            .await
            .expect("install")
            .record
            .name;
        let limits = Limits {
            deadline_ms: DEADLINE_MS,
            ..Limits::default()
        };
        registry
            .set_limits(&heavy, &name, Some(limits))
            .await
            .expect("limits");
        if let Some(budget) = budget {
            // As after a while of burning: the budget used up.
            registry.budgets().charge(&heavy, budget.per_window);
        }
        let pipeline = pipeline.clone();
        Some(tokio::spawn(async move {
            pipeline.drain_org(&heavy, 50).await.expect("heavy org")
        }))
    } else {
        None
    };
    // Let the burning org's calls get going first.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let report = pipeline.drain_org(&light, 200).await.expect("light org");
    let elapsed = started.elapsed();
    assert_eq!(report.processed, messages);
    if let Some(burner) = burner {
        burner.abort();
    }
    messages as f64 / elapsed.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let messages = messages();
    let engine = PluginEngine::new(&EngineSettings::default()).expect("engine");
    let default_budget = CpuBudget::per_minute(Duration::from_secs(
        mailroom_core::plugin_limits::DEFAULT_CPU_SECONDS_PER_MINUTE,
    ));
    println!(
        "{messages} messages of one org through the pipeline (keyword classifier); the other \
         org's classifier loops until its {DEADLINE_MS} ms deadline on every message"
    );
    for (what, burning, budget) in [
        ("alone", false, None),
        ("beside the burning org, no budget", true, None),
        (
            "beside the burning org, default budget (60 s/min)",
            true,
            Some(default_budget),
        ),
    ] {
        let rate = light_rate(&engine, messages, burning, budget).await;
        println!("  {what:<52} {rate:>8.0} messages/s");
    }
}
