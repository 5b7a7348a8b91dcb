//! Constructors and defaults for the contract's records, so plugins do not
//! spell out every field. The types themselves are generated (see
//! [`crate::types`]); these impls live in the SDK because the types do.

use crate::types::{
    Classification, ClassificationPart, ConfigKey, ContactCard, Direction, Evidence, Message,
    MessageFlags, Metadata, Notification, Permission, PluginKind, Reason, Recipient, RuleSource,
    ScoredLabel, TaskPriority, TaskSpec, TextSource, WebhookCall,
};

impl Metadata {
    /// Metadata with no description, config keys or permissions; chain the
    /// builder methods below to add them.
    pub fn new(name: &str, version: &str, kind: PluginKind) -> Self {
        Metadata {
            name: name.to_string(),
            version: version.to_string(),
            kind,
            description: String::new(),
            config_keys: Vec::new(),
            permissions: Vec::new(),
        }
    }

    pub fn description(mut self, description: &str) -> Self {
        self.description = description.to_string();
        self
    }

    /// Declares a config key the plugin reads (shown to the org admin).
    pub fn config_key(mut self, key: ConfigKey) -> Self {
        self.config_keys.push(key);
        self
    }

    /// Asks for a permission; the host refuses calls it did not grant.
    pub fn permission(mut self, permission: Permission) -> Self {
        self.permissions.push(permission);
        self
    }
}

impl ConfigKey {
    /// An optional key with a default value.
    pub fn optional(name: &str, description: &str, default: Option<&str>) -> Self {
        ConfigKey {
            name: name.to_string(),
            description: description.to_string(),
            required: false,
            default_value: default.map(str::to_string),
        }
    }

    /// A key the admin must set before the plugin runs.
    pub fn required(name: &str, description: &str) -> Self {
        ConfigKey {
            name: name.to_string(),
            description: description.to_string(),
            required: true,
            default_value: None,
        }
    }
}

/// An empty classification: no opinion on anything.
impl Default for Classification {
    fn default() -> Self {
        Classification {
            sentiment: None,
            intent: None,
            summary: None,
            signature: None,
            activities: Vec::new(),
            tags: Vec::new(),
            reasons: Vec::new(),
        }
    }
}

impl Classification {
    /// Adds a reason (see [`Reason::new`]); chainable.
    pub fn because(mut self, reason: Reason) -> Self {
        self.reasons.push(reason);
        self
    }
}

impl Reason {
    /// A reason for `label` of `part`: `feature` fired with `weight` (positive
    /// for the label, negative against). Add the words with [`Reason::found`].
    pub fn new(
        part: ClassificationPart,
        label: impl Into<String>,
        feature: impl Into<String>,
        weight: f32,
    ) -> Self {
        Reason {
            part,
            label: label.into(),
            index: None,
            feature: feature.into(),
            evidence: None,
            weight: if weight.is_nan() { 0.0 } else { weight },
        }
    }

    /// The words of `source` the reason rests on, with their byte range if known.
    pub fn found(
        mut self,
        source: TextSource,
        text: impl Into<String>,
        range: Option<std::ops::Range<usize>>,
    ) -> Self {
        let offset = |n: usize| u32::try_from(n).ok();
        self.evidence = Some(Evidence {
            source,
            header_name: None,
            text: text.into(),
            start: range.as_ref().and_then(|r| offset(r.start)),
            end: range.as_ref().and_then(|r| offset(r.end)),
        });
        self
    }

    /// For an [`Activity`](crate::types::Activity) reason: its index in `activities`.
    pub fn at(mut self, index: u32) -> Self {
        self.index = Some(index);
        self
    }
}

impl ScoredLabel {
    /// `score` is clamped to `0.0..=1.0` (NaN becomes 0) as the contract requires.
    pub fn new(label: impl Into<String>, score: f32) -> Self {
        let score = if score.is_nan() {
            0.0
        } else {
            score.clamp(0.0, 1.0)
        };
        ScoredLabel {
            label: label.into(),
            score,
        }
    }
}

// A generated type: `derive` is not available here, hence the manual impl.
#[allow(clippy::derivable_impls)]
impl Default for ContactCard {
    fn default() -> Self {
        ContactCard {
            name: None,
            job_title: None,
            company: None,
            emails: Vec::new(),
            phones: Vec::new(),
            postal_address: None,
            website: None,
        }
    }
}

impl TaskSpec {
    /// A normal-priority task for the account owner with no notes and no due date.
    pub fn new(title: impl Into<String>) -> Self {
        TaskSpec {
            title: title.into(),
            notes: None,
            due_in_days: None,
            due_at: None,
            assignee: Recipient::AccountOwner,
            priority: TaskPriority::Normal,
            regarding: None,
        }
    }
}

impl Notification {
    /// A notification without a title (the host shows the first line of `text`).
    pub fn new(target: Recipient, text: impl Into<String>) -> Self {
        Notification {
            target,
            title: None,
            text: text.into(),
        }
    }
}

impl WebhookCall {
    /// A POST of the message summary to `url`, with no extra headers.
    pub fn new(url: impl Into<String>) -> Self {
        WebhookCall {
            url: url.into(),
            body: None,
            event: None,
            headers: Vec::new(),
            idempotency_key: None,
        }
    }
}

impl Recipient {
    /// `User(email)` for a non-empty address, else the account owner (0.1.0's
    /// meaning of an absent user).
    pub fn user_or_account_owner(email: Option<String>) -> Self {
        match email {
            Some(email) if !email.trim().is_empty() => Recipient::User(email),
            _ => Recipient::AccountOwner,
        }
    }
}

impl RuleSource {
    /// The source of a rule imported as `format`; the host fills in the file's hash.
    pub fn new(format: &str) -> Self {
        RuleSource {
            format: format.to_string(),
            file_sha256: String::new(),
            filter_id: None,
            line: None,
            column: None,
        }
    }

    /// Where the filter starts in the file (1-based line and column).
    pub fn at(mut self, line: u32, column: u32) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    pub fn filter_id(mut self, id: impl Into<String>) -> Self {
        self.filter_id = Some(id.into());
        self
    }
}

/// No flags set.
impl Default for MessageFlags {
    fn default() -> Self {
        MessageFlags {
            seen: false,
            answered: false,
            flagged: false,
            deleted: false,
            draft: false,
        }
    }
}

/// An empty incoming message, for plugin unit tests:
/// `Message { subject: "Hi".into(), ..Default::default() }`.
impl Default for Message {
    fn default() -> Self {
        Message {
            id: String::new(),
            message_id: None,
            in_reply_to: None,
            references: Vec::new(),
            direction: Direction::Incoming,
            account: String::new(),
            folder: None,
            folder_role: None,
            from: Vec::new(),
            sender: None,
            to: Vec::new(),
            cc: Vec::new(),
            bcc: Vec::new(),
            reply_to: Vec::new(),
            subject: String::new(),
            date: None,
            headers: Vec::new(),
            text_body: String::new(),
            html_body: None,
            attachments: Vec::new(),
            size: 0,
            flags: MessageFlags::default(),
            labels: Vec::new(),
        }
    }
}
