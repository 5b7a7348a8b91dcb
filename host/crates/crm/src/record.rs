//! A new CRM record and the checks it passes before it is written: one
//! function serves create, update (on the merged record) and import, so a
//! CSV row is refused for exactly the reasons the API would refuse it.

use mailroom_core::email::{InvalidEmail, normalize_email};
use mailroom_core::ids::UserId;
use serde::Deserialize;

/// A contact or lead as a client sends it (the store assigns id and times).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCrmRecord {
    /// Shown name; 1 to 200 printable characters after trimming.
    pub name: String,
    /// The main address; stored lower-cased.
    #[serde(default)]
    pub primary_email: Option<String>,
    /// Further addresses; duplicates and the primary one are dropped.
    #[serde(default)]
    pub secondary_emails: Vec<String>,
    /// The user owning the record; the store checks it belongs to the org.
    #[serde(default)]
    pub owner: Option<UserId>,
    /// Free-form CRM fields (a JSON object).
    #[serde(default = "empty_object")]
    pub fields: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// Longest name, in bytes, after trimming.
pub const MAX_NAME_BYTES: usize = 200;
/// Most emails of one record, the primary one included.
pub const MAX_EMAILS: usize = 50;
/// Largest `fields` object, as JSON text.
pub const MAX_FIELDS_JSON: usize = 64 * 1024;

/// Why a record cannot be written; the message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The name is empty, too long or holds control characters.
    #[error("name must be 1 to {MAX_NAME_BYTES} printable characters")]
    Name,
    /// One of the emails is not an address.
    #[error(transparent)]
    Email(#[from] InvalidEmail),
    /// More addresses than a record may hold.
    #[error("at most {MAX_EMAILS} emails per record")]
    TooManyEmails,
    /// `fields` is not a JSON object.
    #[error("fields must be a JSON object")]
    FieldsNotObject,
    /// `fields` is too large, or holds a NUL character (which PostgreSQL
    /// cannot store in text).
    #[error("fields must be at most 64 KiB of JSON without NUL characters")]
    FieldsTooLarge,
    /// `fields` could not be written as JSON text.
    #[error("fields cannot be written as JSON: {0}")]
    FieldsJson(#[from] serde_json::Error),
}

/// A record that passed [`check_record`], in the form the store writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedRecord {
    /// Trimmed name.
    pub name: String,
    /// Lower-cased primary email.
    pub primary: Option<String>,
    /// Lower-cased secondary emails, without the primary one or repeats.
    pub secondary: Vec<String>,
    /// The owner as given (the store checks it exists).
    pub owner: Option<UserId>,
    /// `fields` as JSON text.
    pub fields: String,
}

/// Checks a record as every write does and returns it normalised.
pub fn check_record(new: &NewCrmRecord) -> Result<CheckedRecord, RecordError> {
    let name = new.name.trim();
    if name.is_empty() || name.len() > MAX_NAME_BYTES || name.chars().any(char::is_control) {
        return Err(RecordError::Name);
    }
    let primary = new
        .primary_email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(normalize_email)
        .transpose()?;
    let mut secondary: Vec<String> = Vec::new();
    for e in &new.secondary_emails {
        let e = normalize_email(e)?;
        if Some(&e) != primary.as_ref() && !secondary.contains(&e) {
            secondary.push(e);
        }
    }
    if secondary.len() >= MAX_EMAILS {
        return Err(RecordError::TooManyEmails);
    }
    if !new.fields.is_object() {
        return Err(RecordError::FieldsNotObject);
    }
    let fields = serde_json::to_string(&new.fields)?;
    if fields.len() > MAX_FIELDS_JSON || fields.contains("\\u0000") {
        return Err(RecordError::FieldsTooLarge);
    }
    Ok(CheckedRecord {
        name: name.to_owned(),
        primary,
        secondary,
        owner: new.owner.clone(),
        fields,
    })
}
