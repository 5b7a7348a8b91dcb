//! The adaptation between the rule model (`mailroom-rules`, the names and
//! JSON the API and the store use) and the contract's generated types, in
//! both directions and in one place: a rule's actions become the
//! contract's to be applied with workflows' own; an importer's rules
//! become the model's to be checked, previewed and stored.

use mailroom_plugin_host::bindings::latest::types as wit;
use mailroom_rules::Rule;
use mailroom_rules::model as rules;

/// A rule's action as the contract's, which the host applies for rules and
/// workflows alike.
pub fn to_contract(action: &rules::Action) -> wit::Action {
    use rules::Action as A;
    match action {
        A::MoveTo(f) => wit::Action::MoveTo(f.clone()),
        A::AddLabel(l) => wit::Action::AddLabel(l.clone()),
        A::RemoveLabel(l) => wit::Action::RemoveLabel(l.clone()),
        A::MarkRead => wit::Action::MarkRead,
        A::MarkUnread => wit::Action::MarkUnread,
        A::Star => wit::Action::Star,
        A::Archive => wit::Action::Archive,
        A::Trash => wit::Action::Trash,
        A::NeverSpam => wit::Action::NeverSpam,
        A::Forward(a) => wit::Action::Forward(a.clone()),
        A::CreateTask(t) => wit::Action::CreateTask(wit::TaskSpec {
            title: t.title.clone(),
            notes: t.notes.clone(),
            due_in_days: t.due_in_days,
            due_at: t.due_at,
            assignee: recipient(&t.assignee),
            priority: match t.priority {
                rules::TaskPriority::Low => wit::TaskPriority::Low,
                rules::TaskPriority::Normal => wit::TaskPriority::Normal,
                rules::TaskPriority::High => wit::TaskPriority::High,
            },
            regarding: t.regarding.as_ref().map(|r| wit::CrmRef {
                kind: record_kind(r.kind),
                id: r.id.clone(),
            }),
        }),
        A::UpdateCrmField(u) => wit::Action::UpdateCrmField(wit::CrmFieldUpdate {
            record_kind: record_kind(u.record_kind),
            record_id: u.record_id.clone(),
            field: u.field.clone(),
            value: u.value.clone(),
        }),
        A::Notify(n) => wit::Action::Notify(wit::Notification {
            target: recipient(&n.target),
            title: n.title.clone(),
            text: n.text.clone(),
        }),
        A::Webhook(w) => wit::Action::Webhook(wit::WebhookCall {
            url: w.url.clone(),
            body: w.body.clone(),
            event: w.event.clone(),
            headers: w.headers.clone(),
            idempotency_key: w.idempotency_key.clone(),
        }),
        A::Stop => wit::Action::Stop,
    }
}

fn recipient(r: &rules::Recipient) -> wit::Recipient {
    match r {
        rules::Recipient::AccountOwner => wit::Recipient::AccountOwner,
        rules::Recipient::RecordOwner => wit::Recipient::RecordOwner,
        rules::Recipient::User(email) => wit::Recipient::User(email.clone()),
    }
}

fn record_kind(k: rules::CrmRecordKind) -> wit::CrmRecordKind {
    match k {
        rules::CrmRecordKind::Contact => wit::CrmRecordKind::Contact,
        rules::CrmRecordKind::Lead => wit::CrmRecordKind::Lead,
    }
}

/// An importer's rule as the rule model's.
pub fn rule_from_contract(rule: &wit::Rule) -> Rule {
    Rule {
        name: rule.name.clone(),
        enabled: rule.enabled,
        conditions: rule.conditions.iter().map(node_from_contract).collect(),
        actions: rule.actions.iter().map(action_from_contract).collect(),
        source: rule.source.as_ref().map(|s| rules::RuleSource {
            format: s.format.clone(),
            file_sha256: s.file_sha256.clone(),
            filter_id: s.filter_id.clone(),
            line: s.line,
            column: s.column,
        }),
    }
}

fn node_from_contract(node: &wit::ConditionNode) -> rules::ConditionNode {
    match node {
        wit::ConditionNode::All(children) => rules::ConditionNode::All(children.clone()),
        wit::ConditionNode::Any(children) => rules::ConditionNode::Any(children.clone()),
        wit::ConditionNode::Not(child) => rules::ConditionNode::Not(*child),
        wit::ConditionNode::Test(c) => rules::ConditionNode::Test(rules::Condition {
            field: field_from_contract(c.field),
            header_name: c.header_name.clone(),
            match_type: match_from_contract(c.match_type),
            value: c.value.clone(),
            case_sensitive: c.case_sensitive,
        }),
    }
}

