//! POP3 mailboxes of real size: thousands of messages (a UIDL answer far
//! past any read buffer) and multi-megabyte messages, byte for byte.

use super::pop3_support::*;
use super::support::*;
use mailroom::ids::MessageId;
use mailroom::sync::diagnose::{Step, test_account};
use mailroom::sync::{NoDiagnoser, NoFolderMapper, SyncOptions, Timeouts, sync_account_with};
use mailroom_test_servers::{Dovecot, Layout};
use std::time::{Duration, Instant};

/// Dovecot reads every new message once to index it; a few seconds of
/// quiet before the first line of an answer are the server's, not a hang.
fn patient(batch_messages: usize) -> SyncOptions {
    SyncOptions {
        batch_messages,
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            tls: Duration::from_secs(5),
            greeting: Duration::from_secs(60),
            command: Duration::from_secs(60),
        },
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_messages_are_listed_and_downloaded() {
    const COUNT: usize = 5_000;
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let mails: Vec<Vec<u8>> = (0..COUNT)
        .map(|i| mail(i, &format!("bulk {i}"), 300))
        .collect();
    d.seed_inbox_many(&d.user().name, mails.iter().map(Vec::as_slice));
    let acc = pop3_account(s, &t, &d, Pop3::plain(&d)).await;

    let report = test_account(s, &t.org, &acc, &NoDiagnoser, patient(1).timeouts)
        .await
        .expect("report");
    let listing = report
        .step(Step::ListFolders)
        .map(|s| s.detail.clone())
        .unwrap_or_default();
    assert!(report.ok, "{report:#?}");
    assert!(listing.contains("INBOX: 5000 messages"), "{listing}");

    let started = Instant::now();
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &patient(500), |_| {})
        .await
        .expect("sync of 5,000 messages");
    eprintln!("POP3: {COUNT} messages synced in {:?}", started.elapsed());
    assert_eq!(
        (r.new_messages(), r.fetched()),
        (COUNT as u64, COUNT as u64)
    );
    assert_eq!(totals(s).await, (5_000, 5_000, 5_000));
    for i in [0, 97, 98, 2_500, COUNT - 1] {
        by_subject(s, &t.org, &format!("bulk {i}")).await;
    }
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &patient(500), |_| {})
        .await
        .expect("incremental sync");
    assert_eq!((r.new_messages(), r.fetched()), (0, 0), "nothing new");
}

/// A 5 MB message whose lines start with dots here and there (stuffed on
/// the wire), so that the stored bytes prove the unstuffing too.
fn big_mail(n: usize) -> Vec<u8> {
    let mut raw = mail(n, &format!("big {n}"), 0);
    let mut line = 0usize;
    while raw.len() < 5 * 1024 * 1024 {
        line += 1;
        let text = if line.is_multiple_of(1_000) {
            format!(".{n} line {line} starts with a dot\r\n")
        } else {
            format!("{n} line {line}: attachment-like filler 0123456789abcdef\r\n")
        };
        raw.extend_from_slice(text.as_bytes());
    }
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_five_megabyte_messages_arrive_byte_for_byte() {
    const COUNT: usize = 100;
    let db = mailroom::store::testing::TestDb::sqlite().await;
    let s = &db.store;
    let t = tenant(s).await;
    let d = Dovecot::start(Layout::SpecialUse);
    let mails: Vec<Vec<u8>> = (0..COUNT).map(big_mail).collect();
    d.seed_inbox_many(&d.user().name, mails.iter().map(Vec::as_slice));
    let acc = pop3_account(s, &t, &d, Pop3::plain(&d).deleting()).await;

    let started = Instant::now();
    let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &patient(10), |_| {})
        .await
        .expect("sync of 100 messages of 5 MB");
    eprintln!(
        "POP3: {COUNT} messages of 5 MB synced in {:?}",
        started.elapsed()
    );
    assert_eq!(
        (r.new_messages(), r.deleted_from_server()),
        (COUNT as u64, COUNT as u64)
    );
    assert_eq!(on_server(&d), 0);
    for (n, raw) in mails.iter().enumerate() {
        let (id, _) = by_subject(s, &t.org, &format!("big {n}")).await;
        assert_eq!(
            id,
            MessageId::of_raw(raw),
            "message {n} is the server's bytes"
        );
    }
}
