//! The contract's rule model (`wit/v0.2.0/types.wit`, "the rule model") as
//! plain Rust values with a JSON form: what the API takes and returns, what
//! the store keeps, and what the engine compiles. Names are the contract's
//! (`to-or-cc`, `begins-with`, `add-label`), so a rule reads the same in WIT,
//! JSON and the documentation.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The part of a message a condition looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    /// `From` addresses (each address's email and display name).
    From,
    /// `To` addresses.
    To,
    /// `Cc` addresses.
    Cc,
    /// `Bcc` addresses (only on the sender's own copy).
    Bcc,
    /// `To`, `Cc` and `Bcc` together.
    Recipients,
    /// `Reply-To` addresses.
    ReplyTo,
    /// The decoded subject.
    Subject,
    /// The plain-text body (derived from the HTML one when there is none).
    Body,
    /// One header, named by `header_name`; every occurrence is tried.
    Header,
    /// The raw size in bytes, compared numerically.
    Size,
    /// Whether the message has an attachment (`value` ignored).
    HasAttachment,
    /// Each attachment's file name.
    AttachmentName,
    /// The `List-Id` header (the whole value and the id inside `<…>`).
    ListId,
    /// `To` and `Cc`, not `Bcc`.
    ToOrCc,
    /// `high`, `normal` or `low`, from `X-Priority`, `Importance` or `Priority`.
    Priority,
    /// The envelope sender (`Return-Path`).
    EnvelopeFrom,
    /// The envelope recipients (`Delivered-To`, `X-Original-To`).
    EnvelopeTo,
}

/// How a condition compares the field with its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MatchType {
    /// The value occurs in the field.
    Contains,
    /// The field is the value.
    Is,
    /// The field starts with the value.
    BeginsWith,
    /// The field ends with the value.
    EndsWith,
    /// Shell-style wildcards over the whole field: `*` any run, `?` one character.
    Matches,
    /// A regular expression (the `regex` crate's syntax), found anywhere in the field.
    Regex,
    /// The field is present and not empty (`value` ignored).
    Exists,
    /// Numerically greater (sizes in bytes).
    GreaterThan,
    /// Numerically less (sizes in bytes).
    LessThan,
}

/// One test on a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Condition {
    /// What part of the message is tested.
    pub field: Field,
    /// The header's name, for `field: header` (case does not matter).
    #[serde(default)]
    pub header_name: Option<String>,
    /// How the field is compared with `value`.
    pub match_type: MatchType,
    /// What the field is compared with.
    #[serde(default)]
    pub value: String,
    /// Compare with case; by default case is ignored.
    #[serde(default)]
    pub case_sensitive: bool,
}

/// One node of a condition tree, kept flat: combinators name their children
/// by index into the same list, node 0 is the root, and an empty list
/// matches every message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConditionNode {
    /// Every child matches (no children: true).
    All(Vec<u32>),
    /// At least one child matches (no children: false).
    Any(Vec<u32>),
    /// The child does not match.
    Not(u32),
    /// A test on the message.
    Test(Condition),
}

/// A Mailroom user an action is meant for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Recipient {
    /// The owner of the message's mail account.
    AccountOwner,
    /// The owner of the CRM record the action concerns.
    RecordOwner,
    /// A user of the org, by email.
    User(String),
}

/// A contact or a lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CrmRecordKind {
    /// A CRM contact.
    Contact,
    /// A CRM lead.
    Lead,
}

/// One CRM record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CrmRef {
    /// Contact or lead.
    pub kind: CrmRecordKind,
    /// Its id.
    pub id: String,
}

/// A task's priority.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TaskPriority {
    /// Low.
    Low,
    /// Normal (the default).
    #[default]
    Normal,
    /// High.
    High,
}

/// A CRM task to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaskSpec {
    /// The task's title.
    pub title: String,
    /// Longer notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// Due this many days after the message's date.
    #[serde(default)]
    pub due_in_days: Option<u32>,
    /// Due at this time (ms since the epoch); wins over `due_in_days`.
    #[serde(default)]
    pub due_at: Option<i64>,
    /// Who does it.
    pub assignee: Recipient,
    /// How urgent.
    #[serde(default)]
    pub priority: TaskPriority,
    /// The record it is about; the message's first linked one when absent.
    #[serde(default)]
    pub regarding: Option<CrmRef>,
}

