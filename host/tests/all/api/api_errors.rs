//! Bad requests get a clear 4xx in the one error shape: malformed JSON, wrong
//! types, unknown or missing fields, wrong content types, oversized bodies,
//! unknown routes and methods. Secrets never appear in responses or logs.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::store::testing::TestDb;
use serde_json::json;

#[tokio::test]
async fn malformed_bodies_get_clear_4xx_in_the_error_shape() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let t = f.admin_a_token.as_str();
    let send = |body: &'static str, ct: Option<&'static str>| {
        app.send(
            Method::POST,
            "/v1/contacts",
            Some(t),
            ct,
            body.as_bytes().to_vec(),
        )
    };

    let m = send("{\"name\": ", Some("application/json"))
        .await
        .error(StatusCode::BAD_REQUEST, Some("malformed_json"));
    assert!(m.contains("EOF") || m.contains("line 1"), "{m}");
    let m = send("{\"name\": 42}", Some("application/json"))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"));
    assert!(m.contains("invalid type"), "{m}");
    let m = send(
        "{\"name\": \"A\", \"nickname\": \"x\"}",
        Some("application/json"),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"));
    assert!(m.contains("unknown field `nickname`"), "{m}");
    let m = send("{}", Some("application/json"))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"));
    assert!(m.contains("missing field `name`"), "{m}");
    let m = send("{\"name\": \"A\"}", None).await.error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Some("unsupported_media_type"),
    );
    assert!(m.contains("application/json"), "{m}");
    send("{\"name\": \"A\"}", Some("text/plain")).await.error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Some("unsupported_media_type"),
    );
    // Valid JSON that breaks a rule of the data model.
    let m = send("{\"name\": \"   \"}", Some("application/json"))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    assert!(m.contains("name"), "{m}");

    // Bigger than the JSON limit (1 MiB by default).
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(2 << 20));
    app.send(
        Method::POST,
        "/v1/contacts",
        Some(t),
        Some("application/json"),
        big.into_bytes(),
    )
    .await
    .error(StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"));
    // The upload route takes more, but only up to its own limit (4 MiB here).
    app.upload_plugin(t, vec![0u8; 5 << 20])
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"));
    // Wrong kinds of values in the path and query.
    app.get("/v1/messages?limit=lots", t)
        .await
        .error(StatusCode::BAD_REQUEST, Some("bad_request"));
    let m = app
        .get("/v1/messages?colour=red", t)
        .await
        .error(StatusCode::BAD_REQUEST, Some("bad_request"));
    assert!(m.contains("colour"), "{m}");
    app.get("/v1/messages?cursor=not-a-cursor", t)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    app.json(
        Method::PUT,
        &format!("/v1/plugins/{}/position", f.plugin_a),
        t,
        json!({"position": "first"}),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"));
    // Unknown routes and methods answer in the same shape.
    app.get("/v1/nothing-here", t)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));
    app.send(Method::PUT, "/v1/me", Some(t), None, Vec::new())
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"));
    // Conflicts.
    app.json(
        Method::POST,
        "/v1/users",
        t,
        json!({"email": "user@a.example"}),
    )
    .await
    .error(StatusCode::CONFLICT, Some("conflict"));
}

mailroom_store::both_backends! {
    async fn secrets_never_appear_in_responses_or_logs(db) {
        let app = app_on(&db).await;
        let f = fixture(&app).await;
        let t = f.admin_a_token.as_str();
        let unique = hex::encode(rand::random::<[u8; 6]>());
        let password = format!("Pw-{unique}-incoming");
        let outgoing = format!("Pw-{unique}-outgoing");
        let oauth = format!("Rt-{unique}-oauth");
        let mut body = account_json("secret@a.example");
        body["credentials"] = json!({"password": password, "outgoing_password": outgoing, "oauth_refresh_token": oauth});
        let created = app.json(Method::POST, "/v1/accounts", t, body).await;
        let account = created.ok(StatusCode::CREATED);
        assert_eq!(account["has_password"], true);
        assert_eq!(account["has_outgoing_password"], true);
        let id = account["id"].as_str().expect("id").to_owned();
        let mut seen = vec![created.text()];
        seen.push(app.get(&format!("/v1/accounts/{id}"), t).await.text());
        seen.push(app.get("/v1/accounts", t).await.text());
        seen.push(app.json(Method::PATCH, &format!("/v1/accounts/{id}"), t, json!({"display_name": "Renamed"})).await.text());
        seen.push(app.json(Method::PUT, &format!("/v1/accounts/{id}/sharing"), t, json!({"sharing": "public"})).await.text());
        let new_password = format!("Pw-{unique}-rotated");
        let r = app.json(Method::PUT, &format!("/v1/accounts/{id}/credentials"), t, json!({"password": new_password})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        seen.push(app.get(&format!("/v1/accounts/{id}"), t).await.text());
        let audit = app.get("/v1/audit", t).await;
        assert!(audit.text().contains("account.credentials"), "{}", audit.text());
        seen.push(audit.text());
        // A secret in a field of the wrong type must not be echoed into the log either.
        let mut wrong = account_json("wrong@a.example");
        wrong["incoming"]["port"] = json!(format!("Pw-{unique}-in-port"));
        app.json(Method::POST, "/v1/accounts", t, wrong).await.error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"));
        // The store still has them, for sync to log in with.
        let stored = app.store().account_secrets(&f.org_a, &mailroom::ids::AccountId(id)).await.expect("secrets");
        assert_eq!(stored.password.as_ref().map(|s| s.expose()), Some(new_password.as_str()));
        for text in &seen {
            for secret in [&password, &outgoing, &oauth, &new_password] {
                assert!(!text.contains(secret.as_str()), "a response shows a secret: {text}");
            }
        }
        let log = logs();
        assert!(log.contains("request"), "the log capture works");
        for secret in [&password, &outgoing, &oauth, &new_password, &format!("Pw-{unique}-in-port"), &f.admin_a_token, &f.user_a_token] {
            assert!(!log.contains(secret.as_str()), "the log shows a secret or token {secret}");
        }
    }
}
