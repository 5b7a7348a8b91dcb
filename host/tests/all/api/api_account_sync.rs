//! Connecting an account over the API against a real Dovecot: the
//! connection test reports each step (and the server's words when the
//! password is wrong), "sync now" brings the mailbox into the store, and
//! the account's folders show their roles, which a manual mapping corrects.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::store::testing::TestDb;
use mailroom_test_servers::{Dovecot, Layout};
use serde_json::{Value, json};
use std::time::Duration;

async fn create_account(app: &App, token: &str, dovecot: &Dovecot, password: &str) -> String {
    let user = dovecot.user();
    let body = json!({
        "email": format!("{}@acme.example", user.name),
        "display_name": "Work",
        "provider_id": "generic",
        "incoming": { "host": "127.0.0.1", "port": dovecot.ports().imap, "security": "none" },
        "username": user.name,
        "credentials": { "password": password },
    });
    let created = app
        .json(Method::POST, "/v1/accounts", token, body)
        .await
        .ok(StatusCode::CREATED);
    created["id"].as_str().expect("account id").to_owned()
}

/// The entry of `body[list]` whose `key` is `value`.
fn entry<'a>(body: &'a Value, list: &str, key: &str, value: &str) -> &'a Value {
    body[list]
        .as_array()
        .and_then(|all| all.iter().find(|e| e[key] == value))
        .unwrap_or_else(|| panic!("no {key} {value} in {list} of {body}"))
}

