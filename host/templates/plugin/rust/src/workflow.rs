//! {{name}}: a Mailroom workflow for VIP senders and replies.
//!
//! - `incoming` mail from a VIP domain: the label `vip` and a notification to
//!   the account's owner;
//! - `reply-received`: a task to answer, due the next day;
//! - everything else: nothing.
//!
//! The contract it implements is `wit/v{{contract}}/workflow.wit`; the actions
//! it can ask for are the `action` variant in `wit/v{{contract}}/types.wit`.
//! The host applies label and flag actions with the message and runs the
//! others (tasks, notifications, webhooks…) after it, at most once.

use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::workflow::{Event, Trigger};

pub struct Plugin;

const VIP_DOMAINS: &str = "vip-domains";
const DEFAULT_VIP_DOMAINS: &str = "example.com";

impl mailroom_plugin_sdk::Plugin for Plugin {
    fn metadata() -> Metadata {
        Metadata::new("{{name}}", env!("CARGO_PKG_VERSION"), PluginKind::Workflow)
            .description("Labels mail from VIP domains and creates a task for every reply")
            .config_key(ConfigKey::optional(
                VIP_DOMAINS,
                "Comma-separated sender domains whose mail is labelled vip",
                Some(DEFAULT_VIP_DOMAINS),
            ))
    }
}

impl Workflow for Plugin {
    fn on_event(event: Event) -> Result<Vec<Action>, String> {
        let message = &event.message;
        let email = message.from_email().unwrap_or("").to_string();
        let subject = if message.subject.trim().is_empty() {
            "(no subject)".to_string()
        } else {
            message.subject.clone()
        };

        let actions = match event.trigger {
            Trigger::Incoming if is_vip(&email) => vec![
                Action::AddLabel("vip".into()),
                Action::Notify(Notification {
                    title: Some(format!("VIP mail from {email}")),
                    ..Notification::new(Recipient::AccountOwner, subject)
                }),
            ],
            Trigger::ReplyReceived => {
                let who = message.from_name().unwrap_or(&email);
                vec![Action::CreateTask(TaskSpec {
                    due_in_days: Some(1),
                    ..TaskSpec::new(format!("Reply to {who}: {subject}"))
                })]
            }
            Trigger::Incoming | Trigger::Outgoing => Vec::new(),
        };
        let trigger = match event.trigger {
            Trigger::Incoming => "incoming",
            Trigger::Outgoing => "outgoing",
            Trigger::ReplyReceived => "reply-received",
        };
        log::info!("{trigger} from {email}: {} action(s)", actions.len());
        Ok(actions)
    }
}

/// Whether `email`'s domain (after the last `@`) is one of the configured ones.
fn is_vip(email: &str) -> bool {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let domain = domain.to_lowercase();
    config::get_or(VIP_DOMAINS, DEFAULT_VIP_DOMAINS)
        .split(',')
        .map(|d| d.trim().to_lowercase())
        .any(|d| !d.is_empty() && d == domain)
}

mailroom_plugin_sdk::export_workflow!(Plugin);
