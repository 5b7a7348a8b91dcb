//! `/healthz`, `/metrics` (who may scrape it, what it shows), `/openapi.json`,
//! and a restart: reopening the store keeps tokens, data and plugins.

use crate::common::*;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use mailroom::store::testing::TestDb;
use mailroom_plugin_artifacts as artifacts;
use serde_json::json;
use std::net::SocketAddr;

fn metrics_request(peer: Option<&str>, token: Option<&str>) -> Request<Body> {
    let mut request = Request::builder().uri("/metrics");
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let mut request = request.body(Body::empty()).expect("request");
    if let Some(peer) = peer {
        let addr: SocketAddr = peer.parse().expect("addr");
        request.extensions_mut().insert(ConnectInfo(addr));
    }
    request
}

#[tokio::test]
async fn health_openapi_and_metrics() {
    let db = TestDb::sqlite().await;
    let mut settings = test_settings();
    settings.metrics_token = Some("scrape-me".into());
    let app = App::with_settings(db.store.clone(), settings);
    let f = fixture(&app).await;

    let health = app
        .send(Method::GET, "/healthz", None, None, Vec::new())
        .await;
    let health = health.ok(StatusCode::OK);
    assert_eq!(health["status"], "ok", "{health}");
    // The fixture's message waits for the pipeline (no worker runs here),
    // but not for long: the pipeline is not behind.
    assert_eq!(health["pipeline"]["pending"], 1, "{health}");
    assert_eq!(health["pipeline"]["behind"], false, "{health}");
    assert_eq!(health["pipeline"]["stale_after_seconds"], 300, "{health}");

    let doc = app
        .send(Method::GET, "/openapi.json", None, None, Vec::new())
        .await
        .ok(StatusCode::OK);
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for path in [
        "/v1/accounts",
        "/v1/accounts/{id}",
        "/v1/plugins",
        "/v1/messages/{id}/raw",
        "/v1/contacts/import",
        "/healthz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    assert!(doc["components"]["schemas"]["Account"]["properties"]["has_password"].is_object());
    assert!(
        doc["components"]["schemas"]["Account"]["properties"]
            .get("password")
            .is_none()
    );
    // Every schema an operation refers to is in the document.
    for reference in doc.to_string().split("#/components/schemas/").skip(1) {
        let name: String = reference
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        assert!(
            doc["components"]["schemas"][&name].is_object(),
            "dangling schema reference {name}"
        );
    }

    // Some traffic, and a plugin call, to show up in the metrics.
    app.get("/v1/me", &f.admin_a_token).await.ok(StatusCode::OK);
    app.upload_plugin(&f.admin_a_token, wasm(artifacts::PROVIDER_GENERIC))
        .await
        .ok(StatusCode::CREATED);
    app.get("/v1/providers", &f.admin_a_token)
        .await
        .ok(StatusCode::OK);
    app.get(&format!("/v1/accounts/{}", f.account_a), &f.admin_a_token)
        .await
        .ok(StatusCode::OK);

    let loopback = app
        .call(metrics_request(Some("127.0.0.1:50000"), None))
        .await;
    assert_eq!(loopback.status, StatusCode::OK, "{}", loopback.text());
    assert!(
        loopback.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain")
    );
    let text = loopback.text();
    assert!(
        text.contains(
            "mailroom_http_requests_total{method=\"GET\",route=\"/v1/me\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "mailroom_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/me\""
        ),
        "{text}"
    );
    let plugin_calls = format!(
        "mailroom_plugin_calls_total{{org=\"{}\",plugin=\"provider-generic\",version=\"{}\"}} 1",
        f.org_a,
        artifacts::BUNDLED
            .iter()
            .find(|b| b.package == "provider-generic")
            .map(|b| b.version)
            .expect("bundled")
    );
    assert!(text.contains(&plugin_calls), "{text}");
    // Concrete ids never become labels: one series per route template.
    assert!(text.contains("route=\"/v1/accounts/{id}\""), "{text}");
    assert!(!text.contains(f.account_a.as_str()), "{text}");

    let remote = "203.0.113.9:40000";
    app.call(metrics_request(Some(remote), None))
        .await
        .error(StatusCode::UNAUTHORIZED, Some("unauthorized"));
    app.call(metrics_request(Some(remote), Some("wrong")))
        .await
        .error(StatusCode::UNAUTHORIZED, Some("unauthorized"));
    // An org admin's API token is no key to other orgs' metrics.
    app.call(metrics_request(Some(remote), Some(&f.admin_a_token)))
        .await
        .error(StatusCode::UNAUTHORIZED, Some("unauthorized"));
    assert_eq!(
        app.call(metrics_request(Some(remote), Some("scrape-me")))
            .await
            .status,
        StatusCode::OK
    );

    // Without a configured token, only loopback may scrape.
    let closed = App::new(db.store.clone());
    closed
        .call(metrics_request(Some(remote), None))
        .await
        .error(StatusCode::FORBIDDEN, Some("forbidden"));
    closed
        .call(metrics_request(None, None))
        .await
        .error(StatusCode::FORBIDDEN, Some("forbidden"));
}

mailroom_store::both_backends! {
    async fn a_restart_keeps_tokens_data_and_plugins(db) {
        let mut db = db;
        let app = app_on(&db).await;
        let f = fixture(&app).await;
        let t = f.admin_a_token.clone();
        let mut body = account_json("kept@a.example");
        body["credentials"] = json!({"password": "kept-password"});
        let account = app.json(Method::POST, "/v1/accounts", &t, body).await.ok(StatusCode::CREATED);
        let created = app.json(Method::POST, "/v1/tokens", &t, json!({"name": "second"})).await.ok(StatusCode::CREATED);
        let second = created["token"].as_str().expect("token").to_owned();
        app.json(Method::PUT, &format!("/v1/plugins/{}/config", f.plugin_a), &t, json!({"probe": "remembered"})).await.ok(StatusCode::OK);
        let before = [
            app.get("/v1/accounts", &t).await.ok(StatusCode::OK),
            app.get("/v1/contacts", &t).await.ok(StatusCode::OK),
            app.get("/v1/messages", &t).await.ok(StatusCode::OK),
        ];
        drop(app);

        db.restart().await;
        let app = app_on(&db).await;
        for token in [&t, &second, &f.user_a_token] {
            app.get("/v1/me", token).await.ok(StatusCode::OK);
        }
        let after = [
            app.get("/v1/accounts", &t).await.ok(StatusCode::OK),
            app.get("/v1/contacts", &t).await.ok(StatusCode::OK),
            app.get("/v1/messages", &t).await.ok(StatusCode::OK),
        ];
        assert_eq!(before, after);
        assert_eq!(after[0].as_array().map(Vec::len), Some(2));
        assert_eq!(account["has_password"], true);
        let plugin = app.get(&format!("/v1/plugins/{}", f.plugin_a), &t).await.ok(StatusCode::OK);
        assert_eq!(plugin["config"], json!({"probe": "remembered"}));
        let raw = app.get(&format!("/v1/messages/{}/raw", f.message_a), &t).await;
        assert_eq!(&raw.body[..], SAMPLE);
    }
}
