//! Plugins over HTTP against real components: raw and multipart upload,
//! refusals with the host's words, upgrade and rollback, config, rollout,
//! order, limits, enable/disable, delete.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::store::testing::TestDb;
use mailroom_plugin_artifacts as artifacts;
use serde_json::{Value, json};

const BOUNDARY: &str = "mailroom-test-boundary";

fn multipart(component: Option<&[u8]>, manifest: Option<Value>) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(bytes) = component {
        body.extend_from_slice(format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"component\"; filename=\"plugin.wasm\"\r\n\
             Content-Type: application/wasm\r\n\r\n"
        ).as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    if let Some(m) = manifest {
        body.extend_from_slice(format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"manifest\"\r\nContent-Type: application/json\r\n\r\n{m}\r\n"
        ).as_bytes());
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

const MULTIPART: &str = "multipart/form-data; boundary=mailroom-test-boundary";

#[tokio::test]
async fn plugins_upload_upgrade_configure_roll_back_and_remove() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let (admin, user) = (f.admin_a_token.as_str(), f.user_a_token.as_str());
    let upload = |ct: &'static str, body: Vec<u8>| {
        app.send(Method::POST, "/v1/plugins", Some(admin), Some(ct), body)
    };

    // Raw upload; the same bytes again change nothing; new bytes are a new version.
    let v = upload("application/wasm", wasm(artifacts::TRIVIAL))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(
        (
            v["name"].as_str(),
            v["kind"].as_str(),
            v["enabled"].as_bool()
        ),
        (Some("trivial"), Some("classifier"), Some(true))
    );
    // What it answered on each golden case comes with the upload.
    let cases = v["upload_check"].as_array().expect("upload_check");
    assert!(cases.len() >= 5, "{v}");
    assert!(
        cases
            .iter()
            .all(|c| c["call"] == "classify" && c["outcome"] == "ok"),
        "{v}"
    );
    upload("application/wasm", wasm(artifacts::TRIVIAL))
        .await
        .ok(StatusCode::OK);
    let v = upload("application/wasm", wasm_variant(artifacts::TRIVIAL, "v2"))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(v["active_seq"], 2);

    // Any user of the org reads; details carry versions, metrics and events.
    let list = app.get("/v1/plugins", user).await.ok(StatusCode::OK);
    let names: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, vec!["probe", "trivial"]);
    let detail = app
        .get("/v1/plugins/trivial", user)
        .await
        .ok(StatusCode::OK);
    assert_eq!(detail["versions"].as_array().map(Vec::len), Some(2));
    assert!(detail["metrics"]["calls"].is_u64(), "{detail}");
    let kinds: Vec<&str> = detail["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds, vec!["upgraded", "installed"]);

    // Rollback to the previous version, then there is none older.
    assert_eq!(
        app.post("/v1/plugins/trivial/rollback", admin)
            .await
            .ok(StatusCode::OK)["active_seq"],
        1
    );
    app.post("/v1/plugins/trivial/rollback", admin)
        .await
        .error(StatusCode::CONFLICT, Some("conflict"));
    assert_eq!(
        app.post("/v1/plugins/trivial/rollback?to_seq=2", admin)
            .await
            .ok(StatusCode::OK)["active_seq"],
        2
    );
    app.post("/v1/plugins/trivial/rollback?to_seq=9", admin)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));

    // Settings.
    assert_eq!(
        app.post("/v1/plugins/trivial/disable", admin)
            .await
            .ok(StatusCode::OK)["enabled"],
        false
    );
    assert_eq!(
        app.post("/v1/plugins/trivial/enable", admin)
            .await
            .ok(StatusCode::OK)["enabled"],
        true
    );
    let r = app
        .json(
            Method::PUT,
            "/v1/plugins/trivial/rollout",
            admin,
            json!({"mode": "users", "users": [f.user_a]}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(r["rollout"], json!({"mode": "users", "users": [f.user_a]}));
    app.json(
        Method::PUT,
        "/v1/plugins/trivial/rollout",
        admin,
        json!({"mode": "users", "users": ["usr_nobody"]}),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    assert_eq!(
        app.json(
            Method::PUT,
            "/v1/plugins/trivial/position",
            admin,
            json!({"position": 4})
        )
        .await
        .ok(StatusCode::OK)["position"],
        4
    );
    let r = app
        .json(
            Method::PUT,
            "/v1/plugins/probe/config",
            admin,
            json!({"probe": "hello"}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(r["config"], json!({"probe": "hello"}));
    let m = app
        .json(
            Method::PUT,
            "/v1/plugins/probe/config",
            admin,
            json!({"nope": "x"}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    assert!(m.contains("nope"), "{m}");
    // A secret config value goes in and never comes out.
    let r = app
        .json(
            Method::PUT,
            "/v1/plugins/probe/secrets/probe",
            admin,
            json!({"value": "tok-4711"}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(r["secret_keys"], json!(["probe"]));
    assert_eq!(
        r["config"],
        json!({}),
        "the secret replaced the plain value"
    );
    let shown = app.get("/v1/plugins/probe", admin).await.ok(StatusCode::OK);
    assert!(!shown.to_string().contains("tok-4711"), "{shown}");
    let m = app
        .json(
            Method::PUT,
            "/v1/plugins/probe/config",
            admin,
            json!({"probe": "x"}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    assert!(m.contains("held as a secret"), "{m}");
    let r = app
        .delete("/v1/plugins/probe/secrets/probe", admin)
        .await
        .ok(StatusCode::OK);
    assert_eq!(r["secret_keys"], json!([]));
    let r = app
        .json(
            Method::PUT,
            "/v1/plugins/probe/limits",
            admin,
            json!({"limits": {"deadline_ms": 500, "memory_bytes": 67108864}}),
        )
        .await;
    assert_eq!(r.ok(StatusCode::OK)["limits"]["deadline_ms"], 500);
    app.json(
        Method::PUT,
        "/v1/plugins/probe/limits",
        admin,
        json!({"limits": {"deadline_ms": 0}}),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    // Limits not wrapped in `limits` (or no body at all) are refused and
    // change nothing, rather than resetting the limits to the defaults.
    for unwrapped in [json!({"deadline_ms": 500}), json!({})] {
        let r = app
            .json(
                Method::PUT,
                "/v1/plugins/probe/limits",
                admin,
                unwrapped.clone(),
            )
            .await;
        assert!(
            r.status.is_client_error(),
            "{unwrapped}: {} {}",
            r.status,
            r.text()
        );
        assert!(r.text().contains("limits"), "{unwrapped}: {}", r.text());
    }
    let still = app.get("/v1/plugins/probe", admin).await.ok(StatusCode::OK);
    assert_eq!(still["limits"]["deadline_ms"], 500, "{still}");
    assert!(
        app.json(
            Method::PUT,
            "/v1/plugins/probe/limits",
            admin,
            json!({"limits": null})
        )
        .await
        .ok(StatusCode::OK)["limits"]
            .is_null()
    );

    // Delete.
    app.delete("/v1/plugins/trivial", admin)
        .await
        .ok(StatusCode::NO_CONTENT);
    app.get("/v1/plugins/trivial", user)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));

    // Multipart with a manifest applied on install.
    let v = upload(
        MULTIPART,
        multipart(
            Some(&wasm(artifacts::TRIVIAL)),
            Some(json!({"enabled": false, "position": 7})),
        ),
    )
    .await;
    let v = v.ok(StatusCode::CREATED);
    assert_eq!(
        (v["enabled"].as_bool(), v["position"].as_i64()),
        (Some(false), Some(7))
    );
    // A manifest that cannot be applied undoes the upload.
    app.delete("/v1/plugins/trivial", admin)
        .await
        .ok(StatusCode::NO_CONTENT);
    let m = upload(
        MULTIPART,
        multipart(
            Some(&wasm(artifacts::TRIVIAL)),
            Some(json!({"config": {"nope": "1"}})),
        ),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    assert!(m.contains("undone"), "{m}");
    app.get("/v1/plugins/trivial", admin)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));
    upload(
        MULTIPART,
        multipart(
            Some(&wasm(artifacts::TRIVIAL)),
            Some(json!({"colour": "red"})),
        ),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_manifest"));
    upload(MULTIPART, multipart(None, Some(json!({}))))
        .await
        .error(StatusCode::BAD_REQUEST, Some("bad_request"));

    // Every change is in the audit log, config values are not.
    let audit = app.get("/v1/audit", admin).await.ok(StatusCode::OK);
    let actions: Vec<&str> = audit
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "plugin.upload",
        "plugin.rollback",
        "plugin.disable",
        "plugin.enable",
        "plugin.rollout",
        "plugin.position",
        "plugin.config",
        "plugin.secret.set",
        "plugin.secret.remove",
        "plugin.limits",
        "plugin.remove",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    assert!(
        audit.to_string().contains("\"keys\":[\"probe\"]"),
        "{audit}"
    );
    assert!(!audit.to_string().contains("hello"), "{audit}");
    assert!(!audit.to_string().contains("tok-4711"), "{audit}");
}

#[tokio::test]
async fn refused_components_get_422_with_the_hosts_words() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let upload = |ct: Option<&'static str>, body: Vec<u8>| {
        app.send(
            Method::POST,
            "/v1/plugins",
            Some(&f.admin_a_token),
            ct,
            body,
        )
    };

    let m = upload(Some("application/wasm"), b"not wasm at all".to_vec())
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_component"));
    assert!(m.contains("not a WebAssembly component"), "{m}");
    let m = upload(Some("application/wasm"), wasm(artifacts::UNGRANTED_IMPORT))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("ungranted_import"));
    assert!(m.contains("does not grant"), "{m}");
    let m = upload(Some("application/wasm"), wasm(artifacts::WRONG_KIND))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_metadata"));
    assert!(m.contains("plugin"), "{m}");
    let m = upload(Some("application/wasm"), wasm(artifacts::TRAP))
        .await
        .error(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("upload_check_failed"),
        );
    assert!(
        m.contains("golden case") && m.contains("classify") && m.contains("deliberate panic"),
        "{m}"
    );
    let m = upload(Some("text/plain"), wasm(artifacts::TRIVIAL))
        .await
        .error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type"),
        );
    assert!(m.contains("application/wasm"), "{m}");
    upload(None, wasm(artifacts::TRIVIAL)).await.error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Some("unsupported_media_type"),
    );
    // Nothing was installed by any of these.
    let list = app
        .get("/v1/plugins", &f.admin_a_token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}

/// The shadow's routes: upload beside the running version (admission and
/// golden set included), read the comparison, promote, and the refusals
/// in words.
#[tokio::test]
async fn a_shadow_version_over_http() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let admin = f.admin_a_token.as_str();
    let shadow = |body: Vec<u8>| {
        app.send(
            Method::POST,
            "/v1/plugins/swap/shadow",
            Some(admin),
            Some("application/wasm"),
            body,
        )
    };
    // No plugin yet: nothing to shadow.
    shadow(wasm(artifacts::SWAP_V2))
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));
    app.upload_plugin(admin, wasm(artifacts::SWAP_V1))
        .await
        .ok(StatusCode::CREATED);
    app.get("/v1/plugins/swap/shadow", admin)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));

    let installed = shadow(wasm(artifacts::SWAP_V2))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(
        installed["shadow"]["shadow_version"]["metadata"]["version"],
        "2.0.0"
    );
    assert_eq!(
        installed["shadow"]["active_version"]["metadata"]["version"],
        "1.0.0"
    );
    assert!(
        installed["upload_check"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "the golden set ran: {installed}"
    );
    let report = app
        .get("/v1/plugins/swap/shadow", admin)
        .await
        .ok(StatusCode::OK);
    assert_eq!(report["compared"], 0);
    let plugin = app.get("/v1/plugins/swap", admin).await.ok(StatusCode::OK);
    assert_eq!(
        plugin["shadow_seq"],
        installed["shadow"]["shadow_version"]["seq"]
    );

    let m = shadow(wasm(artifacts::SWAP_V1))
        .await
        .error(StatusCode::CONFLICT, Some("conflict"));
    assert!(m.contains("must differ"), "{m}");
    let m = shadow(wasm(artifacts::TRIVIAL))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(m.contains("not `swap`"), "{m}");
    app.send(
        Method::POST,
        "/v1/plugins/swap/shadow",
        Some(admin),
        Some("text/plain"),
        b"x".to_vec(),
    )
    .await
    .error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Some("unsupported_media_type"),
    );

    let view = app
        .post("/v1/plugins/swap/shadow/promote", admin)
        .await
        .ok(StatusCode::OK);
    assert_eq!(view["active_version"]["metadata"]["version"], "2.0.0");
    assert_eq!(view["shadow_seq"], Value::Null);
    let m = app
        .delete("/v1/plugins/swap/shadow", admin)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));
    assert!(m.contains("has no shadow version"), "{m}");
}

