//! The org's webhook subscriptions in the pipeline: the events of a
//! message's run (`message.received`, `message.sent`, `reply.received`,
//! `workflow.fired`) become `webhook` actions queued with the run, one per
//! subscription that wants the event, so a delivery is as durable, signed,
//! retried and logged as a workflow's own. Each org's list is read at most
//! every [`REFRESH`] (a new subscription gets the events of messages whose
//! runs end after that).

use mailroom_core::ids::{MessageId, OrgId};
use mailroom_plugin_host::bindings::latest::types::{Action, WebhookCall};
use mailroom_plugin_host::bindings::latest::workflow::Trigger;
use mailroom_store::pipeline_results::RunResults;
use mailroom_store::{Store, StoreError, WebhookSubscription};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an org's subscriptions are taken as read.
pub const REFRESH: Duration = Duration::from_secs(2);

/// An org's subscriptions and when they were read.
type Read = (Instant, Arc<Vec<WebhookSubscription>>);

/// The subscriptions of each org, as last read.
#[derive(Default)]
pub(crate) struct Subscriptions {
    by_org: Mutex<HashMap<OrgId, Read>>,
}

impl Subscriptions {
    async fn for_org(
        &self,
        store: &Store,
        org: &OrgId,
    ) -> Result<Arc<Vec<WebhookSubscription>>, StoreError> {
        if let Some((at, list)) = self.by_org.lock().get(org)
            && at.elapsed() < REFRESH
        {
            return Ok(list.clone());
        }
        let list = Arc::new(store.webhook_subscriptions(org).await?);
        self.by_org
            .lock()
            .insert(org.clone(), (Instant::now(), list.clone()));
        Ok(list)
    }

    /// Adds to `results` a webhook action for each event of this run a
    /// subscription wants. Rules' and workflows' own actions decide
    /// `workflow.fired`, so this runs after them.
    pub async fn add_deliveries(
        &self,
        store: &Store,
        org: &OrgId,
        message: &MessageId,
        trigger: Trigger,
        results: &mut RunResults,
    ) -> Result<(), StoreError> {
        let subscriptions = self.for_org(store, org).await?;
        if subscriptions.is_empty() {
            return Ok(());
        }
        let mut events = vec![match trigger {
            Trigger::Outgoing => "message.sent",
            Trigger::Incoming | Trigger::ReplyReceived => "message.received",
        }];
        if trigger == Trigger::ReplyReceived {
            events.push("reply.received");
        }
        if !results.actions.is_empty() {
            events.push("workflow.fired");
        }
        for sub in subscriptions.iter() {
            for event in events.iter().filter(|e| sub.events.iter().any(|s| s == *e)) {
                let action = Action::Webhook(WebhookCall {
                    url: sub.url.clone(),
                    body: None,
                    event: Some((*event).to_owned()),
                    headers: Vec::new(),
                    // One delivery per subscription, event and message,
                    // also if the message is ever run again.
                    idempotency_key: Some(format!("{}:{event}:{message}", sub.id)),
                });
                let json = serde_json::to_value(&action).unwrap_or(serde_json::Value::Null);
                results
                    .actions
                    .push((format!("subscription:{}", sub.id), json, false));
            }
        }
        Ok(())
    }
}