fn step<'a>(report: &'a Value, name: &str) -> &'a Value {
    entry(report, "steps", "step", name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_test_reports_each_step_and_the_servers_words() {
    let db = TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    let dovecot = Dovecot::start(Layout::SpecialUse);

    let good = create_account(&app, &f.admin_a_token, &dovecot, &dovecot.user().password).await;
    let report = app
        .post(&format!("/v1/accounts/{good}/test"), &f.admin_a_token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(step(&report, "login")["status"], "ok", "{report}");

    let bad = create_account(&app, &f.admin_a_token, &dovecot, "not-the-password").await;
    let report = app
        .post(&format!("/v1/accounts/{bad}/test"), &f.admin_a_token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(report["ok"], false, "{report}");
    let login = step(&report, "login");
    assert_eq!(login["status"], "failed", "{report}");
    assert!(
        login.to_string().contains("AUTHENTICATIONFAILED"),
        "{report}"
    );
    assert!(
        !report.to_string().contains("not-the-password"),
        "the report leaks the password"
    );

    // Another org's admin cannot test this org's account.
    app.post(&format!("/v1/accounts/{good}/test"), &f.admin_b_token)
        .await
        .error(StatusCode::NOT_FOUND, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_brings_the_mailbox_into_the_store() {
    let db = TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    let dovecot = Dovecot::start(Layout::SpecialUse);
    let user = dovecot.user().name.clone();
    for n in 0..3 {
        let raw = format!(
            "From: Client {n} <client{n}@example.org>\r\nTo: {user}@acme.example\r\nSubject: synced {n}\r\n\
             Message-ID: <synced-{n}@example.org>\r\n\r\nHello {n}\r\n"
        );
        dovecot.seed(&user, "INBOX", raw.as_bytes());
    }
    let account = create_account(&app, &f.admin_a_token, &dovecot, &dovecot.user().password).await;

    let started = app
        .post(&format!("/v1/accounts/{account}/sync"), &f.admin_a_token)
        .await;
    started.ok(StatusCode::ACCEPTED);
    // The account's status says when the sync is over.
    let mut shown = Value::Null;
    for _ in 0..100 {
        shown = app
            .get(&format!("/v1/accounts/{account}"), &f.admin_a_token)
            .await
            .ok(StatusCode::OK);
        if shown["last_sync_at"].is_i64() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shown["last_sync_at"].is_i64(), "{shown}");
    assert_ne!(shown["status"], "syncing", "{shown}");
    let list = app
        .get(
            &format!("/v1/messages?account={account}&text=synced"),
            &f.admin_a_token,
        )
        .await;
    assert_eq!(
        list.ok(StatusCode::OK)["items"]
            .as_array()
            .map_or(0, Vec::len),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_commands_test_and_sync_from_the_command_line() {
    use mailroom::store::{AuthKind, Credentials, NewAccount, Protocol, Security, ServerSettings};
    use mailroom::store::{Sharing, Store, StoreConfig, StoreSent, secrets::Secret};

    let dovecot = Dovecot::start(Layout::SpecialUse);
    let user = dovecot.user().clone();
    dovecot.seed(
        &user.name,
        "INBOX",
        b"From: a@example.org\r\nSubject: cli synced\r\nMessage-ID: <cli@x>\r\n\r\nhi\r\n",
    );
    let dir = mailroom::store::testing::TempDir::new("mailroom-cli").expect("dir");
    let store = Store::open(&StoreConfig {
        data_dir: dir.path().to_owned(),
        database_url: None,
    })
    .await
    .expect("store");
    let (org, admin, _) =
        mailroom::store::testing::local_org(&store, "cli", "admin@cli.example", "Admin").await;
    let account = store
        .create_account(
            &org.id,
            &NewAccount {
                owner: admin.id.clone(),
                protocol: Protocol::Imap,
                provider_id: Some("generic".into()),
                display_name: "Work".into(),
                email: format!("{}@acme.example", user.name),
                incoming: ServerSettings {
                    host: "127.0.0.1".into(),
                    port: dovecot.ports().imap,
                    security: Security::None,
                },
                outgoing: None,
                same_credentials_for_outgoing: true,
                auth_kind: AuthKind::Password,
                username: Some(user.name.clone()),
                outgoing_username: None,
                credentials: Credentials {
                    password: Some(Secret::new(user.password.clone())),
                    ..Default::default()
                },
                tls_verify: true,
                from_addresses: vec![],
                default_from: None,
                sharing: Sharing::Private,
                shared_with: vec![],
                pop3_keep_on_server: true,
                store_sent: StoreSent::Auto,
            },
        )
        .await
        .expect("account");
    store.close().await;

    let run_with = |what: &str, more: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mailroom"))
            .args([
                "account",
                what,
                "--org",
                org.id.as_str(),
                account.id.as_str(),
            ])
            .args(more)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .expect("run mailroom")
    };
    let run = |what: &str| run_with(what, &[]);
    let test = run("test");
    let out = String::from_utf8_lossy(&test.stdout);
    assert!(
        test.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(out.contains("Login") && !out.contains("FAIL"), "{out}");

    let sync = run("sync");
    let out = String::from_utf8_lossy(&sync.stdout);
    assert!(
        sync.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&sync.stderr)
    );
    let store = Store::open(&StoreConfig {
        data_dir: dir.path().to_owned(),
        database_url: None,
    })
    .await
    .expect("store");
    let filter = mailroom::store::message_query::MessageFilter {
        text: Some("cli synced".into()),
        ..Default::default()
    };
    let page = store
        .list_messages(&org.id, &filter, None, Some(10))
        .await
        .expect("list");
    assert_eq!(page.items.len(), 1, "{out}");
    store.close().await;

    // The folders as synced, and a manual mapping set and taken back.
    let json = |out: &std::process::Output| -> Value {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    };
    let listed = json(&run("folders"));
    assert_eq!(listed["messages"], 1, "{listed}");
    assert_eq!(folder(&listed, "INBOX")["messages"], 1, "{listed}");
    assert_eq!(
        folder(&listed, "Archive")["role_source"],
        "server",
        "{listed}"
    );
    let mapped = json(&run_with("map-folder", &["Archive", "custom:Done"]));
    let archive = folder(&mapped, "Archive");
    assert_eq!(
        (&archive["role"], &archive["role_source"]),
        (&json!("custom:Done"), &json!("manual"))
    );
    let back = json(&run_with("map-folder", &["Archive", "--automatic"]));
    assert_eq!(folder(&back, "Archive")["role"], "archive", "{back}");
    let refused = run_with("map-folder", &["Archive", "bin"]);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("custom:NAME"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marking_read_over_the_api_reaches_the_server_and_the_queue_is_visible() {
    let db = TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    let dovecot = Dovecot::start(Layout::SpecialUse);
    let user = dovecot.user().name.clone();
    let uid = dovecot.seed(
        &user,
        "INBOX",
        b"From: c@example.org\r\nSubject: read over api\r\nMessage-ID: <api-read@x>\r\n\r\nhi\r\n",
    );
    let account = create_account(&app, &f.admin_a_token, &dovecot, &dovecot.user().password).await;
    let queue_url = format!("/v1/accounts/{account}/server-changes");
    let sync_and_wait = |expect_pending: i64| {
        let (app, token, queue_url, account) = (&app, &f.admin_a_token, &queue_url, &account);
        async move {
            app.post(&format!("/v1/accounts/{account}/sync"), token)
                .await
                .ok(StatusCode::ACCEPTED);
            for _ in 0..100 {
                let shown = app
                    .get(&format!("/v1/accounts/{account}"), token)
                    .await
                    .ok(StatusCode::OK);
                let queue = app.get(queue_url, token).await.ok(StatusCode::OK);
                if shown["last_sync_at"].is_i64()
                    && shown["status"] != "syncing"
                    && queue["pending"] == expect_pending
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("the sync did not finish with {expect_pending} pending");
        }
    };
    sync_and_wait(0).await;
    let list = app
        .get(
            &format!("/v1/messages?account={account}&text=read%20over%20api"),
            &f.admin_a_token,
        )
        .await
        .ok(StatusCode::OK);
    let id = list["items"][0]["id"]
        .as_str()
        .expect("message id")
        .to_owned();

    app.json(
        Method::PATCH,
        &format!("/v1/messages/{id}/state"),
        &f.admin_a_token,
        json!({"read": true}),
    )
    .await
    .ok(StatusCode::OK);
    let queue = app
        .get(&queue_url, &f.admin_a_token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        queue,
        json!({"pending": 1, "failed": 0, "last_error": null}),
        "queued with the change"
    );
    // Another org cannot see this account's queue.
    app.get(&queue_url, &f.admin_b_token)
        .await
        .error(StatusCode::NOT_FOUND, None);

    sync_and_wait(0).await;
    let flags = dovecot.flags(&user, "INBOX", uid);
    assert!(flags.iter().any(|f| f == "\\Seen"), "{flags:?}");
}

/// The folder of `name` in a `GET …/folders` answer.
fn folder<'a>(folders: &'a Value, name: &str) -> &'a Value {
    entry(folders, "folders", "name", name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_show_their_roles_and_a_manual_mapping_corrects_them() {
    let db = TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    app.state
        .registry
        .install(&f.org_a, wasm(mailroom_plugin_artifacts::PROVIDER_GENERIC))
        .await
        .expect("install the generic provider");
    let dovecot = Dovecot::start(Layout::NonStandard);
    let user = dovecot.user().name.clone();
    dovecot.seed(
        &user,
        "INBOX",
        b"Subject: one\r\nMessage-ID: <one@x>\r\n\r\n1\r\n",
    );
    dovecot.seed(
        &user,
        "INBOX",
        b"Subject: two\r\nMessage-ID: <two@x>\r\n\r\n2\r\n",
    );
    dovecot.seed(
        &user,
        "INBOX.Projects",
        b"Subject: three\r\nMessage-ID: <three@x>\r\n\r\n3\r\n",
    );
    let account = create_account(&app, &f.admin_a_token, &dovecot, &dovecot.user().password).await;
    let url = format!("/v1/accounts/{account}/folders");
    let mapping = format!("/v1/accounts/{account}/folders/mapping");
    let map = |role: Value| app.json(Method::PUT, &mapping, &f.admin_a_token, role);

    // Before the first sync nothing is known, and saying so is no error.
    let before = app.get(&url, &f.admin_a_token).await.ok(StatusCode::OK);
    assert_eq!(before["folders"], json!([]), "{before}");
    assert_eq!(before["messages"], 0);

    app.post(&format!("/v1/accounts/{account}/sync"), &f.admin_a_token)
        .await
        .ok(StatusCode::ACCEPTED);
    let mut listed = Value::Null;
    for _ in 0..100 {
        listed = app.get(&url, &f.admin_a_token).await.ok(StatusCode::OK);
        if listed["messages"] == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(listed["messages"], 3, "{listed}");
    assert_eq!(
        listed["folders"][0]["name"], "INBOX",
        "INBOX first: {listed}"
    );
    let inbox = folder(&listed, "INBOX");
    assert_eq!(
        (&inbox["role"], &inbox["role_source"], &inbox["messages"]),
        (&json!("inbox"), &json!("server"), &json!(2))
    );
    let sent = folder(&listed, "INBOX.Sent Items");
    assert_eq!(
        (&sent["role"], &sent["role_source"]),
        (&json!("sent"), &json!("provider")),
        "{sent}"
    );
    let projects = folder(&listed, "INBOX.Projects");
    assert_eq!(
        (
            &projects["role"],
            &projects["role_source"],
            &projects["messages"]
        ),
        (&Value::Null, &Value::Null, &json!(1))
    );

    // Mapped by hand: in effect at once, without another sync.
    let mapped = map(json!({ "folder": "INBOX.Projects", "role": "archive" }))
        .await
        .ok(StatusCode::OK);
    let projects = folder(&mapped, "INBOX.Projects");
    assert_eq!(
        (&projects["role"], &projects["role_source"]),
        (&json!("archive"), &json!("manual")),
        "{mapped}"
    );
    assert_eq!(
        mapped["manual_mapping"],
        json!({ "INBOX.Projects": "archive" })
    );
    // A manual role beats the provider's guess, and taking it back
    // restores that guess.
    let overridden = map(json!({ "folder": "INBOX.Sent Items", "role": "custom:Quotes" }))
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        folder(&overridden, "INBOX.Sent Items")["role"],
        "custom:Quotes"
    );
    let restored = map(json!({ "folder": "INBOX.Sent Items", "role": null }))
        .await
        .ok(StatusCode::OK);
    let sent = folder(&restored, "INBOX.Sent Items");
    assert_eq!(
        (&sent["role"], &sent["role_source"]),
        (&json!("sent"), &json!("provider")),
        "{restored}"
    );
    // A non-ASCII name is shown decoded, and either spelling maps it; the
    // mapping keeps the server's.
    let drafts = folder(&restored, "INBOX.Entw&APw-rfe");
    assert_eq!(drafts["display_name"], "INBOX.Entwürfe", "{drafts}");
    assert_eq!(drafts["role"], "drafts", "{drafts}");
    let by_display = map(json!({ "folder": "INBOX.Entwürfe", "role": "archive" }))
        .await
        .ok(StatusCode::OK);
    let drafts = folder(&by_display, "INBOX.Entw&APw-rfe");
    assert_eq!(
        (&drafts["role"], &drafts["role_source"]),
        (&json!("archive"), &json!("manual")),
        "{by_display}"
    );
    assert_eq!(
        by_display["manual_mapping"]["INBOX.Entw&APw-rfe"], "archive",
        "{by_display}"
    );
    // A folder the server does not have yet is remembered for later.
    let later = map(json!({ "folder": "INBOX.Later", "role": "spam" }))
        .await
        .ok(StatusCode::OK);
    assert_eq!(later["manual_mapping"]["INBOX.Later"], "spam", "{later}");

    // Bad input says what is allowed and changes nothing.
    let why = map(json!({ "folder": "INBOX.Projects", "role": "bin" }))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(
        why.contains("inbox") && why.contains("custom:NAME"),
        "{why}"
    );
    let unchanged = app.get(&url, &f.admin_a_token).await.ok(StatusCode::OK);
    assert_eq!(folder(&unchanged, "INBOX.Projects")["role"], "archive");

    // Tenants and roles: another org and a user the account is not shared
    // with cannot see it at all.
    for token in [&f.admin_b_token, &f.user_a_token] {
        app.get(&url, token)
            .await
            .error(StatusCode::NOT_FOUND, None);
        app.json(
            Method::PUT,
            &mapping,
            token,
            json!({ "folder": "INBOX", "role": "trash" }),
        )
        .await
        .error(StatusCode::NOT_FOUND, None);
    }
}