/// An admin grants a plugin outbound HTTPS over HTTP: the grant is shown
/// with the plugin and kept; a grant that cannot apply, or one for a plugin
/// that does not ask for outbound HTTP, is refused in words; `DELETE`
/// takes it back.
#[tokio::test]
async fn an_outbound_http_grant_over_http() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let admin = f.admin_a_token.as_str();
    app.upload_plugin(admin, wasm(artifacts::HTTP_FETCH))
        .await
        .ok(StatusCode::CREATED);
    let path = "/v1/plugins/http-fetch/outbound-http";
    let granted = app
        .json(
            Method::PUT,
            path,
            admin,
            json!({"hosts": ["models.example.com", "*.svc.example.net:8443"], "max_requests_per_call": 2}),
        )
        .await
        .ok(StatusCode::OK);
    let expected = json!({
        "hosts": ["models.example.com", "*.svc.example.net:8443"],
        "max_requests_per_call": 2,
        "max_response_bytes": 1 << 20,
        "max_request_bytes": 1 << 20,
    });
    assert_eq!(granted["outbound_http"], expected);
    assert_eq!(
        app.get("/v1/plugins/http-fetch", admin)
            .await
            .ok(StatusCode::OK)["outbound_http"],
        expected
    );
    // Kept: a server started on the same database shows it.
    let again = app_on(&db).await;
    assert_eq!(
        again
            .get("/v1/plugins/http-fetch", admin)
            .await
            .ok(StatusCode::OK)["outbound_http"],
        expected
    );

    for (body, says) in [
        (
            json!({"hosts": ["https://models.example.com/v1"]}),
            "is a URL",
        ),
        (
            json!({"hosts": ["models.example.com"], "max_response_bytes": 0}),
            "max_response_bytes",
        ),
        (
            json!({"hosts": ["models.example.com"], "ca_pem": "nope"}),
            "ca_pem",
        ),
    ] {
        let m = app
            .json(Method::PUT, path, admin, body.clone())
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY, None);
        assert!(m.contains(says), "{body}: {m}");
    }
    let m = app
        .json(
            Method::PUT,
            path,
            admin,
            json!({"hosts": ["a.example"], "port": 1}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(m.contains("port"), "{m}");
    app.upload_plugin(admin, wasm(artifacts::TRIVIAL))
        .await
        .ok(StatusCode::CREATED);
    let m = app
        .json(
            Method::PUT,
            "/v1/plugins/trivial/outbound-http",
            admin,
            json!({"hosts": ["a.example"]}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(
        m.contains("does not ask for the outbound-http permission"),
        "{m}"
    );
    app.json(
        Method::PUT,
        "/v1/plugins/nothing/outbound-http",
        admin,
        json!({"hosts": ["a.example"]}),
    )
    .await
    .error(StatusCode::NOT_FOUND, Some("not_found"));

    let revoked = app.delete(path, admin).await.ok(StatusCode::OK);
    assert_eq!(revoked["outbound_http"], Value::Null);
}
