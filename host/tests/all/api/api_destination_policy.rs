//! The org's destination policy: by default accounts (admins' too) reach
//! public addresses on mail ports only; loopback, private, link-local and
//! the other non-public ranges are refused with the host, the address and
//! what an admin can do, at creation, change and connect time (after DNS,
//! so a name resolving to loopback is caught too), until an admin allows
//! them. And the plain-text exception: `security: none` to a named private
//! host, off by default, with a warning on the account.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::ids::AccountId;
use mailroom::store::testing::TestDb;
use mailroom::sync::diagnose::{Step, StepStatus, test_account};
use mailroom::sync::{NoDiagnoser, NoFolderMapper, SyncErrorKind, SyncOptions, sync_account_with};
use mailroom_test_servers::closed_port;
use serde_json::{Value, json};

const POLICY: &str = "/v1/org/destination-policy";

fn account(host: &str, port: u16, security: &str) -> Value {
    json!({
        "email": "ann@acme.example",
        "protocol": "imap",
        "provider_id": "generic",
        "incoming": { "host": host, "port": port, "security": security },
        "username": "ann",
        "credentials": { "password": "secret" },
    })
}

async fn set_policy(app: &App, token: &str, policy: Value) -> Value {
    app.json(Method::PUT, POLICY, token, policy)
        .await
        .ok(StatusCode::OK)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_public_destinations_are_refused_until_an_admin_allows_them() {
    let db = TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    // The test fixture opened loopback; back to the default.
    set_policy(&app, &f.admin_a_token, json!({})).await;
    let read = app.get(POLICY, &f.admin_a_token).await.ok(StatusCode::OK);
    assert_eq!(
        read,
        json!({"allowed_hosts": [], "extra_ports": [], "plain_text_hosts": []})
    );
    // Admins only, to read and to change.
    app.get(POLICY, &f.user_a_token)
        .await
        .error(StatusCode::FORBIDDEN, None);
    app.json(Method::PUT, POLICY, &f.user_a_token, json!({}))
        .await
        .error(StatusCode::FORBIDDEN, None);

    for (host, why) in [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("169.254.169.254", "link-local"),
        ("[::1]", "loopback"),
        ("localhost", "loopback"),
    ] {
        // Users and admins alike.
        for token in [&f.user_a_token, &f.admin_a_token] {
            let err = app
                .json(
                    Method::POST,
                    "/v1/accounts",
                    token,
                    account(host, 993, "tls"),
                )
                .await
                .error(StatusCode::UNPROCESSABLE_ENTITY, None);
            assert!(
                err.contains(host) && err.contains(why) && err.contains("allowed_hosts"),
                "{host}: {err}"
            );
        }
    }

    // A name that resolves to loopback passes the creation check (nothing
    // to tell before DNS) and is refused after the lookup, at connect time.
    set_policy(
        &app,
        &f.admin_a_token,
        json!({"allowed_hosts": ["localhost"]}),
    )
    .await;
    let closed = closed_port();
    let created = app
        .json(
            Method::POST,
            "/v1/accounts",
            &f.user_a_token,
            account("localhost", closed.port(), "none"),
        )
        .await
        .ok(StatusCode::CREATED);
    let id = AccountId(created["id"].as_str().expect("id").to_owned());
    set_policy(
        &app,
        &f.admin_a_token,
        json!({"allowed_hosts": ["localhost.example"]}),
    )
    .await;
    let report = test_account(&db.store, &f.org_a, &id, &NoDiagnoser, Default::default())
        .await
        .expect("report");
    let dns = report.step(Step::Dns).expect("dns step");
    assert_eq!(dns.status, StepStatus::Failed, "{report:#?}");
    assert_eq!(dns.error_kind, Some(SyncErrorKind::NotAllowed));
    assert!(
        dns.detail.contains("localhost resolved to")
            && dns.detail.contains("loopback")
            && dns.detail.contains("allowed_hosts"),
        "{}",
        dns.detail
    );
    assert_eq!(
        report.step(Step::Tcp).expect("tcp").status,
        StepStatus::Skipped,
        "no connection was made"
    );
    let err = sync_account_with(
        &db.store,
        &f.org_a,
        &id,
        &NoFolderMapper,
        &SyncOptions::default(),
        |_| {},
    )
    .await
    .expect_err("refused");
    assert_eq!(err.kind(), SyncErrorKind::NotAllowed, "{err}");

    // Allowed by address: the connection is made (and the closed port
    // answers as a closed port).
    set_policy(
        &app,
        &f.admin_a_token,
        json!({"allowed_hosts": ["127.0.0.0/8", "::1"]}),
    )
    .await;
    let report = app
        .json(
            Method::POST,
            &format!("/v1/accounts/{}/test", id.as_str()),
            &f.user_a_token,
            json!({}),
        )
        .await
        .ok(StatusCode::OK);
    let tcp = &report["steps"][1];
    assert_eq!(
        (&tcp["step"], &tcp["status"]),
        (&json!("tcp"), &json!("failed")),
        "{report:#}"
    );
    assert!(
        tcp["detail"].as_str().unwrap_or("").contains("refused"),
        "{report:#}"
    );
    app.json(
        Method::POST,
        "/v1/accounts",
        &f.user_a_token,
        account("127.0.0.1", closed.port(), "none"),
    )
    .await
    .ok(StatusCode::CREATED);
    // A change to a refused destination is refused too.
    let err = app
        .json(
            Method::PATCH,
            &format!("/v1/accounts/{}", id.as_str()),
            &f.user_a_token,
            json!({"incoming": {"host": "192.168.1.5", "port": 993, "security": "tls"}}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(
        err.contains("192.168.1.5") && err.contains("private"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ports_outside_the_mail_ports_are_refused_unless_listed() {
    let db = TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    set_policy(&app, &f.admin_a_token, json!({})).await;
    for host in ["mail.example.com", "93.184.215.14"] {
        let err = app
            .json(
                Method::POST,
                "/v1/accounts",
                &f.user_a_token,
                account(host, 8080, "tls"),
            )
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, None);
        assert!(
            err.contains("port 8080") && err.contains("extra_ports"),
            "{host}: {err}"
        );
        app.json(
            Method::POST,
            "/v1/accounts",
            &f.user_a_token,
            account(host, 993, "tls"),
        )
        .await
        .ok(StatusCode::CREATED);
    }
    set_policy(&app, &f.admin_a_token, json!({"extra_ports": [8080]})).await;
    app.json(
        Method::POST,
        "/v1/accounts",
        &f.user_a_token,
        account("mail.example.com", 8080, "tls"),
    )
    .await
    .ok(StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_that_cannot_apply_is_refused_and_nothing_changes() {
    let db = TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    let before = app.get(POLICY, &f.admin_a_token).await.ok(StatusCode::OK);
    for (bad, names) in [
        (json!({"allowed_hosts": ["10.0.0.0/33"]}), "10.0.0.0/33"),
        (json!({"allowed_hosts": ["not a host"]}), "not a host"),
        (json!({"plain_text_hosts": ["10.0.0.0/8"]}), "10.0.0.0/8"),
        (json!({"extra_ports": [0]}), "extra_ports"),
        (json!({"allowed": ["10.0.0.1"]}), "allowed"),
    ] {
        let err = app
            .json(Method::PUT, POLICY, &f.admin_a_token, bad)
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, None);
        assert!(err.contains(names), "{err}");
    }
    assert_eq!(
        app.get(POLICY, &f.admin_a_token).await.ok(StatusCode::OK),
        before
    );
    // Each org its own.
    set_policy(&app, &f.admin_a_token, json!({"extra_ports": [2525]})).await;
    let other = app.get(POLICY, &f.admin_b_token).await.ok(StatusCode::OK);
    assert_eq!(other["extra_ports"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_text_to_a_named_private_host_is_an_exception_with_a_warning() {
    let db = TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    set_policy(
        &app,
        &f.admin_a_token,
        json!({"allowed_hosts": ["10.1.2.3", "93.184.215.14"]}),
    )
    .await;
    // Off by default, for admins too.
    let err = app
        .json(
            Method::POST,
            "/v1/accounts",
            &f.admin_a_token,
            account("10.1.2.3", 143, "none"),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(
        err.contains("plain text") && err.contains("plain_text_hosts"),
        "{err}"
    );
    set_policy(
        &app,
        &f.admin_a_token,
        json!({"allowed_hosts": ["10.1.2.3", "93.184.215.14", "127.0.0.1"],
               "plain_text_hosts": ["10.1.2.3", "93.184.215.14"]}),
    )
    .await;
    let created = app
        .json(
            Method::POST,
            "/v1/accounts",
            &f.user_a_token,
            account("10.1.2.3", 143, "none"),
        )
        .await
        .ok(StatusCode::CREATED);
    let warnings = created["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{created:#}");
    let warning = warnings[0].as_str().unwrap_or("");
    assert!(
        warning.contains("10.1.2.3:143") && warning.contains("plain text"),
        "{warning}"
    );
    let id = created["id"].as_str().expect("id");
    let read = app
        .get(&format!("/v1/accounts/{id}"), &f.user_a_token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(read["warnings"], created["warnings"]);
    // A public address is never a plain-text exception, listed or not.
    let err = app
        .json(
            Method::POST,
            "/v1/accounts",
            &f.user_a_token,
            account("93.184.215.14", 143, "none"),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(err.contains("plain text"), "{err}");
    // This machine needs no exception and carries no warning.
    let local = app
        .json(
            Method::POST,
            "/v1/accounts",
            &f.user_a_token,
            account("127.0.0.1", 143, "none"),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(local["warnings"], json!([]));
}
