//! `/v1/rules/import` with the bundled importer plugins: the format read off
//! the content, a preview with warnings (line and column) and a dry run
//! over stored mail that changes nothing, rules stored only on apply, a
//! second import of the same file replacing instead of duplicating, and
//! hostile or wrong files refused with the reason.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::store::testing::TestDb;
use mailroom_plugin_artifacts as artifacts;
use serde_json::Value;

const SIEVE: &[u8] = b"# Pricing questions to Sales\r\nrequire [\"fileinto\", \"relational\", \"comparator-i;ascii-numeric\"];\r\n\
if header :contains \"subject\" \"pricing\" {\r\n    fileinto \"Sales\";\r\n}\r\n\
if header :value \"ge\" :comparator \"i;ascii-numeric\" \"X-Spam-Score\" \"5\" {\r\n    fileinto \"Junk\";\r\n}\r\n";

const GMAIL: &[u8] = include_bytes!("../../../../tests/data/gmail-filters/00-simple.xml");

async fn import(app: &App, token: &str, query: &str, body: &[u8]) -> crate::common::Resp {
    app.send(
        Method::POST,
        &format!("/v1/rules/import{query}"),
        Some(token),
        Some("application/octet-stream"),
        body.to_vec(),
    )
    .await
}

fn count(v: &Value) -> usize {
    v.as_array().map(Vec::len).unwrap_or(0)
}