fn field_from_contract(f: wit::Field) -> rules::Field {
    use rules::Field as F;
    match f {
        wit::Field::From => F::From,
        wit::Field::To => F::To,
        wit::Field::Cc => F::Cc,
        wit::Field::Bcc => F::Bcc,
        wit::Field::Recipients => F::Recipients,
        wit::Field::ReplyTo => F::ReplyTo,
        wit::Field::Subject => F::Subject,
        wit::Field::Body => F::Body,
        wit::Field::Header => F::Header,
        wit::Field::Size => F::Size,
        wit::Field::HasAttachment => F::HasAttachment,
        wit::Field::AttachmentName => F::AttachmentName,
        wit::Field::ListId => F::ListId,
        wit::Field::ToOrCc => F::ToOrCc,
        wit::Field::Priority => F::Priority,
        wit::Field::EnvelopeFrom => F::EnvelopeFrom,
        wit::Field::EnvelopeTo => F::EnvelopeTo,
    }
}

fn match_from_contract(m: wit::MatchType) -> rules::MatchType {
    use rules::MatchType as M;
    match m {
        wit::MatchType::Contains => M::Contains,
        wit::MatchType::Is => M::Is,
        wit::MatchType::BeginsWith => M::BeginsWith,
        wit::MatchType::EndsWith => M::EndsWith,
        wit::MatchType::Matches => M::Matches,
        wit::MatchType::Regex => M::Regex,
        wit::MatchType::Exists => M::Exists,
        wit::MatchType::GreaterThan => M::GreaterThan,
        wit::MatchType::LessThan => M::LessThan,
    }
}

/// A contract action as the rule model's.
pub fn action_from_contract(action: &wit::Action) -> rules::Action {
    use rules::Action as A;
    match action {
        wit::Action::MoveTo(f) => A::MoveTo(f.clone()),
        wit::Action::AddLabel(l) => A::AddLabel(l.clone()),
        wit::Action::RemoveLabel(l) => A::RemoveLabel(l.clone()),
        wit::Action::MarkRead => A::MarkRead,
        wit::Action::MarkUnread => A::MarkUnread,
        wit::Action::Star => A::Star,
        wit::Action::Archive => A::Archive,
        wit::Action::Trash => A::Trash,
        wit::Action::NeverSpam => A::NeverSpam,
        wit::Action::Forward(a) => A::Forward(a.clone()),
        wit::Action::CreateTask(t) => A::CreateTask(rules::TaskSpec {
            title: t.title.clone(),
            notes: t.notes.clone(),
            due_in_days: t.due_in_days,
            due_at: t.due_at,
            assignee: recipient_from_contract(&t.assignee),
            priority: match t.priority {
                wit::TaskPriority::Low => rules::TaskPriority::Low,
                wit::TaskPriority::Normal => rules::TaskPriority::Normal,
                wit::TaskPriority::High => rules::TaskPriority::High,
            },
            regarding: t.regarding.as_ref().map(|r| rules::CrmRef {
                kind: kind_from_contract(r.kind),
                id: r.id.clone(),
            }),
        }),
        wit::Action::UpdateCrmField(u) => A::UpdateCrmField(rules::CrmFieldUpdate {
            record_kind: kind_from_contract(u.record_kind),
            record_id: u.record_id.clone(),
            field: u.field.clone(),
            value: u.value.clone(),
        }),
        wit::Action::Notify(n) => A::Notify(rules::Notification {
            target: recipient_from_contract(&n.target),
            title: n.title.clone(),
            text: n.text.clone(),
        }),
        wit::Action::Webhook(w) => A::Webhook(rules::WebhookCall {
            url: w.url.clone(),
            body: w.body.clone(),
            event: w.event.clone(),
            headers: w.headers.clone(),
            idempotency_key: w.idempotency_key.clone(),
        }),
        wit::Action::Stop => A::Stop,
    }
}

fn recipient_from_contract(r: &wit::Recipient) -> rules::Recipient {
    match r {
        wit::Recipient::AccountOwner => rules::Recipient::AccountOwner,
        wit::Recipient::RecordOwner => rules::Recipient::RecordOwner,
        wit::Recipient::User(email) => rules::Recipient::User(email.clone()),
    }
}

fn kind_from_contract(k: wit::CrmRecordKind) -> rules::CrmRecordKind {
    match k {
        wit::CrmRecordKind::Contact => rules::CrmRecordKind::Contact,
        wit::CrmRecordKind::Lead => rules::CrmRecordKind::Lead,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action survives the trip to the contract and back.
    #[test]
    fn actions_round_trip_through_the_contract() {
        let actions: Vec<rules::Action> = serde_json::from_value(serde_json::json!([
            {"move-to": "Projects"}, {"add-label": "x"}, {"remove-label": "y"}, "mark-read",
            "mark-unread", "star", "archive", "trash", "never-spam", {"forward": "a@b.example"},
            {"create-task": {"title": "t", "assignee": {"user": "u@x.example"}, "priority": "high",
                             "regarding": {"kind": "lead", "id": "lead_1"}, "due_in_days": 2}},
            {"update-crm-field": {"record_kind": "contact", "field": "f", "value": "v"}},
            {"notify": {"target": "record-owner", "text": "hi"}},
            {"webhook": {"url": "https://h.example/", "headers": [["a", "b"]], "idempotency_key": "k"}},
            "stop"
        ]))
        .expect("actions");
        for a in &actions {
            assert_eq!(&action_from_contract(&to_contract(a)), a);
        }
    }
}
