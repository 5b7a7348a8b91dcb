//! Shadow runs on live mail: a new version installed as a plugin's shadow is
//! called on every message beside the running one, its answers compared
//! (with examples) and never applied; it survives a restart; promoting makes
//! it the running version, discarding stops it; and what cannot be a shadow
//! (the running bytes, another plugin's component) is refused.

use super::{engine, fixture};
use mailroom::plugin::registry::{PluginRegistry, RegistryError, RegistrySettings};
use mailroom_plugin_artifacts as artifacts;
use mailroom_store::both_backends;
use std::sync::Arc;

fn wasm(path: &str) -> Vec<u8> {
    std::fs::read(path).expect("artifact")
}

fn mail(n: usize) -> String {
    format!(
        "From: Dana Client <dana@client.example>\r\nTo: sales@northwind.example\r\n\
         Subject: Question {n}\r\nMessage-ID: <q{n}@client.example>\r\n\r\nHow does it work?\r\n"
    )
}

both_backends! {
    async fn a_shadow_is_compared_on_live_mail_and_never_applied(db) {
        let f = fixture(&db.store, &[artifacts::SWAP_V1]).await;
        let installed = f.registry.install_shadow(&f.org, "swap", wasm(artifacts::SWAP_V2)).await.expect("shadow");
        assert_eq!(installed.shadow.shadow_version.metadata.version, "2.0.0");
        assert_eq!(installed.shadow.active_version.metadata.version, "1.0.0");
        assert_eq!(installed.shadow.compared, 0);

        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(f.ingest(&format!("q{n}"), "inbox", &mail(n)).await);
        }
        let report = f.pipeline().run_pending(50).await.expect("pipeline");
        assert_eq!(report.processed, 3);
        // Only the running version's answer is stored.
        for id in &ids {
            let stored = f.store.message_classifications(&f.org, id).await.expect("read");
            assert_eq!(stored.len(), 1);
            assert_eq!(stored[0].result["tags"][0]["label"], "v1", "{:?}", stored[0].result);
        }
        let shadow = f.registry.shadow_report(&f.org, "swap").await.expect("report");
        assert_eq!((shadow.compared, shadow.differed), (3, 3));
        assert!((shadow.difference_rate - 1.0).abs() < 1e-9);
        assert_eq!(shadow.examples.len(), 3);
        // One example per message (they run side by side, in any order).
        let mut subjects: Vec<&str> = shadow.examples.iter().filter_map(|e| e.subject.as_deref()).collect();
        subjects.sort_unstable();
        let mut expected: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
        expected.sort_unstable();
        assert_eq!(subjects, expected);
        for example in &shadow.examples {
            assert!(example.active.contains("\"v1\"") && example.shadow.contains("\"v2\""), "{example:?}");
        }
        assert_eq!(shadow.shadow_metrics.calls, 3);
        assert_eq!(shadow.active_metrics.calls, 3);

        // The running version's bytes, or another plugin, cannot be its shadow.
        let same = f.registry.install_shadow(&f.org, "swap", wasm(artifacts::SWAP_V1)).await;
        assert!(matches!(same, Err(RegistryError::Conflict(ref m)) if m.contains("must differ")), "{same:?}");
        let other = f.registry.install_shadow(&f.org, "swap", wasm(artifacts::TRIVIAL)).await;
        assert!(matches!(other, Err(RegistryError::Invalid(ref m)) if m.contains("not `swap`")), "{other:?}");
        let missing = f.registry.install_shadow(&f.org, "nope", wasm(artifacts::SWAP_V2)).await;
        assert!(matches!(missing, Err(RegistryError::NotFound(_))), "{missing:?}");

        // A restart keeps the shadow (its comparison starts over).
        let settings = RegistrySettings { upload_check: false, ..RegistrySettings::default() };
        let restarted = PluginRegistry::new(engine(), Arc::new(f.store.clone()), settings);
        let again = restarted.shadow_report(&f.org, "swap").await.expect("restored");
        assert_eq!(again.shadow_version.seq, installed.shadow.shadow_version.seq);
        assert_eq!(again.compared, 0);

        // Promoted: the shadow runs, and there is none any more.
        let view = f.registry.promote_shadow(&f.org, "swap").await.expect("promote");
        assert_eq!(view.active_version.metadata.version, "2.0.0");
        assert_eq!(view.record.shadow_seq, None);
        assert!(matches!(f.registry.shadow_report(&f.org, "swap").await, Err(RegistryError::NoShadow(_))));
        let id = f.ingest("q9", "inbox", &mail(9)).await;
        f.pipeline().run_pending(50).await.expect("pipeline");
        let stored = f.store.message_classifications(&f.org, &id).await.expect("read");
        assert_eq!(stored[0].result["tags"][0]["label"], "v2");

        // Discarded: stops, the version stays a rollback target.
        f.registry.install_shadow(&f.org, "swap", wasm(artifacts::SWAP_V1)).await.expect("old one as shadow");
        f.registry.discard_shadow(&f.org, "swap").await.expect("discard");
        assert!(matches!(f.registry.discard_shadow(&f.org, "swap").await, Err(RegistryError::NoShadow(_))));
        let versions = f.registry.versions(&f.org, "swap").await.expect("versions");
        assert_eq!(versions.len(), 3, "{versions:?}");
        let events = f.registry.events(&f.org, Some("swap"), 20).await.expect("events");
        for kind in ["ShadowInstalled", "ShadowPromoted", "ShadowDiscarded"] {
            assert!(events.iter().any(|e| format!("{:?}", e.kind) == kind), "no {kind} event: {events:?}");
        }
    }
}
