//! Orgs, users, tokens, migrations, restart and the secret key check.

use super::*;
use crate::both_backends;

both_backends! {
    async fn destination_policy_defaults_replaces_and_refuses_bad_entries(db) {
        use mailroom_core::destinations::DestinationPolicy;
        let s = &db.store;
        let (org, _) = org_with_admin(s, "acme").await;
        let (other, _) = org_with_admin(s, "other").await;
        assert_eq!(s.destination_policy(&org).await.expect("read"), DestinationPolicy::default());
        let policy = DestinationPolicy {
            allowed_hosts: vec!["10.0.0.0/8".into(), "mail.corp.example".into()],
            extra_ports: vec![1143],
            plain_text_hosts: vec!["mail.corp.example".into()],
        };
        s.set_destination_policy(&org, &policy).await.expect("set");
        s.set_destination_policy(&org, &policy).await.expect("set again replaces");
        assert_eq!(s.destination_policy(&org).await.expect("read"), policy);
        // Per org.
        assert_eq!(s.destination_policy(&other).await.expect("read"), DestinationPolicy::default());
        let bad = DestinationPolicy { allowed_hosts: vec!["10.0.0.0/33".into()], ..Default::default() };
        match s.set_destination_policy(&org, &bad).await {
            Err(StoreError::Invalid(why)) => assert!(why.contains("10.0.0.0/33"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.destination_policy(&org).await.expect("read"), policy, "nothing lost");
    }

    async fn migrations_apply_on_fresh_db(db) {
        // Connecting ran the migrations; every table is there and empty.
        for table in ["orgs", "users", "api_tokens", "mail_accounts", "folders", "messages",
                      "message_raw", "message_addresses", "message_locations", "mailbox_state",
                      "pipeline_runs", "crm_records", "crm_emails", "plugins", "plugin_versions",
                      "plugin_blobs", "plugin_kv", "plugin_events", "audit_log", "outbox"] {
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(db.store.pool()).await.expect(table);
            assert_eq!(n, 0, "{table}");
        }
        // Migrating again (a second start) is a no-op.
        let mut db = db;
        db.restart().await;
    }

    async fn org_and_users(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        assert!(matches!(s.create_org("acme").await, Err(StoreError::Conflict(_))));
        assert!(matches!(s.create_org("  ").await, Err(StoreError::Invalid(_))));
        let bob = s.create_user(&org, &NewUser {
            email: " Bob@Acme.Example ".into(), display_name: "Bob".into(), role: Role::User, licensed: true,
        }).await.expect("create bob");
        assert_eq!(bob.email, "bob@acme.example");
        let dup = s.create_user(&org, &NewUser {
            email: "BOB@acme.example".into(), display_name: "B".into(), role: Role::User, licensed: false,
        }).await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
        assert!(matches!(
            s.create_user(&org, &NewUser { email: "nope".into(), display_name: "x".into(), role: Role::User, licensed: true }).await,
            Err(StoreError::Invalid(_))
        ));
        let users = s.list_users(&org).await.expect("list");
        assert_eq!(users.len(), 2);
        assert_eq!(s.find_user_by_email(&org, "BOB@acme.example").await.expect("find").map(|u| u.id), Some(bob.id.clone()));

        // The last active admin cannot be demoted or deactivated.
        let r = s.update_user(&org, &admin, &UserUpdate { role: Some(Role::User), ..Default::default() }).await;
        assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
        assert_eq!(s.get_user(&org, &admin).await.expect("get").role, Role::Admin, "rolled back");
        let bob = s.update_user(&org, &bob.id, &UserUpdate { role: Some(Role::Admin), licensed: Some(false), ..Default::default() })
            .await.expect("promote");
        assert!(bob.role == Role::Admin && !bob.licensed);
        let admin_user = s.set_user_active(&org, &admin, false).await.expect("now allowed");
        assert!(!admin_user.active);

        // Another org sees none of it.
        let (other, _) = org_with_admin(s, "other").await;
        assert!(matches!(s.get_user(&other, &bob.id).await, Err(StoreError::NotFound(_))));
        assert!(s.find_user_by_email(&other, "bob@acme.example").await.expect("find").is_none());
        assert!(matches!(
            s.update_user(&other, &bob.id, &UserUpdate::default()).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(s.list_users(&other).await.expect("list").len(), 1);
        assert_eq!(s.list_orgs().await.expect("orgs").len(), 2);
    }

    async fn tokens_hash_only_and_revocation(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let t = s.create_token(&org, &admin, "laptop").await.expect("token");
        let plain = t.secret.expose().to_owned();
        assert!(plain.starts_with("mr_"));
        // The plaintext is nowhere in the table.
        let hashes: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
            .fetch_all(s.pool()).await.expect("hashes");
        assert!(hashes.iter().all(|h| !h.contains(&plain) && h.len() == 64));

        let ctx = s.authenticate(&plain).await.expect("auth").expect("valid");
        assert_eq!((ctx.org.clone(), ctx.user.clone(), ctx.role), (org.clone(), admin.clone(), Role::Admin));
        assert!(s.authenticate("mr_wrong").await.expect("auth").is_none());
        assert!(s.authenticate("").await.expect("auth").is_none());
        let listed = s.list_tokens(&org, &admin).await.expect("list");
        assert!(listed.iter().any(|i| i.id == t.info.id && i.last_used_at.is_some()));

        // Another org's admin cannot revoke it; a different user cannot either.
        let (other, other_admin) = org_with_admin(s, "other").await;
        assert!(matches!(s.revoke_token(&other, None, &t.info.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.revoke_token(&org, Some(&other_admin), &t.info.id).await, Err(StoreError::NotFound(_))));
        assert!(s.authenticate(&plain).await.expect("auth").is_some());
        s.revoke_token(&org, Some(&admin), &t.info.id).await.expect("revoke own");
        s.revoke_token(&org, None, &t.info.id).await.expect("revoke twice is fine");
        assert!(s.authenticate(&plain).await.expect("auth").is_none());

        // Deactivated users' tokens stop working.
        let bob = s.create_user(&org, &NewUser { email: "bob@x.example".into(), display_name: "Bob".into(), role: Role::User, licensed: true })
            .await.expect("bob");
        let bt = s.create_token(&org, &bob.id, "cli").await.expect("token");
        assert!(s.authenticate(bt.secret.expose()).await.expect("auth").is_some());
        s.set_user_active(&org, &bob.id, false).await.expect("deactivate");
        assert!(s.authenticate(bt.secret.expose()).await.expect("auth").is_none());
        assert!(matches!(s.create_token(&org, &bob.id, "again").await, Err(StoreError::Invalid(_))));
        // Reactivating does not bring back the tokens issued before.
        s.set_user_active(&org, &bob.id, true).await.expect("reactivate");
        assert!(s.authenticate(bt.secret.expose()).await.expect("auth").is_none());
        let listed = s.list_tokens(&org, &bob.id).await.expect("list");
        assert!(listed.iter().all(|t| t.revoked_at.is_some()), "{listed:?}");
        let fresh = s.create_token(&org, &bob.id, "after").await.expect("new token");
        assert!(s.authenticate(fresh.secret.expose()).await.expect("auth").is_some());
        assert!(matches!(s.create_token(&other, &bob.id, "x").await, Err(StoreError::NotFound(_))));
    }

    async fn restart_keeps_data_and_wrong_key_is_refused(db) {
        let mut db = db;
        let (org, admin) = org_with_admin(&db.store, "acme").await;
        let t = db.store.create_token(&org, &admin, "t").await.expect("token");
        db.restart().await;
        assert_eq!(db.store.get_org(&org).await.expect("org").name, "acme");
        assert!(db.store.authenticate(t.secret.expose()).await.expect("auth").is_some());

        let other_key = LoadedKey { key: SecretKey::generate(), source: "file /somewhere/secret.key".into() };
        let err = Store::connect(&db.url, other_key).await.expect_err("wrong key");
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Crypto(_)), "{msg}");
        assert!(msg.contains("/somewhere/secret.key") && msg.contains("original key"), "{msg}");
    }
}

#[tokio::test]
async fn open_creates_data_dir_key_and_sqlite_file() {
    let dir = testing::TempDir::new("mailroom-open").expect("dir");
    // Characters sqlx would otherwise read as URL syntax.
    let data = dir.path().join("da%20ta?#");
    let config = StoreConfig {
        data_dir: data.clone(),
        database_url: None,
    };
    let store = Store::open(&config).await.expect("open");
    assert_eq!(store.backend(), Backend::Sqlite);
    let (org, _) = org_with_admin(&store, "acme").await;
    // Owner-only, whatever the umask: the directory, the database and its
    // WAL and SHM files (present while the store is open).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |name: &str| {
            let path = if name.is_empty() {
                data.clone()
            } else {
                data.join(name)
            };
            std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(""), 0o700);
        for file in [
            SQLITE_FILE.to_owned(),
            format!("{SQLITE_FILE}-wal"),
            format!("{SQLITE_FILE}-shm"),
            secrets::KEY_FILE.to_owned(),
        ] {
            assert_eq!(mode(&file), 0o600, "{file}");
        }
    }
    store.close().await;
    assert!(data.join(secrets::KEY_FILE).exists());
    assert!(data.join(SQLITE_FILE).exists());
    let journal: String = {
        let store = Store::open(&config).await.expect("reopen");
        assert_eq!(store.get_org(&org).await.expect("org").name, "acme");
        sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .expect("pragma")
    };
    assert_eq!(journal.to_lowercase(), "wal");
    // A replaced key file is detected at start, not at first use.
    std::fs::remove_file(data.join(secrets::KEY_FILE)).expect("rm key");
    let err = Store::open(&config)
        .await
        .expect_err("new key must be refused");
    assert!(matches!(err, StoreError::Crypto(_)), "{err}");
}
