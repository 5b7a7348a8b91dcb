//! The plugin registry's storage on both back ends.

use super::*;
use crate::both_backends;
use mailroom_plugin_host::outbound::OutboundGrant;
use mailroom_plugin_host::registry::storage::{
    KvChange, PluginEvent, PluginEventKind, PluginRecord, PluginVersionRecord, RegistryStorage,
    Rollout,
};
use mailroom_plugin_host::{Limits, PluginKind, PluginMetadata};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

fn record(org: &OrgId, name: &str, position: i64) -> PluginRecord {
    PluginRecord {
        org: org.clone(),
        name: name.into(),
        kind: PluginKind::Classifier,
        active_seq: 1,
        shadow_seq: None,
        enabled: true,
        rollout: Rollout::Users(vec![UserId("usr_1".into())]),
        position,
        config: BTreeMap::from([("lang".to_owned(), "en".to_owned())]),
        secret_config: BTreeMap::from([("api-token".to_owned(), Secret::new("s3cr3t"))]),
        limits: Some(Limits {
            deadline_ms: 500,
            ..Limits::default()
        }),
        outbound_http: Some(OutboundGrant {
            max_requests_per_call: 2,
            ..OutboundGrant::hosts(["models.example.com", "*.svc.example.net:8443"])
        }),
        disabled_reason: None,
        consecutive_failures: 2,
    }
}

fn version(org: &OrgId, name: &str, seq: i64, sha256: &str) -> PluginVersionRecord {
    PluginVersionRecord {
        org: org.clone(),
        name: name.into(),
        seq,
        sha256: sha256.into(),
        contract: "0.1.0".into(),
        metadata: PluginMetadata {
            name: name.into(),
            version: format!("1.{seq}.0"),
            kind: PluginKind::Classifier,
            description: "test".into(),
            config_keys: vec![],
            permissions: vec![],
        },
        size_bytes: 3,
        installed_at: 1000 + seq,
    }
}