#[tokio::test]
async fn a_filter_file_is_previewed_then_applied_once_and_bad_files_are_refused() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let admin = f.admin_a_token.as_str();
    // Nothing to read the file with yet: said so.
    let none = import(&app, admin, "", SIEVE)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(none.contains("no filter-importer plugin"), "{none}");
    for plugin in [
        artifacts::FILTER_SIEVE,
        artifacts::FILTER_GMAIL,
        artifacts::FILTER_ZOHO,
    ] {
        app.state
            .registry
            .install(&f.org_a, std::fs::read(plugin).expect("artifact"))
            .await
            .expect("install importer");
    }

    // The preview: the format read off the content, the rule, what could
    // not be represented (with its line), and a dry run over the org's mail.
    let preview = import(&app, admin, "", SIEVE).await.ok(StatusCode::CREATED);
    assert_eq!(preview["format"], "sieve", "{preview}");
    assert_eq!(preview["file_sha256"].as_str().map(str::len), Some(64));
    let rules = preview["rules"].as_array().expect("rules");
    assert!(!rules.is_empty(), "{preview}");
    assert_eq!(rules[0]["actions"][0]["move-to"], "Sales", "{preview}");
    let warned = preview["warnings"].as_array().expect("warnings");
    assert!(
        warned.iter().any(|w| w["line"] == 6),
        "the relational test on line 6: {preview}"
    );
    let matched: Vec<&Value> = preview["dry_run"]["messages"]
        .as_array()
        .expect("dry run")
        .iter()
        .filter(|m| count(&m["matched"]) > 0)
        .collect();
    assert_eq!(matched.len(), 1, "{preview}");
    assert_eq!(matched[0]["message"], f.message_a.to_string());
    // A preview stores no rule.
    assert_eq!(
        app.get("/v1/rules", admin).await.ok(StatusCode::OK),
        Value::Array(vec![])
    );

    // Applied: stored with their source; a user may not apply the org's.
    let id = preview["id"].as_str().expect("id").to_owned();
    let apply = format!("/v1/rules/import/{id}/apply");
    app.post(&apply, &f.user_a_token)
        .await
        .error(StatusCode::FORBIDDEN, Some("forbidden"));
    let applied = app.post(&apply, admin).await.ok(StatusCode::OK);
    assert_eq!(applied["replaced"], 0);
    let stored = app.get("/v1/rules", admin).await.ok(StatusCode::OK);
    assert_eq!(count(&stored), rules.len());
    assert_eq!(stored[0]["source"]["format"], "sieve");
    assert_eq!(stored[0]["source"]["file_sha256"], preview["file_sha256"]);
    // The Sieve importer places a rule at its first action (`fileinto`).
    assert_eq!(stored[0]["source"]["line"], 4, "{stored}");

    // The same file again replaces its rules instead of doubling them.
    let again = import(&app, admin, "?format=sieve", SIEVE)
        .await
        .ok(StatusCode::CREATED);
    let applied = app
        .post(
            &format!(
                "/v1/rules/import/{}/apply",
                again["id"].as_str().expect("id")
            ),
            admin,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(applied["replaced"], rules.len());
    assert_eq!(
        count(&app.get("/v1/rules", admin).await.ok(StatusCode::OK)),
        rules.len()
    );

    // Another file adds its own.
    let gmail = import(&app, admin, "", GMAIL).await.ok(StatusCode::CREATED);
    assert_eq!(gmail["format"], "gmail-xml", "{gmail}");
    app.post(
        &format!(
            "/v1/rules/import/{}/apply",
            gmail["id"].as_str().expect("id")
        ),
        admin,
    )
    .await
    .ok(StatusCode::OK);
    assert_eq!(
        count(&app.get("/v1/rules", admin).await.ok(StatusCode::OK)),
        rules.len() + count(&gmail["rules"])
    );

    // Files that are not filters, broken ones and hostile ones: refused
    // with the reason, nothing stored.
    let before = count(&app.get("/v1/rules", admin).await.ok(StatusCode::OK));
    let plain = import(&app, admin, "", b"hello, these are my filters")
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(plain.contains("cannot tell"), "{plain}");
    import(&app, admin, "", br#"{"filters": []}"#)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    let truncated = import(
        &app,
        admin,
        "?format=gmail-xml",
        b"<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<entry>\n<apps:property",
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(
        truncated.contains("line"),
        "the position is given: {truncated}"
    );
    let laughs = b"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>\n\
<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title>&lol2;</title></entry></feed>";
    import(&app, admin, "?format=gmail-xml", laughs)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    import(&app, admin, "?format=outlook-rules", SIEVE)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    import(&app, admin, "", &garbage)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    let huge = vec![b'#'; 65 << 10];
    import(&app, admin, "?format=sieve", &huge)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, None);
    import(&app, admin, "", b"")
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    // A user imports into the org's rules: no.
    import(&app, &f.user_a_token, "", SIEVE)
        .await
        .error(StatusCode::FORBIDDEN, Some("forbidden"));
    assert_eq!(
        count(&app.get("/v1/rules", admin).await.ok(StatusCode::OK)),
        before
    );

    // A new mailbox asks for its filters: imported now, or skipped.
    let created = app
        .json(
            Method::POST,
            "/v1/accounts",
            admin,
            account_json("sales@a.example"),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(created["filter_import"], "pending", "{created}");
    let account = created["id"].as_str().expect("id").to_owned();
    let preview = import(&app, admin, &format!("?account={account}"), SIEVE)
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(preview["account"], account.as_str());
    app.post(
        &format!(
            "/v1/rules/import/{}/apply",
            preview["id"].as_str().expect("id")
        ),
        admin,
    )
    .await
    .ok(StatusCode::OK);
    let shown = app
        .get(&format!("/v1/accounts/{account}"), admin)
        .await
        .ok(StatusCode::OK);
    assert_eq!(shown["filter_import"], "imported");
    assert_eq!(
        count(
            &app.get(&format!("/v1/rules?account={account}"), admin)
                .await
                .ok(StatusCode::OK)
        ),
        rules.len()
    );
    let other = app
        .json(
            Method::POST,
            "/v1/accounts",
            admin,
            account_json("support@a.example"),
        )
        .await
        .ok(StatusCode::CREATED);
    let other = other["id"].as_str().expect("id").to_owned();
    app.post(&format!("/v1/accounts/{other}/filter-import/skip"), admin)
        .await
        .ok(StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/v1/accounts/{other}"), admin)
            .await
            .ok(StatusCode::OK)["filter_import"],
        "skipped"
    );
}
