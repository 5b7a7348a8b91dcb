//! The OpenAPI document agrees with the server: documented enum values are
//! the ones it sends and accepts, shapes and content types are the ones it
//! sends, integers are documented as wide as they are, and the statuses the
//! HTTP stack answers are documented on the operations they can answer.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::store::testing::TestDb;
use mailroom::store::{
    AccountStatus, AuthKind, OutboxState, Protocol, Role, Security, SentCopy, Sharing, StoreSent,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Every `enum` list anywhere in the document, with where it is.
fn enums(value: &Value, at: &str, out: &mut Vec<(String, Vec<Value>)>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(values)) = map.get("enum") {
                out.push((at.to_owned(), values.clone()));
            }
            for (k, v) in map {
                enums(v, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                enums(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The documented values of schema `name` are exactly what `T` reads and writes.
fn round_trips<T: Serialize + DeserializeOwned>(doc: &Value, name: &str) -> Vec<String> {
    let values = doc["components"]["schemas"][name]["enum"]
        .as_array()
        .unwrap_or_else(|| {
            panic!(
                "{name} is not a documented enum: {}",
                doc["components"]["schemas"][name]
            )
        });
    values
        .iter()
        .map(|v| {
            let parsed: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| {
                panic!("{name}: the server does not accept documented {v}: {e}")
            });
            assert_eq!(
                &serde_json::to_value(&parsed).expect("serialise"),
                v,
                "{name}"
            );
            v.as_str().expect("string").to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_document_says_what_the_server_sends_and_accepts() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let admin = f.admin_a_token.as_str();
    let doc = app
        .send(Method::GET, "/openapi.json", None, None, Vec::new())
        .await
        .ok(StatusCode::OK);

    // Enums: the values the server uses, never the Rust variant names.
    assert_eq!(
        round_trips::<Security>(&doc, "Security"),
        ["tls", "starttls", "none"]
    );
    assert_eq!(round_trips::<Protocol>(&doc, "Protocol"), ["imap", "pop3"]);
    assert_eq!(
        round_trips::<Sharing>(&doc, "Sharing"),
        ["private", "public", "custom"]
    );
    round_trips::<AuthKind>(&doc, "AuthKind");
    round_trips::<StoreSent>(&doc, "StoreSent");
    round_trips::<AccountStatus>(&doc, "AccountStatus");
    round_trips::<OutboxState>(&doc, "OutboxState");
    round_trips::<SentCopy>(&doc, "SentCopy");
    round_trips::<Role>(&doc, "Role");
    let mut all = Vec::new();
    enums(&doc, "", &mut all);
    for (at, values) in &all {
        for v in values.iter().filter_map(Value::as_str) {
            assert_eq!(
                v,
                v.to_lowercase(),
                "{at}: the server uses lower-case names"
            );
        }
    }
    // A documented value through the server, as a generated client sends it.
    let account = format!("/v1/accounts/{}", f.account_a);
    for sharing in round_trips::<Sharing>(&doc, "Sharing") {
        let body = json!({"sharing": sharing, "users": []});
        let r = app
            .json(Method::PUT, &format!("{account}/sharing"), admin, body)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{sharing}: {}", r.text());
    }

    // /healthz: documented as the JSON it sends.
    let health = app
        .send(Method::GET, "/healthz", None, None, Vec::new())
        .await;
    assert_eq!(health.headers["content-type"], "application/json");
    let documented = &doc["paths"]["/healthz"]["get"]["responses"]["200"]["content"];
    assert!(documented["application/json"].is_object(), "{documented}");
    assert_eq!(
        doc["components"]["schemas"]["Health"]["properties"]["status"]["type"],
        "string"
    );

    // Plugin metrics: latency buckets are [bound, count] pairs, as sent.
    let buckets =
        &doc["components"]["schemas"]["MetricsSnapshot"]["properties"]["latency_buckets_us"];
    assert_eq!(buckets["type"], "array", "{buckets}");
    let pair = &buckets["items"];
    assert_eq!(
        (
            pair["prefixItems"][0]["type"].as_str(),
            pair["prefixItems"][1]["type"].as_str()
        ),
        (Some("string"), Some("integer")),
        "{pair}"
    );
    assert_eq!(
        (pair["minItems"].as_u64(), pair["maxItems"].as_u64()),
        (Some(2), Some(2)),
        "{pair}"
    );
    let plugin = app
        .get(&format!("/v1/plugins/{}", f.plugin_a), admin)
        .await
        .ok(StatusCode::OK);
    let sent = plugin
        .pointer("/metrics/latency_buckets_us")
        .unwrap_or_else(|| panic!("no buckets in {plugin}"));
    for b in sent.as_array().expect("array") {
        assert!(
            b[0].is_string() && b[1].is_u64() && b.as_array().map(Vec::len) == Some(2),
            "{b}"
        );
    }

    // No integer is documented narrower than it is: the server's unsigned
    // 32-bit values accept 2^31, so they cannot be int32.
    assert!(
        !doc.to_string().contains("\"int32\""),
        "an int32 in the document"
    );
    let r = app.get("/v1/contacts?limit=2147483648", admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let limit = doc["paths"]["/v1/contacts"]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"))
        .expect("limit parameter");
    // utoipa spells the unsigned formats `u-int32`/`u-int64`: not a
    // registered format, so validators check only the type and minimum.
    assert_eq!(limit["schema"]["format"], "u-int32", "{limit}");
    assert_eq!(limit["schema"]["minimum"], 0, "{limit}");

    // Statuses the stack answers are documented where they can happen, and
    // every operation has its own id (generated clients name functions by it).
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(
                ids.insert(id.to_owned()),
                "{method} {path}: operationId {id} is used twice"
            );
            let responses = &op["responses"];
            let open = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r == &json!({})));
            if !open {
                assert!(
                    responses["401"].is_object(),
                    "{method} {path}: 401 undocumented"
                );
            }
            if op["requestBody"].is_object() {
                for status in ["413", "415", "422"] {
                    assert!(
                        responses[status].is_object(),
                        "{method} {path}: {status} undocumented"
                    );
                }
            }
            if op["parameters"].as_array().is_some_and(|p| !p.is_empty()) {
                assert!(
                    responses["400"].is_object(),
                    "{method} {path}: 400 undocumented"
                );
            }
        }
    }
    // And they answer as documented.
    let r = app
        .send(
            Method::POST,
            "/v1/contacts",
            Some(admin),
            Some("text/plain"),
            b"x".to_vec(),
        )
        .await;
    r.error(StatusCode::UNSUPPORTED_MEDIA_TYPE, None);
    app.send(
        Method::GET,
        "/v1/contacts?limit=x",
        Some(admin),
        None,
        Vec::new(),
    )
    .await
    .error(StatusCode::BAD_REQUEST, None);
}
