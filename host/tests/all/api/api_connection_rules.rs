//! Where an account may connect, and how: a login goes in plain text
//! (`security: none`) to this machine only, refused when the account is
//! created or changed, and again at connect time for IMAP, POP3 and the
//! connection test (for an account stored before the rule).

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::ids::AccountId;
use mailroom::net::NetError;
use mailroom::store::testing::TestDb;
use mailroom::sync::diagnose::{Step, StepStatus, test_account};
use mailroom::sync::{NoDiagnoser, NoFolderMapper, SyncError, SyncOptions, sync_account_with};
use serde_json::json;

fn account_body(protocol: &str, host: &str, port: u16, security: &str) -> serde_json::Value {
    json!({
        "email": "ann@acme.example",
        "protocol": protocol,
        "provider_id": "generic",
        "incoming": { "host": host, "port": port, "security": security },
        "username": "ann",
        "credentials": { "password": "secret" },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_text_to_a_remote_host_is_refused_at_creation_and_change() {
    let db = TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    for protocol in ["imap", "pop3"] {
        let err = app
            .json(
                Method::POST,
                "/v1/accounts",
                &f.admin_a_token,
                account_body(protocol, "mail.example.com", 143, "none"),
            )
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, None);
        assert!(
            err.contains("plain text to mail.example.com"),
            "{protocol}: {err}"
        );
        assert!(err.contains("starttls"), "{protocol}: {err}");
    }
    // This machine is fine, and a change to a remote host is refused.
    let created = app
        .json(
            Method::POST,
            "/v1/accounts",
            &f.admin_a_token,
            account_body("imap", "127.0.0.1", 143, "none"),
        )
        .await
        .ok(StatusCode::CREATED);
    let id = created["id"].as_str().expect("id");
    let err = app
        .json(
            Method::PATCH,
            &format!("/v1/accounts/{id}"),
            &f.admin_a_token,
            json!({"incoming": {"host": "10.1.2.3", "port": 143, "security": "none"}}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(err.contains("plain text to 10.1.2.3"), "{err}");
    let created = app
        .json(
            Method::POST,
            "/v1/accounts",
            &f.admin_a_token,
            account_body("imap", "mail.example.com", 143, "starttls"),
        )
        .await;
    created.ok(StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_plain_text_account_to_a_remote_host_never_connects() {
    let db = TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    for protocol in ["imap", "pop3"] {
        let created = app
            .json(
                Method::POST,
                "/v1/accounts",
                &f.admin_a_token,
                account_body(protocol, "127.0.0.1", 110, "none"),
            )
            .await
            .ok(StatusCode::CREATED);
        let id = AccountId(created["id"].as_str().expect("id").to_owned());
        // Stored before the rule existed (TEST-NET-1: nothing answers there,
        // and the refusal comes before any packet is sent).
        sqlx::query("UPDATE mail_accounts SET incoming_host = '192.0.2.10' WHERE id = $1")
            .bind(id.as_str())
            .execute(db.store.pool())
            .await
            .expect("update");
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
        assert!(
            matches!(&err, SyncError::Net(NetError::Tls { .. }))
                && err.to_string().contains("plain text"),
            "{protocol}: {err:?}"
        );
        let report = test_account(&db.store, &f.org_a, &id, &NoDiagnoser, Default::default())
            .await
            .expect("report");
        assert!(!report.ok);
        let tls = report.step(Step::Tls).expect("tls step");
        assert_eq!(tls.status, StepStatus::Failed, "{protocol}: {report:#?}");
        assert!(tls.detail.contains("plain text"), "{}", tls.detail);
        let tcp = report.step(Step::Tcp).expect("tcp step");
        assert_eq!(
            tcp.status,
            StepStatus::Skipped,
            "no connection was made: {report:#?}"
        );
    }
}

/// The connection test runs under short per-step deadlines (the
/// `[connection_test]` settings: greeting 5 s by default), so a port that
/// accepts and says nothing is reported in seconds, not after the minute
/// sync would wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_port_is_reported_within_the_short_step_deadline() {
    let db = TestDb::sqlite().await;
    let app = App::new(db.store.clone());
    let f = fixture(&app).await;
    let silent = mailroom_test_servers::SilentServer::start();
    let created = app
        .json(
            Method::POST,
            "/v1/accounts",
            &f.user_a_token,
            account_body("imap", "127.0.0.1", silent.port(), "none"),
        )
        .await
        .ok(StatusCode::CREATED);
    let id = created["id"].as_str().expect("id");
    let started = std::time::Instant::now();
    let report = app
        .json(
            Method::POST,
            &format!("/v1/accounts/{id}/test"),
            &f.user_a_token,
            json!({}),
        )
        .await
        .ok(StatusCode::OK);
    let took = started.elapsed();
    let greeting = report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["step"] == "greeting")
        .expect("greeting step");
    assert_eq!(greeting["status"], "failed", "{report:#}");
    assert_eq!(greeting["error_kind"], "timeout", "{report:#}");
    assert!(
        greeting["detail"]
            .as_str()
            .unwrap_or("")
            .contains("within 5 s"),
        "{greeting:#}"
    );
    assert!(
        took < std::time::Duration::from_secs(9),
        "answered in {took:?}, the greeting deadline being 5 s"
    );
}
