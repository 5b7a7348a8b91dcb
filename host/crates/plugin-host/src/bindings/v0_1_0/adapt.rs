//! Values of contract 0.1.0 to and from `latest` (0.2.0): the one place
//! where old plugins are adapted.
//!
//! Inputs the host hands a 0.1.0 plugin go latest → 0.1.0 and lose only
//! what 0.1.0 cannot carry (a classification's `reasons` in a workflow's
//! input). Outputs go 0.1.0 → latest with every 0.2.0 addition at its
//! default:
//!
//! | 0.1.0 | latest |
//! |---|---|
//! | `classification` | `reasons: []` |
//! | `rule` | `source: none` (the host then records the import's format and file) |
//! | `task-spec.assignee: none` / `some(email)` | `recipient::account-owner` / `recipient::user(email)`; `due-at: none`, `priority: normal`, `regarding: none` |
//! | `notification.user` | `target`, as for `assignee`; `title: none` |
//! | `webhook-call` | `event: none`, `headers: []`, `idempotency-key: none` |
//! | `crm-field-update` | `record-id: none` |
//! | `import-warning` | `line`, `column`, `filter-id`, `rule-index`: `none` |
//!
//! Everything else has the same shape in both versions and is copied field
//! by field (the `same_*!` macros below write both directions).

use super::{
    filter_importer as old_fi, host as old_host, provider as old_pr, types as old,
    workflow as old_wf,
};
use crate::bindings::latest::{
    filter_importer as new_fi, host as new_host, provider as new_pr, types as new,
    workflow as new_wf,
};

/// Converts a value of one contract version into the other's type.
pub trait Adapt<T> {
    fn adapt(self) -> T;
}

macro_rules! identity {
    ($($t:ty),*) => {
        $(impl Adapt<$t> for $t {
            fn adapt(self) -> $t {
                self
            }
        })*
    };
}
identity!(String, bool, u16, u32, u64, i64, f32, (String, String));

impl<A: Adapt<B>, B> Adapt<Option<B>> for Option<A> {
    fn adapt(self) -> Option<B> {
        self.map(Adapt::adapt)
    }
}

impl<A: Adapt<B>, B> Adapt<Vec<B>> for Vec<A> {
    fn adapt(self) -> Vec<B> {
        self.into_iter().map(Adapt::adapt).collect()
    }
}

impl<A: Adapt<B>, B, E: Adapt<F>, F> Adapt<Result<B, F>> for Result<A, E> {
    fn adapt(self) -> Result<B, F> {
        self.map(Adapt::adapt).map_err(Adapt::adapt)
    }
}

/// A record with the same fields in both versions: both directions.
macro_rules! same_record {
    ($old:ty, $new:ty { $($field:ident),* $(,)? }) => {
        impl Adapt<$new> for $old {
            fn adapt(self) -> $new {
                <$new>::from_fields(self)
            }
        }
        impl Adapt<$old> for $new {
            fn adapt(self) -> $old {
                <$old>::from_fields(self)
            }
        }
        same_record!(@from $old, $new { $($field),* });
        same_record!(@from $new, $old { $($field),* });
    };
    (@from $from:ty, $to:ty { $($field:ident),* }) => {
        impl FromFields<$from> for $to {
            fn from_fields(v: $from) -> Self {
                Self { $($field: v.$field.adapt()),* }
            }
        }
    };
}

/// Private helper of `same_record!` (a struct literal needs a path, not a `ty`).
trait FromFields<T> {
    fn from_fields(v: T) -> Self;
}

/// An enum with the same cases in both versions: both directions.
macro_rules! same_enum {
    ($old:ident :: $oname:ident, $new:ident :: $nname:ident { $($case:ident),* $(,)? }) => {
        impl Adapt<$new::$nname> for $old::$oname {
            fn adapt(self) -> $new::$nname {
                match self {
                    $($old::$oname::$case => $new::$nname::$case),*
                }
            }
        }
        impl Adapt<$old::$oname> for $new::$nname {
            fn adapt(self) -> $old::$oname {
                match self {
                    $($new::$nname::$case => $old::$oname::$case),*
                }
            }
        }
    };
}

