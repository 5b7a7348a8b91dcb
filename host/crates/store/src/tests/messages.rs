//! Ingestion (idempotence, malformed mail, UIDVALIDITY changes), queries
//! with cursor pagination and filters, user state, org isolation, restart.

use super::*;
use crate::both_backends;
use mailroom_core::ids::MessageId;
use std::collections::HashSet;
use std::path::PathBuf;

/// Every `.eml` of the test corpus `tests/data/mime` (RFC examples, regressions,
/// third-party and deliberately malformed mail).
fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("corpus dir")
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push((p.clone(), std::fs::read(&p).expect("read eml")));
            }
        }
    }
    let mut out = Vec::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../tests/data/mime");
    walk(std::path::Path::new(dir), &mut out);
    assert!(out.len() > 100, "test corpus missing: {dir}");
    out
}

async fn count(s: &Store, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(s.pool())
        .await
        .expect("count")
}

fn local(key: &str) -> Location {
    Location::Local {
        key: key.into(),
        role: "inbox".into(),
    }
}

async fn all_ids(s: &Store, org: &OrgId, filter: &MessageFilter, page: u32) -> Vec<MessageId> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let p = s
            .list_messages(org, filter, cursor.as_deref(), Some(page))
            .await
            .expect("page");
        assert!(p.items.len() <= page as usize);
        out.extend(p.items.into_iter().map(|m| m.id));
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    out
}

