//! Who may do what: only admins register OAuth clients, the secret never
//! comes back, plain-HTTP endpoints need an explicit opt-in, accounts of
//! another org are 404, and an account must be set up for OAuth2 first.

use super::support::{PROVIDER, REDIRECT_URI};
use crate::common::{App, app_on, fixture};
use axum::http::{Method, StatusCode};
use mailroom::store::testing::TestDb;
use serde_json::json;

fn client() -> serde_json::Value {
    json!({
        "client_id": "mailroom-app",
        "client_secret": "very-secret-client-secret",
        "redirect_uri": "https://mail.acme.example/v1/oauth/callback",
        "authorization_url": "https://idp.acme.example/authorize",
        "token_url": "https://idp.acme.example/token",
        "scopes": ["mail"],
    })
}

async fn put_client(app: &App, token: &str, body: serde_json::Value) -> crate::common::Resp {
    app.json(
        Method::PUT,
        &format!("/v1/oauth/clients/{PROVIDER}"),
        token,
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_register_clients_and_secrets_stay_inside() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let refused = put_client(&app, &f.user_a_token, client()).await;
    refused.error(StatusCode::FORBIDDEN, Some("forbidden"));
    app.get("/v1/oauth/clients", &f.user_a_token)
        .await
        .error(StatusCode::FORBIDDEN, None);

    let stored = put_client(&app, &f.admin_a_token, client()).await;
    let body = stored.ok(StatusCode::OK);
    assert_eq!(body["has_client_secret"], true);
    assert!(!stored.text().contains("very-secret-client-secret"));
    let listed = app.get("/v1/oauth/clients", &f.admin_a_token).await;
    assert_eq!(listed.ok(StatusCode::OK).as_array().map(Vec::len), Some(1));
    assert!(!listed.text().contains("very-secret-client-secret"));
    assert!(!crate::common::logs().contains("very-secret-client-secret"));

    // The other org sees none of it.
    let other = app.get("/v1/oauth/clients", &f.admin_b_token).await;
    assert_eq!(other.ok(StatusCode::OK), json!([]));
    app.delete(&format!("/v1/oauth/clients/{PROVIDER}"), &f.admin_b_token)
        .await
        .error(StatusCode::NOT_FOUND, None);
    app.post(
        &format!("/v1/accounts/{}/oauth/authorize", f.account_a),
        &f.admin_b_token,
    )
    .await
    .error(StatusCode::NOT_FOUND, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_endpoints_need_an_explicit_opt_in() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let mut body = client();
    body["token_url"] = json!("http://127.0.0.1:9/token");
    let refused = put_client(&app, &f.admin_a_token, body.clone()).await;
    let message = refused.error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(message.contains("allow_insecure_http"), "{message}");
    body["allow_insecure_http"] = json!(true);
    body["redirect_uri"] = json!(REDIRECT_URI);
    put_client(&app, &f.admin_a_token, body)
        .await
        .ok(StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorizing_needs_an_oauth2_account_and_a_registered_client() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let path = format!("/v1/accounts/{}/oauth/authorize", f.account_a);
    // The fixture's account logs in with a password.
    let message = app
        .post(&path, &f.admin_a_token)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(message.contains("auth_kind to oauth2"), "{message}");
    app.json(
        Method::PATCH,
        &format!("/v1/accounts/{}", f.account_a),
        &f.admin_a_token,
        json!({ "auth_kind": "oauth2", "provider_id": PROVIDER }),
    )
    .await
    .ok(StatusCode::OK);
    let message = app
        .post(&path, &f.admin_a_token)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(
        message.contains("PUT /v1/oauth/clients/corp-idp"),
        "{message}"
    );
    put_client(&app, &f.admin_a_token, client())
        .await
        .ok(StatusCode::OK);
    let started = app.post(&path, &f.admin_a_token).await.ok(StatusCode::OK);
    let url = started["authorization_url"].as_str().expect("url");
    assert!(
        url.starts_with("https://idp.acme.example/authorize?"),
        "{url}"
    );
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("state="),
        "{url}"
    );
    assert!(
        url.contains("access_type=offline") && url.contains("prompt=consent"),
        "a refresh token is asked for also where it takes more than the code flow: {url}"
    );
    // A user who neither owns the account nor administers the org: 404.
    app.post(&path, &f.user_a_token)
        .await
        .error(StatusCode::NOT_FOUND, None);
}
