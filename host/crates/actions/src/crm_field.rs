//! The `update-crm-field` executor: one field of one of the message's CRM
//! records, when the org's automation policy marks that field writable by
//! workflows. The record must be one the message's run linked (a workflow
//! cannot reach any record of the org by id); the write commits with the
//! action's `done` (`mailroom_store::crm_fields`).

use super::{ExecuteError, recipients};
use mailroom_core::ids::{ContactId, LeadId};
use mailroom_plugin_host::bindings::latest::types::{CrmFieldUpdate, CrmRef};
use mailroom_store::crm_fields::MAX_FIELD_VALUE_CHARS;
use mailroom_store::{ActionEffect, ClaimedAction, CrmFieldChange, Store, StoreError};

/// Carries out one `update-crm-field` action.
pub async fn update(
    store: &Store,
    claim: &ClaimedAction,
    update: &CrmFieldUpdate,
) -> Result<(ActionEffect, String), ExecuteError> {
    let named = update.record_id.as_ref().map(|id| CrmRef {
        kind: update.record_kind,
        id: id.clone(),
    });
    let record = recipients::regarding(&claim.context, named.as_ref(), Some(update.record_kind))?
        .ok_or_else(|| {
        ExecuteError::Refused(format!(
            "the message is linked to no {}",
            recipients::kind_name(update.record_kind)
        ))
    })?;
    let policy = store.automation_policy(&claim.org).await?;
    policy
        .check_writable(&record.kind, &update.field)
        .map_err(|e| ExecuteError::Refused(e.to_string()))?;
    if update.value.chars().count() > MAX_FIELD_VALUE_CHARS {
        return Err(ExecuteError::Refused(format!(
            "the value for {:?} is longer than {MAX_FIELD_VALUE_CHARS} characters",
            update.field
        )));
    }
    // Deleted since the run: nothing to update, ever.
    let exists = match record.kind.as_str() {
        "lead" => store
            .get_lead(&claim.org, &LeadId(record.id.clone()))
            .await
            .map(|_| ()),
        _ => store
            .get_contact(&claim.org, &ContactId(record.id.clone()))
            .await
            .map(|_| ()),
    };
    match exists {
        Ok(()) => {}
        Err(StoreError::NotFound(_)) => {
            return Err(ExecuteError::Refused(format!(
                "{} {} no longer exists",
                record.kind, record.id
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let detail = format!(
        "{} {}: {} set to {:?}",
        record.kind,
        record.id,
        update.field,
        mailroom_core::text::loggable(&update.value)
    );
    Ok((
        ActionEffect::CrmField(CrmFieldChange {
            kind: record.kind,
            record_id: record.id,
            field: update.field.clone(),
            value: update.value.clone(),
        }),
        detail,
    ))
}
