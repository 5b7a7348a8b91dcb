//! Typed identifiers shared by every module. Ids are opaque strings (random,
//! prefixed by what they name) so they are portable across SQLite and
//! PostgreSQL and reveal nothing about other tenants.

use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A fresh random id, e.g. `org_3f9c…`.
            pub fn generate() -> Self {
                let bytes: [u8; 12] = rand::random();
                Self(format!(concat!($prefix, "_{}"), hex::encode(bytes)))
            }

            /// The id as text, as stored and shown.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

id_type!(
    /// An organisation: the tenant boundary.
    OrgId, "org");
id_type!(
    /// A user of one org.
    UserId, "usr");
id_type!(
    /// A connected mailbox (IMAP or POP3 plus SMTP) of one org.
    AccountId, "acc");
id_type!(
    /// A server folder of one mail account.
    FolderId, "fld");
id_type!(
    /// A CRM contact.
    ContactId, "con");
id_type!(
    /// A CRM lead.
    LeadId, "lead");
id_type!(
    /// An API token (the id, never the secret).
    TokenId, "tok");
id_type!(
    /// A message in the outbox (queued, being sent, or done).
    OutboxId, "out");
id_type!(
    /// A rule of the native rule engine (an org's or a mail account's).
    RuleId, "rul");
id_type!(
    /// A CRM task (made by a workflow's or rule's `create-task`).
    TaskId, "tsk");
id_type!(
    /// A notification to one user.
    NotificationId, "ntf");
id_type!(
    /// An org's subscription of a webhook to events.
    SubscriptionId, "whk");
id_type!(
    /// A filter file imported for preview, waiting to be applied.
    ImportId, "imp");

/// A stored message: the sha256 (hex) of its raw bytes. Identity by content,
/// not by server UID, so resyncs and UIDVALIDITY changes never duplicate it.
/// Unique per org only in combination with the org (tenants are walls).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

impl MessageId {
    /// The id of these raw bytes.
    pub fn of_raw(raw: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        Self(hex::encode(Sha256::digest(raw)))
    }

    /// The hex digest, as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for MessageId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Ids are opaque strings in the API.
macro_rules! string_schema {
    ($($ty:ty => $desc:literal),* $(,)?) => {$(
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new().schema_type(Type::String).description(Some($desc)).into()
            }
        }
        impl utoipa::ToSchema for $ty {}
    )*};
}

string_schema!(
    OrgId => "An org id, e.g. `org_3f9c…`",
    UserId => "A user id, e.g. `usr_…`",
    AccountId => "A mail account id, e.g. `acc_…`",
    FolderId => "A folder id, e.g. `fld_…`",
    ContactId => "A contact id, e.g. `con_…`",
    LeadId => "A lead id, e.g. `lead_…`",
    TokenId => "A token id (never the token itself), e.g. `tok_…`",
    MessageId => "A message id: the sha256 (hex) of its raw bytes",
    OutboxId => "An outbox entry id, e.g. `out_…`",
    RuleId => "A rule id, e.g. `rul_…`",
    TaskId => "A task id, e.g. `tsk_…`",
    NotificationId => "A notification id, e.g. `ntf_…`",
    SubscriptionId => "A webhook subscription id, e.g. `whk_…`",
    ImportId => "A rule import (preview) id, e.g. `imp_…`",
);
