//! The native rule engine in the pipeline, on mail synced from Dovecot: the
//! account's rules before the org's, `stop` respected, the matching rules
//! and their actions recorded with the run, and rules applied once per
//! message — not again after a resync, a UIDVALIDITY change (the mailbox
//! renumbered, or deleted and recreated) or a restart.

use super::support::*;
use mailroom::pipeline::Pipeline;
use mailroom::rules::{Action, Rule};
use mailroom::store::MessageStateUpdate;
use mailroom::store::rules::RuleScope;
use mailroom::sync::{NoFolderMapper, sync_account_with};
use mailroom_test_servers::{Dovecot, Layout};

fn rule(name: &str, conditions: serde_json::Value, actions: Vec<Action>) -> Rule {
    Rule {
        name: name.into(),
        enabled: true,
        conditions: serde_json::from_value(conditions).expect("conditions"),
        actions,
        source: None,
    }
}

fn invoice() -> Vec<u8> {
    b"From: Billing <billing@vendor.example>\r\nTo: admin@acme.example\r\n\
      Subject: Invoice 2024-117\r\nMessage-ID: <inv-117@vendor.example>\r\n\
      X-Priority: 1\r\n\r\nPlease find the invoice attached.\r\n"
        .to_vec()
}

mailroom_store::both_backends! {
    async fn rules_apply_once_across_resync_uidvalidity_change_and_restart(db) {
        let s = &db.store;
        let t = tenant(s).await;
        let d = Dovecot::start(Layout::SpecialUse);
        let user = d.user().name.clone();
        d.seed(&user, "INBOX", &invoice());
        d.seed(&user, "INBOX", &mail(1, "lunch on friday", 800));
        let acc = plain_account(s, &t, &d).await;

        // Org rules: label invoices and mark them read; a later rule that
        // `stop` must keep from running; one disabled rule.
        let org_rules = s.create_rules(&t.org, &RuleScope::Org, &[
            rule("Invoices", serde_json::json!([
                {"all": [1, 2]},
                {"test": {"field": "from", "match_type": "ends-with", "value": "@vendor.example"}},
                {"test": {"field": "subject", "match_type": "regex", "value": "^invoice \\d{4}-\\d+$"}}
            ]), vec![Action::AddLabel("invoice".into()), Action::MarkRead, Action::Stop]),
            rule("Only without stop", serde_json::json!([]), vec![Action::AddLabel("late".into())]),
        ], Some(&t.admin)).await.expect("org rules");
        let mut off = rule("Disabled", serde_json::json!([]), vec![Action::Trash]);
        off.enabled = false;
        s.create_rules(&t.org, &RuleScope::Org, &[off], None).await.expect("disabled rule");
        // The account's own rule runs first.
        let account_rules = s.create_rules(&t.org, &RuleScope::Account(acc.clone()), &[
            rule("Urgent", serde_json::json!([
                {"test": {"field": "priority", "match_type": "is", "value": "high"}}
            ]), vec![Action::AddLabel("urgent".into()), Action::Star]),
        ], Some(&t.admin)).await.expect("account rule");

        sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {}).await.expect("sync");
        let registry = registry_with_generic_provider(s, &t.org).await;
        let report = Pipeline::new(s.clone(), registry.clone()).run_pending(50).await.expect("pipeline");
        assert_eq!((report.processed, report.plugin_failures), (2, 0), "{report:?}");

        let (id, state) = by_subject(s, &t.org, "Invoice 2024-117").await;
        assert_eq!(state.labels, ["urgent", "invoice"], "account rule first; nothing after stop");
        assert!(state.read && state.starred);
        assert_eq!(state.folder, "inbox", "the disabled trash rule did not run");
        let actions = s.message_actions(&t.org, &id).await.expect("actions");
        let recorded: Vec<(String, String, String)> = actions
            .iter()
            .map(|a| (a.source.clone(), a.action.to_string(), a.status.clone()))
            .collect();
        let by_account_rule = format!("rule:{}", account_rules[0].id);
        let by_org_rule = format!("rule:{}", org_rules[0].id);
        assert_eq!(recorded, [
            (by_account_rule.clone(), r#"{"AddLabel":"urgent"}"#.to_owned(), "applied".to_owned()),
            (by_account_rule, r#""Star""#.to_owned(), "applied".to_owned()),
            (by_org_rule.clone(), r#"{"AddLabel":"invoice"}"#.to_owned(), "applied".to_owned()),
            (by_org_rule.clone(), r#""MarkRead""#.to_owned(), "applied".to_owned()),
            (by_org_rule, r#""Stop""#.to_owned(), "applied".to_owned()),
        ], "which rule matched and what it asked for, recorded with the run");
        // The other message matches neither the account's rule nor the
        // invoice rule, so nothing stops the conditionless rule after them.
        let (other, other_state) = by_subject(s, &t.org, "lunch on friday").await;
        assert_eq!(other_state.labels, ["late"]);
        assert!(!other_state.read && !other_state.starred);
        assert_eq!(s.message_actions(&t.org, &other).await.expect("actions").len(), 1);

        // The user takes the labels off. Neither a resync, nor a
        // UIDVALIDITY change, nor the mailbox deleted and recreated, nor a
        // restarted pipeline brings them back.
        let cleared = MessageStateUpdate { labels: Some(vec![]), ..Default::default() };
        s.update_message_state(&t.org, &id, &cleared).await.expect("user clears labels");
        let rerun = |s: &mailroom::store::Store| {
            let pipeline = Pipeline::new(s.clone(), registry.clone());
            async move { pipeline.run_pending(50).await.expect("pipeline") }
        };
        sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {}).await.expect("resync");
        assert_eq!(rerun(s).await.processed, 0);
        d.set_uidvalidity(&user, "INBOX", d.uidvalidity(&user, "INBOX") + 100);
        let r = sync_account_with(s, &t.org, &acc, &NoFolderMapper, &options(10), |_| {}).await.expect("renumbered");
        assert!(r.folder("INBOX").expect("inbox").uidvalidity_changed);
        assert_eq!(rerun(s).await.processed, 0, "a renumbered mailbox is not new mail");
        assert_eq!(totals(s).await, (2, 2, 2), "no duplicates, one run per message");
        assert!(by_subject(s, &t.org, "Invoice 2024-117").await.1.labels.is_empty(), "labels not applied again");
        assert_eq!(s.message_actions(&t.org, &id).await.expect("actions").len(), 5, "actions recorded once");
    }
}