// ---- metadata (unchanged in 0.2.0; adapted so one conversion serves both) ----

same_enum!(
    old::PluginKind,
    new::PluginKind {
        Provider,
        FilterImporter,
        Workflow,
        Classifier
    }
);
same_record!(
    old::ConfigKey,
    new::ConfigKey {
        name,
        description,
        required,
        default_value
    }
);
same_record!(
    old::Metadata,
    new::Metadata {
        name,
        version,
        kind,
        description,
        config_keys,
        permissions
    }
);

impl Adapt<new::Permission> for old::Permission {
    fn adapt(self) -> new::Permission {
        match self {
            old::Permission::KeyValue => new::Permission::KeyValue,
            old::Permission::OutboundHttp(hosts) => new::Permission::OutboundHttp(hosts),
        }
    }
}
impl Adapt<old::Permission> for new::Permission {
    fn adapt(self) -> old::Permission {
        match self {
            new::Permission::KeyValue => old::Permission::KeyValue,
            new::Permission::OutboundHttp(hosts) => old::Permission::OutboundHttp(hosts),
        }
    }
}

// ---- types: messages and mailboxes (inputs and `normalize`'s output) ----

same_record!(old::Address, new::Address { name, email });
same_record!(old::Header, new::Header { name, value });
same_enum!(old::Direction, new::Direction { Incoming, Outgoing });
same_enum!(
    old::FolderRole,
    new::FolderRole {
        Inbox,
        Drafts,
        Sent,
        Outbox,
        Spam,
        Trash,
        Archive,
        AllMail,
        Important,
        Starred,
        Custom
    }
);
same_record!(
    old::Mailbox,
    new::Mailbox {
        name,
        delimiter,
        attributes
    }
);
same_record!(
    old::Attachment,
    new::Attachment {
        filename,
        content_type,
        size,
        content_id,
        inline
    }
);
same_record!(
    old::MessageFlags,
    new::MessageFlags {
        seen,
        answered,
        flagged,
        deleted,
        draft
    }
);
same_record!(
    old::Message,
    new::Message {
        id,
        message_id,
        in_reply_to,
        references,
        direction,
        account,
        folder,
        folder_role,
        from,
        sender,
        to,
        cc,
        bcc,
        reply_to,
        subject,
        date,
        headers,
        text_body,
        html_body,
        attachments,
        size,
        flags,
        labels,
    }
);

// ---- types: the rule model (outputs of importers and workflows) ----

/// 0.2.0 only added cases, so every 0.1.0 field has its latest twin.
impl Adapt<new::Field> for old::Field {
    fn adapt(self) -> new::Field {
        use {new::Field as N, old::Field as O};
        match self {
            O::From => N::From,
            O::To => N::To,
            O::Cc => N::Cc,
            O::Bcc => N::Bcc,
            O::Recipients => N::Recipients,
            O::ReplyTo => N::ReplyTo,
            O::Subject => N::Subject,
            O::Body => N::Body,
            O::Header => N::Header,
            O::Size => N::Size,
            O::HasAttachment => N::HasAttachment,
            O::AttachmentName => N::AttachmentName,
            O::ListId => N::ListId,
        }
    }
}

same_enum!(
    old::MatchType,
    new::MatchType {
        Contains,
        Is,
        BeginsWith,
        EndsWith,
        Matches,
        Regex,
        Exists,
        GreaterThan,
        LessThan
    }
);

impl Adapt<new::Condition> for old::Condition {
    fn adapt(self) -> new::Condition {
        new::Condition {
            field: self.field.adapt(),
            header_name: self.header_name,
            match_type: self.match_type.adapt(),
            value: self.value,
            case_sensitive: self.case_sensitive,
        }
    }
}

