//! The outbox state machine on both back ends: guarded transitions, claims
//! that only one worker wins, leases that expire after a crash, due times,
//! and the tenant wall.

use super::*;
use crate::both_backends;
use mailroom_core::ids::MessageId;

fn new_entry(account: &Account, subject: &str) -> NewOutboxEntry {
    NewOutboxEntry {
        account: account.id.clone(),
        created_by: Some(account.owner.clone()),
        message_id: format!("<{}@acme.example>", hex::encode(rand::random::<[u8; 8]>())),
        subject: subject.into(),
        envelope_from: account.email.clone(),
        envelope_to: vec!["maria@customer.example".into(), "boss@acme.example".into()],
        raw: b"Subject: hi\r\n\r\nbody\r\n".to_vec(),
        copy_raw: Some(b"Bcc: boss@acme.example\r\nSubject: hi\r\n\r\nbody\r\n".to_vec()),
    }
}

both_backends! {
    async fn outbox_entries_move_through_guarded_states(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        let e = s.create_outbox_entry(&org, &new_entry(&acc, "Offer")).await.expect("create");
        assert_eq!((e.state, e.attempts, e.envelope_to.len()), (OutboxState::Queued, 0, 2));
        let raw = s.outbox_raw(&org, &e.id).await.expect("raw");
        assert!(raw.copy().starts_with(b"Bcc:"), "the copy keeps Bcc");
        let now = now_ms();
        assert_eq!(s.due_outbox(now, 10).await.expect("due"), [(org.clone(), e.id.clone())]);

        // One worker wins the claim; the lease keeps the other out.
        assert!(s.claim_outbox_send(&org, &e.id, now, 60_000).await.expect("claim"));
        assert!(!s.claim_outbox_send(&org, &e.id, now, 60_000).await.expect("second claim"));
        assert!(s.due_outbox(now, 10).await.expect("due").is_empty());
        // A transient failure: queued again, due later, with the error.
        s.retry_outbox_later(&org, &e.id, "421 try later", now + 5_000).await.expect("retry");
        let q = s.get_outbox_entry(&org, &e.id).await.expect("get");
        assert_eq!((q.state, q.attempts, q.last_error.as_deref()), (OutboxState::Queued, 1, Some("421 try later")));
        assert!(s.due_outbox(now, 10).await.expect("due").is_empty(), "not yet");
        assert!(!s.claim_outbox_send(&org, &e.id, now, 60_000).await.expect("early claim"));
        assert_eq!(s.due_outbox(now + 5_000, 10).await.expect("due").len(), 1);

        // The worker holding it dies mid-send: after the lease it is taken again.
        assert!(s.claim_outbox_send(&org, &e.id, now + 5_000, 1_000).await.expect("claim 2"));
        assert!(s.due_outbox(now + 5_500, 10).await.expect("due").is_empty());
        assert_eq!(s.due_outbox(now + 6_001, 10).await.expect("due").len(), 1, "stale lease");
        assert!(s.claim_outbox_send(&org, &e.id, now + 6_001, 60_000).await.expect("reclaim"));
        s.mark_outbox_sent(&org, &e.id).await.expect("sent");
        assert!(matches!(s.mark_outbox_sent(&org, &e.id).await, Err(StoreError::Conflict(_))), "guarded");
        let sent = s.get_outbox_entry(&org, &e.id).await.expect("get");
        assert_eq!((sent.state, sent.attempts, sent.last_error.clone()), (OutboxState::Sent, 3, None));

        // The copy step: never a send claim again.
        assert!(!s.claim_outbox_send(&org, &e.id, now_ms() + 1_000_000, 1_000).await.expect("no resend"));
        assert!(s.claim_outbox_copy(&org, &e.id, now_ms(), 60_000).await.expect("copy claim"));
        assert!(!s.claim_outbox_copy(&org, &e.id, now_ms(), 60_000).await.expect("held"));
        let later = now_ms() + 10_000;
        s.retry_outbox_copy_later(&org, &e.id, "IMAP down", later).await.expect("copy retry");
        assert!(s.claim_outbox_copy(&org, &e.id, later, 60_000).await.expect("copy claim 2"));
        let stored = MessageId::of_raw(raw.copy());
        s.finish_outbox(&org, &e.id, SentCopy::Appended, &stored, None).await.expect("finish");
        let done = s.get_outbox_entry(&org, &e.id).await.expect("get");
        assert_eq!((done.state, done.sent_copy, done.copy_attempts), (OutboxState::Appended, Some(SentCopy::Appended), 2));
        assert_eq!(done.stored_message_id, Some(stored));
        assert!(s.due_outbox(i64::MAX / 2, 10).await.expect("due").is_empty(), "done is done");

        // A permanent failure.
        let f = s.create_outbox_entry(&org, &new_entry(&acc, "Refused")).await.expect("create");
        assert!(s.claim_outbox_send(&org, &f.id, now_ms(), 60_000).await.expect("claim"));
        s.fail_outbox(&org, &f.id, "535 5.7.8 Authentication failed").await.expect("fail");
        let failed = s.get_outbox_entry(&org, &f.id).await.expect("get");
        assert_eq!((failed.state, failed.next_attempt_at), (OutboxState::Failed, None));
        assert!(s.due_outbox(i64::MAX / 2, 10).await.expect("due").is_empty());
        let listed = s.list_outbox(&org, &acc.id, 10).await.expect("list");
        assert_eq!(listed.iter().map(|e| e.subject.as_str()).collect::<Vec<_>>(), ["Refused", "Offer"]);

        // Tenants are walls.
        let (other, _) = org_with_admin(s, "other").await;
        assert!(matches!(s.get_outbox_entry(&other, &e.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.outbox_raw(&other, &e.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.create_outbox_entry(&other, &new_entry(&acc, "x")).await, Err(StoreError::NotFound(_))));
        assert!(s.list_outbox(&other, &acc.id, 10).await.expect("list").is_empty());
    }
    async fn an_attempt_cut_short_is_known_to_the_next_worker(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        let e = s.create_outbox_entry(&org, &new_entry(&acc, "Offer")).await.expect("create");
        let now = now_ms();
        // An attempt that ends (here: 4xx) leaves nothing in flight behind.
        assert!(s.claim_outbox_send(&org, &e.id, now, 1_000).await.expect("claim"));
        s.mark_outbox_in_flight(&org, &e.id).await.expect("in flight");
        s.retry_outbox_later(&org, &e.id, "421 later", now).await.expect("retry");
        assert!(s.claim_outbox_send(&org, &e.id, now, 1_000).await.expect("claim 2"));
        let claimed = s.get_outbox_entry(&org, &e.id).await.expect("get");
        assert_eq!((claimed.in_flight_since, claimed.interrupted_attempt_at), (None, None));

        // This one's worker dies in flight: the next claim knows.
        s.mark_outbox_in_flight(&org, &e.id).await.expect("in flight 2");
        let started = s.get_outbox_entry(&org, &e.id).await.expect("get").in_flight_since;
        assert!(started.is_some());
        assert!(s.claim_outbox_send(&org, &e.id, now + 1_001, 1_000).await.expect("take over"));
        let taken = s.get_outbox_entry(&org, &e.id).await.expect("get");
        assert_eq!((taken.in_flight_since, taken.interrupted_attempt_at), (None, started));
        // Still unknown after a failed resend: kept for the next attempt.
        s.mark_outbox_in_flight(&org, &e.id).await.expect("in flight 3");
        s.retry_outbox_later(&org, &e.id, "421 later", now).await.expect("retry");
        assert!(s.claim_outbox_send(&org, &e.id, now + 2_002, 1_000).await.expect("claim 4"));
        assert_eq!(s.get_outbox_entry(&org, &e.id).await.expect("get").interrupted_attempt_at, started);
        s.mark_outbox_sent(&org, &e.id).await.expect("sent");
        let sent = s.get_outbox_entry(&org, &e.id).await.expect("get");
        assert!(sent.possible_duplicate, "sent again after an attempt that may have gone out");
        assert_eq!(sent.interrupted_attempt_at, None);

        // Found in Sent: sent as of the interrupted attempt, no duplicate.
        let f = s.create_outbox_entry(&org, &new_entry(&acc, "Found")).await.expect("create");
        let now = now_ms();
        assert!(s.claim_outbox_send(&org, &f.id, now, 1_000).await.expect("claim"));
        assert!(matches!(
            s.mark_outbox_sent_by_interrupted_attempt(&org, &f.id).await,
            Err(StoreError::Conflict(_))
        ), "only after an interrupted attempt");
        s.mark_outbox_in_flight(&org, &f.id).await.expect("in flight");
        let started = s.get_outbox_entry(&org, &f.id).await.expect("get").in_flight_since;
        assert!(s.claim_outbox_send(&org, &f.id, now + 1_001, 1_000).await.expect("take over"));
        s.mark_outbox_sent_by_interrupted_attempt(&org, &f.id).await.expect("sent before");
        let found = s.get_outbox_entry(&org, &f.id).await.expect("get");
        assert_eq!((found.state, found.sent_at, found.possible_duplicate), (OutboxState::Sent, started, false));
        assert!(!s.claim_outbox_send(&org, &f.id, i64::MAX / 2, 1_000).await.expect("no resend"));
    }
}
