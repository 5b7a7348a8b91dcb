//! A sync lease left behind by a process that died: `kill -9` of a
//! command-line sync mid-sync, and a server restarted with the identity of
//! the one that crashed. The account syncs again within about a minute (at
//! once for the server's own leases), and meanwhile the API says whose
//! lease it waits for and until when.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::ids::AccountId;
use mailroom::store::testing::TempDir;
use mailroom::store::{AccountLease, Store, StoreConfig};
use mailroom_test_servers::{Dovecot, Layout, SilentServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn account_on_port(app: &App, token: &str, dovecot: &Dovecot, port: u16) -> String {
    let user = dovecot.user();
    let body = json!({
        "email": format!("{}@acme.example", user.name),
        "display_name": "Work",
        "provider_id": "generic",
        "incoming": { "host": "127.0.0.1", "port": port, "security": "none" },
        "username": user.name,
        "credentials": { "password": user.password },
    });
    let created = app
        .json(Method::POST, "/v1/accounts", token, body)
        .await
        .ok(StatusCode::CREATED);
    created["id"].as_str().expect("account id").to_owned()
}

async fn point_at(store: &Store, account: &str, port: u16) {
    sqlx::query("UPDATE mail_accounts SET incoming_port = $1 WHERE id = $2")
        .bind(i64::from(port))
        .bind(account)
        .execute(store.pool())
        .await
        .expect("repoint the account");
}

/// Polls the account until a sync finished; panics after `deadline`.
async fn synced_by(app: &App, token: &str, account: &str, deadline: Instant) -> Value {
    loop {
        let shown = app
            .get(&format!("/v1/accounts/{account}"), token)
            .await
            .ok(StatusCode::OK);
        if shown["last_sync_at"].is_i64() {
            return shown;
        }
        assert!(Instant::now() < deadline, "no sync in time: {shown}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sync_holds_the_account_a_minute_at_most_and_the_api_says_why() {
    let dir = TempDir::new("mailroom-lease").expect("dir");
    let store = Store::open(&StoreConfig {
        data_dir: dir.path().to_owned(),
        database_url: None,
    })
    .await
    .expect("store");
    let app = App::new(store.clone());
    let f = fixture(&app).await;
    let dovecot = Dovecot::start(Layout::SpecialUse);
    let user = dovecot.user().name.clone();
    dovecot.seed(
        &user,
        "INBOX",
        b"From: a@example.org\r\nSubject: after the crash\r\nMessage-ID: <crash@x>\r\n\r\nhi\r\n",
    );
    // A server that accepts and never greets: the command-line sync takes
    // the lease, then waits there until it is killed.
    let silent = SilentServer::start();
    let account = account_on_port(&app, &f.admin_a_token, &dovecot, silent.port()).await;
    let id = AccountId(account.clone());
    let mut cli = std::process::Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(["account", "sync", "--org", f.org_a.as_str(), &account])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run mailroom account sync");
    let started = Instant::now();
    let holder = loop {
        if let Some(lease) = store
            .account_lease(&f.org_a, &id, AccountLease::Sync)
            .await
            .expect("lease")
        {
            break lease;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the command never took the lease"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(holder.node, format!("cli-{}", cli.id()));
    cli.kill().expect("kill -9"); // SIGKILL: no chance to give the lease back
    cli.wait().expect("reap");
    let killed = Instant::now();
    point_at(&store, &account, dovecot.ports().imap).await;

    let answer = app
        .post(&format!("/v1/accounts/{account}/sync"), &f.admin_a_token)
        .await
        .ok(StatusCode::ACCEPTED);
    let waiting = &answer["waiting_for_lease"];
    assert_eq!(waiting["node"], holder.node.as_str(), "{answer}");
    let until = waiting["until"].as_i64().expect("until");
    let now = mailroom::store::now_ms();
    assert!(
        until > now && until <= now + 61_000,
        "a short lease, lapsing within a minute: {answer}"
    );
    let shown = app
        .get(&format!("/v1/accounts/{account}"), &f.admin_a_token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(shown["sync_lease"]["node"], holder.node.as_str(), "{shown}");

    let shown = synced_by(
        &app,
        &f.admin_a_token,
        &account,
        killed + Duration::from_secs(90),
    )
    .await;
    eprintln!("synced {:?} after the kill", killed.elapsed());
    assert!(shown["sync_lease"].is_null(), "{shown}");
    let list = app
        .get(
            &format!("/v1/messages?account={account}&text=crash"),
            &f.admin_a_token,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(list["items"].as_array().map_or(0, Vec::len), 1, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_gives_back_its_own_leases_at_once() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    let dovecot = Dovecot::start(Layout::SpecialUse);
    let account = account_on_port(&app, &f.admin_a_token, &dovecot, dovecot.ports().imap).await;
    let id = AccountId(account.clone());
    // What the crashed run left: its lease, good for a long while yet.
    assert!(
        db.store
            .try_lease_account(
                &f.org_a,
                &id,
                AccountLease::Sync,
                "server-crashed",
                15 * 60_000
            )
            .await
            .expect("lease")
    );
    let other = app.state.clone().with_node_identity("server-other".into());
    assert_eq!(
        other.sync.recover().await.expect("recover"),
        0,
        "not its lease"
    );
    let restarted = app
        .state
        .clone()
        .with_node_identity("server-crashed".into());
    assert_eq!(restarted.sync.recover().await.expect("recover"), 1);
    let app = App {
        router: mailroom::api::router(restarted.clone()),
        state: restarted,
    };
    let started = Instant::now();
    let answer = app
        .post(&format!("/v1/accounts/{account}/sync"), &f.admin_a_token)
        .await
        .ok(StatusCode::ACCEPTED);
    assert!(answer["waiting_for_lease"].is_null(), "{answer}");
    synced_by(
        &app,
        &f.admin_a_token,
        &account,
        started + Duration::from_secs(20),
    )
    .await;
}
