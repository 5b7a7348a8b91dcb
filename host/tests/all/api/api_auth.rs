//! Every route of the OpenAPI document (so a new route is covered the day it
//! is added): unauthenticated → 401, another org's token on this org's
//! resources → 404, a non-admin on admin routes → 403, and lists never show
//! another org's data. Runs on SQLite and PostgreSQL.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom_plugin_artifacts as artifacts;
use serde_json::{Value, json};

/// The routes only an org admin may call.
const ADMIN_ONLY: &[(&str, &str)] = &[
    ("GET", "/v1/users"),
    ("GET", "/v1/audit"),
    ("POST", "/v1/users"),
    ("GET", "/v1/users/{id}"),
    ("PATCH", "/v1/users/{id}"),
    ("POST", "/v1/users/{id}/deactivate"),
    ("POST", "/v1/users/{id}/activate"),
    ("POST", "/v1/users/{id}/email-backup"),
    ("GET", "/v1/users/{id}/tokens"),
    ("POST", "/v1/users/{id}/tokens"),
    ("DELETE", "/v1/users/{id}/tokens/{token}"),
    ("POST", "/v1/accounts/{id}/lock"),
    ("POST", "/v1/accounts/{id}/unlock"),
    ("POST", "/v1/plugins"),
    ("DELETE", "/v1/plugins/{name}"),
    ("POST", "/v1/plugins/{name}/enable"),
    ("POST", "/v1/plugins/{name}/disable"),
    ("PUT", "/v1/plugins/{name}/rollout"),
    ("PUT", "/v1/plugins/{name}/config"),
    ("PUT", "/v1/plugins/{name}/position"),
    ("PUT", "/v1/plugins/{name}/limits"),
    ("POST", "/v1/plugins/{name}/rollback"),
    ("POST", "/v1/plugins/{name}/shadow"),
    ("GET", "/v1/plugins/{name}/shadow"),
    ("DELETE", "/v1/plugins/{name}/shadow"),
    ("POST", "/v1/plugins/{name}/shadow/promote"),
    ("PUT", "/v1/plugins/{name}/outbound-http"),
    ("DELETE", "/v1/plugins/{name}/outbound-http"),
    ("GET", "/v1/oauth/clients"),
    ("PUT", "/v1/oauth/clients/{provider}"),
    ("DELETE", "/v1/oauth/clients/{provider}"),
    // The fixture's rule is an org rule: only admins change the org's rules.
    ("POST", "/v1/rules"),
    ("PUT", "/v1/rules/{id}"),
    ("DELETE", "/v1/rules/{id}"),
    ("POST", "/v1/rules/{id}/enable"),
    ("POST", "/v1/rules/{id}/disable"),
    ("POST", "/v1/rules/reorder"),
    ("POST", "/v1/rules/dry-run"),
    ("GET", "/v1/org/automation-policy"),
    ("PUT", "/v1/org/automation-policy"),
    ("POST", "/v1/org/webhook-secret"),
    ("GET", "/v1/org/webhooks"),
    ("POST", "/v1/org/webhooks"),
    ("DELETE", "/v1/org/webhooks/{id}"),
    ("GET", "/v1/org/webhook-deliveries"),
    ("GET", "/v1/bundled-plugins"),
    ("POST", "/v1/bundled-plugins/{name}/install"),
];

/// Routes whose path names something within the caller's own org rather
/// than org A's resource: another org's admin setting "its" OAuth client for
/// a provider id creates its own, which is no way into org A; a bundled
/// plugin's name is the server's, and installing it goes into the caller's org.
const OWN_ORG_NAMES: &[(&str, &str)] = &[
    ("PUT", "/v1/oauth/clients/{provider}"),
    ("POST", "/v1/bundled-plugins/{name}/install"),
];

/// Every operation of the API document that needs a token: (method, path template).
pub fn secured_operations() -> Vec<(Method, String)> {
    let (_, doc) = mailroom::api::api(&test_settings());
    let doc = serde_json::to_value(&doc).expect("doc");
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            // `security: [{}]` means "no auth" (healthz, metrics).
            let open = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            if !open {
                ops.push((method, path.clone()));
            }
        }
    }
    assert!(
        ops.len() > 40,
        "expected the whole API, found {} operations",
        ops.len()
    );
    ops
}