both_backends! {
    async fn corpus_ingests_idempotently_malformed_included(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        let files = corpus();
        let distinct: HashSet<MessageId> = files.iter().map(|(_, raw)| MessageId::of_raw(raw)).collect();
        let mut new_count = 0;
        for (path, raw) in &files {
            let key = path.display().to_string();
            let got = s.ingest_message(&org, &acc.id, &local(&key), raw).await
                .unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(got.message_id, MessageId::of_raw(raw));
            new_count += usize::from(got.new);
            // Raw bytes come back exactly.
            assert_eq!(&s.get_raw_message(&org, &got.message_id).await.expect("raw"), raw, "{key}");
            s.get_message(&org, &got.message_id).await.unwrap_or_else(|e| panic!("{key}: {e}"));
        }
        assert_eq!(new_count, distinct.len());
        // Again: nothing new, no duplicate rows, locations refreshed not added.
        for (path, raw) in &files {
            let got = s.ingest_message(&org, &acc.id, &local(&path.display().to_string()), raw).await.expect("again");
            assert!(!got.new);
        }
        assert_eq!(count(s, "messages").await, distinct.len() as i64);
        assert_eq!(count(s, "message_raw").await, distinct.len() as i64);
        assert_eq!(count(s, "pipeline_runs").await, distinct.len() as i64);
        assert_eq!(count(s, "message_locations").await, files.len() as i64);
        let listed = all_ids(s, &org, &MessageFilter::default(), 37).await;
        assert_eq!(listed.len(), distinct.len());
        assert_eq!(listed.iter().collect::<HashSet<_>>().len(), distinct.len());
        // Something in the malformed set is flagged, and garbage bytes are kept.
        let junk = b"\0\x01\xff\xfe this is not mail\0".to_vec();
        let got = s.ingest_message(&org, &acc.id, &local("junk"), &junk).await.expect("junk is stored");
        assert_eq!(s.get_raw_message(&org, &got.message_id).await.expect("raw"), junk);
    }

    async fn uidvalidity_change_keeps_state_and_adds_nothing(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        let inbox = s.upsert_folder(&org, &acc.id, &FolderInfo { name: "INBOX".into(), delimiter: Some("/".into()), special_use: None }, Some("inbox")).await.expect("inbox");
        let sent = s.upsert_folder(&org, &acc.id, &FolderInfo { name: "Sent".into(), delimiter: Some("/".into()), special_use: Some("\\Sent".into()) }, Some("sent")).await.expect("sent");
        let raws: Vec<Vec<u8>> = (0..5).map(|i| mail("a@x.example", "me@acme.example", &format!("m{i}"), "Tue, 1 Jul 2003 10:52:37 +0200", "hi")).collect();
        let batch: Vec<IncomingMessage> = raws.iter().enumerate().map(|(i, raw)| IncomingMessage {
            location: Location::Imap { folder: inbox.id.clone(), uidvalidity: 1, uid: i as u32 + 1, flags: if i == 0 { vec!["\\Seen".into()] } else { vec![] }, modseq: Some(10) },
            raw, received_at: Some(1_000 + i as i64),
        }).collect();
        let cp = FolderCheckpoint { folder: inbox.id.clone(), uidvalidity: 1, last_uid: 5, highestmodseq: Some(10) };
        let got = s.ingest_batch(&org, &acc.id, &batch, Some(&cp)).await.expect("batch");
        assert!(got.iter().all(|g| g.new));
        let f = s.get_folder(&org, &inbox.id).await.expect("folder");
        assert_eq!((f.uidvalidity, f.last_uid, f.highestmodseq), (Some(1), 5, Some(10)), "checkpoint committed with the batch");
        let first = &got[0].message_id;
        let d = s.get_message(&org, first).await.expect("get");
        assert!(d.summary.state.read, "\\Seen flag becomes read");
        assert_eq!(d.summary.state.folder, "inbox");

        // The user acts on a message.
        let upd = MessageStateUpdate { folder: Some("custom:Deals".into()), labels: Some(vec!["vip".into(), "vip".into(), "q3".into()]),
            starred: Some(true), reminder_at: Some(Some(5_000)), ..Default::default() };
        let st = s.update_message_state(&org, first, &upd).await.expect("state");
        assert_eq!(st.labels, ["vip", "q3"]);

        // The same bytes also in Sent: one message, two locations.
        let again = s.ingest_message(&org, &acc.id, &Location::Imap { folder: sent.id.clone(), uidvalidity: 3, uid: 1, flags: vec![], modseq: None }, &raws[0]).await.expect("sent copy");
        assert!(!again.new);
        assert_eq!(s.get_message(&org, first).await.expect("get").locations.len(), 2);

        // UIDVALIDITY changes: locations dropped, then everything re-fetched under new UIDs.
        s.reset_folder_uidvalidity(&org, &inbox.id, 2).await.expect("reset");
        assert_eq!(s.get_folder(&org, &inbox.id).await.expect("f").last_uid, 0);
        assert_eq!(s.get_message(&org, first).await.expect("get").locations.len(), 1);
        let batch: Vec<IncomingMessage> = raws.iter().rev().enumerate().map(|(i, raw)| IncomingMessage {
            location: Location::Imap { folder: inbox.id.clone(), uidvalidity: 2, uid: 100 + i as u32, flags: vec![], modseq: None },
            raw, received_at: None,
        }).collect();
        let got = s.ingest_batch(&org, &acc.id, &batch, None).await.expect("refetch");
        assert!(got.iter().all(|g| !g.new), "nothing is new, nothing replayed to the pipeline");
        assert_eq!(count(s, "messages").await, 5);
        assert_eq!(count(s, "pipeline_runs").await, 5);
        let d = s.get_message(&org, first).await.expect("get");
        assert_eq!(d.summary.state, MessageState { folder: "custom:Deals".into(), labels: vec!["vip".into(), "q3".into()], read: true, starred: true, reminder_at: Some(5_000) });
        let uids: Vec<_> = d.locations.iter().map(|l| (l.uidvalidity, l.uid)).collect();
        assert!(uids.contains(&(Some(2), Some(104))) && uids.contains(&(Some(3), Some(1))), "{uids:?}");
        assert!(!uids.iter().any(|(v, _)| *v == Some(1)), "old UIDs are gone: {uids:?}");

        // A folder of another account cannot be used.
        let other_acc = imap_account(s, &org, &admin, "two@acme.example").await;
        let r = s.ingest_message(&org, &other_acc.id, &Location::Imap { folder: inbox.id.clone(), uidvalidity: 2, uid: 1, flags: vec![], modseq: None }, &raws[0]).await;
        assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    }

    async fn org_isolation_for_messages(db) {
        let s = &db.store;
        let (a, a_admin) = org_with_admin(s, "a").await;
        let (b, b_admin) = org_with_admin(s, "b").await;
        let acc_a = imap_account(s, &a, &a_admin, "me@a.example").await;
        let acc_b = imap_account(s, &b, &b_admin, "me@b.example").await;
        let raw = mail("x@x.example", "me@a.example", "secret plans", "Tue, 1 Jul 2003 10:52:37 +0200", "top secret");
        let got = s.ingest_message(&a, &acc_a.id, &local("1"), &raw).await.expect("a");
        // Org B cannot reach it by id, list, raw, state, or through A's account.
        assert!(matches!(s.get_message(&b, &got.message_id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.get_raw_message(&b, &got.message_id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.update_message_state(&b, &got.message_id, &MessageStateUpdate { read: Some(true), ..Default::default() }).await, Err(StoreError::NotFound(_))));
        assert!(s.list_messages(&b, &MessageFilter::default(), None, None).await.expect("list").items.is_empty());
        let by_acc = MessageFilter { account: Some(acc_a.id.clone()), ..Default::default() };
        assert!(s.list_messages(&b, &by_acc, None, None).await.expect("list").items.is_empty());
        assert!(s.message_locations(&b, &got.message_id).await.expect("loc").is_empty());
        assert!(matches!(s.ingest_message(&b, &acc_a.id, &local("x"), &raw).await, Err(StoreError::NotFound(_))));
        // The same bytes in org B are B's own copy: new there, separate state.
        let got_b = s.ingest_message(&b, &acc_b.id, &local("1"), &raw).await.expect("b");
        assert!(got_b.new);
        s.update_message_state(&b, &got_b.message_id, &MessageStateUpdate { starred: Some(true), ..Default::default() }).await.expect("b state");
        assert!(!s.get_message(&a, &got.message_id).await.expect("a").summary.state.starred);
        assert_eq!(s.list_messages(&a, &MessageFilter::default(), None, None).await.expect("list").items.len(), 1);
    }

    async fn cursor_pagination_returns_each_message_once(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        // 57 messages over 7 distinct dates: many ties on the sort key.
        let dates = ["Mon, 2 Jan 2023 10:00:00 +0000", "Tue, 3 Jan 2023 10:00:00 +0000", "Wed, 4 Jan 2023 10:00:00 +0000",
                     "Thu, 5 Jan 2023 10:00:00 +0000", "Fri, 6 Jan 2023 10:00:00 +0000", "Sat, 7 Jan 2023 10:00:00 +0000",
                     "Sun, 8 Jan 2023 10:00:00 +0000"];
        let mut expected = Vec::new();
        for i in 0..57 {
            let raw = mail("a@x.example", "me@acme.example", &format!("n{i}"), dates[i % dates.len()], "b");
            expected.push(s.ingest_message(&org, &acc.id, &local(&i.to_string()), &raw).await.expect("ingest").message_id);
        }
        for page in [1, 7, 10, 56, 57, 100] {
            let ids = all_ids(s, &org, &MessageFilter::default(), page).await;
            assert_eq!(ids.len(), 57, "page size {page}");
            assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 57, "no duplicates at page size {page}");
        }
        // Newest first, ties broken by id: the order is total and stable.
        let page = s.list_messages(&org, &MessageFilter::default(), None, Some(500)).await.expect("all");
        assert!(page.next_cursor.is_none());
        assert!(page.items.windows(2).all(|w| (w[0].sort_at, &w[0].id) > (w[1].sort_at, &w[1].id)));
        // Messages arriving between pages do not shift the rest.
        let p1 = s.list_messages(&org, &MessageFilter::default(), None, Some(20)).await.expect("p1");
        let raw = mail("a@x.example", "me@acme.example", "late", "Mon, 9 Jan 2023 10:00:00 +0000", "b");
        s.ingest_message(&org, &acc.id, &local("late"), &raw).await.expect("late");
        let p2 = s.list_messages(&org, &MessageFilter::default(), p1.next_cursor.as_deref(), Some(100)).await.expect("p2");
        assert_eq!(p1.items.len() + p2.items.len(), 57);
        assert!(matches!(s.list_messages(&org, &MessageFilter::default(), Some("garbage"), None).await, Err(StoreError::Invalid(_))));
        // With a filter too.
        let tuesday = MessageFilter { after: Some(1_672_740_000_000), before: Some(1_672_740_000_001), ..Default::default() };
        assert_eq!(all_ids(s, &org, &tuesday, 3).await.len(), 8);
    }

    async fn filters_select_the_right_messages(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let bob = s.create_user(&org, &NewUser { email: "bob@acme.example".into(), display_name: "Bob".into(), role: Role::User, licensed: true }).await.expect("bob").id;
        let acc1 = imap_account(s, &org, &admin, "one@acme.example").await;
        let acc2 = imap_account(s, &org, &bob, "two@acme.example").await;
        let d = "Tue, 1 Jul 2003 10:52:37 +0200";
        let m1 = s.ingest_message(&org, &acc1.id, &local("1"), &mail("Carol <Carol@Client.example>", "one@acme.example", "Quote request", d, "x")).await.expect("1").message_id;
        let m2 = s.ingest_message(&org, &acc2.id, &local("2"), &mail("two@acme.example", "dave@client.example", "Re: 100% discount_offer", d, "x")).await.expect("2").message_id;
        let m3 = s.ingest_message(&org, &acc2.id, &Location::Local { key: "3".into(), role: "sent".into() },
            &format!("From: two@acme.example\r\nTo: x@else.example\r\nCc: carol.private@home.example\r\nSubject: hello\r\nDate: {d}\r\n\r\nhi\r\n").into_bytes()).await.expect("3").message_id;
        let ids = |p: MessagePage| p.items.into_iter().map(|m| m.id).collect::<HashSet<_>>();
        let org_ref = &org;
        let list = |f: MessageFilter| async move { ids(s.list_messages(org_ref, &f, None, None).await.expect("list")) };
        let set = |v: &[&MessageId]| v.iter().map(|m| (*m).clone()).collect::<HashSet<_>>();

        assert_eq!(list(MessageFilter { account: Some(acc1.id.clone()), ..Default::default() }).await, set(&[&m1]));
        assert_eq!(list(MessageFilter { address: Some("CAROL@client.example".into()), ..Default::default() }).await, set(&[&m1]));
        assert_eq!(list(MessageFilter { folder: Some("sent".into()), ..Default::default() }).await, set(&[&m3]));
        assert_eq!(list(MessageFilter { text: Some("QUOTE".into()), ..Default::default() }).await, set(&[&m1]));
        assert_eq!(list(MessageFilter { text: Some("100%".into()), ..Default::default() }).await, set(&[&m2]));
        assert_eq!(list(MessageFilter { text: Some("count_of".into()), ..Default::default() }).await, set(&[&m2]));
        assert_eq!(list(MessageFilter { text: Some("c_unt".into()), ..Default::default() }).await, set(&[]), "LIKE wildcards are literal");
        assert_eq!(list(MessageFilter { text: Some("carol".into()), ..Default::default() }).await, set(&[&m1]), "sender name");
        assert_eq!(list(MessageFilter { read: Some(true), ..Default::default() }).await, set(&[&m1, &m2, &m3]), "local imports are read");
        assert_eq!(list(MessageFilter { visible_to: Some(bob.clone()), ..Default::default() }).await, set(&[&m2, &m3]));
        assert_eq!(list(MessageFilter { visible_to: Some(admin.clone()), ..Default::default() }).await, set(&[&m1]));

        // Related to a contact: any of its emails, in any field.
        let carol = s.create_contact(&org, &NewCrmRecord { name: "Carol".into(), primary_email: Some("carol@client.example".into()),
            secondary_emails: vec!["Carol.Private@home.example".into()], owner: None, fields: serde_json::json!({}) }).await.expect("carol");
        assert_eq!(list(MessageFilter { contact: Some(carol.id.clone()), ..Default::default() }).await, set(&[&m1, &m3]));
        assert_eq!(ids(s.messages_for_contact(&org, &carol.id, None, None).await.expect("related")), set(&[&m1, &m3]));
        let (other, _) = org_with_admin(s, "other").await;
        assert!(s.list_messages(&other, &MessageFilter { contact: Some(carol.id.clone()), ..Default::default() }, None, None).await.expect("x").items.is_empty());
    }

    async fn restart_keeps_messages(db) {
        let mut db = db;
        let (org, admin) = org_with_admin(&db.store, "acme").await;
        let acc = imap_account(&db.store, &org, &admin, "me@acme.example").await;
        let raw = mail("a@x.example", "me@acme.example", "persist", "Tue, 1 Jul 2003 10:52:37 +0200", "body");
        let id = db.store.ingest_message(&org, &acc.id, &local("p"), &raw).await.expect("ingest").message_id;
        db.store.update_message_state(&org, &id, &MessageStateUpdate { labels: Some(vec!["keep".into()]), ..Default::default() }).await.expect("state");
        db.restart().await;
        assert_eq!(db.store.get_raw_message(&org, &id).await.expect("raw"), raw);
        let d = db.store.get_message(&org, &id).await.expect("get");
        assert_eq!(d.summary.subject.as_deref(), Some("persist"));
        assert_eq!(d.summary.state.labels, ["keep"]);
        assert!(!db.store.ingest_message(&org, &acc.id, &local("p"), &raw).await.expect("again").new);
    }
}
