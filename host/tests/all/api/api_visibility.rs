//! Who sees which mail, as one rule over every read path: an account's
//! mail is seen through the account's sharing — Private by its owner alone
//! (admins included: they see the account, not its mail), Public by every
//! user of the org, Custom by the owner and the listed users. Seeing is not
//! changing: only the owner (or an admin, of what it sees) changes state.
//! The matrix: sharing × owner / listed user / other user / admin × list,
//! search, message, raw download, the contact's related list and a change.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::ids::{OrgId, UserId};
use mailroom::store::testing::TestDb;
use mailroom::store::{Location, NewUser, Role};
use serde_json::json;

async fn user(app: &App, org: &OrgId, email: &str) -> (UserId, String) {
    let store = app.store();
    let new = NewUser {
        email: email.into(),
        display_name: email.into(),
        role: Role::User,
        licensed: true,
    };
    let user = store.create_user(org, &new).await.expect("user");
    let token = store
        .create_token(org, &user.id, "test")
        .await
        .expect("token");
    (user.id, token.secret.expose().to_owned())
}

/// Whether each read path shows the message to `token`, and the status of
/// a change of its state.
async fn sight(app: &App, token: &str, id: &str, contact: &str) -> (Vec<bool>, StatusCode) {
    let listed = |v: serde_json::Value| {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|m| m["id"] == id)
    };
    let reads = vec![
        listed(app.get("/v1/messages", token).await.ok(StatusCode::OK)),
        listed(
            app.get("/v1/messages?text=quarterly", token)
                .await
                .ok(StatusCode::OK),
        ),
        app.get(&format!("/v1/messages/{id}"), token).await.status == StatusCode::OK,
        app.get(&format!("/v1/messages/{id}/raw"), token)
            .await
            .status
            == StatusCode::OK,
        listed(
            app.get(&format!("/v1/contacts/{contact}/messages"), token)
                .await
                .ok(StatusCode::OK),
        ),
    ];
    let change = app
        .json(
            Method::PATCH,
            &format!("/v1/messages/{id}/state"),
            token,
            json!({"starred": true}),
        )
        .await
        .status;
    (reads, change)
}

#[tokio::test]
async fn every_read_path_follows_the_accounts_sharing() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let owner = f.user_a_token.as_str();
    let (listed_id, listed) = user(&app, &f.org_a, "listed@a.example").await;
    let (_, other) = user(&app, &f.org_a, "other@a.example").await;
    let admin = f.admin_a_token.as_str();

    let created = app
        .json(
            Method::POST,
            "/v1/accounts",
            owner,
            account_json("user@a.example"),
        )
        .await
        .ok(StatusCode::CREATED);
    let account = created["id"].as_str().expect("id").to_owned();
    let raw = b"From: Maria Garcia <maria@acme.example>\r\nTo: user@a.example\r\n\
        Subject: quarterly numbers\r\nMessage-ID: <q3@acme.example>\r\n\r\nSee attached.\r\n";
    let at = Location::Local {
        key: "q3".into(),
        role: "inbox".into(),
    };
    let id = app
        .store()
        .ingest_message(
            &f.org_a,
            &mailroom::ids::AccountId(account.clone()),
            &at,
            raw,
        )
        .await
        .expect("ingest")
        .message_id;
    let (id, contact) = (id.as_str(), f.contact_a.as_str());

    const ALL: [bool; 5] = [true; 5];
    const NONE: [bool; 5] = [false; 5];
    let (ok, forbidden, hidden) = (StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND);
    let cases = [
        (
            json!({"sharing": "private"}),
            [
                ("owner", owner, ALL, ok),
                ("listed", &listed, NONE, hidden),
                ("other", &other, NONE, hidden),
                ("admin", admin, NONE, hidden),
            ],
        ),
        (
            json!({"sharing": "custom", "users": [listed_id]}),
            [
                ("owner", owner, ALL, ok),
                ("listed", &listed, ALL, forbidden),
                ("other", &other, NONE, hidden),
                ("admin", admin, NONE, hidden),
            ],
        ),
        (
            json!({"sharing": "public"}),
            [
                ("owner", owner, ALL, ok),
                ("listed", &listed, ALL, forbidden),
                ("other", &other, ALL, forbidden),
                ("admin", admin, ALL, ok),
            ],
        ),
    ];
    for (sharing, people) in cases {
        app.json(
            Method::PUT,
            &format!("/v1/accounts/{account}/sharing"),
            owner,
            sharing.clone(),
        )
        .await
        .ok(StatusCode::OK);
        for (who, token, reads, change) in people {
            let seen = sight(&app, token, id, contact).await;
            assert_eq!(
                seen,
                (reads.to_vec(), change),
                "{who} under {sharing} (list, search, message, raw, related list; change)"
            );
        }
    }

    // An admin still sees a Private account itself: its address and health.
    app.json(
        Method::PUT,
        &format!("/v1/accounts/{account}/sharing"),
        owner,
        json!({"sharing": "private"}),
    )
    .await
    .ok(StatusCode::OK);
    let seen = app
        .get(&format!("/v1/accounts/{account}"), admin)
        .await
        .ok(StatusCode::OK);
    assert_eq!(seen["email"], "user@a.example");
}
