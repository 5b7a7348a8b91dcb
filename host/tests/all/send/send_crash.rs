//! The crash window of sending: a worker dies after the SMTP server may
//! have accepted a message but before `sent` was committed. The crash is
//! recreated with the store calls the worker itself makes before SMTP (the
//! claim and the in-flight mark), then a restart. Where the provider files
//! its own Sent copy, that copy tells whether the send went out; otherwise
//! the message is sent again and flagged as a possible duplicate.

use super::support::{World, assert_sink_stays_at, stored};
use axum::http::{Method, StatusCode};
use mailroom::ids::{AccountId, OutboxId};
use mailroom::store::{OutboxEntry, OutboxState, SentCopy, now_ms};
use std::time::Duration;

/// Lease of the worker that dies: short, so the next one may take over.
const DEAD_LEASE_MS: i64 = 1_000;

/// Queues a message and leaves it as a worker that died mid-send does.
async fn cut_short(w: &World, account: &AccountId, subject: &str) -> OutboxEntry {
    let entry = w.queue(account, subject).await;
    let store = w.store();
    let claimed = store
        .claim_outbox_send(&w.org, &entry.id, now_ms(), DEAD_LEASE_MS)
        .await
        .expect("claim");
    assert!(claimed);
    store
        .mark_outbox_in_flight(&w.org, &entry.id)
        .await
        .expect("in flight");
    let in_flight = w.entry(&entry.id).await;
    assert_eq!(in_flight.state, OutboxState::Sending);
    assert!(in_flight.in_flight_since.is_some(), "{in_flight:?}");
    entry
}

/// A new process, once the dead worker's lease ran out: one pass.
async fn resume(w: &mut World, id: &OutboxId) -> OutboxEntry {
    w.restart().await;
    let later = now_ms() + DEAD_LEASE_MS + 1;
    let report = w.sender().run_due(later).await.expect("resume");
    assert_eq!(report.errors, 0, "{report:?}");
    w.entry(id).await
}

/// The API's outbox view of the account, by subject.
async fn listed(w: &World, account: &AccountId, subject: &str) -> serde_json::Value {
    let path = format!("/v1/accounts/{account}/outbox");
    let (status, list) = w.api(Method::GET, &path, &w.token, None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array()
        .expect("list")
        .iter()
        .find(|e| e["subject"] == subject)
        .unwrap_or_else(|| panic!("{subject} not in {list}"))
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_cut_short_whose_copy_the_provider_filed_is_not_sent_again() {
    let mut w = World::start().await;
    let account = w.account(None, &w.user().password.clone()).await;
    // Learned on an earlier send: this server files sent mail itself.
    w.store()
        .set_store_sent_learned(&w.org, &account, Some(true))
        .await
        .expect("learned");
    let entry = cut_short(&w, &account, "Accepted, then the crash").await;
    // The server accepted it and filed its copy; the commit never happened.
    let raw = w.store().outbox_raw(&w.org, &entry.id).await.expect("raw");
    w.server_files_copy(raw.copy());

    let done = resume(&mut w, &entry.id).await;
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    assert_eq!(done.sent_copy, Some(SentCopy::Found));
    assert_eq!(done.attempts, 2, "taken over once; no SMTP in it");
    assert!(!done.possible_duplicate, "{done:?}");
    assert_eq!(done.in_flight_since, None);
    assert_eq!(done.interrupted_attempt_at, None);
    assert!(done.sent_at.is_some());
    assert_sink_stays_at(&w.sink, 0);
    assert_eq!(
        w.sent_with_message_id(&entry.message_id),
        1,
        "the provider's copy, no APPEND"
    );
    let stored_id = done.stored_message_id.expect("stored");
    assert_eq!(
        stored(&w, &stored_id).await,
        ("sent".to_owned(), Some("Sent".to_owned()))
    );
    let view = listed(&w, &account, "Accepted, then the crash").await;
    assert_eq!(view["state"], "appended");
    assert_eq!(view["possible_duplicate"], false);

    // Nothing left to do.
    assert_eq!(
        w.sender()
            .run_due(now_ms() + 10_000)
            .await
            .expect("pass")
            .processed,
        0
    );
    assert_sink_stays_at(&w.sink, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_plugins_quirk_is_enough_to_look_in_sent() {
    let mut w = World::start().await;
    // Nothing learned: the plugin says Gmail's SMTP files sent mail.
    let account = w.gmail_account().await;
    let entry = cut_short(&w, &account, "Via Gmail, then the crash").await;
    let raw = w.store().outbox_raw(&w.org, &entry.id).await.expect("raw");
    w.server_files_copy(raw.copy());

    let done = resume(&mut w, &entry.id).await;
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    assert_eq!(done.sent_copy, Some(SentCopy::Found));
    assert!(!done.possible_duplicate, "{done:?}");
    assert_sink_stays_at(&w.sink, 0);
    assert_eq!(w.sent_with_message_id(&entry.message_id), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_cut_short_without_a_witness_is_sent_again_and_flagged() {
    let mut w = World::start().await;
    // Not known to file copies: nothing can tell whether the send went out.
    let account = w.account(None, &w.user().password.clone()).await;
    let entry = cut_short(&w, &account, "Unknown fate").await;

    let done = resume(&mut w, &entry.id).await;
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    assert!(done.possible_duplicate, "{done:?}");
    assert_eq!(done.sent_copy, Some(SentCopy::Appended));
    let mail = w.sink.wait_for(1, Duration::from_secs(10)).remove(0);
    assert_eq!(mail.header("Subject").as_deref(), Some("Unknown fate"));
    assert_sink_stays_at(&w.sink, 1);
    let view = listed(&w, &account, "Unknown fate").await;
    assert_eq!(view["possible_duplicate"], true, "{view}");

    // A provider that files copies but has none of this one: the attempt
    // died before the server took it, or the copy is not there; sent again,
    // flagged all the same.
    w.store()
        .set_store_sent_learned(&w.org, &account, Some(true))
        .await
        .expect("learned");
    let second = cut_short(&w, &account, "Not in Sent").await;
    let done = resume(&mut w, &second.id).await;
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    assert!(done.possible_duplicate, "{done:?}");
    assert_sink_stays_at(&w.sink, 2);

    // An ordinary send is no possible duplicate.
    let plain = w.queue(&account, "Ordinary").await;
    let done = w
        .sender()
        .process(&w.org, &plain.id, now_ms())
        .await
        .expect("process");
    assert_eq!(done.state, OutboxState::Appended, "{done:?}");
    assert!(!done.possible_duplicate, "{done:?}");
    assert_sink_stays_at(&w.sink, 3);
}
