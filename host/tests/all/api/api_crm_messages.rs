//! Contacts and leads (CRUD, CSV import, related mail) and messages (filters,
//! cursor pagination, the parsed view, raw download, visibility).

use crate::common::*;
use axum::http::{Method, StatusCode};
use mailroom::store::Location;
use mailroom::store::testing::TestDb;
use serde_json::{Value, json};
use std::collections::HashSet;

#[tokio::test]
async fn contacts_and_leads_crud_import_and_related_mail() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let (admin, user) = (f.admin_a_token.as_str(), f.user_a_token.as_str());

    let created = app
        .json(Method::POST, "/v1/contacts", user, json!({
            "name": "Tom Becker", "primary_email": "Tom@Brightwave.example",
            "secondary_emails": ["ap@brightwave.example"], "owner": f.admin_a, "fields": {"company": "Brightwave"}}))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(created["primary_email"], "tom@brightwave.example");
    let tom = format!("/v1/contacts/{}", created["id"].as_str().expect("id"));
    let r = app
        .json(
            Method::PATCH,
            &tom,
            user,
            json!({"primary_email": null, "name": "Tom B."}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        (r["name"].as_str(), r["primary_email"].is_null()),
        (Some("Tom B."), true)
    );
    // Owned by the admin: the user may not delete it.
    app.delete(&tom, user)
        .await
        .error(StatusCode::FORBIDDEN, Some("forbidden"));
    app.delete(&tom, admin).await.ok(StatusCode::NO_CONTENT);
    app.get(&tom, user)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));

    // CSV import: good rows in, bad rows reported by line.
    let csv = "name,email,other_emails,owner,company\n\
               Ann Smith,ann@example.com,ann@home.example,admin@a.example,Acme\n\
               ,nobody@example.com,,,\n\
               Carl,not-an-email,,,\n\
               Dora,dora@example.com,,,Dora Ltd\n";
    let report = app
        .send(
            Method::POST,
            "/v1/contacts/import",
            Some(user),
            Some("text/csv"),
            csv.into(),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(report["imported"], 2, "{report}");
    let rows: Vec<u64> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["row"].as_u64())
        .collect();
    assert_eq!(rows, vec![3, 4], "{report}");
    let page = app
        .get("/v1/contacts?text=ann", user)
        .await
        .ok(StatusCode::OK);
    assert_eq!(page["items"][0]["name"], "Ann Smith");
    assert_eq!(page["items"][0]["owner"], json!(f.admin_a));
    assert_eq!(page["items"][0]["fields"]["company"], "Acme");
    app.send(
        Method::POST,
        "/v1/contacts/import",
        Some(user),
        Some("application/json"),
        b"{}".to_vec(),
    )
    .await
    .error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Some("unsupported_media_type"),
    );
    app.send(
        Method::POST,
        "/v1/contacts/import",
        Some(user),
        Some("text/csv"),
        vec![b'a'; 65 << 10],
    )
    .await
    .error(StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"));
    let leads = app
        .send(
            Method::POST,
            "/v1/leads/import",
            Some(user),
            Some("text/csv"),
            b"name,email\nLea,lea@x.example\n".to_vec(),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(leads["imported"], 1);
    assert_eq!(
        app.get("/v1/leads", user).await.ok(StatusCode::OK)["items"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // Related mail: the fixture's message is from the fixture contact.
    let related = app
        .get(&format!("/v1/contacts/{}/messages", f.contact_a), admin)
        .await
        .ok(StatusCode::OK);
    assert_eq!(related["items"][0]["id"], json!(f.message_a));
    // The user cannot see the admin's private account, so not its mail either.
    let related = app
        .get(&format!("/v1/contacts/{}/messages", f.contact_a), user)
        .await
        .ok(StatusCode::OK);
    assert_eq!(related["items"], json!([]));
    assert_eq!(
        app.get(&format!("/v1/leads/{}/messages", f.lead_a), admin)
            .await
            .ok(StatusCode::OK)["items"],
        json!([])
    );
}

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: Sender {n} <sender{n}@example.com>\r\nTo: admin@a.example\r\nSubject: Message number {n}\r\n\
         Message-ID: <m{n}@example.com>\r\nDate: Mon, 03 Nov 2025 {:02}:00:00 +0000\r\n\r\nBody {n}\r\n",
        n % 24
    )
    .into_bytes()
}

#[tokio::test]
async fn messages_list_paginate_parse_and_download() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let f = fixture(&app).await;
    let (admin, user) = (f.admin_a_token.as_str(), f.user_a_token.as_str());
    for n in 1..=7 {
        let location = Location::Local {
            key: format!("m{n}"),
            role: if n % 2 == 0 {
                "sent".into()
            } else {
                "inbox".into()
            },
        };
        app.store()
            .ingest_message(&f.org_a, &f.account_a, &location, &message(n))
            .await
            .expect("ingest");
    }

    // Cursor pagination visits every message once, newest first.
    let (mut seen, mut cursor, mut pages) = (Vec::<String>::new(), None::<String>, 0);
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/messages?limit=3&cursor={c}"),
            None => "/v1/messages?limit=3".into(),
        };
        let page = app.get(&path, admin).await.ok(StatusCode::OK);
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|m| m["id"].as_str().unwrap_or("").to_owned()),
        );
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (8, 3));
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        8,
        "no message twice"
    );

    let items = |v: Value| v["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        items(
            app.get("/v1/messages?folder=sent", admin)
                .await
                .ok(StatusCode::OK)
        )
        .len(),
        3
    );
    let found = items(
        app.get("/v1/messages?text=number%205", admin)
            .await
            .ok(StatusCode::OK),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["from_address"], "sender5@example.com");
    assert_eq!(
        items(
            app.get("/v1/messages?address=sender3@example.com", admin)
                .await
                .ok(StatusCode::OK)
        )
        .len(),
        1
    );
    assert_eq!(
        items(
            app.get(&format!("/v1/messages?account={}", f.account_a), admin)
                .await
                .ok(StatusCode::OK)
        )
        .len(),
        8
    );

    // One message, parsed; and exactly its bytes as message/rfc822.
    let one = app
        .get(&format!("/v1/messages/{}", f.message_a), admin)
        .await
        .ok(StatusCode::OK);
    assert_eq!(one["subject"], "Pricing for 40 seats");
    assert!(
        one["text_body"]
            .as_str()
            .unwrap_or("")
            .contains("what does it cost"),
        "{one}"
    );
    assert_eq!(one["header_message_id"], "fixture-1@acme.example");
    let raw = app
        .get(&format!("/v1/messages/{}/raw", f.message_a), admin)
        .await;
    assert_eq!(raw.status, StatusCode::OK);
    assert_eq!(raw.headers["content-type"], "message/rfc822");
    assert_eq!(&raw.body[..], SAMPLE);
    let state = app
        .json(
            Method::PATCH,
            &format!("/v1/messages/{}/state", f.message_a),
            admin,
            json!({"read": true, "labels": ["vip"]}),
        )
        .await;
    assert_eq!(state.ok(StatusCode::OK)["labels"], json!(["vip"]));

    // The user sees nothing of the admin's private account, until it is shared.
    assert_eq!(
        items(app.get("/v1/messages", user).await.ok(StatusCode::OK)).len(),
        0
    );
    app.get(&format!("/v1/messages/{}", f.message_a), user)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));
    app.get(&format!("/v1/messages/{}/raw", f.message_a), user)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));
    app.json(
        Method::PUT,
        &format!("/v1/accounts/{}/sharing", f.account_a),
        admin,
        json!({"sharing": "public"}),
    )
    .await
    .ok(StatusCode::OK);
    assert_eq!(
        items(app.get("/v1/messages", user).await.ok(StatusCode::OK)).len(),
        8
    );
    assert_eq!(
        app.get(&format!("/v1/messages/{}/raw", f.message_a), user)
            .await
            .status,
        StatusCode::OK
    );
    app.get("/v1/messages/0000", admin)
        .await
        .error(StatusCode::NOT_FOUND, Some("not_found"));
}
