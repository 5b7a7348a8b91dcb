//! When sending does not work: a server that is down (retried with backoff
//! until it is back), a wrong password and an untrusted certificate
//! (permanent, in the server's or TLS's words), a Sent folder out of reach
//! (the message is still stored, never sent twice), and requests the API
//! must refuse before anything is queued.

use super::support::{World, assert_sink_stays_at};
use axum::http::{Method, StatusCode};
use mailroom::store::{
    AccountUpdate, AuthKind, FromAddress, NewUser, OutboxState, Role, Security, SentCopy,
    ServerSettings, now_ms,
};
use mailroom_test_servers::closed_port;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_retries_until_the_server_is_back() {
    let w = World::start_with_relay(false).await;
    let password = w.user().password.clone();
    let refusing = closed_port();
    let account = w
        .account_with(None, AuthKind::Password, &password, refusing.port())
        .await;
    let entry = w.queue(&account, "Sent when the server is back").await;
    let sender = w.sender();

    // 1. Nothing listens on the SMTP port: queued again, with why and when.
    let t0 = now_ms();
    let first = sender
        .process(&w.org, &entry.id, t0)
        .await
        .expect("attempt 1");
    assert_eq!(first.state, OutboxState::Queued, "{first:?}");
    assert_eq!(first.attempts, 1);
    let why = first.last_error.clone().unwrap_or_default();
    assert!(why.contains("refused the connection"), "{why}");
    let next = first.next_attempt_at.expect("a next attempt");
    // Backoff base 1 s with jitter in its upper half.
    assert!((t0 + 500..=t0 + 1_000).contains(&next), "{next} vs {t0}");
    assert_eq!(
        sender.run_due(t0).await.expect("pass").processed,
        0,
        "not due before its time"
    );

    // 2. The right port, but the server cannot relay yet: its 4xx words.
    let submission = ServerSettings {
        host: "127.0.0.1".into(),
        port: w.dovecot.ports().submission,
        security: Security::Starttls,
    };
    let update = AccountUpdate {
        outgoing: Some(Some(submission)),
        ..Default::default()
    };
    w.store()
        .update_account(&w.org, &account, &update)
        .await
        .expect("fix the port");
    sender.run_due(next).await.expect("attempt 2");
    let second = w.entry(&entry.id).await;
    assert_eq!(second.state, OutboxState::Queued, "{second:?}");
    assert_eq!(second.attempts, 2);
    let why = second.last_error.clone().unwrap_or_default();
    assert!(
        why.contains("answered 4"),
        "a transient reply in the server's words: {why}"
    );
    assert_eq!(w.sink.count(), 0);

    // 3. The relay is up: the next run sends it and files the copy.
    w.sink.set_available(true);
    let next = second.next_attempt_at.expect("a next attempt");
    sender.run_due(next).await.expect("attempt 3");
    let done = w.entry(&entry.id).await;
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    assert_eq!(done.attempts, 3);
    assert_eq!(done.last_error, None, "the error is cleared once sent");
    let mail = w.sink.wait_for(1, Duration::from_secs(10)).remove(0);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Sent when the server is back")
    );
    assert_eq!(w.sent_uids().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_for_good_in_the_servers_words() {
    let w = World::start().await;
    let account = w.account(None, "not-the-password").await;
    let entry = w.queue(&account, "Never sent").await;
    let sender = w.sender();
    let done = sender
        .process(&w.org, &entry.id, now_ms())
        .await
        .expect("attempt");
    assert_eq!(done.state, OutboxState::Failed, "{done:?}");
    assert_eq!(done.attempts, 1, "a 5xx is not retried");
    assert_eq!(done.next_attempt_at, None);
    let why = done.last_error.clone().unwrap_or_default();
    assert!(why.contains("535"), "{why}");
    assert!(
        why.contains("Authentication failed"),
        "the server's words: {why}"
    );
    assert!(
        !why.contains("not-the-password"),
        "no credential in errors: {why}"
    );
    // Failed stays failed.
    let later = now_ms() + 86_400_000;
    assert_eq!(sender.run_due(later).await.expect("pass").processed, 0);
    assert_eq!(w.sink.count(), 0);
    assert!(w.sent_uids().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_for_good_when_verification_is_on() {
    let w = World::start().await;
    let account = w.account(None, &w.user().password.clone()).await;
    let verify = AccountUpdate {
        tls_verify: Some(true),
        ..Default::default()
    };
    w.store()
        .update_account(&w.org, &account, &verify)
        .await
        .expect("verify certificates");
    let entry = w.queue(&account, "Over TLS").await;
    let done = w
        .sender()
        .process(&w.org, &entry.id, now_ms())
        .await
        .expect("attempt");
    assert_eq!(done.state, OutboxState::Failed, "{done:?}");
    let why = done.last_error.clone().unwrap_or_default();
    assert!(why.contains("certificate"), "{why}");
    assert!(why.contains("not trusted"), "{why}");
    assert_eq!(w.sink.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_what_cannot_be_sent_before_queueing_it() {
    let w = World::start().await;
    let account = w.account(None, &w.user().password.clone()).await;
    let path = format!("/v1/accounts/{account}/send");
    let send = |body: serde_json::Value| w.api(Method::POST, &path, &w.token, Some(body));

    // A from-address that is not the account's.
    let (status, body) = send(serde_json::json!({
        "from": "ceo@elsewhere.example",
        "to": ["maria@customer.example"],
        "subject": "Spoofed",
        "text": "…",
    }))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("ceo@elsewhere.example"), "{message}");
    assert!(
        message.contains("alice@acme.example"),
        "names what is allowed: {message}"
    );

    // No recipient; a malformed one.
    let (status, _) = send(serde_json::json!({ "subject": "x", "text": "y" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = send(serde_json::json!({ "to": ["maria at customer"], "text": "y" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let outbox = w
        .store()
        .list_outbox(&w.org, &account, 100)
        .await
        .expect("outbox");
    assert!(outbox.is_empty(), "nothing refused was queued");

    // One of the account's from-addresses is fine.
    let extra = [FromAddress {
        address: "sales@acme.example".into(),
        name: Some("Acme Sales".into()),
    }];
    w.store()
        .set_from_addresses(&w.org, &account, &extra, None)
        .await
        .expect("from-addresses");
    let (status, entry) = send(serde_json::json!({
        "from": "sales@acme.example",
        "to": ["maria@customer.example"],
        "subject": "From sales",
        "text": "Hello",
    }))
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{entry}");
    assert_eq!(entry["envelope_from"], "sales@acme.example");

    // Both routes are described in the OpenAPI document.
    let (status, doc) = w.api(Method::GET, "/openapi.json", &w.token, None).await;
    assert_eq!(status, StatusCode::OK);
    let send_op = &doc["paths"]["/v1/accounts/{id}/send"]["post"];
    assert!(send_op["responses"]["202"].is_object(), "{send_op}");
    assert!(doc["paths"]["/v1/accounts/{id}/outbox"]["get"].is_object());
    assert!(doc["components"]["schemas"]["OutgoingMessage"].is_object());

    // A user the account is not shared with: it does not exist for them.
    let bob = w
        .store()
        .create_user(
            &w.org,
            &NewUser {
                email: "bob@acme.example".into(),
                display_name: "Bob".into(),
                role: Role::User,
                licensed: true,
            },
        )
        .await
        .expect("bob");
    let bob_token = w
        .store()
        .create_token(&w.org, &bob.id, "test")
        .await
        .expect("token");
    let (status, _) = w
        .api(
            Method::POST,
            &path,
            bob_token.secret.expose(),
            Some(serde_json::json!({ "to": ["maria@customer.example"], "text": "hi" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w
        .api(
            Method::GET,
            &format!("/v1/accounts/{account}/outbox"),
            bob_token.secret.expose(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sent_message_whose_sent_folder_stays_unreachable_is_still_stored() {
    let w = World::start().await;
    let account = w.account(None, &w.user().password.clone()).await;
    let refusing = closed_port();
    let imap_down = AccountUpdate {
        incoming: Some(ServerSettings {
            host: "127.0.0.1".into(),
            port: refusing.port(),
            security: Security::None,
        }),
        ..Default::default()
    };
    w.store()
        .update_account(&w.org, &account, &imap_down)
        .await
        .expect("IMAP down");
    let entry = w.queue(&account, "Sent, copy pending").await;
    let sender = w.sender();
    let first = sender
        .process(&w.org, &entry.id, now_ms())
        .await
        .expect("attempt");
    // Sent once; the copy waits for IMAP, without sending again.
    assert_eq!(first.state, OutboxState::Sent, "{first:?}");
    assert_eq!(first.copy_attempts, 1);
    assert!(
        first
            .last_error
            .clone()
            .unwrap_or_default()
            .contains("refused")
    );
    let mut next = first.next_attempt_at.expect("a next copy attempt");
    // The test's copy budget is three attempts.
    for _ in 0..2 {
        sender.run_due(next).await.expect("pass");
        let e = w.entry(&entry.id).await;
        next = e.next_attempt_at.unwrap_or(next);
    }
    let done = w.entry(&entry.id).await;
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    assert_eq!(done.sent_copy, Some(SentCopy::GaveUp));
    assert_eq!(done.attempts, 1, "sent once");
    let why = done.last_error.clone().unwrap_or_default();
    assert!(why.contains("gave up filing the copy"), "{why}");
    // The message is in the store, as sent mail, for the pipeline.
    let stored = done.stored_message_id.expect("stored");
    let detail = w
        .store()
        .get_message(&w.org, &stored)
        .await
        .expect("message");
    assert_eq!(detail.summary.state.folder, "sent");
    assert_sink_stays_at(&w.sink, 1);
}
