//! What sync relies on: location bookkeeping, POP3 UIDLs, batch throughput,
//! and deleting an org with everything in it.

use super::*;
use crate::both_backends;
use mailroom_core::ids::MessageId;
use mailroom_plugin_host::registry::storage::RegistryStorage;

both_backends! {
    async fn locations_for_incremental_sync(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        let f = s.upsert_folder(&org, &acc.id, &FolderInfo { name: "INBOX".into(), delimiter: None, special_use: None }, Some("inbox")).await.expect("folder");
        let raws: Vec<Vec<u8>> = (0..4).map(|i| mail("a@x.example", "me@acme.example", &format!("{i}"), "Tue, 1 Jul 2003 10:52:37 +0200", "b")).collect();
        let batch: Vec<IncomingMessage> = raws.iter().enumerate().map(|(i, raw)| IncomingMessage {
            location: Location::Imap { folder: f.id.clone(), uidvalidity: 9, uid: 10 + i as u32, flags: vec![], modseq: Some(1) },
            raw, received_at: None,
        }).collect();
        s.ingest_batch(&org, &acc.id, &batch, None).await.expect("batch");
        let uids = s.folder_uids(&org, &f.id).await.expect("uids");
        assert_eq!(uids.iter().map(|u| u.uid).collect::<Vec<_>>(), [10, 11, 12, 13]);
        s.set_location_flags(&org, &f.id, 11, &["\\Seen".into(), "\\Flagged".into()], Some(7)).await.expect("flags");
        let u = s.folder_uids(&org, &f.id).await.expect("uids");
        assert_eq!((u[1].flags.clone(), u[1].modseq), (vec!["\\Seen".to_owned(), "\\Flagged".to_owned()], Some(7)));
        assert_eq!(s.remove_folder_uids(&org, &f.id, &[10, 12, 99]).await.expect("expunge"), 2);
        assert_eq!(s.folder_uids(&org, &f.id).await.expect("uids").len(), 2);
        assert_eq!(s.list_messages(&org, &MessageFilter::default(), None, None).await.expect("list").items.len(), 4, "messages stay");
        let (other, _) = org_with_admin(s, "other").await;
        assert!(s.folder_uids(&other, &f.id).await.expect("uids").is_empty());
        assert!(matches!(s.set_location_flags(&other, &f.id, 11, &[], None).await, Err(StoreError::NotFound(_))));
        assert_eq!(s.remove_folder_uids(&other, &f.id, &[11]).await.expect("other"), 0);

        let pop = s.create_account(&org, &NewAccount { protocol: Protocol::Pop3, ..new_account(&admin, "pop@acme.example") }).await.expect("pop");
        for (i, raw) in raws.iter().enumerate() {
            s.ingest_message(&org, &pop.id, &Location::Pop3 { uidl: format!("u{i}") }, raw).await.expect("pop ingest");
        }
        assert_eq!(s.pop3_uidls(&org, &pop.id).await.expect("uidls"), ["u0", "u1", "u2", "u3"]);
        s.remove_pop3_uidl(&org, &pop.id, "u1").await.expect("rm");
        assert_eq!(s.pop3_uidls(&org, &pop.id).await.expect("uidls").len(), 3);
        assert!(s.pop3_uidls(&other, &pop.id).await.expect("uidls").is_empty());
    }

    async fn server_flag_changes_reach_locations_and_read_starred_state(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        let f = s.upsert_folder(&org, &acc.id, &FolderInfo { name: "INBOX".into(), delimiter: None, special_use: None }, Some("inbox")).await.expect("folder");
        let raws: Vec<Vec<u8>> = (0..2).map(|i| mail("a@x.example", "me@acme.example", &format!("{i}"), "Tue, 1 Jul 2003 10:52:37 +0200", "b")).collect();
        let initial = [vec![], vec!["\\Flagged".to_owned()]];
        let batch: Vec<IncomingMessage> = raws.iter().enumerate().map(|(i, raw)| IncomingMessage {
            location: Location::Imap { folder: f.id.clone(), uidvalidity: 3, uid: 1 + i as u32, flags: initial[i].clone(), modseq: Some(5) },
            raw, received_at: None,
        }).collect();
        let ids: Vec<_> = s.ingest_batch(&org, &acc.id, &batch, None).await.expect("batch").into_iter().map(|i| i.message_id).collect();
        s.update_message_state(&org, &ids[0], &MessageStateUpdate { labels: Some(vec!["vip".into()]), ..Default::default() }).await.expect("label");
        let (org_ref, ids_ref) = (&org, &ids);
        let state = |i: usize| { let id = ids_ref[i].clone(); async move { s.get_message(org_ref, &id).await.expect("message").summary.state } };
        assert!(!state(0).await.read && state(1).await.starred);

        let changes = [
            ServerFlags { uid: 1, flags: vec!["\\Seen".into(), "$Forwarded".into()], modseq: Some(9) },
            ServerFlags { uid: 2, flags: vec![], modseq: Some(9) },
            ServerFlags { uid: 99, flags: vec!["\\Seen".into()], modseq: Some(9) },
        ];
        assert_eq!(s.apply_server_flags(&org, &f.id, &changes).await.expect("apply"), 2);
        let (m0, m1) = (state(0).await, state(1).await);
        assert!(m0.read, "\\Seen on the server marks it read");
        assert_eq!(m0.labels, ["vip"], "labels are the user's own");
        assert!(!m1.starred, "\\Flagged removed on the server unstars it");
        let uids = s.folder_uids(&org, &f.id).await.expect("uids");
        assert_eq!((uids[0].flags.clone(), uids[0].modseq), (vec!["\\Seen".to_owned(), "$Forwarded".to_owned()], Some(9)));
        assert_eq!(s.apply_server_flags(&org, &f.id, &changes).await.expect("again"), 0, "nothing changed the second time");
        // A user's later change in Mailroom is not undone by an unchanged server.
        s.update_message_state(&org, &ids[0], &MessageStateUpdate { read: Some(false), ..Default::default() }).await.expect("unread");
        assert_eq!(s.apply_server_flags(&org, &f.id, &changes).await.expect("again"), 0);
        assert!(!state(0).await.read);
        let (other, _) = org_with_admin(s, "other").await;
        assert_eq!(s.apply_server_flags(&other, &f.id, &changes[..1]).await.expect("other org"), 0);
    }

    async fn relocating_a_renumbered_folder_keeps_messages_and_state(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        let f = s.upsert_folder(&org, &acc.id, &FolderInfo { name: "Archive".into(), delimiter: None, special_use: None }, Some("archive")).await.expect("folder");
        let raws: Vec<Vec<u8>> = (0..3).map(|i| mail("a@x.example", "me@acme.example", &format!("{i}"), "Tue, 1 Jul 2003 10:52:37 +0200", "b")).collect();
        let batch: Vec<IncomingMessage> = raws.iter().enumerate().map(|(i, raw)| IncomingMessage {
            location: Location::Imap { folder: f.id.clone(), uidvalidity: 1, uid: 1 + i as u32, flags: vec![], modseq: None },
            raw, received_at: None,
        }).collect();
        let cp = FolderCheckpoint { folder: f.id.clone(), uidvalidity: 1, last_uid: 3, highestmodseq: Some(4) };
        let ids: Vec<_> = s.ingest_batch(&org, &acc.id, &batch, Some(&cp)).await.expect("batch").into_iter().map(|i| i.message_id).collect();
        s.update_message_state(&org, &ids[0], &MessageStateUpdate { labels: Some(vec!["vip".into()]), ..Default::default() }).await.expect("label");

        let mut asked = ids.clone();
        asked.push(MessageId("0".repeat(64)));
        let prints = s.message_fingerprints(&org, &asked).await.expect("fingerprints");
        assert_eq!(prints.len(), 3, "unknown ids are left out");
        let p0 = prints.iter().find(|p| p.message_id == ids[0]).expect("first");
        assert_eq!(p0.size, raws[0].len() as u64);
        assert!(p0.header_message_id.as_deref().is_some_and(|m| m.ends_with("@test")), "{p0:?}");
        let (other, other_admin) = org_with_admin(s, "other").await;
        assert!(s.message_fingerprints(&other, &ids).await.expect("other org").is_empty());

        let located = [
            RelocatedUid { uid: 10, message_id: ids[1].clone(), flags: vec!["\\Seen".into()], modseq: Some(2) },
            RelocatedUid { uid: 11, message_id: ids[0].clone(), flags: vec![], modseq: Some(2) },
        ];
        s.relocate_folder(&org, &acc.id, &f.id, 7, &located).await.expect("relocate");
        let uids = s.folder_uids(&org, &f.id).await.expect("uids");
        assert_eq!(uids.iter().map(|u| (u.uid, u.uidvalidity, u.message_id.clone())).collect::<Vec<_>>(), [(10, 7, ids[1].clone()), (11, 7, ids[0].clone())]);
        let folder = s.get_folder(&org, &f.id).await.expect("folder");
        assert_eq!((folder.uidvalidity, folder.last_uid, folder.highestmodseq), (Some(7), 0, None), "the checkpoint restarts");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages").fetch_one(s.pool()).await.expect("count");
        assert_eq!(n, 3, "messages not found again stay (they are matched by hash when fetched)");
        assert_eq!(s.get_message(&org, &ids[0]).await.expect("message").summary.state.labels, ["vip"]);

        let other_acc = imap_account(s, &other, &other_admin, "x@other.example").await;
        assert!(matches!(s.relocate_folder(&other, &other_acc.id, &f.id, 8, &[]).await, Err(StoreError::NotFound(_))));
        let second = imap_account(s, &org, &admin, "second@acme.example").await;
        assert!(matches!(s.relocate_folder(&org, &second.id, &f.id, 8, &[]).await, Err(StoreError::NotFound(_))), "the folder of another account");
        assert_eq!(s.folder_uids(&org, &f.id).await.expect("uids").len(), 2);
    }

    async fn batched_ingest_throughput(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        let f = s.upsert_folder(&org, &acc.id, &FolderInfo { name: "INBOX".into(), delimiter: None, special_use: None }, Some("inbox")).await.expect("folder");
        let body = "Lorem ipsum dolor sit amet. ".repeat(150);
        let raws: Vec<Vec<u8>> = (0..2000).map(|i| mail("Ann <ann@x.example>", "me@acme.example, b@y.example", &format!("message {i}"), "Tue, 1 Jul 2003 10:52:37 +0200", &body)).collect();
        let started = std::time::Instant::now();
        for (n, chunk) in raws.chunks(200).enumerate() {
            let batch: Vec<IncomingMessage> = chunk.iter().enumerate().map(|(i, raw)| IncomingMessage {
                location: Location::Imap { folder: f.id.clone(), uidvalidity: 1, uid: (n * 200 + i + 1) as u32, flags: vec![], modseq: None },
                raw, received_at: None,
            }).collect();
            let cp = FolderCheckpoint { folder: f.id.clone(), uidvalidity: 1, last_uid: ((n + 1) * 200) as u32, highestmodseq: None };
            s.ingest_batch(&org, &acc.id, &batch, Some(&cp)).await.expect("batch");
        }
        let rate = raws.len() as f64 / started.elapsed().as_secs_f64();
        eprintln!("{:?}: ingested {} messages (~4.5 KB) at {rate:.0} messages/s", db.backend(), raws.len());
        assert_eq!(s.get_folder(&org, &f.id).await.expect("folder").last_uid, 2000);
        assert!(rate > 100.0, "ingest is far too slow: {rate:.0}/s");
    }

    async fn concurrent_ingest_of_the_same_mail_stores_it_once(db) {
        let s = db.store.clone();
        let (org, admin) = org_with_admin(&s, "acme").await;
        let acc = imap_account(&s, &org, &admin, "me@acme.example").await;
        let raws: Vec<Vec<u8>> = (0..20).map(|i| mail("a@x.example", "me@acme.example", &format!("{i}"), "Tue, 1 Jul 2003 10:52:37 +0200", "b")).collect();
        let raws = std::sync::Arc::new(raws);
        let mut tasks = Vec::new();
        for worker in 0..6 {
            let (s, org, acc, raws) = (s.clone(), org.clone(), acc.id.clone(), raws.clone());
            tasks.push(tokio::spawn(async move {
                // Half the workers take single messages, half whole batches in
                // reverse order: overlapping transactions in opposite orders.
                if worker % 2 == 0 {
                    let mut new = 0;
                    for (i, raw) in raws.iter().enumerate() {
                        let loc = Location::Local { key: format!("{worker}/{i}"), role: "inbox".into() };
                        new += usize::from(s.ingest_message(&org, &acc, &loc, raw).await.expect("ingest").new);
                    }
                    new
                } else {
                    let batch: Vec<IncomingMessage> = raws.iter().enumerate().rev().map(|(i, raw)| IncomingMessage {
                        location: Location::Local { key: format!("{worker}/{i}"), role: "inbox".into() },
                        raw, received_at: None,
                    }).collect();
                    let got = s.ingest_batch(&org, &acc, &batch, None).await.expect("batch");
                    assert!(got.iter().zip(batch.iter()).all(|(g, b)| g.message_id == MessageId::of_raw(b.raw)), "results in input order");
                    got.iter().filter(|g| g.new).count()
                }
            }));
        }
        let mut new = 0;
        for t in tasks {
            new += t.await.expect("task");
        }
        assert_eq!(new, 20, "each message is new exactly once");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages").fetch_one(s.pool()).await.expect("count");
        assert_eq!(n, 20);
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM message_locations").fetch_one(s.pool()).await.expect("count");
        assert_eq!(n, 120);
    }

    async fn delete_org_removes_everything(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let (keep, keep_admin) = org_with_admin(s, "keep").await;
        for (o, u) in [(&org, &admin), (&keep, &keep_admin)] {
            let acc = imap_account(s, o, u, "me@x.example").await;
            let f = s.upsert_folder(o, &acc.id, &FolderInfo { name: "INBOX".into(), delimiter: None, special_use: None }, None).await.expect("folder");
            let raw = mail("a@x.example", "me@x.example", "s", "Tue, 1 Jul 2003 10:52:37 +0200", "b");
            s.ingest_message(o, &acc.id, &Location::Imap { folder: f.id, uidvalidity: 1, uid: 1, flags: vec![], modseq: None }, &raw).await.expect("ingest");
            let mut c = NewCrmRecord { name: "C".into(), primary_email: Some("a@x.example".into()), secondary_emails: vec![], owner: Some(u.clone()), fields: serde_json::json!({}) };
            s.create_contact(o, &c).await.expect("contact");
            c.name = "L".into();
            s.create_lead(o, &c).await.expect("lead");
            s.audit(o, Some(u), "test", None, &serde_json::json!({})).await.expect("audit");
            RegistryStorage::kv_apply(s, o, "p", &[mailroom_plugin_host::registry::storage::KvChange::Set("k".into(), vec![1])]).await.expect("kv");
        }
        s.delete_org(&org).await.expect("delete org");
        assert!(matches!(s.get_org(&org).await, Err(StoreError::NotFound(_))));
        for table in ["users", "mail_accounts", "folders", "messages", "message_raw", "message_locations", "crm_records", "crm_emails", "audit_log", "plugin_kv", "api_tokens"] {
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"))).fetch_one(s.pool()).await.expect(table);
            assert!(n >= 1, "{table}: the other org keeps its rows");
            let sql = match table {
                "message_raw" => "SELECT COUNT(*) FROM message_raw WHERE org_id = $1".to_owned(),
                "folders" | "message_locations" | "crm_emails" | "users" | "mail_accounts" | "messages" | "crm_records" | "audit_log" | "plugin_kv" | "api_tokens" => format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1"),
                _ => unreachable!(),
            };
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(org.as_str()).fetch_one(s.pool()).await.expect(table);
            assert_eq!(n, 0, "{table} still has rows of the deleted org");
        }
        assert!(matches!(s.delete_org(&org).await, Err(StoreError::NotFound(_))));
    }
}
