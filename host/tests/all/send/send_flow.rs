//! The way of a sent message: API → outbox → Dovecot submission → the relay
//! sink, one copy in Sent (or none when the provider files its own), the
//! message in the store as outgoing mail, and what survives a crash.

use super::support::{World, assert_sink_stays_at, message, stored};
use axum::http::{Method, StatusCode};
use mailroom::ids::OutboxId;
use mailroom::store::{
    AccountUpdate, AuthKind, OutboxState, Security, SentCopy, ServerSettings, now_ms,
};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_through_submission_files_one_copy_in_sent_and_stores_it() {
    let w = World::start().await;
    let account = w.account(Some("generic"), &w.user().password.clone()).await;
    let body = serde_json::json!({
        "to": ["Maria Garcia <maria@customer.example>"],
        "cc": ["lucia@verde.example"],
        "bcc": ["boss@acme.example"],
        "subject": "Offer for 40 seats",
        "text": "Hello Maria,\n\nhere is the offer.\n",
        "html": "<p>Hello Maria,</p><p>here is the offer.</p>",
    });
    let path = format!("/v1/accounts/{account}/send");
    let (status, entry) = w.api(Method::POST, &path, &w.token, Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{entry}");
    assert_eq!(
        entry["state"], "queued",
        "nothing was sent before the answer"
    );
    let id = OutboxId(entry["id"].as_str().expect("id").to_owned());
    let message_id = entry["message_id"].as_str().expect("message id").to_owned();
    assert_eq!(w.sink.count(), 0);

    let report = w.sender().run_due(now_ms()).await.expect("outbox pass");
    assert_eq!(report.processed, 1);
    let done = w.entry(&id).await;
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    assert_eq!(done.sent_copy, Some(SentCopy::Appended));
    assert_eq!(done.attempts, 1);

    // What left: the right envelope and headers, and no Bcc header.
    let mail = w.sink.wait_for(1, Duration::from_secs(10)).remove(0);
    let alice = format!("{}@acme.example", w.user().name);
    assert_eq!(mail.mail_from, alice);
    let mut rcpt = mail.rcpt_to.clone();
    rcpt.sort();
    assert_eq!(
        rcpt,
        [
            "boss@acme.example",
            "lucia@verde.example",
            "maria@customer.example"
        ]
    );
    assert_eq!(mail.header("From").as_deref(), Some(alice.as_str()));
    assert_eq!(
        mail.header("To").as_deref(),
        Some("\"Maria Garcia\" <maria@customer.example>")
    );
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Offer for 40 seats")
    );
    assert_eq!(
        mail.header("Message-ID").as_deref(),
        Some(message_id.as_str())
    );
    assert_eq!(mail.header("Bcc"), None, "blind copies stay blind");
    assert!(String::from_utf8_lossy(&mail.data).contains("text/html"));

    // One copy in Sent, keeping the Bcc for the sender's eyes.
    assert_eq!(w.sent_uids().len(), 1);
    assert_eq!(w.sent_with_message_id(&message_id), 1);
    let uid = w.sent_uids()[0].to_string();
    let header = w.dovecot.doveadm(&[
        "fetch",
        "-u",
        &w.user().name,
        "hdr",
        "mailbox",
        "Sent",
        "uid",
        &uid,
    ]);
    assert!(header.contains("Bcc: boss@acme.example"), "{header}");

    // Stored as outgoing mail at its Sent location, queued for the pipeline.
    let stored_id = done.stored_message_id.clone().expect("stored");
    assert_eq!(
        stored(&w, &stored_id).await,
        ("sent".to_owned(), Some("Sent".to_owned()))
    );
    assert_eq!(w.count("SELECT COUNT(*) FROM pipeline_runs").await, 1);
    // The first send taught Mailroom that this server files no copy itself.
    let a = w
        .store()
        .get_account(&w.org, &account)
        .await
        .expect("account");
    assert_eq!(a.store_sent_learned, Some(false));

    // A second message: appended straight away, still one copy each.
    let second = w.queue(&account, "Follow-up").await;
    w.sender().run_due(now_ms()).await.expect("outbox pass");
    let second = w.entry(&second.id).await;
    assert_eq!(second.sent_copy, Some(SentCopy::Appended));
    assert_eq!(w.sent_uids().len(), 2);
    assert_eq!(w.sent_with_message_id(&second.message_id), 1);
    assert_sink_stays_at(&w.sink, 2);

    // The outbox as the API shows it, newest first.
    let (status, list) = w
        .api(
            Method::GET,
            &format!("/v1/accounts/{account}/outbox"),
            &w.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let states: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["state"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(states, ["appended", "appended"]);
    assert_eq!(list[0]["subject"], "Follow-up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_files_its_own_copy_gets_no_append() {
    let w = World::start().await;
    // Gmail by its provider id, served by the loopback Dovecot.
    let account = w.gmail_account().await;
    let entry = w.queue(&account, "Via Gmail").await;

    let done = w
        .sender()
        .process(&w.org, &entry.id, now_ms())
        .await
        .expect("process");
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    assert_eq!(done.sent_copy, Some(SentCopy::Provider));
    assert_sink_stays_at(&w.sink, 1);
    assert!(
        w.sent_uids().is_empty(),
        "Gmail files the copy; Mailroom must not"
    );
    // Still stored as sent mail, locally (the provider's copy comes by sync).
    let stored_id = done.stored_message_id.expect("stored");
    assert_eq!(stored(&w, &stored_id).await, ("sent".to_owned(), None));
    let a = w
        .store()
        .get_account(&w.org, &account)
        .await
        .expect("account");
    assert_eq!(
        a.store_sent_learned, None,
        "nothing to learn: the plugin knows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_filed_the_copy_itself_gets_no_second_one_and_is_remembered() {
    let w = World::start().await;
    let account = w.account(None, &w.user().password.clone()).await;
    let entry = w.queue(&account, "Filed by the server").await;
    let sender = w.sender();
    let sent = sender
        .send_step(&w.org, &entry.id, now_ms())
        .await
        .expect("send");
    assert_eq!(sent.state, OutboxState::Sent);
    // The server files what it was given, before Mailroom looks.
    let raw = w.store().outbox_raw(&w.org, &entry.id).await.expect("raw");
    w.server_files_copy(raw.copy());

    let done = sender
        .copy_step(&w.org, &entry.id, now_ms())
        .await
        .expect("copy step");
    assert_eq!(done.sent_copy, Some(SentCopy::Found), "{done:?}");
    assert_eq!(w.sent_uids().len(), 1, "no second copy");
    let a = w
        .store()
        .get_account(&w.org, &account)
        .await
        .expect("account");
    assert_eq!(
        a.store_sent_learned,
        Some(true),
        "learned: the server files copies"
    );
    // Its copy is byte for byte ours: stored at that Sent location.
    let stored_id = done.stored_message_id.expect("stored");
    assert_eq!(
        stored(&w, &stored_id).await,
        ("sent".to_owned(), Some("Sent".to_owned()))
    );

    // Next time the learned answer decides at once: no search, no append.
    let next = w.queue(&account, "Second").await;
    let next = sender
        .process(&w.org, &next.id, now_ms())
        .await
        .expect("process");
    assert_eq!(next.sent_copy, Some(SentCopy::Provider));
    assert_eq!(w.sent_uids().len(), 1);
    assert_sink_stays_at(&w.sink, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_send_and_append_sends_once_and_appends_once() {
    let mut w = World::start().await;
    let account = w.account(None, &w.user().password.clone()).await;
    let entry = w.queue(&account, "Crash in between").await;
    let sent = w
        .sender()
        .send_step(&w.org, &entry.id, now_ms())
        .await
        .expect("send");
    assert_eq!(sent.state, OutboxState::Sent);
    w.sink.wait_for(1, Duration::from_secs(10));
    assert!(w.sent_uids().is_empty());

    // The process dies here; a new one opens the same database.
    w.restart().await;
    let report = w.sender().run_due(now_ms()).await.expect("resume");
    assert_eq!(report.processed, 1);
    let done = w.entry(&entry.id).await;
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    assert_eq!(done.attempts, 1, "not sent again");
    assert_eq!(done.sent_copy, Some(SentCopy::Appended));
    assert_eq!(w.sent_with_message_id(&entry.message_id), 1);

    // The APPEND happened but its commit was lost (a crash right after it):
    // the resumed step finds the copy by Message-ID and appends nothing.
    let again = w.queue(&account, "Crash after append").await;
    let sender = w.sender();
    sender
        .send_step(&w.org, &again.id, now_ms())
        .await
        .expect("send");
    let raw = w.store().outbox_raw(&w.org, &again.id).await.expect("raw");
    w.server_files_copy(raw.copy());
    let done = sender
        .copy_step(&w.org, &again.id, now_ms())
        .await
        .expect("copy");
    assert_eq!(done.sent_copy, Some(SentCopy::Found));
    assert_eq!(w.sent_with_message_id(&again.message_id), 1);
    // Nothing left to do, and running again changes nothing.
    assert_eq!(sender.run_due(now_ms()).await.expect("pass").processed, 0);
    assert_sink_stays_at(&w.sink, 2);
    assert_eq!(w.sent_uids().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_logs_in_to_submission_and_imap() {
    let w = World::start().await;
    let token = w.user().oauth_token.clone();
    let account = w
        .account_with(None, AuthKind::Oauth2, &token, w.dovecot.ports().submission)
        .await;
    let entry = w.queue(&account, "With a token").await;
    let done = w
        .sender()
        .process(&w.org, &entry.id, now_ms())
        .await
        .expect("process");
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    assert_eq!(done.sent_copy, Some(SentCopy::Appended));
    let mail = w.sink.wait_for(1, Duration::from_secs(10)).remove(0);
    assert_eq!(mail.header("Subject").as_deref(), Some("With a token"));
    assert_eq!(w.sent_uids().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bcc_is_in_the_envelope_only() {
    let w = World::start().await;
    let account = w.account(None, &w.user().password.clone()).await;
    let mut msg = message("Blind");
    msg.to.push("second@customer.example".into());
    let entry = mailroom::send::enqueue(w.store(), &w.org, &account, &msg, None)
        .await
        .expect("queue");
    w.sender()
        .process(&w.org, &entry.id, now_ms())
        .await
        .expect("process");
    let mail = w.sink.wait_for(1, Duration::from_secs(10)).remove(0);
    assert!(mail.rcpt_to.contains(&"boss@acme.example".to_owned()));
    assert!(!String::from_utf8_lossy(&mail.data).contains("boss@acme.example"));
    // The store keeps the Sent copy, with the Bcc the sender chose.
    let stored_id = w.entry(&entry.id).await.stored_message_id.expect("stored");
    let raw = w
        .store()
        .get_raw_message(&w.org, &stored_id)
        .await
        .expect("raw");
    assert!(String::from_utf8_lossy(&raw).contains("Bcc: boss@acme.example"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_on_the_submissions_port() {
    let w = World::start().await;
    let account = w.account(None, &w.user().password.clone()).await;
    let tls = AccountUpdate {
        outgoing: Some(Some(ServerSettings {
            host: "127.0.0.1".into(),
            port: w.dovecot.ports().submissions,
            security: Security::Tls,
        })),
        ..Default::default()
    };
    w.store()
        .update_account(&w.org, &account, &tls)
        .await
        .expect("RFC 8314 port");
    let entry = w.queue(&account, "Over implicit TLS").await;
    let done = w
        .sender()
        .process(&w.org, &entry.id, now_ms())
        .await
        .expect("process");
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    let mail = w.sink.wait_for(1, Duration::from_secs(10)).remove(0);
    assert_eq!(mail.header("Subject").as_deref(), Some("Over implicit TLS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_worker_sends_what_the_api_queued_at_once() {
    let w = World::start().await;
    let account = w.account(None, &w.user().password.clone()).await;
    // A poll interval far beyond the test: only the API's wake-up can make
    // the worker look again after its first (empty) pass.
    let mut options = super::support::options();
    options.poll_interval = Duration::from_secs(3600);
    let sender = std::sync::Arc::new(mailroom::send::Sender::new(
        w.store().clone(),
        Some(w.registry.clone()),
        options,
    ));
    let worker = tokio::spawn(mailroom::send::run_worker(
        sender,
        w.state.outbox_wakeup.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let body = serde_json::json!({
        "to": ["maria@customer.example"],
        "subject": "Right away",
        "text": "Hello",
    });
    let path = format!("/v1/accounts/{account}/send");
    let (status, entry) = w.api(Method::POST, &path, &w.token, Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{entry}");
    let id = OutboxId(entry["id"].as_str().expect("id").to_owned());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let done = loop {
        let e = w.entry(&id).await;
        if e.state == OutboxState::Appended || std::time::Instant::now() > deadline {
            break e;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    worker.abort();
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    let mail = w.sink.wait_for(1, Duration::from_secs(10)).remove(0);
    assert_eq!(mail.header("Subject").as_deref(), Some("Right away"));
    assert_eq!(w.sent_uids().len(), 1);
}