both_backends! {
    async fn registry_storage_roundtrips_and_isolates(db) {
        let s: &dyn RegistryStorage = &db.store;
        let (org, _) = org_with_admin(&db.store, "acme").await;
        let (other, _) = org_with_admin(&db.store, "other").await;

        let bytes = b"\0asm".to_vec();
        let sha = hex::encode(Sha256::digest(&bytes));
        s.put_blob(&sha, &bytes).await.expect("blob");
        s.put_blob(&sha, &bytes).await.expect("blob twice is fine");
        assert!(s.put_blob("00", &bytes).await.is_err(), "key must be the content hash");
        assert_eq!(s.get_blob(&sha).await.expect("get"), Some(bytes.clone()));
        assert_eq!(s.get_blob("ff").await.expect("get"), None);

        let mut r = record(&org, "sentiment", 2);
        s.save_plugin(&r).await.expect("save");
        s.save_plugin(&record(&org, "intent", 1)).await.expect("save");
        assert_eq!(s.list_plugins(&org).await.expect("list").iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["intent", "sentiment"]);
        r.enabled = false;
        r.disabled_reason = Some("failed 5 times".into());
        r.rollout = Rollout::Everyone;
        r.limits = None;
        r.outbound_http = None;
        s.save_plugin(&r).await.expect("replace");
        let got = s.list_plugins(&org).await.expect("list");
        assert_eq!(got.iter().find(|p| p.name == "sentiment"), Some(&r));
        assert_eq!(got.iter().find(|p| p.name == "intent"), Some(&record(&org, "intent", 1)), "the grant kept");
        assert!(s.list_plugins(&other).await.expect("list").is_empty());

        s.add_version(&version(&org, "sentiment", 1, &sha)).await.expect("v1");
        s.add_version(&version(&org, "sentiment", 2, &sha)).await.expect("v2");
        assert!(s.add_version(&version(&org, "sentiment", 2, &sha)).await.is_err(), "seq is unique");
        let versions = s.list_versions(&org, "sentiment").await.expect("versions");
        assert_eq!(versions.iter().map(|v| v.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(versions[1], version(&org, "sentiment", 2, &sha));
        assert!(s.list_versions(&other, "sentiment").await.expect("versions").is_empty());

        s.kv_apply(&org, "sentiment", &[KvChange::Set("a".into(), vec![1]), KvChange::Set("b".into(), vec![0, 2])]).await.expect("kv");
        s.kv_apply(&org, "sentiment", &[KvChange::Set("a".into(), vec![9]), KvChange::Delete("b".into()), KvChange::Delete("zz".into())]).await.expect("kv");
        assert_eq!(s.kv_load(&org, "sentiment").await.expect("load"), vec![("a".to_owned(), vec![9])]);
        assert!(s.kv_load(&other, "sentiment").await.expect("load").is_empty());

        for (i, kind) in [PluginEventKind::Installed, PluginEventKind::Failure, PluginEventKind::AutoDisabled].into_iter().enumerate() {
            s.record_event(&PluginEvent { org: org.clone(), plugin: "sentiment".into(), kind, message: format!("e{i}\0"), at: 10 + i as i64 }).await.expect("event");
        }
        s.record_event(&PluginEvent { org: org.clone(), plugin: "intent".into(), kind: PluginEventKind::Installed, message: "x".into(), at: 5 }).await.expect("event");
        let events = s.list_events(&org, Some("sentiment"), 2).await.expect("events");
        assert_eq!(events.iter().map(|e| e.kind).collect::<Vec<_>>(), [PluginEventKind::AutoDisabled, PluginEventKind::Failure]);
        assert_eq!(s.list_events(&org, None, 100).await.expect("all").len(), 4);
        assert!(s.list_events(&other, None, 100).await.expect("other").is_empty());

        // Survives a restart.
        let mut db = db;
        db.restart().await;
        let s: &dyn RegistryStorage = &db.store;
        assert_eq!(s.list_versions(&org, "sentiment").await.expect("versions").len(), 2);

        s.delete_plugin(&org, "sentiment").await.expect("delete");
        assert_eq!(s.list_plugins(&org).await.expect("list").len(), 1);
        assert!(s.list_versions(&org, "sentiment").await.expect("versions").is_empty());
        assert!(s.kv_load(&org, "sentiment").await.expect("kv").is_empty());
        assert_eq!(s.get_blob(&sha).await.expect("blob stays"), Some(bytes));
    }

    async fn secret_plugin_config_is_sealed_and_shown_by_key_only(db) {
        let s = &db.store;
        let storage: &dyn RegistryStorage = s;
        let (org, _) = org_with_admin(s, "acme").await;
        storage.save_plugin(&record(&org, "crm-sync", 1)).await.expect("save");
        storage.save_plugin(&record(&org, "other", 2)).await.expect("save");

        let sealed: Vec<u8> = sqlx::query_scalar("SELECT secret_config FROM plugins WHERE name = 'crm-sync'")
            .fetch_one(s.pool()).await.expect("row");
        assert_eq!(sealed[0], 1, "version byte");
        assert!(!sealed.windows(6).any(|w| w == b"s3cr3t"), "secret config is plaintext");

        let got = storage.list_plugins(&org).await.expect("list");
        let plugin = got.iter().find(|p| p.name == "crm-sync").expect("plugin");
        assert_eq!(plugin.secret_config.get("api-token").map(Secret::expose), Some("s3cr3t"));
        let json = serde_json::to_value(plugin).expect("json");
        assert_eq!(json["secret_keys"], serde_json::json!(["api-token"]));
        assert!(!json.to_string().contains("s3cr3t"), "{json}");

        // Bound to its plugin: copied to another plugin's row, it does not open.
        sqlx::query("UPDATE plugins SET secret_config = $1 WHERE name = 'other'")
            .bind(sealed).execute(s.pool()).await.expect("copy");
        assert!(storage.list_plugins(&org).await.is_err());
    }
}
