//! Rules per org and per account: order, enable/disable, source, the
//! engine's check before saving, the audit trail, and tenant walls.

use super::*;
use crate::both_backends;
use crate::rules::{RuleScope, StoredRule};
use mailroom_core::ids::RuleId;
use mailroom_rules::{Action, Rule, RuleSource};

fn rule(name: &str, json_conditions: serde_json::Value) -> Rule {
    Rule {
        name: name.into(),
        enabled: true,
        conditions: serde_json::from_value(json_conditions).expect("conditions"),
        actions: vec![Action::AddLabel(name.to_lowercase())],
        source: None,
    }
}

fn names(rules: &[StoredRule]) -> Vec<&str> {
    rules.iter().map(|r| r.rule.name.as_str()).collect()
}

both_backends! {
    async fn rules_are_stored_per_scope_in_order_with_source_and_audit(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let (other, _) = org_with_admin(s, "other").await;
        let account = imap_account(s, &org, &admin, "ann@acme.example").await;
        let acc = RuleScope::Account(account.id.clone());

        let mut imported = rule("Invoices", serde_json::json!([
            {"test": {"field": "subject", "match_type": "regex", "value": "^invoice \\d+"}}
        ]));
        imported.source = Some(RuleSource {
            format: "gmail-xml".into(),
            file_sha256: "ab".repeat(32),
            filter_id: Some("tag:mail.google.com,2008:filter:1".into()),
            line: Some(12),
            column: Some(3),
        });
        let org_rules = s
            .create_rules(&org, &RuleScope::Org, &[imported.clone(), rule("News", serde_json::json!([]))], Some(&admin))
            .await
            .expect("create org rules");
        assert_eq!(org_rules[0].rule, imported, "source and conditions round-trip");
        assert_eq!(org_rules[0].account, None);
        assert_eq!(org_rules[0].created_by.as_ref(), Some(&admin));
        s.create_rules(&org, &acc, &[rule("Mine", serde_json::json!([]))], Some(&admin))
            .await
            .expect("create account rule");
        let late = s
            .create_rules(&org, &RuleScope::Org, &[rule("Late", serde_json::json!([]))], None)
            .await
            .expect("append");
        assert_eq!(names(&s.list_rules(&org, &RuleScope::Org).await.expect("list")), ["Invoices", "News", "Late"]);
        assert_eq!(names(&s.list_rules(&org, &acc).await.expect("list")), ["Mine"]);
        assert_eq!(
            names(&s.rules_for_account(&org, &account.id).await.expect("for account")),
            ["Mine", "Invoices", "News", "Late"],
            "the account's rules run before the org's"
        );

        // Reorder: a permutation of the scope, nothing else.
        let ids: Vec<RuleId> = s.list_rules(&org, &RuleScope::Org).await.expect("list").into_iter().map(|r| r.id).collect();
        let reordered = s
            .reorder_rules(&org, &RuleScope::Org, &[ids[2].clone(), ids[0].clone(), ids[1].clone()], Some(&admin))
            .await
            .expect("reorder");
        assert_eq!(names(&reordered), ["Late", "Invoices", "News"]);
        let err = s.reorder_rules(&org, &RuleScope::Org, &ids[..2], Some(&admin)).await.expect_err("missing one");
        assert!(matches!(&err, StoreError::Invalid(m) if m.contains("exactly once")), "{err}");

        // Enable/disable, update, delete.
        let off = s.set_rule_enabled(&org, &late[0].id, false, Some(&admin)).await.expect("disable");
        assert!(!off.rule.enabled);
        let mut changed = rule("Late", serde_json::json!([{"test": {"field": "from", "match_type": "contains", "value": "x"}}]));
        changed.enabled = false;
        let updated = s.update_rule(&org, &late[0].id, &changed, Some(&admin)).await.expect("update");
        assert_eq!((updated.rule.conditions.len(), updated.position), (1, off.position), "place kept");
        s.delete_rule(&org, &late[0].id, Some(&admin)).await.expect("delete");
        assert!(matches!(s.get_rule(&org, &late[0].id).await, Err(StoreError::NotFound("rule"))));

        // Every change is in the audit log, by whom.
        let audit: Vec<String> = s.list_audit(&org, None, 100).await.expect("audit")
            .into_iter()
            .filter(|e| e.action.starts_with("rule."))
            .map(|e| e.action)
            .collect();
        for action in ["rule.create", "rule.reorder", "rule.disable", "rule.update", "rule.delete"] {
            assert!(audit.iter().any(|a| a == action), "{action} in {audit:?}");
        }

        // Tenant walls: another org sees and changes nothing, and cannot
        // put rules on this org's account.
        let first = &org_rules[0].id;
        assert!(matches!(s.get_rule(&other, first).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.set_rule_enabled(&other, first, false, None).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.delete_rule(&other, first, None).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.update_rule(&other, first, &imported, None).await, Err(StoreError::NotFound(_))));
        assert!(matches!(
            s.create_rules(&other, &acc, &[rule("x", serde_json::json!([]))], None).await,
            Err(StoreError::NotFound("account"))
        ));
        assert!(s.list_rules(&other, &RuleScope::Org).await.expect("list").is_empty());
    }

    async fn a_rule_the_engine_refuses_is_not_saved(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let good = rule("Good", serde_json::json!([]));
        let bad = rule("Bad regex", serde_json::json!([
            {"any": [1]},
            {"test": {"field": "body", "match_type": "regex", "value": "total: (\\d+"}}
        ]));
        let err = s
            .create_rules(&org, &RuleScope::Org, &[good.clone(), bad.clone()], Some(&admin))
            .await
            .expect_err("refused");
        let StoreError::Invalid(message) = err else { panic!("{err:?}") };
        assert!(
            message.contains("rule 2 (\"Bad regex\"), condition node 1") && message.contains("column 8"),
            "{message}"
        );
        assert!(s.list_rules(&org, &RuleScope::Org).await.expect("list").is_empty(), "nothing saved");
        let saved = s.create_rules(&org, &RuleScope::Org, &[good], None).await.expect("good");
        assert!(matches!(s.update_rule(&org, &saved[0].id, &bad, None).await, Err(StoreError::Invalid(_))));
        assert_eq!(s.get_rule(&org, &saved[0].id).await.expect("kept").rule.name, "Good");
    }
}
