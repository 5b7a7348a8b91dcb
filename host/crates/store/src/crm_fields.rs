//! One field of a CRM record changed by a workflow (`update-crm-field`),
//! inside the transaction that finishes the action, so the change and the
//! action's `done` commit together. Only the record's free-form `fields`
//! are written; its name, addresses and owner are not a workflow's to
//! change. Which fields may be written is the org's automation policy,
//! checked by the executor before this runs.

use super::{StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::OrgId;
use sqlx::{Any, Row, Transaction};

/// The longest value a workflow may write into a field.
pub const MAX_FIELD_VALUE_CHARS: usize = 10_000;

/// A change `update-crm-field` asked for, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrmFieldChange {
    /// `contact` or `lead`.
    pub kind: String,
    pub record_id: String,
    pub field: String,
    pub value: String,
}

/// Writes the change; the field's value before it (`None` when unset).
/// Compare-and-set on the whole `fields` document, so a concurrent edit
/// through the API is never overwritten with a stale copy.
pub(crate) async fn write_crm_field(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    change: &CrmFieldChange,
) -> StoreResult<Option<serde_json::Value>> {
    if change.value.chars().count() > MAX_FIELD_VALUE_CHARS {
        return Err(StoreError::Invalid(format!(
            "the value for {:?} is longer than {MAX_FIELD_VALUE_CHARS} characters",
            change.field
        )));
    }
    loop {
        let row = sqlx::query(
            "SELECT fields FROM crm_records WHERE org_id = $1 AND kind = $2 AND id = $3",
        )
        .bind(org.as_str())
        .bind(change.kind.as_str())
        .bind(change.record_id.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("CRM record"))?;
        let before: String = row.try_get("fields")?;
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&before).unwrap_or_default();
        let previous = fields.insert(
            change.field.clone(),
            serde_json::Value::String(change.value.clone()),
        );
        let after = serde_json::to_string(&fields)?;
        let written = sqlx::query(
            "UPDATE crm_records SET fields = $1, updated_at = $2 \
             WHERE org_id = $3 AND kind = $4 AND id = $5 AND fields = $6",
        )
        .bind(after)
        .bind(now_ms())
        .bind(org.as_str())
        .bind(change.kind.as_str())
        .bind(change.record_id.as_str())
        .bind(before)
        .execute(&mut **tx)
        .await?;
        if written.rows_affected() == 1 {
            return Ok(previous);
        }
    }
}
