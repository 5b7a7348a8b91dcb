//! What `create-task` and `notify` leave in the store: the contract's
//! request turned into a task or a notification for one resolved person,
//! with the message and the CRM record it concerns.

use super::{ExecuteError, recipients};
use mailroom_plugin_host::bindings::latest::types::{
    self as wit, Action, CrmFieldUpdate, CrmRecordKind, Notification, Recipient, TaskSpec,
    WebhookCall,
};
use mailroom_store::{ActionEffect, ClaimedAction, NewNotification, NewTask, Store, TaskPriority};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The task `spec` asks for.
pub async fn task(
    store: &Store,
    claim: &ClaimedAction,
    spec: &TaskSpec,
) -> Result<(ActionEffect, String), ExecuteError> {
    let regarding = recipients::regarding(&claim.context, spec.regarding.as_ref(), None)?;
    let assignee = recipients::resolve(
        store,
        &claim.org,
        &claim.context,
        &spec.assignee,
        regarding.as_ref(),
    )
    .await?;
    let due_at = match (spec.due_at, spec.due_in_days) {
        (Some(at), _) => Some(at),
        (None, Some(days)) => {
            // Counted from the message's date, as the contract says.
            let message = store.get_message(&claim.org, &claim.message).await?;
            let from = message
                .summary
                .sent_at
                .unwrap_or(message.summary.received_at);
            Some(from.saturating_add(i64::from(days).saturating_mul(DAY_MS)))
        }
        (None, None) => None,
    };
    let detail = format!("task for {assignee}");
    Ok((
        ActionEffect::Task(NewTask {
            title: spec.title.clone(),
            notes: spec.notes.clone(),
            assignee,
            due_at,
            priority: match spec.priority {
                wit::TaskPriority::Low => TaskPriority::Low,
                wit::TaskPriority::Normal => TaskPriority::Normal,
                wit::TaskPriority::High => TaskPriority::High,
            },
            message: Some(claim.message.clone()),
            regarding,
            source: claim.source.clone(),
        }),
        detail,
    ))
}

/// The notification `n` asks for; its title is the text's first line
/// when it has none.
pub async fn notification(
    store: &Store,
    claim: &ClaimedAction,
    n: &Notification,
) -> Result<(ActionEffect, String), ExecuteError> {
    let regarding = recipients::regarding(&claim.context, None, None)?;
    let user = recipients::resolve(
        store,
        &claim.org,
        &claim.context,
        &n.target,
        regarding.as_ref(),
    )
    .await?;
    let title = n
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| n.text.lines().next().unwrap_or_default().to_owned());
    let detail = format!("notification to {user}");
    Ok((
        ActionEffect::Notification(NewNotification {
            user,
            title,
            text: n.text.clone(),
            message: Some(claim.message.clone()),
            source: claim.source.clone(),
        }),
        detail,
    ))
}

/// A `create-task` action (its JSON key names the kind).
pub(crate) fn sample_task() -> Action {
    Action::CreateTask(TaskSpec {
        title: String::new(),
        notes: None,
        due_in_days: None,
        due_at: None,
        assignee: Recipient::AccountOwner,
        priority: wit::TaskPriority::Normal,
        regarding: None,
    })
}

/// A `notify` action (its JSON key names the kind).
pub(crate) fn sample_notification() -> Action {
    Action::Notify(Notification {
        target: Recipient::AccountOwner,
        title: None,
        text: String::new(),
    })
}

/// An `update-crm-field` action (its JSON key names the kind).
pub(crate) fn sample_crm_field_update() -> Action {
    Action::UpdateCrmField(CrmFieldUpdate {
        record_kind: CrmRecordKind::Contact,
        record_id: None,
        field: String::new(),
        value: String::new(),
    })
}

/// A `webhook` action (its JSON key names the kind).
pub(crate) fn sample_webhook() -> Action {
    Action::Webhook(WebhookCall {
        url: String::new(),
        body: None,
        event: None,
        headers: Vec::new(),
        idempotency_key: None,
    })
}