/// A CRM field to set on a linked record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CrmFieldUpdate {
    /// Contact or lead.
    pub record_kind: CrmRecordKind,
    /// The record; the message's first linked one of that kind when absent.
    #[serde(default)]
    pub record_id: Option<String>,
    /// The field's API name.
    pub field: String,
    /// Its new value.
    pub value: String,
}

/// A notification to a Mailroom user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    /// Who is notified.
    pub target: Recipient,
    /// A headline; the first line of `text` when absent.
    #[serde(default)]
    pub title: Option<String>,
    /// The text.
    pub text: String,
}

/// An HTTPS POST to a host an admin allowed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookCall {
    /// Where to POST.
    pub url: String,
    /// JSON body; the message summary when absent.
    #[serde(default)]
    pub body: Option<String>,
    /// The delivery's event name.
    #[serde(default)]
    pub event: Option<String>,
    /// Extra request headers, each `[name, value]`.
    #[serde(default)]
    #[schema(value_type = Vec<Vec<String>>)]
    pub headers: Vec<(String, String)>,
    /// Deliveries with one key are made at most once.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// What a rule asks for when it matches. The first nine change the user's
/// view of the message and apply with its pipeline run; the next five reach
/// outside and are queued for their executors; `stop` ends the rule set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A folder by role name (`inbox`, `archive`…) or a custom folder's name.
    MoveTo(String),
    /// Add a label.
    AddLabel(String),
    /// Remove a label.
    RemoveLabel(String),
    /// Mark read.
    MarkRead,
    /// Mark unread.
    MarkUnread,
    /// Star.
    Star,
    /// Move to the archive.
    Archive,
    /// Move to the trash.
    Trash,
    /// Take out of spam.
    NeverSpam,
    /// Forward to an address an admin allowed.
    Forward(String),
    /// Create a CRM task.
    CreateTask(TaskSpec),
    /// Set a field of a linked contact or lead.
    UpdateCrmField(CrmFieldUpdate),
    /// Notify a user.
    Notify(Notification),
    /// Call a webhook.
    Webhook(WebhookCall),
    /// No later rule runs on this message.
    Stop,
}

/// Where an imported rule came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleSource {
    /// The importer's format id, e.g. `gmail-xml`, `zoho-json`, `sieve`.
    pub format: String,
    /// SHA-256 of the imported file, lowercase hex.
    pub file_sha256: String,
    /// The original filter's id in its system, if it has one.
    #[serde(default)]
    pub filter_id: Option<String>,
    /// Where the filter starts in the file, 1-based.
    #[serde(default)]
    pub line: Option<u32>,
    /// The column of `line`, 1-based.
    #[serde(default)]
    pub column: Option<u32>,
}

/// A rule as written: what the API takes and the store keeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rule {
    /// Shown to people; need not be unique.
    pub name: String,
    /// A disabled rule is kept but never runs.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// The condition tree (flat; node 0 is the root; empty: every message).
    #[serde(default)]
    pub conditions: Vec<ConditionNode>,
    /// What to do when it matches, in order.
    pub actions: Vec<Action>,
    /// Where an imported rule came from; absent for rules written here.
    #[serde(default)]
    pub source: Option<RuleSource>,
}

fn enabled_by_default() -> bool {
    true
}

impl Action {
    /// Whether the action changes the user's view of the message (applied
    /// with the run) rather than reaching outside (queued for an executor).
    pub fn changes_view(&self) -> bool {
        matches!(
            self,
            Action::MoveTo(_)
                | Action::AddLabel(_)
                | Action::RemoveLabel(_)
                | Action::MarkRead
                | Action::MarkUnread
                | Action::Star
                | Action::Archive
                | Action::Trash
                | Action::NeverSpam
        )
    }
}
