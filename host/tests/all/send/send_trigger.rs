//! Mail sent through Mailroom runs the pipeline with the `outgoing`
//! trigger: sent through Dovecot's submission to the relay sink and stored
//! from its Sent copy, it raises an org's `message.sent` event and nothing
//! the follow-up workflow does for received mail, though it uses a
//! complaint's words.

use super::support::World;
use axum::http::{Method, StatusCode};
use mailroom::automation::AutomationPolicy;
use mailroom::ids::OutboxId;
use mailroom::pipeline::Pipeline;
use mailroom::store::NewWebhookSubscription;
use mailroom::store::now_ms;
use mailroom_plugin_artifacts as artifacts;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_sent_through_mailroom_is_outgoing() {
    let w = World::start().await;
    w.install(artifacts::CLASSIFIER_KEYWORDS).await;
    w.install(artifacts::WORKFLOW_FOLLOW_UP).await;
    let account = w.account(Some("generic"), &w.user().password.clone()).await;
    let s = w.store();
    s.set_automation_policy(
        &w.org,
        &AutomationPolicy {
            webhook_hosts: vec!["hooks.example".into()],
            ..Default::default()
        },
    )
    .await
    .expect("policy");
    s.create_webhook_subscription(
        &w.org,
        &NewWebhookSubscription {
            url: "https://hooks.example/events".into(),
            events: vec!["message.sent".into(), "message.received".into()],
        },
        None,
    )
    .await
    .expect("subscription");

    let body = serde_json::json!({
        "to": ["Dana Client <dana@client.example>"],
        "subject": "About the broken export",
        "text": "We are very disappointed too that the export is still broken. \
                 Please accept our apologies; a fix is coming.\n",
    });
    let path = format!("/v1/accounts/{account}/send");
    let (status, entry) = w.api(Method::POST, &path, &w.token, Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{entry}");
    let id = OutboxId(entry["id"].as_str().expect("id").to_owned());
    w.sender().run_due(now_ms()).await.expect("outbox pass");
    w.sink.wait_for(1, Duration::from_secs(10));
    let stored = w.entry(&id).await.stored_message_id.expect("stored");

    let report = Pipeline::new(s.clone(), w.registry.clone())
        .run_pending(10)
        .await
        .expect("pipeline");
    assert_eq!(report.processed, 1, "{report:?}");
    let actions = s.message_actions(&w.org, &stored).await.expect("actions");
    let events: Vec<&serde_json::Value> = actions
        .iter()
        .map(|a| &a.action["Webhook"]["event"])
        .collect();
    assert_eq!(
        events,
        [&serde_json::json!("message.sent")],
        "one action, the subscription's message.sent: {actions:?}"
    );
}
