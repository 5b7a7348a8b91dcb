//! Contacts and leads, the audit log and the pipeline marker.

use super::*;
use crate::both_backends;
use mailroom_core::ids::{ContactId, LeadId};

fn person(name: &str, primary: Option<&str>, secondary: &[&str]) -> NewCrmRecord {
    NewCrmRecord {
        name: name.into(),
        primary_email: primary.map(str::to_owned),
        secondary_emails: secondary.iter().map(|s| s.to_string()).collect(),
        owner: None,
        fields: serde_json::json!({"company": "Client Ltd"}),
    }
}

both_backends! {
    async fn contacts_and_leads(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let (other, other_admin) = org_with_admin(s, "other").await;
        let mut new = person("Carol", Some("Carol@Client.example"), &["carol@client.example", "c@home.example", "C@home.example"]);
        new.owner = Some(admin.clone());
        let c = s.create_contact(&org, &new).await.expect("create");
        assert_eq!(c.primary_email.as_deref(), Some("carol@client.example"));
        assert_eq!(c.secondary_emails, ["c@home.example"]);
        assert_eq!(c.fields["company"], "Client Ltd");

        assert!(matches!(s.create_contact(&org, &person("", None, &[])).await, Err(StoreError::Invalid(_))));
        assert!(matches!(s.create_contact(&org, &person("X", Some("bad"), &[])).await, Err(StoreError::Invalid(_))));
        let mut bad = person("X", None, &[]);
        bad.fields = serde_json::json!([1]);
        assert!(matches!(s.create_contact(&org, &bad).await, Err(StoreError::Invalid(_))));
        let mut bad = person("X", None, &[]);
        bad.owner = Some(other_admin.clone());
        assert!(matches!(s.create_contact(&org, &bad).await, Err(StoreError::Invalid(_))), "owner from another org");

        // Lookup by any email; a lead is a different kind.
        let l = s.create_lead(&org, &person("Carol lead", Some("c@home.example"), &[])).await.expect("lead");
        assert_eq!(s.crm_find_by_email::<ContactId>(&org, "C@HOME.example").await.expect("find").len(), 1);
        assert_eq!(s.crm_find_by_email::<LeadId>(&org, "c@home.example").await.expect("find")[0].id, l.id);
        assert!(s.crm_find_by_email::<ContactId>(&other, "c@home.example").await.expect("find").is_empty());
        assert!(matches!(s.get_contact(&org, &ContactId(l.id.0.clone())).await, Err(StoreError::NotFound(_))), "a lead is not a contact");

        // Update: emails replaced, the index follows.
        let upd: CrmRecordUpdate = serde_json::from_str(r#"{"secondary_emails":["new@home.example"],"owner":null}"#).expect("json");
        let c2 = s.update_contact(&org, &c.id, &upd).await.expect("update");
        assert_eq!((c2.secondary_emails.clone(), c2.owner.clone()), (vec!["new@home.example".to_owned()], None));
        assert!(s.crm_find_by_email::<ContactId>(&org, "c@home.example").await.expect("find").is_empty());
        assert_eq!(s.crm_find_by_email::<ContactId>(&org, "new@home.example").await.expect("find").len(), 1);

        // Isolation.
        assert!(matches!(s.get_contact(&other, &c.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.update_contact(&other, &c.id, &CrmRecordUpdate::default()).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.delete_contact(&other, &c.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.messages_for_contact(&other, &c.id, None, None).await, Err(StoreError::NotFound(_))));
        assert!(s.list_contacts(&other, &CrmFilter::default(), None, None).await.expect("list").items.is_empty());

        // Bulk import is all or nothing, and pages cover everything once.
        let batch: Vec<NewCrmRecord> = (0..23).map(|i| person(&format!("P{:02}", i % 5), Some(&format!("p{i}@x.example")), &[])).collect();
        assert_eq!(s.crm_import::<ContactId>(&org, &batch).await.expect("import").len(), 23);
        let mut with_bad = batch.clone();
        with_bad.push(person("Bad", Some("nope"), &[]));
        let err = s.crm_import::<ContactId>(&org, &with_bad).await.expect_err("bad row");
        assert!(err.to_string().contains("record 24"), "{err}");
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let p = s.list_contacts(&org, &CrmFilter::default(), cursor.as_deref(), Some(4)).await.expect("page");
            seen.extend(p.items.into_iter().map(|c| c.id));
            match p.next_cursor { Some(n) => cursor = Some(n), None => break }
        }
        assert_eq!(seen.len(), 24);
        assert_eq!(seen.iter().collect::<std::collections::HashSet<_>>().len(), 24);
        let found = s.list_contacts(&org, &CrmFilter { text: Some("NEW@home".into()), ..Default::default() }, None, None).await.expect("search");
        assert_eq!(found.items.len(), 1);
        assert_eq!(s.list_leads(&org, &CrmFilter::default(), None, None).await.expect("leads").items.len(), 1);

        s.delete_contact(&org, &c.id).await.expect("delete");
        assert!(s.crm_find_by_email::<ContactId>(&org, "new@home.example").await.expect("find").is_empty());
        s.delete_lead(&org, &l.id).await.expect("delete lead");
    }

    async fn audit_log_is_per_org_and_pages(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let (other, _) = org_with_admin(s, "other").await;
        for i in 0..5 {
            s.audit(&org, Some(&admin), "account.lock", Some(&format!("acc_{i}")), &serde_json::json!({"i": i})).await.expect("audit");
        }
        s.audit(&org, None, "plugin.auto_disable", None, &serde_json::json!({})).await.expect("audit");
        let first = s.list_audit(&org, None, 4).await.expect("list");
        assert_eq!(first.len(), 4);
        assert_eq!(first[0].action, "plugin.auto_disable");
        assert!(first[0].actor.is_none());
        let rest = s.list_audit(&org, Some(first[3].id), 10).await.expect("rest");
        assert_eq!(rest.len(), 2);
        assert_eq!(rest[1].detail["i"], 0);
        assert!(s.list_audit(&other, None, 10).await.expect("other").is_empty());
    }

    async fn pipeline_runs_once_per_new_message(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        let raw = mail("a@x.example", "me@acme.example", "s", "Tue, 1 Jul 2003 10:52:37 +0200", "b");
        let id = s.ingest_message(&org, &acc.id, &Location::Local { key: "1".into(), role: "inbox".into() }, &raw).await.expect("ingest").message_id;
        let pending = s.pending_pipeline_runs(10).await.expect("pending");
        assert_eq!(pending.iter().map(|p| (&p.org, &p.message)).collect::<Vec<_>>(), [(&org, &id)]);
        // Re-ingesting queues nothing more.
        s.ingest_message(&org, &acc.id, &Location::Local { key: "2".into(), role: "inbox".into() }, &raw).await.expect("again");
        assert_eq!(s.pending_pipeline_runs(10).await.expect("pending").len(), 1);
        let (other, _) = org_with_admin(s, "other").await;
        assert!(!s.finish_pipeline_run(&other, &id, true, None).await.expect("other org"));
        assert!(s.finish_pipeline_run(&org, &id, true, Some("ok")).await.expect("finish"));
        assert!(!s.finish_pipeline_run(&org, &id, true, None).await.expect("twice"), "finished once only");
        assert!(s.pending_pipeline_runs(10).await.expect("pending").is_empty());
        let mut db = db;
        db.restart().await;
        assert!(db.store.pending_pipeline_runs(10).await.expect("after restart").is_empty());
    }
}