impl Adapt<new::ConditionNode> for old::ConditionNode {
    fn adapt(self) -> new::ConditionNode {
        match self {
            old::ConditionNode::All(ids) => new::ConditionNode::All(ids),
            old::ConditionNode::Any(ids) => new::ConditionNode::Any(ids),
            old::ConditionNode::Not(id) => new::ConditionNode::Not(id),
            old::ConditionNode::Test(c) => new::ConditionNode::Test(c.adapt()),
        }
    }
}

same_enum!(old::CrmRecordKind, new::CrmRecordKind { Contact, Lead });

/// 0.1.0's "user email; the account owner when absent".
fn recipient(user: Option<String>) -> new::Recipient {
    match user {
        Some(email) => new::Recipient::User(email),
        None => new::Recipient::AccountOwner,
    }
}

impl Adapt<new::TaskSpec> for old::TaskSpec {
    fn adapt(self) -> new::TaskSpec {
        new::TaskSpec {
            title: self.title,
            notes: self.notes,
            due_in_days: self.due_in_days,
            due_at: None,
            assignee: recipient(self.assignee),
            priority: new::TaskPriority::Normal,
            regarding: None,
        }
    }
}

impl Adapt<new::CrmFieldUpdate> for old::CrmFieldUpdate {
    fn adapt(self) -> new::CrmFieldUpdate {
        new::CrmFieldUpdate {
            record_kind: self.record_kind.adapt(),
            record_id: None,
            field: self.field,
            value: self.value,
        }
    }
}

impl Adapt<new::Notification> for old::Notification {
    fn adapt(self) -> new::Notification {
        new::Notification {
            target: recipient(self.user),
            title: None,
            text: self.text,
        }
    }
}

impl Adapt<new::WebhookCall> for old::WebhookCall {
    fn adapt(self) -> new::WebhookCall {
        new::WebhookCall {
            url: self.url,
            body: self.body,
            event: None,
            headers: Vec::new(),
            idempotency_key: None,
        }
    }
}

impl Adapt<new::Action> for old::Action {
    fn adapt(self) -> new::Action {
        use {new::Action as N, old::Action as O};
        match self {
            O::MoveTo(folder) => N::MoveTo(folder),
            O::AddLabel(label) => N::AddLabel(label),
            O::RemoveLabel(label) => N::RemoveLabel(label),
            O::MarkRead => N::MarkRead,
            O::MarkUnread => N::MarkUnread,
            O::Star => N::Star,
            O::Archive => N::Archive,
            O::Trash => N::Trash,
            O::NeverSpam => N::NeverSpam,
            O::Forward(to) => N::Forward(to),
            O::CreateTask(task) => N::CreateTask(task.adapt()),
            O::UpdateCrmField(update) => N::UpdateCrmField(update.adapt()),
            O::Notify(notification) => N::Notify(notification.adapt()),
            O::Webhook(call) => N::Webhook(call.adapt()),
            O::Stop => N::Stop,
        }
    }
}

impl Adapt<new::Rule> for old::Rule {
    fn adapt(self) -> new::Rule {
        new::Rule {
            name: self.name,
            enabled: self.enabled,
            conditions: self.conditions.adapt(),
            actions: self.actions.adapt(),
            source: None,
        }
    }
}

// ---- types: classifications (classifier output, workflow input) ----

same_record!(old::ScoredLabel, new::ScoredLabel { label, score });
same_record!(
    old::ContactCard,
    new::ContactCard {
        name,
        job_title,
        company,
        emails,
        phones,
        postal_address,
        website
    }
);
same_enum!(
    old::ActivityKind,
    new::ActivityKind {
        Meeting,
        Call,
        Task,
        Deadline
    }
);
same_record!(
    old::Activity,
    new::Activity {
        kind,
        title,
        starts_at,
        duration_minutes,
        location,
        participants
    }
);