/// A valid body for each operation that takes one, so only auth decides the answer.
fn sample_body(method: &Method, path: &str) -> Option<(&'static str, Vec<u8>)> {
    let j = |v: Value| Some(("application/json", v.to_string().into_bytes()));
    match (method.as_str(), path) {
        ("POST", "/v1/users") => j(json!({"email": "new@x.example"})),
        ("PATCH", "/v1/users/{id}") => j(json!({"display_name": "Renamed"})),
        ("POST", "/v1/tokens") | ("POST", "/v1/users/{id}/tokens") => j(json!({"name": "t"})),
        ("POST", "/v1/accounts") => j(account_json("sweep@x.example")),
        ("PATCH", "/v1/accounts/{id}") => j(json!({"display_name": "Renamed"})),
        ("PUT", "/v1/accounts/{id}/credentials") => j(json!({"password": "pw"})),
        ("PUT", "/v1/accounts/{id}/sharing") => j(json!({"sharing": "public"})),
        ("POST", "/v1/accounts/{id}/deactivate") => j(json!({"mode": "retain"})),
        ("POST", "/v1/users/{id}/email-backup") => j(json!({})),
        ("PUT", "/v1/accounts/{id}/from-addresses") => j(json!({"addresses": []})),
        ("PUT", "/v1/accounts/{id}/folders/mapping") => {
            j(json!({"folder": "INBOX.Sweep", "role": "archive"}))
        }
        ("POST", "/v1/accounts/{id}/send") => j(json!({"to": ["someone@x.example"], "text": "hi"})),
        ("POST", "/v1/contacts") | ("POST", "/v1/leads") => j(json!({"name": "Someone"})),
        ("PATCH", "/v1/contacts/{id}") | ("PATCH", "/v1/leads/{id}") => {
            j(json!({"name": "Renamed"}))
        }
        ("POST", "/v1/contacts/import") | ("POST", "/v1/leads/import") => {
            Some(("text/csv", b"name\nX\n".to_vec()))
        }
        ("POST", "/v1/plugins") | ("POST", "/v1/plugins/{name}/shadow") => {
            Some(("application/wasm", wasm(artifacts::TRIVIAL)))
        }
        ("PUT", "/v1/plugins/{name}/rollout") => j(json!({"mode": "everyone"})),
        ("PUT", "/v1/plugins/{name}/config") => j(json!({})),
        ("PUT", "/v1/plugins/{name}/outbound-http") => j(json!({"hosts": ["api.example.com"]})),
        ("PUT", "/v1/plugins/{name}/secrets/{key}") => j(json!({"value": "s"})),
        ("PUT", "/v1/org/destination-policy") => {
            j(json!({"allowed_hosts": ["127.0.0.0/8", "::1", "localhost"]}))
        }
        ("POST", "/v1/rules/import") => Some(("application/xml", b"<feed/>".to_vec())),
        ("POST", "/v1/org/webhooks") => {
            j(json!({"url": "https://hooks.example.com/in", "events": ["message.received"]}))
        }
        ("PUT", "/v1/org/automation-policy") => {
            j(json!({"forward_to": ["partner.example"], "webhook_hosts": ["hooks.example.com"]}))
        }
        ("PUT", "/v1/plugins/{name}/position") => j(json!({"position": 1})),
        ("PUT", "/v1/plugins/{name}/limits") => j(json!({"limits": null})),
        ("PATCH", "/v1/messages/{id}/state") => j(json!({"read": true})),
        ("PATCH", "/v1/tasks/{id}") => j(json!({"status": "done"})),
        ("POST", "/v1/rules") | ("PUT", "/v1/rules/{id}") => {
            j(json!({"name": "Sweep", "conditions": [], "actions": ["star"]}))
        }
        ("POST", "/v1/rules/reorder") => j(json!({"ids": []})),
        ("POST", "/v1/rules/dry-run") => j(json!({})),
        ("PUT", "/v1/oauth/clients/{provider}") => j(json!({
            "client_id": "sweep",
            "redirect_uri": "https://mail.x.example/v1/oauth/callback",
            "authorization_url": "https://idp.x.example/authorize",
            "token_url": "https://idp.x.example/token",
            "scopes": ["mail"],
        })),
        _ => None,
    }
}

/// The template with org A's resources filled in.
fn concrete(path: &str, f: &Fixture) -> String {
    let id = if path.starts_with("/v1/users/") {
        f.user_a.to_string()
    } else if path.starts_with("/v1/tokens/") {
        f.admin_a_token_id.to_string()
    } else if path.starts_with("/v1/accounts/") {
        f.account_a.to_string()
    } else if path.starts_with("/v1/contacts/") {
        f.contact_a.to_string()
    } else if path.starts_with("/v1/leads/") {
        f.lead_a.to_string()
    } else if path.starts_with("/v1/plugins/") {
        f.plugin_a.clone()
    } else if path.starts_with("/v1/messages/") {
        f.message_a.to_string()
    } else if path.starts_with("/v1/tasks/") {
        // Tasks and notifications are their person's alone; a made-up id
        // is as unknown to org B as org A's real one would be.
        "tsk_0000000000000000".into()
    } else if path.starts_with("/v1/notifications/") {
        "ntf_0000000000000000".into()
    } else if path.starts_with("/v1/org/webhooks/") {
        // A made-up id: the sweep checks who may ask, not the subscription.
        "whk_0000000000000000".into()
    } else if path.starts_with("/v1/rules/") {
        f.rule_a
            .as_ref()
            .expect("the sweep's fixture has a rule")
            .to_string()
    } else if path.starts_with("/v1/oauth/clients/") {
        return path.replace("{provider}", "sweep-idp");
    } else if path.starts_with("/v1/bundled-plugins/") {
        return path.replace("{name}", "provider-gmail");
    } else {
        assert!(!path.contains('{'), "no fixture resource for {path}");
        String::new()
    };
    path.replace("{id}", &id)
        .replace("{name}", &id)
        .replace("{token}", f.admin_a_token_id.as_str())
        // The fixture's plugin (the probe) declares this config key.
        .replace("{key}", "probe")
}

