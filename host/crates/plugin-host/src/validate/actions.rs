//! The range of every action a workflow (or an imported rule) asks for:
//! labels and folders as the store holds them, addresses that are
//! addresses, tasks, CRM updates, notifications and webhooks whose fields
//! an executor can carry out.

use super::{
    PluginOutput, TextRule, Violation, count, email, identifier, label, timestamp, violation,
    web_url,
};
use crate::bindings::latest::types::{
    Action, CrmFieldUpdate, Notification, Recipient, TaskSpec, WebhookCall,
};
use mailroom_core::text;

/// Most actions one workflow call or one rule may ask for.
pub const MAX_ACTIONS: usize = 100;
const MAX_TASK_DUE_DAYS: u32 = 3650;
const MAX_WEBHOOK_BODY_BYTES: usize = 64 << 10;
const MAX_WEBHOOK_HEADERS: usize = 20;
/// Headers the webhook executor sets itself or the transport owns.
const RESERVED_HEADERS: [&str; 4] = ["host", "content-length", "transfer-encoding", "connection"];

impl PluginOutput for Vec<Action> {
    fn check(&self) -> Result<(), Violation> {
        check_actions("actions", self)
    }
}

/// Every action of `list`, named `{field}[i]…`.
pub(crate) fn check_actions(field: &str, list: &[Action]) -> Result<(), Violation> {
    count(field, list, MAX_ACTIONS)?;
    for (i, action) in list.iter().enumerate() {
        check_action(|| format!("{field}[{i}]"), action)?;
    }
    Ok(())
}

fn check_action(at: impl Fn() -> String + Copy, action: &Action) -> Result<(), Violation> {
    match action {
        Action::MoveTo(folder) => match text::folder_name_problem(folder) {
            Some(problem) => Err(violation(sub(at, "move-to"), problem)),
            None => Ok(()),
        },
        Action::AddLabel(l) => label(sub(at, "add-label"), l),
        Action::RemoveLabel(l) => label(sub(at, "remove-label"), l),
        Action::Forward(address) => email(sub(at, "forward"), address),
        Action::CreateTask(task) => check_task(sub(at, "create-task"), task),
        Action::UpdateCrmField(update) => check_crm_update(sub(at, "update-crm-field"), update),
        Action::Notify(note) => check_notification(sub(at, "notify"), note),
        Action::Webhook(call) => check_webhook(sub(at, "webhook"), call),
        Action::MarkRead
        | Action::MarkUnread
        | Action::Star
        | Action::Archive
        | Action::Trash
        | Action::NeverSpam
        | Action::Stop => Ok(()),
    }
}

/// `{at}.{name}` for a sub-field.
fn sub(at: impl Fn() -> String + Copy, name: &'static str) -> impl Fn() -> String + Copy {
    move || format!("{}.{name}", at())
}

fn check_task(at: impl Fn() -> String + Copy, task: &TaskSpec) -> Result<(), Violation> {
    TextRule::line(200).check(sub(at, "title"), &task.title)?;
    TextRule::lines(10_000).check_opt(sub(at, "notes"), task.notes.as_ref())?;
    if let Some(days) = task.due_in_days
        && days > MAX_TASK_DUE_DAYS
    {
        return Err(violation(
            sub(at, "due-in-days"),
            format!("is {days}; the limit is {MAX_TASK_DUE_DAYS} (ten years)"),
        ));
    }
    timestamp(sub(at, "due-at"), task.due_at)?;
    check_recipient(sub(at, "assignee"), &task.assignee)?;
    if let Some(regarding) = &task.regarding {
        TextRule::line(100).check(sub(at, "regarding.id"), &regarding.id)?;
    }
    Ok(())
}

fn check_recipient(at: impl Fn() -> String + Copy, who: &Recipient) -> Result<(), Violation> {
    match who {
        Recipient::User(address) => email(sub(at, "user"), address),
        Recipient::AccountOwner | Recipient::RecordOwner => Ok(()),
    }
}

fn check_crm_update(
    at: impl Fn() -> String + Copy,
    update: &CrmFieldUpdate,
) -> Result<(), Violation> {
    TextRule::line(100).check_opt(sub(at, "record-id"), update.record_id.as_ref())?;
    identifier(sub(at, "field"), &update.field, 64, &['_', '-', '.'])?;
    TextRule::lines(10_000).check(sub(at, "value"), &update.value)
}

