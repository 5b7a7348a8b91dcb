//! Message state over HTTP belongs to the mailbox: two users whose private
//! accounts hold the same message each change only their own mailbox, only
//! their own server hears of it, and each sees only their own account's
//! locations; a mailbox shared with a user (custom sharing) is read-only
//! to them.

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::ids::{AccountId, FolderId, OrgId};
use mailroom::store::testing::TestDb;
use mailroom::store::{FolderInfo, Location, NewUser, Role, Store};
use serde_json::{Value, json};

async fn own_account(app: &App, token: &str, email: &str) -> AccountId {
    let created = app
        .json(Method::POST, "/v1/accounts", token, account_json(email))
        .await;
    AccountId(
        created.ok(StatusCode::CREATED)["id"]
            .as_str()
            .expect("id")
            .to_owned(),
    )
}

async fn inbox(store: &Store, org: &OrgId, account: &AccountId) -> FolderId {
    let info = FolderInfo {
        name: "INBOX".into(),
        delimiter: None,
        special_use: None,
    };
    store
        .upsert_folder(org, account, &info, Some("inbox"))
        .await
        .expect("folder")
        .id
}

fn accounts_of(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .expect(key)
        .iter()
        .map(|l| l["account"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn each_user_changes_and_sees_only_their_own_mailbox() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let store = app.store();
    let carol = store
        .create_user(
            &f.org_a,
            &NewUser {
                email: "carol@a.example".into(),
                display_name: "Carol".into(),
                role: Role::User,
                licensed: true,
            },
        )
        .await
        .expect("carol");
    let carol_token = store
        .create_token(&f.org_a, &carol.id, "test")
        .await
        .expect("token")
        .secret
        .expose()
        .to_owned();
    let alice_token = f.user_a_token.as_str();
    let alice_acc = own_account(&app, alice_token, "user@a.example").await;
    let carol_acc = own_account(&app, &carol_token, "carol@a.example").await;
    let raw = b"From: deals@x.example\r\nTo: user@a.example, carol@a.example\r\nSubject: offer\r\n\
        Message-ID: <offer@x.example>\r\n\r\nbody\r\n";
    let mut id = None;
    for acc in [&alice_acc, &carol_acc] {
        let folder = inbox(store, &f.org_a, acc).await;
        let at = Location::Imap {
            folder,
            uidvalidity: 1,
            uid: 5,
            flags: vec![],
            modseq: None,
        };
        id = Some(
            store
                .ingest_message(&f.org_a, acc, &at, raw)
                .await
                .expect("ingest")
                .message_id,
        );
    }
    let id = id.expect("id");

    let changed = app
        .json(
            Method::PATCH,
            &format!("/v1/messages/{id}/state"),
            alice_token,
            json!({"folder": "trash", "read": true, "starred": true, "labels": ["x"]}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        (changed["folder"].as_str(), changed["starred"].as_bool()),
        (Some("trash"), Some(true))
    );

    let as_carol = app
        .get(&format!("/v1/messages/{id}"), &carol_token)
        .await
        .ok(StatusCode::OK);
    let state = &as_carol["state"];
    assert_eq!(state["folder"], "inbox", "{as_carol}");
    assert_eq!(
        (state["read"].as_bool(), state["starred"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(state["labels"], json!([]));
    assert_eq!(
        accounts_of(&as_carol, "locations"),
        [carol_acc.as_str()],
        "alice's account stays hidden"
    );
    assert_eq!(accounts_of(&as_carol, "mailboxes"), [carol_acc.as_str()]);
    let as_alice = app
        .get(&format!("/v1/messages/{id}"), alice_token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(accounts_of(&as_alice, "locations"), [alice_acc.as_str()]);
    assert_eq!(as_alice["state"]["folder"], "trash");
    // Only alice's server is asked to change anything.
    assert_eq!(
        store
            .server_changes_status(&f.org_a, &alice_acc)
            .await
            .expect("a")
            .pending,
        3
    );
    assert_eq!(
        store
            .server_changes_status(&f.org_a, &carol_acc)
            .await
            .expect("c")
            .pending,
        0
    );
    // Carol's trash is empty; alice's holds it.
    let trash = |token: &str| {
        let token = token.to_owned();
        let app = &app;
        async move {
            app.get("/v1/messages?folder=trash", &token)
                .await
                .ok(StatusCode::OK)["items"]
                .as_array()
                .map_or(0, Vec::len)
        }
    };
    assert_eq!(
        (trash(alice_token).await, trash(&carol_token).await),
        (1, 0)
    );

    // Carol shares her account with alice (custom): alice may read it, not change it.
    app.json(
        Method::PUT,
        &format!("/v1/accounts/{carol_acc}/sharing"),
        &f.admin_a_token,
        json!({"sharing": "custom", "users": [f.user_a.as_str()]}),
    )
    .await
    .ok(StatusCode::OK);
    let only_carols =
        b"From: x@x.example\r\nTo: carol@a.example\r\nSubject: carol only\r\n\r\nbody\r\n";
    let folder = inbox(store, &f.org_a, &carol_acc).await;
    let at = Location::Imap {
        folder,
        uidvalidity: 1,
        uid: 6,
        flags: vec![],
        modseq: None,
    };
    let carols = store
        .ingest_message(&f.org_a, &carol_acc, &at, only_carols)
        .await
        .expect("ingest")
        .message_id;
    let read = app
        .get(&format!("/v1/messages/{carols}"), alice_token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(read["mailboxes"][0]["can_change"], json!(false));
    app.json(
        Method::PATCH,
        &format!("/v1/messages/{carols}/state"),
        alice_token,
        json!({"starred": true}),
    )
    .await
    .error(StatusCode::FORBIDDEN, None);
    assert_eq!(
        store
            .server_changes_status(&f.org_a, &carol_acc)
            .await
            .expect("c")
            .pending,
        0
    );
    let again = app
        .get(&format!("/v1/messages/{carols}"), &carol_token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(again["state"]["starred"], json!(false));
}