impl Adapt<new::Classification> for old::Classification {
    fn adapt(self) -> new::Classification {
        new::Classification {
            sentiment: self.sentiment.adapt(),
            intent: self.intent.adapt(),
            summary: self.summary,
            signature: self.signature.adapt(),
            activities: self.activities.adapt(),
            tags: self.tags.adapt(),
            reasons: Vec::new(),
        }
    }
}

/// For a 0.1.0 workflow's input: 0.1.0 has no place for the reasons.
impl Adapt<old::Classification> for new::Classification {
    fn adapt(self) -> old::Classification {
        old::Classification {
            sentiment: self.sentiment.adapt(),
            intent: self.intent.adapt(),
            summary: self.summary,
            signature: self.signature.adapt(),
            activities: self.activities.adapt(),
            tags: self.tags.adapt(),
        }
    }
}

// ---- host ----

same_enum!(
    old_host::LogLevel,
    new_host::LogLevel {
        Trace,
        Debug,
        Info,
        Warn,
        Error
    }
);

impl Adapt<old_host::KvError> for new_host::KvError {
    fn adapt(self) -> old_host::KvError {
        match self {
            new_host::KvError::TooLarge(n) => old_host::KvError::TooLarge(n),
            new_host::KvError::QuotaExceeded(n) => old_host::KvError::QuotaExceeded(n),
            new_host::KvError::Denied => old_host::KvError::Denied,
        }
    }
}

// ---- provider ----

same_enum!(
    old_pr::Security,
    new_pr::Security {
        None,
        Starttls,
        Tls
    }
);
same_record!(
    old_pr::ServerPreset,
    new_pr::ServerPreset {
        host,
        port,
        security
    }
);
same_enum!(
    old_pr::AuthMethod,
    new_pr::AuthMethod {
        Password,
        AppPassword,
        Oauth2
    }
);
same_enum!(
    old_pr::SaslMechanism,
    new_pr::SaslMechanism {
        Xoauth2,
        Oauthbearer
    }
);
same_record!(
    old_pr::Oauth2Endpoints,
    new_pr::Oauth2Endpoints {
        authorization_url,
        token_url,
        scopes,
        sasl
    }
);
same_record!(
    old_pr::ProviderQuirks,
    new_pr::ProviderQuirks {
        smtp_saves_sent_copy,
        idle_restart_seconds,
        qresync_broken,
        labels_as_folders,
        max_connections
    }
);
same_record!(
    old_pr::ProviderInfo,
    new_pr::ProviderInfo {
        id,
        name,
        domains,
        imap,
        pop3,
        smtp,
        auth_methods,
        oauth2,
        app_password_hint,
        quirks
    }
);
same_enum!(
    old_pr::ConnectionStep,
    new_pr::ConnectionStep {
        Dns,
        Tcp,
        Tls,
        Login,
        ListFolders,
        SmtpConnect,
        SmtpAuth,
        SmtpSend
    }
);
same_record!(
    old_pr::ConnectionProblem,
    new_pr::ConnectionProblem {
        step,
        protocol,
        server,
        message
    }
);
same_record!(
    old_pr::Diagnosis,
    new_pr::Diagnosis {
        summary,
        advice,
        help_url
    }
);

// ---- filter importer ----

same_record!(
    old_fi::FilterFormat,
    new_fi::FilterFormat {
        id,
        name,
        extensions
    }
);
same_record!(
    old_fi::ImportError,
    new_fi::ImportError {
        message,
        line,
        column
    }
);

impl Adapt<new_fi::ImportWarning> for old_fi::ImportWarning {
    fn adapt(self) -> new_fi::ImportWarning {
        new_fi::ImportWarning {
            location: self.location,
            message: self.message,
            line: None,
            column: None,
            filter_id: None,
            rule_index: None,
        }
    }
}