async fn call(app: &App, method: &Method, path: &str, f: &Fixture, token: Option<&str>) -> Resp {
    let (ct, body) = sample_body(method, path).unzip();
    app.send(
        method.clone(),
        &concrete(path, f),
        token,
        ct,
        body.unwrap_or_default(),
    )
    .await
}

mailroom_store::both_backends! {
    async fn every_route_checks_authentication_org_and_role(db) {
        let app = app_on(&db).await;
        let f = with_rule(&app, fixture(&app).await).await;
        let ops = secured_operations();
        for (method, path) in &ops {
            if sample_body(method, path).is_none() {
                assert!(
                    matches!(*method, Method::GET | Method::DELETE) || path.contains("/lock") || path.contains("/unlock")
                        || path.contains("activate") || path.contains("/enable") || path.contains("/disable")
                        || path.contains("/rollback") || path.ends_with("/test") || path.ends_with("/sync") || path.ends_with("/authorize")
                        || path.ends_with("/read") || path.ends_with("/unread") || path.ends_with("/webhook-secret") || path.ends_with("/apply") || path.ends_with("/skip") || path.ends_with("/install") || path.ends_with("/promote"),
                    "{method} {path} takes a body: add it to sample_body"
                );
            }
            let what = format!("{method} {path}");
            // Without a token.
            let r = call(&app, method, path, &f, None).await;
            r.error(StatusCode::UNAUTHORIZED, Some("unauthorized"));
            assert_eq!(r.headers.get("www-authenticate").map(|v| v.to_str().unwrap_or("")), Some("Bearer"), "{what}");
            // A token that does not exist.
            call(&app, method, path, &f, Some("mr_bm90LWEtcmVhbC10b2tlbg")).await.error(StatusCode::UNAUTHORIZED, Some("unauthorized"));
            // Another org's admin on this org's resources: as if they did not exist.
            if path.contains('{') && !OWN_ORG_NAMES.contains(&(method.as_str(), path.as_str())) {
                let r = call(&app, method, path, &f, Some(&f.admin_b_token)).await;
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{what} as org B: {}", r.text());
                r.error(StatusCode::NOT_FOUND, Some("not_found"));
            }
            // A non-admin on admin routes.
            if ADMIN_ONLY.contains(&(method.as_str(), path.as_str())) {
                let r = call(&app, method, path, &f, Some(&f.user_a_token)).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{what} as a user: {}", r.text());
                r.error(StatusCode::FORBIDDEN, Some("forbidden"));
            }
        }
        for (method, path) in ADMIN_ONLY {
            assert!(ops.iter().any(|(m, p)| m.as_str() == *method && p == path), "{method} {path} is not a route");
        }
        // Lists answer with the caller's org only.
        let secrets_of_a = [f.account_a.to_string(), f.contact_a.to_string(), f.lead_a.to_string(),
            f.message_a.to_string(), f.user_a.to_string(), f.admin_a.to_string(), f.org_a.to_string(), "\"probe\"".into()];
        // (A live stream never ends; its own test reads it.)
        for (method, path) in ops.iter().filter(|(m, p)| *m == Method::GET && !p.contains('{') && !p.ends_with("/stream")) {
            let r = app.get(path, &f.admin_b_token).await;
            assert_eq!(r.status, StatusCode::OK, "GET {path} as org B: {}", r.text());
            for s in &secrets_of_a {
                assert!(!r.text().contains(s.as_str()), "{method} {path} as org B shows {s}: {}", r.text());
            }
        }
        assert_eq!(app.get("/v1/me", &f.admin_b_token).await.ok(StatusCode::OK)["org"]["id"], f.org_b.to_string());
        // Org A still has everything org B tried to change.
        assert_eq!(app.get(&format!("/v1/plugins/{}", f.plugin_a), &f.admin_a_token).await.status, StatusCode::OK);
        assert_eq!(app.get(&format!("/v1/contacts/{}", f.contact_a), &f.admin_a_token).await.status, StatusCode::OK);
        assert_eq!(app.get("/v1/me", &f.user_a_token).await.status, StatusCode::OK);
    }

    async fn revoked_tokens_and_deactivated_users_get_401(db) {
        let app = app_on(&db).await;
        let f = fixture(&app).await;
        assert_eq!(app.get("/v1/me", &f.user_a_token).await.ok(StatusCode::OK)["user"]["email"], "user@a.example");
        for header in ["Basic dXNlcjpwYXNz", "Bearer", "mr_only"] {
            let r = app.call(
                axum::http::Request::builder().uri("/v1/me").header("authorization", header).body(axum::body::Body::empty()).expect("req"),
            ).await;
            r.error(StatusCode::UNAUTHORIZED, Some("unauthorized"));
        }
        // Deactivating the user revokes their tokens: reactivating does not
        // bring them back; an admin issues a new one.
        app.post(&format!("/v1/users/{}/deactivate", f.user_a), &f.admin_a_token).await.ok(StatusCode::OK);
        app.get("/v1/me", &f.user_a_token).await.error(StatusCode::UNAUTHORIZED, Some("unauthorized"));
        app.post(&format!("/v1/users/{}/activate", f.user_a), &f.admin_a_token).await.ok(StatusCode::OK);
        app.get("/v1/me", &f.user_a_token).await.error(StatusCode::UNAUTHORIZED, Some("unauthorized"));
        let listed = app.get(&format!("/v1/users/{}/tokens", f.user_a), &f.admin_a_token).await.ok(StatusCode::OK);
        assert!(listed.as_array().expect("tokens").iter().all(|t| t["revoked_at"].is_i64()), "{listed}");
        let issued = app.json(Method::POST, &format!("/v1/users/{}/tokens", f.user_a), &f.admin_a_token, json!({"name": "back"}))
            .await.ok(StatusCode::CREATED);
        let user_token = issued["token"].as_str().expect("token").to_owned();
        assert_eq!(app.get("/v1/me", &user_token).await.ok(StatusCode::OK)["user"]["id"], json!(f.user_a));
        let f = Fixture { user_a_token: user_token, ..f };
        // A revoked token is refused; the user's other tokens keep working.
        let created = app.json(Method::POST, "/v1/tokens", &f.user_a_token, json!({"name": "laptop"})).await.ok(StatusCode::CREATED);
        let second = created["token"].as_str().expect("token").to_owned();
        assert!(second.starts_with("mr_") && second.len() >= 40, "{second}");
        app.get("/v1/me", &second).await.ok(StatusCode::OK);
        let id = created["id"].as_str().expect("id");
        app.delete(&format!("/v1/tokens/{id}"), &f.user_a_token).await.ok(StatusCode::NO_CONTENT);
        app.get("/v1/me", &second).await.error(StatusCode::UNAUTHORIZED, Some("unauthorized"));
        app.get("/v1/me", &f.user_a_token).await.ok(StatusCode::OK);
    }
}