fn check_notification(
    at: impl Fn() -> String + Copy,
    note: &Notification,
) -> Result<(), Violation> {
    check_recipient(sub(at, "target"), &note.target)?;
    TextRule::line(200).check_opt(sub(at, "title"), note.title.as_ref())?;
    TextRule {
        min: 1,
        ..TextRule::lines(2000)
    }
    .check(sub(at, "text"), &note.text)
}

fn check_webhook(at: impl Fn() -> String + Copy, call: &WebhookCall) -> Result<(), Violation> {
    web_url(sub(at, "url"), &call.url)?;
    if let Some(body) = &call.body {
        TextRule::lines(MAX_WEBHOOK_BODY_BYTES).check(sub(at, "body"), body)?;
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(body) {
            return Err(violation(sub(at, "body"), format!("is not JSON ({e})")));
        }
    }
    if let Some(event) = &call.event {
        identifier(sub(at, "event"), event, 100, &['.', '_', '-', ':'])?;
    }
    if call.headers.len() > MAX_WEBHOOK_HEADERS {
        return Err(violation(
            sub(at, "headers"),
            format!(
                "has {} entries; the limit is {MAX_WEBHOOK_HEADERS}",
                call.headers.len()
            ),
        ));
    }
    for (i, (name, value)) in call.headers.iter().enumerate() {
        let field = move || format!("{}.headers[{i}]", at());
        // RFC 9110 token characters.
        identifier(
            field,
            name,
            64,
            &[
                '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~',
            ],
        )?;
        let lower = name.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("mailroom-") {
            return Err(violation(
                field,
                format!(
                    "is `{name}`, a header the host sets itself (Host, Content-Length, Transfer-Encoding, Connection, Mailroom-*)"
                ),
            ));
        }
        TextRule::line(1024).may_be_empty().check(field, value)?;
    }
    TextRule::line(200).check_opt(sub(at, "idempotency-key"), call.idempotency_key.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_problem(list: Vec<Action>) -> String {
        list.check().unwrap_err().to_string()
    }

    #[test]
    fn what_the_store_could_not_hold_is_refused_with_the_field() {
        assert!(
            vec![
                Action::AddLabel("complaint".into()),
                Action::MoveTo("Escalations".into())
            ]
            .check()
            .is_ok()
        );
        let e = first_problem(vec![
            Action::MarkRead,
            Action::AddLabel("line\nbreak".into()),
        ]);
        assert!(
            e.starts_with("`actions[1].add-label`") && e.contains("U+000A"),
            "{e}"
        );
        let e = first_problem(
            (0..101)
                .map(|i| Action::AddLabel(format!("l{i}")))
                .collect(),
        );
        assert!(e.starts_with("`actions` has 101 entries"), "{e}");
        let e = first_problem(vec![Action::MoveTo("".into())]);
        assert_eq!(e, "`actions[0].move-to` is empty");
        let e = first_problem(vec![Action::RemoveLabel("x".repeat(900_000))]);
        assert!(e.contains("900000 bytes"), "{e}");
    }

    #[test]
    fn outside_actions_are_checked_field_by_field() {
        let e = first_problem(vec![Action::Forward("not an address".into())]);
        assert!(e.starts_with("`actions[0].forward`"), "{e}");
        let mut call = WebhookCall {
            url: "https://hooks.example.com/x".into(),
            body: Some("{\"a\":1}".into()),
            event: Some("complaint.received".into()),
            headers: vec![("X-Team".into(), "sales".into())],
            idempotency_key: None,
        };
        assert!(vec![Action::Webhook(call.clone())].check().is_ok());
        call.headers
            .push(("Mailroom-Signature".into(), "forged".into()));
        let e = first_problem(vec![Action::Webhook(call.clone())]);
        assert!(e.starts_with("`actions[0].webhook.headers[1]`"), "{e}");
        call.headers.pop();
        call.body = Some("not json".into());
        assert!(
            first_problem(vec![Action::Webhook(call)])
                .starts_with("`actions[0].webhook.body` is not JSON")
        );
    }
}
