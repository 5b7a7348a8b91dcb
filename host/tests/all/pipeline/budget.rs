//! Per-org plugin time budgets in the server's pipeline worker: an org whose
//! classifier busy-waits on every message is held to its budget (its mail
//! waits, none of it lost), while another org's mail goes through at once.

use super::{engine, fixture_for, run_status};
use mailroom::ids::MessageId;
use mailroom::pipeline::{Pipeline, run_worker};
use mailroom::plugin::budget::CpuBudget;
use mailroom::plugin::registry::{PluginRegistry, RegistrySettings};
use mailroom::store::Store;
use mailroom_plugin_artifacts as artifacts;
use mailroom_store::both_backends;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The heavy org's classifier busy-waits this long on every message.
const BURN_MS: u64 = 150;
const MESSAGES: usize = 12;
/// 0.6 s of plugin time, regained at 0.2 s per second.
const BUDGET: CpuBudget = CpuBudget {
    per_window: Duration::from_millis(600),
    window: Duration::from_secs(3),
};

fn message(n: usize) -> String {
    format!(
        "From: Dana Client <dana@client.example>\r\nTo: sales@example.com\r\n\
         Subject: Order {n}\r\nMessage-ID: <order-{n}@client.example>\r\n\r\n\
         Could you please confirm order {n}? Thanks!\r\n"
    )
}

/// Waits until every message's run is done; how long it took from `started`.
async fn all_done(store: &Store, ids: &[MessageId], started: Instant) -> Duration {
    let give_up = started + Duration::from_secs(120);
    loop {
        let mut done = 0;
        for id in ids {
            done += usize::from(run_status(store, id).await.0 == "done");
        }
        if done == ids.len() {
            return started.elapsed();
        }
        assert!(
            Instant::now() < give_up,
            "only {done} of {} runs done after 120 s",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

both_backends! {
    async fn an_org_past_its_plugin_time_waits_and_the_other_org_does_not(db) {
        let s = &db.store;
        let heavy = fixture_for(s, "Heavy", "sales@heavy.example", &[]).await;
        let light = fixture_for(s, "Light", "sales@light.example", &[]).await;
        // One registry for both orgs, as in the server.
        let registry = PluginRegistry::new(
            engine(),
            Arc::new(s.clone()),
            RegistrySettings { upload_check: false, cpu_budget: Some(BUDGET), ..RegistrySettings::default() },
        );
        let read = |path: &str| std::fs::read(path).expect("artifact");
        let slow = registry.install(&heavy.org, read(artifacts::SLOW)).await.expect("install").record.name;
        registry
            .set_config(&heavy.org, &slow, [("ms".to_string(), BURN_MS.to_string())].into())
            .await
            .expect("config");
        registry.install(&light.org, read(artifacts::CLASSIFIER_KEYWORDS)).await.expect("install");

        let mut heavy_mail = Vec::new();
        let mut light_mail = Vec::new();
        for n in 0..MESSAGES {
            heavy_mail.push(heavy.ingest(&format!("h{n}"), "inbox", &message(n)).await);
            light_mail.push(light.ingest(&format!("l{n}"), "inbox", &message(n)).await);
        }

        let started = Instant::now();
        let worker = tokio::spawn(run_worker(Arc::new(Pipeline::new(s.clone(), registry.clone()))));
        let light_done = all_done(s, &light_mail, started).await;
        let heavy_done = all_done(s, &heavy_mail, started).await;
        worker.abort();

        // 12 × 150 ms of plugin time against 0.6 s at once plus 0.2 s per
        // second: even with four calls admitted on the last crumb of budget,
        // the heavy org needs three seconds or more; unlimited, its four
        // calls at a time would take half a second.
        let burned = Duration::from_millis(BURN_MS * MESSAGES as u64);
        assert!(heavy_done >= Duration::from_secs(3), "heavy org done in {heavy_done:?}");
        assert!(light_done < heavy_done, "light {light_done:?}, heavy {heavy_done:?}");
        let heavy_use = registry.budgets().of(&heavy.org);
        let light_use = registry.budgets().of(&light.org);
        assert!(heavy_use.waits >= 1, "{heavy_use:?}");
        // (The plugin waits on the host's millisecond clock: a call can end
        // a fraction of a millisecond short.)
        assert!(heavy_use.used_seconds >= burned.as_secs_f64() * 0.95, "{heavy_use:?}");
        assert_eq!(light_use.waits, 0, "the light org never waited: {light_use:?}");

        let mut metrics = String::new();
        registry.budgets().write_prometheus(&mut metrics);
        let label = format!("mailroom_org_plugin_budget_waits_total{{org=\"{}\"}} {}", heavy.org.as_str(), heavy_use.waits);
        assert!(metrics.contains(&label), "{metrics}");
    }
}
