//! The `zoho-json` file, as serde reads it. Zoho Mail documents no export
//! of its filters, so this is Mailroom's own format carrying exactly what a
//! Zoho Mail filter holds (Settings → Filters): a name, whether it is on,
//! conditions on the sender, subject, To, Cc, "To or Cc", priority or
//! attachments with contains / does not contain / is / is not / starts
//! with / ends with, how they combine (all, any, or an advanced pattern such
//! as `1 AND (2 OR 3)`), the actions, and "stop processing other filters".
//! `plugins/README.md` documents it with examples.
//!
//! Unknown keys and values are errors (serde's `deny_unknown_fields` and
//! enums), so a typo is reported with its line and column instead of being
//! dropped.

use serde::Deserialize;
use serde_json::value::RawValue;

/// The marker every file carries in `format`.
pub const FORMAT_MARKER: &str = "zoho-mail-filters";
/// The version of the format this importer reads.
pub const VERSION: u32 = 1;

/// The whole file. Filters are kept raw to know where each one starts.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File<'a> {
    pub format: String,
    pub version: u32,
    #[serde(borrow)]
    pub filters: Vec<&'a RawValue>,
}

/// One filter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Filter {
    /// Zoho's filter id, if the file has it.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(rename = "match")]
    pub matching: Matching,
    /// For `"match": "advanced"`: conditions by number (from 1), `AND`,
    /// `OR`, `NOT` and parentheses.
    #[serde(default)]
    pub pattern: Option<String>,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
    #[serde(default)]
    pub stop_processing: bool,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum Matching {
    All,
    Any,
    Advanced,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: Field,
    /// Not used by `has-attachment` unless `is-not` (no attachment).
    #[serde(default)]
    pub operator: Option<Operator>,
    /// Not used by `has-attachment`.
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    Sender,
    Subject,
    To,
    Cc,
    ToOrCc,
    Priority,
    HasAttachment,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum Operator {
    Contains,
    DoesNotContain,
    Is,
    IsNot,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    MoveToFolder {
        folder: String,
    },
    Tag {
        tag: String,
    },
    MarkRead,
    MarkUnread,
    /// Zoho's flags (`info`, `important`, `follow-up`) all become a star.
    Flag {
        #[serde(default)]
        flag: Option<FlagKind>,
    },
    Delete,
    Forward {
        to: String,
    },
    CreateTask {
        title: String,
        #[serde(default)]
        notes: Option<String>,
        #[serde(default, rename = "due-in-days")]
        due_in_days: Option<u32>,
        #[serde(default)]
        priority: Option<TaskPriority>,
    },
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum FlagKind {
    Info,
    Important,
    FollowUp,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum TaskPriority {
    Low,
    Normal,
    High,
}