impl Adapt<new_fi::ImportedRules> for old_fi::ImportedRules {
    fn adapt(self) -> new_fi::ImportedRules {
        new_fi::ImportedRules {
            rules: self.rules.adapt(),
            warnings: self.warnings.adapt(),
        }
    }
}

// ---- workflow (input only) ----

same_enum!(
    old_wf::Trigger,
    new_wf::Trigger {
        Incoming,
        Outgoing,
        ReplyReceived
    }
);

impl Adapt<old_wf::CrmLink> for new_wf::CrmLink {
    fn adapt(self) -> old_wf::CrmLink {
        old_wf::CrmLink {
            kind: self.kind.adapt(),
            id: self.id,
            email: self.email,
            name: self.name,
        }
    }
}

impl Adapt<old_wf::Event> for new_wf::Event {
    fn adapt(self) -> old_wf::Event {
        old_wf::Event {
            trigger: self.trigger.adapt(),
            message: self.message.adapt(),
            classifications: self.classifications.adapt(),
            links: self.links.adapt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_classification_gains_empty_reasons_and_loses_them_on_the_way_back() {
        let old = old::Classification {
            sentiment: Some(old::ScoredLabel {
                label: "negative".into(),
                score: 0.75,
            }),
            intent: None,
            summary: Some("Late again.".into()),
            signature: Some(old::ContactCard {
                name: Some("Ann".into()),
                job_title: None,
                company: None,
                emails: vec!["ann@example.com".into()],
                phones: vec![],
                postal_address: None,
                website: None,
            }),
            activities: vec![],
            tags: vec![old::ScoredLabel {
                label: "urgent".into(),
                score: 1.0,
            }],
        };
        let latest: new::Classification = old.clone().adapt();
        assert!(latest.reasons.is_empty());
        assert_eq!(latest.summary.as_deref(), Some("Late again."));
        assert_eq!(latest.tags[0].label, "urgent");
        let back: old::Classification = latest.adapt();
        assert_eq!(
            serde_json::to_value(back).unwrap(),
            serde_json::to_value(old).unwrap()
        );
    }

    #[test]
    fn actions_get_the_new_fields_at_their_defaults() {
        let task: new::Action = old::Action::CreateTask(old::TaskSpec {
            title: "Call back".into(),
            notes: None,
            due_in_days: Some(2),
            assignee: None,
        })
        .adapt();
        let new::Action::CreateTask(task) = task else {
            panic!("{task:?}")
        };
        assert!(matches!(task.assignee, new::Recipient::AccountOwner));
        assert!(matches!(task.priority, new::TaskPriority::Normal));
        assert_eq!((task.due_in_days, task.due_at), (Some(2), None));

        let notify: new::Action = old::Action::Notify(old::Notification {
            user: Some("boss@example.com".into()),
            text: "hi".into(),
        })
        .adapt();
        let new::Action::Notify(n) = notify else {
            panic!("{notify:?}")
        };
        assert!(matches!(&n.target, new::Recipient::User(u) if u == "boss@example.com"));
        assert_eq!(n.title, None);
    }

    #[test]
    fn a_rule_keeps_its_conditions_and_has_no_source() {
        let rule: new::Rule = old::Rule {
            name: "r".into(),
            enabled: true,
            conditions: vec![
                old::ConditionNode::Not(1),
                old::ConditionNode::Test(old::Condition {
                    field: old::Field::ListId,
                    header_name: None,
                    match_type: old::MatchType::Exists,
                    value: String::new(),
                    case_sensitive: false,
                }),
            ],
            actions: vec![old::Action::Archive, old::Action::Stop],
        }
        .adapt();
        assert!(rule.source.is_none());
        assert!(matches!(rule.conditions[0], new::ConditionNode::Not(1)));
        assert!(matches!(
            &rule.conditions[1],
            new::ConditionNode::Test(c) if matches!(c.field, new::Field::ListId)
        ));
    }
}
