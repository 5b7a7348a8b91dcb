//! Follow-up workflow: turns replies into tasks and complaints into alerts.
//!
//! - `reply-received`: a task "Reply from {name}: {subject}", due in
//!   `due-days` days (default 1), with the classifier's summary as notes.
//! - `incoming` that a classifier judged a `complaint`: a notification to
//!   `notify-user` (or the account owner) and the label `complaint`.
//! - `outgoing`: nothing.

use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::workflow::{Event, Trigger};

pub struct FollowUp;

const DUE_DAYS: &str = "due-days";
const NOTIFY_USER: &str = "notify-user";

impl Plugin for FollowUp {
    fn metadata() -> Metadata {
        Metadata::new(
            "workflow-follow-up",
            env!("CARGO_PKG_VERSION"),
            PluginKind::Workflow,
        )
        .description("Creates a task when a contact replies and alerts someone about complaints")
        .config_key(ConfigKey::optional(
            DUE_DAYS,
            "Days until a reply's follow-up task is due",
            Some("1"),
        ))
        .config_key(ConfigKey::optional(
            NOTIFY_USER,
            "Email of the user told about complaints (the account owner when empty)",
            None,
        ))
    }
}

impl Workflow for FollowUp {
    fn on_event(event: Event) -> Result<Vec<Action>, String> {
        Ok(match event.trigger {
            Trigger::ReplyReceived => {
                vec![follow_up_task(&event, config::parse_or(DUE_DAYS, 1u32))]
            }
            Trigger::Incoming if is_complaint(&event) => {
                let user = config::get(NOTIFY_USER).filter(|u| !u.trim().is_empty());
                log::info!("complaint from {}", sender_name(&event));
                vec![
                    Action::Notify(Notification::new(
                        Recipient::user_or_account_owner(user),
                        format!(
                            "Complaint from {}: {}",
                            sender_name(&event),
                            subject(&event)
                        ),
                    )),
                    Action::AddLabel("complaint".into()),
                ]
            }
            Trigger::Incoming | Trigger::Outgoing => Vec::new(),
        })
    }
}

mailroom_plugin_sdk::export_workflow!(FollowUp);

/// The task for a reply; `due_days` comes from the org's config.
pub fn follow_up_task(event: &Event, due_days: u32) -> Action {
    let notes = event.classifications.iter().find_map(|c| c.summary.clone());
    Action::CreateTask(TaskSpec {
        notes,
        due_in_days: Some(due_days),
        ..TaskSpec::new(format!(
            "Reply from {}: {}",
            sender_name(event),
            subject(event)
        ))
    })
}

/// Whether any classifier said the message is a complaint.
pub fn is_complaint(event: &Event) -> bool {
    event
        .classifications
        .iter()
        .filter_map(|c| c.intent.as_ref())
        .any(|i| i.label.eq_ignore_ascii_case("complaint"))
}

/// The sender's display name, else the linked CRM record's name, else the address.
fn sender_name(event: &Event) -> String {
    let message = &event.message;
    if let Some(name) = message.from_name().filter(|n| !n.trim().is_empty()) {
        return name.trim().to_string();
    }
    let email = message.from_email().unwrap_or("");
    let linked = event
        .links
        .iter()
        .find(|l| l.email.eq_ignore_ascii_case(email))
        .and_then(|l| l.name.clone());
    match linked {
        Some(name) => name,
        None if !email.is_empty() => email.to_string(),
        None => "unknown sender".to_string(),
    }
}

fn subject(event: &Event) -> &str {
    match event.message.base_subject() {
        "" => "(no subject)",
        s => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_plugin_sdk::workflow::CrmLink;

    fn event(trigger: Trigger, intent: Option<&str>) -> Event {
        Event {
            trigger,
            message: Message {
                subject: "Re: Offer 42".into(),
                from: vec![Address::new(None, "bob@example.com")],
                ..Default::default()
            },
            classifications: vec![Classification {
                intent: intent.map(|i| ScoredLabel::new(i, 0.8)),
                summary: Some("Bob accepts.".into()),
                ..Default::default()
            }],
            links: vec![CrmLink {
                kind: CrmRecordKind::Contact,
                id: "c1".into(),
                email: "bob@example.com".into(),
                name: Some("Bob Stone".into()),
            }],
        }
    }

    #[test]
    fn reply_becomes_task() {
        let action = follow_up_task(&event(Trigger::ReplyReceived, None), 3);
        assert_eq!(
            action,
            Action::CreateTask(TaskSpec {
                title: "Reply from Bob Stone: Offer 42".into(),
                notes: Some("Bob accepts.".into()),
                due_in_days: Some(3),
                due_at: None,
                assignee: Recipient::AccountOwner,
                priority: TaskPriority::Normal,
                regarding: None,
            })
        );
    }

    #[test]
    fn complaints_are_recognised() {
        assert!(is_complaint(&event(Trigger::Incoming, Some("complaint"))));
        assert!(!is_complaint(&event(Trigger::Incoming, Some("request"))));
        assert!(!is_complaint(&event(Trigger::Incoming, None)));
    }

    #[test]
    fn outgoing_does_nothing() {
        // No host calls on this path, so it runs natively.
        assert_eq!(
            FollowUp::on_event(event(Trigger::Outgoing, Some("complaint"))),
            Ok(vec![])
        );
        assert_eq!(
            FollowUp::on_event(event(Trigger::Incoming, Some("request"))),
            Ok(vec![])
        );
    }
}
