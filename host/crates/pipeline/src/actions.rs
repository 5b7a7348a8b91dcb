//! Turning the actions rules and workflows asked for into results: the ones
//! that change the user's view of the message (labels, read, star, folder)
//! are applied with the run; the ones that reach outside (forward, tasks, CRM
//! updates, notifications, webhooks) are recorded as pending for their
//! executors.

use mailroom_core::text::{MAX_LABELS, loggable};
use mailroom_plugin_host::bindings::latest::types::Action;
use mailroom_store::message_query::{MessageState, MessageStateUpdate};
use mailroom_store::pipeline_results::RunResults;

const STANDARD_FOLDERS: [&str; 7] = [
    "inbox", "drafts", "sent", "outbox", "spam", "trash", "archive",
];

/// Folds `wanted` (source plugin, action) into `results`, starting from the
/// message's current state.
pub(super) fn apply(
    current: &MessageState,
    wanted: Vec<(String, Action)>,
    results: &mut RunResults,
) {
    let mut state = current.clone();
    for (source, action) in wanted {
        let applied = match &action {
            Action::AddLabel(label) => {
                let label = label.trim();
                if !state.labels.iter().any(|l| l == label) {
                    // Each label was in range (`validate`); the message's
                    // count is only known here.
                    if state.labels.len() >= MAX_LABELS {
                        results.problems.push(format!(
                            "{source}: label {:?} not added: the message already has {MAX_LABELS} labels, the most it can hold",
                            loggable(label)
                        ));
                        continue;
                    }
                    state.labels.push(label.to_owned());
                }
                true
            }
            Action::RemoveLabel(label) => {
                state.labels.retain(|l| l != label);
                true
            }
            Action::MarkRead => set(&mut state.read, true),
            Action::MarkUnread => set(&mut state.read, false),
            Action::Star => set(&mut state.starred, true),
            Action::Archive => move_to(&mut state.folder, "archive"),
            Action::Trash => move_to(&mut state.folder, "trash"),
            Action::NeverSpam => {
                if state.folder == "spam" {
                    state.folder = "inbox".into();
                }
                true
            }
            Action::MoveTo(folder) => move_to(&mut state.folder, folder),
            Action::Stop => true,
            Action::Forward(_)
            | Action::CreateTask(_)
            | Action::UpdateCrmField(_)
            | Action::Notify(_)
            | Action::Webhook(_) => false,
        };
        let json = serde_json::to_value(&action).unwrap_or(serde_json::Value::Null);
        results.actions.push((source, json, applied));
    }
    if state != *current {
        results.state = Some(MessageStateUpdate {
            folder: (state.folder != current.folder).then(|| state.folder.clone()),
            labels: (state.labels != current.labels).then(|| state.labels.clone()),
            read: (state.read != current.read).then_some(state.read),
            starred: (state.starred != current.starred).then_some(state.starred),
            reminder_at: None,
        });
    }
}

fn set(flag: &mut bool, value: bool) -> bool {
    *flag = value;
    true
}

/// A standard folder by its role name, anything else as a custom folder.
fn move_to(folder: &mut String, target: &str) -> bool {
    let lower = target.trim().to_lowercase();
    *folder = if STANDARD_FOLDERS.contains(&lower.as_str()) {
        lower
    } else {
        format!("custom:{}", target.trim())
    };
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> MessageState {
        MessageState {
            folder: "inbox".into(),
            labels: vec![],
            read: false,
            starred: false,
            reminder_at: None,
        }
    }

    #[test]
    fn user_state_actions_are_applied_and_outside_ones_left_pending() {
        let mut results = RunResults::default();
        let wanted = vec![
            ("wf".to_owned(), Action::AddLabel("complaint".into())),
            ("wf".to_owned(), Action::MarkRead),
            ("wf".to_owned(), Action::MoveTo("Escalations".into())),
            ("wf".to_owned(), Action::Forward("boss@example.com".into())),
        ];
        apply(&state(), wanted, &mut results);
        let update = results.state.expect("state changes");
        assert_eq!(update.labels, Some(vec!["complaint".to_owned()]));
        assert_eq!(update.read, Some(true));
        assert_eq!(update.folder.as_deref(), Some("custom:Escalations"));
        assert_eq!(update.starred, None);
        let applied: Vec<bool> = results.actions.iter().map(|a| a.2).collect();
        assert_eq!(applied, [true, true, true, false]);
    }

    #[test]
    fn labels_past_the_message_limit_are_left_out_and_said_so() {
        let mut full = state();
        full.labels = (0..MAX_LABELS - 1).map(|i| format!("l{i}")).collect();
        let mut results = RunResults::default();
        let wanted = vec![
            ("wf".to_owned(), Action::AddLabel("last".into())),
            ("wf".to_owned(), Action::AddLabel("one-too-many".into())),
            ("wf".to_owned(), Action::AddLabel("l0".into())),
        ];
        apply(&full, wanted, &mut results);
        let labels = results.state.expect("state").labels.expect("labels");
        assert_eq!(labels.len(), MAX_LABELS);
        assert!(!labels.contains(&"one-too-many".to_owned()));
        assert_eq!(results.actions.len(), 2, "{:?}", results.actions);
        assert_eq!(results.problems.len(), 1);
        assert!(
            results.problems[0].contains("one-too-many"),
            "{:?}",
            results.problems
        );
    }

    #[test]
    fn no_change_means_no_state_update() {
        let mut results = RunResults::default();
        apply(
            &state(),
            vec![("wf".into(), Action::MarkUnread)],
            &mut results,
        );
        assert!(results.state.is_none());
        assert_eq!(results.actions.len(), 1);
    }
}