/// `GET /v1/me` with `token` from `client`, as the server's connection info shows it.
async fn me_from(app: &App, client: &str, token: &str) -> Resp {
    let addr: std::net::SocketAddr = client.parse().expect("address");
    app.call(
        axum::http::Request::builder()
            .uri("/v1/me")
            .header("authorization", format!("Bearer {token}"))
            .extension(axum::extract::ConnectInfo(addr))
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await
}

#[tokio::test]
async fn failed_authentications_are_logged_and_limited_per_address_without_slowing_valid_tokens() {
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let mut settings = test_settings();
    settings.http.auth_failure_burst = std::num::NonZeroU32::new(3).expect("nonzero");
    settings.http.auth_failures_per_minute = std::num::NonZeroU32::new(1).expect("nonzero");
    let app = App::with_settings(db.store.clone(), settings);
    let f = fixture(&app).await;
    let bad = "mr_bm90LWEtcmVhbC10b2tlbg";
    for _ in 0..3 {
        me_from(&app, "203.0.113.9:40000", bad)
            .await
            .error(StatusCode::UNAUTHORIZED, Some("unauthorized"));
    }
    let r = me_from(&app, "203.0.113.9:40001", bad).await;
    let message = r.error(StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests"));
    assert!(message.contains("try again"), "{message}");
    let retry: u64 = r.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // A valid token from the same address is served at once, every time.
    for _ in 0..20 {
        me_from(&app, "203.0.113.9:40002", &f.user_a_token)
            .await
            .ok(StatusCode::OK);
    }
    // Another address has its own budget.
    me_from(&app, "198.51.100.7:40000", bad)
        .await
        .error(StatusCode::UNAUTHORIZED, Some("unauthorized"));
    let logs = logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("authentication failed") && l.contains("203.0.113.9")),
        "no failure logged with the client address"
    );
    assert!(!logs.contains(bad), "the presented token reached the log");
}
