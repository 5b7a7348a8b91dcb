//! `forward` asked for by a rule, through the real outbox: the message goes
//! out once, from the account it came through, through Dovecot's submission
//! to the relay sink, with the original attached whole; an address the
//! org's automation policy does not list is refused with the reason.

use super::support::{World, assert_sink_stays_at};
use mailroom::automation::AutomationPolicy;
use mailroom::pipeline::Pipeline;
use mailroom::rules::{Action, Rule};
use mailroom::store::rules::RuleScope;
use mailroom::store::{Location, now_ms};
use serde_json::json;
use std::time::Duration;

const ESCALATION: &[u8] = b"From: Dana Client <dana@client.example>\r\nTo: alice@acme.example\r\n\
Subject: Please escalate\r\nMessage-ID: <esc-1@client.example>\r\n\r\nThe export fails again.\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_forwards_once_through_the_outbox_and_only_to_allowed_addresses() {
    let w = World::start().await;
    w.install(mailroom_plugin_artifacts::PROVIDER_GENERIC).await;
    let account = w.account(Some("generic"), &w.user().password.clone()).await;
    let s = w.store();
    s.set_automation_policy(
        &w.org,
        &AutomationPolicy {
            forward_to: vec!["partner.example".into()],
            ..Default::default()
        },
    )
    .await
    .expect("policy");
    let rule = Rule {
        name: "Escalate".into(),
        enabled: true,
        conditions: serde_json::from_value(json!([
            {"test": {"field": "subject", "match_type": "contains", "value": "escalate"}}
        ]))
        .expect("conditions"),
        actions: serde_json::from_value::<Vec<Action>>(json!([
            {"forward": "Boss@Partner.example"},
            {"forward": "someone@elsewhere.example"}
        ]))
        .expect("actions"),
        source: None,
    };
    s.create_rules(&w.org, &RuleScope::Org, &[rule], None)
        .await
        .expect("rule");
    let location = Location::Local {
        key: "e1".into(),
        role: "inbox".into(),
    };
    let message = s
        .ingest_message(&w.org, &account, &location, ESCALATION)
        .await
        .expect("ingest")
        .message_id;
    Pipeline::new(s.clone(), w.registry.clone())
        .run_pending(10)
        .await
        .expect("pipeline");

    let report = mailroom::actions::execute_due(s).await.expect("executors");
    assert_eq!((report.done, report.refused), (1, 1), "{report:?}");
    let actions = s.message_actions(&w.org, &message).await.expect("actions");
    let refused = actions
        .iter()
        .find(|a| a.status == "refused")
        .expect("refused forward");
    let why = refused.outcome.as_deref().unwrap_or_default();
    assert!(
        why.contains("someone@elsewhere.example") && why.contains("forward_to"),
        "{why}"
    );
    assert_eq!(w.sink.count(), 0, "queued, not sent, by the executor");

    let sent = w.sender().run_due(now_ms()).await.expect("outbox");
    assert_eq!(sent.processed, 1, "{sent:?}");
    let mail = w.sink.wait_for(1, Duration::from_secs(10)).remove(0);
    let alice = format!("{}@acme.example", w.user().name);
    assert_eq!(mail.mail_from, alice);
    assert_eq!(mail.rcpt_to, ["boss@partner.example"]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Fwd: Please escalate")
    );
    let text = String::from_utf8_lossy(&mail.data);
    assert!(text.contains("message/rfc822"), "{text}");
    assert!(
        text.contains("Message-ID: <esc-1@client.example>")
            && text.contains("The export fails again."),
        "the original travels whole: {text}"
    );

    // Once: neither the executors nor the outbox send it again.
    assert_eq!(
        mailroom::actions::execute_due(s).await.expect("again"),
        Default::default()
    );
    w.sender().run_due(now_ms()).await.expect("outbox again");
    assert_sink_stays_at(&w.sink, 1);
}
