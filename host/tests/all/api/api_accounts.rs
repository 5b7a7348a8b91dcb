//! Users, tokens and mail accounts as an admin and a user use them:
//! visibility by ownership and sharing, the admin lock, from-addresses,
//! provider presets, the last-admin rule.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::store::testing::TestDb;
use mailroom_plugin_artifacts as artifacts;
use serde_json::json;

#[tokio::test]
async fn admins_manage_users_and_users_manage_their_tokens() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let admin = f.admin_a_token.as_str();

    let created = app
        .json(
            Method::POST,
            "/v1/users",
            admin,
            json!({"email": "Zoe@A.example", "display_name": "Zoe"}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(created["user"]["email"], "zoe@a.example");
    assert_eq!(created["user"]["role"], "user");
    let zoe_token = created["token"].as_str().expect("token").to_owned();
    let me = app.get("/v1/me", &zoe_token).await.ok(StatusCode::OK);
    assert_eq!(me["user"]["display_name"], "Zoe");
    assert_eq!(me["org"]["id"], f.org_a.to_string());
    let users = app.get("/v1/users", admin).await.ok(StatusCode::OK);
    assert_eq!(users.as_array().map(Vec::len), Some(3));

    // Promote, then the last-admin rule.
    let zoe = created["user"]["id"].as_str().expect("id").to_owned();
    let r = app
        .json(
            Method::PATCH,
            &format!("/v1/users/{zoe}"),
            admin,
            json!({"role": "admin"}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(r["role"], "admin");
    app.get("/v1/users", &zoe_token).await.ok(StatusCode::OK);
    app.post(&format!("/v1/users/{}/deactivate", f.admin_a), &zoe_token)
        .await
        .ok(StatusCode::OK);
    let m = app
        .post(&format!("/v1/users/{zoe}/deactivate"), &zoe_token)
        .await
        .error(StatusCode::CONFLICT, Some("conflict"));
    assert!(m.contains("last active admin"), "{m}");

    // Tokens: listed without their values; revoking another user's token is 404.
    let list = app.get("/v1/tokens", &zoe_token).await.ok(StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert!(!list.to_string().contains(&zoe_token));
    app.delete(
        &format!("/v1/tokens/{}", f.admin_a_token_id),
        &f.user_a_token,
    )
    .await
    .error(StatusCode::NOT_FOUND, Some("not_found"));
    app.json(Method::POST, "/v1/tokens", &zoe_token, json!({"name": ""}))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
}

#[tokio::test]
async fn accounts_follow_ownership_sharing_and_the_admin_lock() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let (admin, user) = (f.admin_a_token.as_str(), f.user_a_token.as_str());
    let admins_account = format!("/v1/accounts/{}", f.account_a);

    // The admin's private account is invisible to the user.
    app.get(&admins_account, user)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));
    assert_eq!(
        app.get("/v1/accounts", user).await.ok(StatusCode::OK),
        json!([])
    );
    // Shared with them: readable, not changeable.
    let shared = app
        .json(
            Method::PUT,
            &format!("{admins_account}/sharing"),
            admin,
            json!({"sharing": "custom", "users": [f.user_a]}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(shared["shared_with"], json!([f.user_a]));
    app.get(&admins_account, user).await.ok(StatusCode::OK);
    assert_eq!(
        app.get("/v1/accounts", user)
            .await
            .ok(StatusCode::OK)
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    app.json(
        Method::PATCH,
        &admins_account,
        user,
        json!({"display_name": "Mine now"}),
    )
    .await
    .error(StatusCode::FORBIDDEN, Some("forbidden"));
    app.delete(&admins_account, user)
        .await
        .error(StatusCode::FORBIDDEN, Some("forbidden"));

    // The user's own account; creating one for someone else is for admins.
    let mut body = account_json("user@a.example");
    body["owner"] = json!(f.admin_a);
    app.json(Method::POST, "/v1/accounts", user, body)
        .await
        .error(StatusCode::FORBIDDEN, Some("forbidden"));
    let mine = app
        .json(
            Method::POST,
            "/v1/accounts",
            user,
            account_json("user@a.example"),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(mine["owner"], json!(f.user_a));
    let mine = format!("/v1/accounts/{}", mine["id"].as_str().expect("id"));
    let r = app
        .json(
            Method::PATCH,
            &mine,
            user,
            json!({"incoming": {"host": "mail.a.example", "port": 143, "security": "starttls"}}),
        )
        .await;
    assert_eq!(r.ok(StatusCode::OK)["incoming"]["port"], 143);
    app.json(Method::PATCH, &mine, user, json!({"owner": f.admin_a}))
        .await
        .error(StatusCode::FORBIDDEN, Some("forbidden"));

    // From-addresses with a default.
    let r = app
        .json(Method::PUT, &format!("{mine}/from-addresses"), user,
              json!({"addresses": [{"address": "Sales@A.example", "name": "Sales"}], "default": "sales@a.example"}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(r["default_from"], "sales@a.example");
    assert_eq!(r["from_addresses"][0]["address"], "sales@a.example");
    app.json(
        Method::PUT,
        &format!("{mine}/from-addresses"),
        user,
        json!({"addresses": [], "default": "else@a.example"}),
    )
    .await
    .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));

    // Locked by an admin: the owner can no longer change it; unlocked: again.
    assert_eq!(
        app.post(&format!("{mine}/lock"), admin)
            .await
            .ok(StatusCode::OK)["locked_by_admin"],
        true
    );
    let m = app
        .json(Method::PATCH, &mine, user, json!({"display_name": "x"}))
        .await
        .error(StatusCode::FORBIDDEN, Some("forbidden"));
    assert!(m.contains("locked"), "{m}");
    app.json(
        Method::PUT,
        &format!("{mine}/credentials"),
        user,
        json!({"password": "x"}),
    )
    .await
    .error(StatusCode::FORBIDDEN, Some("forbidden"));
    app.json(
        Method::PATCH,
        &mine,
        admin,
        json!({"display_name": "Set by admin"}),
    )
    .await
    .ok(StatusCode::OK);
    app.post(&format!("{mine}/unlock"), admin)
        .await
        .ok(StatusCode::OK);
    app.json(Method::PUT, &format!("{mine}/credentials"), user, json!({}))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    app.delete(&mine, user).await.ok(StatusCode::NO_CONTENT);
    app.get(&mine, user)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));
}

#[tokio::test]
async fn accounts_from_provider_presets() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let admin = f.admin_a_token.as_str();
    let body = |provider: &str| json!({"email": "p@a.example", "provider_id": provider});
    let m = app
        .json(Method::POST, "/v1/accounts", admin, body("generic"))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    assert!(m.contains("no provider plugin"), "{m}");
    app.upload_plugin(admin, wasm(artifacts::PROVIDER_GENERIC))
        .await
        .ok(StatusCode::CREATED);
    let providers = app
        .get("/v1/providers", &f.user_a_token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(providers[0]["plugin"], "provider-generic");
    assert_eq!(providers[0]["info"]["id"], "generic");
    // The generic provider has no server presets: servers must be given.
    let m = app
        .json(Method::POST, "/v1/accounts", admin, body("generic"))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    assert!(m.contains("incoming"), "{m}");
    let mut with_servers = account_json("p@a.example");
    with_servers["provider_id"] = json!("generic");
    let r = app
        .json(Method::POST, "/v1/accounts", admin, with_servers)
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(r["provider_id"], "generic");

    // The address's domain suggests a provider: marked and listed first,
    // and an account with neither servers nor provider_id gets its preset.
    app.upload_plugin(admin, wasm(artifacts::PROVIDER_GMAIL))
        .await
        .ok(StatusCode::CREATED);
    let suggested = app
        .get("/v1/providers?email=Ann@GoogleMail.com", &f.user_a_token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(suggested[0]["info"]["id"], "gmail", "{suggested}");
    assert_eq!(suggested[0]["suggested"], true);
    assert_eq!(suggested[1]["suggested"], false);
    let gmail = app
        .json(
            Method::POST,
            "/v1/accounts",
            admin,
            json!({"email": "ann@googlemail.com"}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(gmail["provider_id"], "gmail", "{gmail}");
    assert_eq!(gmail["incoming"]["host"], "imap.gmail.com", "{gmail}");
    assert_eq!(gmail["outgoing"]["host"], "smtp.gmail.com", "{gmail}");
    let m = app
        .json(
            Method::POST,
            "/v1/accounts",
            admin,
            json!({"email": "ann@unknown.example"}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    assert!(
        m.contains("ann@unknown.example") && m.contains("incoming"),
        "{m}"
    );

    // A sign-in the provider does not take is refused before anything is
    // stored, in the provider plugin's words.
    app.upload_plugin(admin, wasm(artifacts::PROVIDER_MICROSOFT))
        .await
        .ok(StatusCode::CREATED);
    let before = app.get("/v1/accounts", admin).await.ok(StatusCode::OK);
    let m = app
        .json(
            Method::POST,
            "/v1/accounts",
            admin,
            json!({"email": "ann@outlook.com"}),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"));
    assert!(m.contains("oauth2") && m.contains("no passwords"), "{m}");
    assert_eq!(
        app.get("/v1/accounts", admin).await.ok(StatusCode::OK),
        before,
        "nothing stored"
    );
    let outlook = app
        .json(
            Method::POST,
            "/v1/accounts",
            admin,
            json!({"email": "ann@outlook.com", "auth_kind": "oauth2"}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(outlook["provider_id"], "microsoft", "{outlook}");
}
