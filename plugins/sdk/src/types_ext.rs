//! Constructors and defaults for the contract's records, so plugins do not
//! spell out every field. The types themselves are generated (see
//! [`crate::types`]); these impls live in the SDK because the types do.

use crate::types::{
    Classification, ConfigKey, ContactCard, Direction, Message, MessageFlags, Metadata, Permission,
    PluginKind, ScoredLabel, TaskSpec,
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
        }
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
    /// A task for the account owner with no notes and no due date.
    pub fn new(title: impl Into<String>) -> Self {
        TaskSpec {
            title: title.into(),
            notes: None,
            due_in_days: None,
            assignee: None,
        }
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
