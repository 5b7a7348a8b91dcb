//! `/v1/rules` over HTTP: org rules for admins, account rules for their
//! owner too, others 403/404; a rule the engine refuses answers 422 saying
//! where; reorder, enable/disable, replace, delete; and the dry run, which
//! reports what stored or unsaved rules would do and changes nothing.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::store::testing::TestDb;
use serde_json::{Value, json};

fn pricing_rule(name: &str) -> Value {
    json!({
        "name": name,
        "conditions": [
            {"all": [1, 2]},
            {"test": {"field": "subject", "match_type": "contains", "value": "PRICING"}},
            {"not": 3},
            {"test": {"field": "from", "match_type": "ends-with", "value": "@ours.example"}}
        ],
        "actions": [{"add-label": "sales"}, "mark-read", {"notify": {"target": "account-owner", "text": "pricing question"}}]
    })
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn rules_crud_permissions_and_a_dry_run_that_changes_nothing() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let admin = f.admin_a_token.as_str();
    let user = f.user_a_token.as_str();

    // Org rules: admins only.
    let created = app
        .json(Method::POST, "/v1/rules", admin, pricing_rule("Pricing"))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(
        (created["account"].clone(), created["enabled"].clone()),
        (Value::Null, json!(true))
    );
    assert_eq!(created["conditions"][1]["test"]["match_type"], "contains");
    let pricing = created["id"].as_str().expect("id").to_owned();
    app.json(Method::POST, "/v1/rules", user, pricing_rule("Mine"))
        .await
        .error(StatusCode::FORBIDDEN, None);
    app.json(
        Method::PUT,
        &format!("/v1/rules/{pricing}"),
        user,
        pricing_rule("x"),
    )
    .await
    .error(StatusCode::FORBIDDEN, None);
    // Another org sees nothing.
    app.get(&format!("/v1/rules/{pricing}"), &f.admin_b_token)
        .await
        .error(StatusCode::NOT_FOUND, None);
    assert_eq!(
        app.get("/v1/rules", &f.admin_b_token)
            .await
            .ok(StatusCode::OK),
        json!([])
    );

    // Account rules: the owner (or an admin); an account the caller cannot
    // see is not found.
    let own = app
        .json(
            Method::POST,
            "/v1/accounts",
            user,
            account_json("user@a.example"),
        )
        .await
        .ok(StatusCode::CREATED)["id"]
        .as_str()
        .expect("account")
        .to_owned();
    let mut mine = pricing_rule("Mine");
    mine["account"] = json!(own);
    let mine = app
        .json(Method::POST, "/v1/rules", user, mine)
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(mine["account"], json!(own));
    let mut not_mine = pricing_rule("Not mine");
    not_mine["account"] = json!(f.account_a.as_str());
    app.json(Method::POST, "/v1/rules", user, not_mine)
        .await
        .error(StatusCode::NOT_FOUND, None);
    let listed = app
        .get(&format!("/v1/rules?account={own}"), user)
        .await
        .ok(StatusCode::OK);
    assert_eq!(ids(&listed), [mine["id"].as_str().expect("id")]);

    // Refused with where: the rule, the node, the position in the pattern.
    let message = app
        .json(
            Method::POST,
            "/v1/rules",
            admin,
            json!({"name": "Broken", "conditions": [
                {"test": {"field": "body", "match_type": "regex", "value": "total: [0-9"}}
            ], "actions": ["star"]}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(
        message.contains("\"Broken\"), condition node 0") && message.contains("column 8"),
        "{message}"
    );
    let message = app
        .json(
            Method::POST,
            "/v1/rules",
            admin,
            json!({"name": "Loop", "conditions": [{"not": 0}], "actions": ["star"]}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    assert!(message.contains("may not loop"), "{message}");
    app.json(
        Method::POST,
        "/v1/rules",
        admin,
        json!({"name": "x", "conditions": [{"test": {"field": "nope"}}], "actions": []}),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, None);

    // Order, enable/disable, replace, delete.
    let second = app
        .json(
            Method::POST,
            "/v1/rules",
            admin,
            json!({"name": "Archive newsletters", "conditions": [
            {"test": {"field": "list-id", "match_type": "exists"}}], "actions": ["archive"]}),
        )
        .await
        .ok(StatusCode::CREATED)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let order = app
        .json(
            Method::POST,
            "/v1/rules/reorder",
            admin,
            json!({"ids": [second, pricing]}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(ids(&order), [second.clone(), pricing.clone()]);
    app.json(
        Method::POST,
        "/v1/rules/reorder",
        admin,
        json!({"ids": [second]}),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    let off = app
        .post(&format!("/v1/rules/{second}/disable"), admin)
        .await
        .ok(StatusCode::OK);
    assert_eq!(off["enabled"], false);
    let on = app
        .post(&format!("/v1/rules/{second}/enable"), admin)
        .await
        .ok(StatusCode::OK);
    assert_eq!(on["enabled"], true);
    let replaced = app
        .json(
            Method::PUT,
            &format!("/v1/rules/{second}"),
            admin,
            json!({"name": "Renamed", "actions": ["archive"]}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        (replaced["name"].as_str(), replaced["position"].clone()),
        (Some("Renamed"), on["position"].clone())
    );
    app.delete(&format!("/v1/rules/{second}"), admin)
        .await
        .ok(StatusCode::NO_CONTENT);
    app.get(&format!("/v1/rules/{second}"), admin)
        .await
        .error(StatusCode::NOT_FOUND, None);
    let audit = app.get("/v1/audit", admin).await.ok(StatusCode::OK);
    let actions: Vec<&str> = audit
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "rule.create",
        "rule.reorder",
        "rule.disable",
        "rule.enable",
        "rule.update",
        "rule.delete",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }

    // Dry run of the stored rules over the account's mail, then of rules
    // not saved: what would happen, and nothing happens.
    let before = app
        .get(&format!("/v1/messages/{}", f.message_a), admin)
        .await
        .ok(StatusCode::OK)["state"]
        .clone();
    let dry = app
        .json(
            Method::POST,
            "/v1/rules/dry-run",
            admin,
            json!({"account": f.account_a.as_str()}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(dry["rules"], 1);
    let first = &dry["messages"][0];
    assert_eq!(first["message"], f.message_a.as_str());
    assert_eq!(first["subject"], "Pricing for 40 seats");
    assert_eq!(first["matched"][0]["rule_id"], pricing.as_str());
    assert_eq!(
        first["matched"][0]["actions"][0],
        json!({"add-label": "sales"})
    );
    assert_eq!(
        first["matched"][0]["applied_with_run"],
        json!([true, true, false])
    );
    let dry = app
        .json(Method::POST, "/v1/rules/dry-run", admin, json!({"limit": 10, "rules": [
            {"name": "Not from Maria", "conditions": [{"not": 1}, {"test": {"field": "from", "match_type": "is", "value": "maria@acme.example"}}], "actions": ["trash"]},
            {"name": "Seats", "conditions": [{"test": {"field": "body", "match_type": "matches", "value": "*what does it cost?*"}}], "actions": ["star", "stop"]},
            {"name": "After stop", "actions": ["trash"]}
        ]}))
        .await
        .ok(StatusCode::OK);
    let matched: Vec<&str> = dry["messages"][0]["matched"]
        .as_array()
        .expect("matched")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(matched, ["Seats"]);
    assert_eq!(dry["messages"][0]["matched"][0]["rule_id"], Value::Null);
    let message = app
        .get(&format!("/v1/messages/{}", f.message_a), admin)
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        message["state"], before,
        "the dry runs changed nothing: {message}"
    );
    assert_eq!(message["state"]["labels"], json!([]));
    assert_eq!(message["actions"], json!([]), "nothing recorded");
    // A bad unsaved rule is refused like a stored one; the org-wide run is for admins.
    app.json(
        Method::POST,
        "/v1/rules/dry-run",
        admin,
        json!({"rules": [{"name": "", "actions": []}]}),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, None);
    app.json(Method::POST, "/v1/rules/dry-run", user, json!({}))
        .await
        .error(StatusCode::FORBIDDEN, None);
    let own_dry = app
        .json(
            Method::POST,
            "/v1/rules/dry-run",
            user,
            json!({"account": own}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        (own_dry["rules"].clone(), own_dry["messages"].clone()),
        (json!(2), json!([])),
        "the account's rule and the org's"
    );
}
