//! Whom an action is for: the contract's `recipient` resolved against what
//! the message's run knew (its account and CRM records) to one active user
//! of the org, and the CRM record an action is about.

use super::ExecuteError;
use mailroom_core::ids::{ContactId, LeadId, UserId};
use mailroom_plugin_host::bindings::latest::types::{CrmRecordKind, CrmRef, Recipient};
use mailroom_store::{ActionContext, Store, StoreError, TaskRecord};

/// The user `recipient` names, who must be an active user of the org.
pub async fn resolve(
    store: &Store,
    org: &mailroom_core::ids::OrgId,
    context: &ActionContext,
    recipient: &Recipient,
    regarding: Option<&TaskRecord>,
) -> Result<UserId, ExecuteError> {
    let user = match recipient {
        Recipient::AccountOwner => account_owner(context)?,
        Recipient::RecordOwner => match record_owner(store, org, regarding).await? {
            Some(owner) => owner,
            None => account_owner(context)?,
        },
        Recipient::User(email) => store
            .find_user_by_email(org, email)
            .await?
            .map(|u| u.id)
            .ok_or_else(|| {
                ExecuteError::Refused(format!(
                    "{} is not a user of the org",
                    mailroom_core::text::loggable(email)
                ))
            })?,
    };
    match store.get_user(org, &user).await {
        Ok(u) if u.active => Ok(user),
        Ok(u) => Err(ExecuteError::Refused(format!("{} is deactivated", u.email))),
        Err(StoreError::NotFound(_)) => Err(ExecuteError::Refused(format!(
            "user {user} no longer exists"
        ))),
        Err(e) => Err(e.into()),
    }
}

fn account_owner(context: &ActionContext) -> Result<UserId, ExecuteError> {
    context
        .account_owner
        .clone()
        .ok_or_else(|| ExecuteError::Refused("the message's account is not known".into()))
}

/// The owner of the record, if it has one.
async fn record_owner(
    store: &Store,
    org: &mailroom_core::ids::OrgId,
    record: Option<&TaskRecord>,
) -> Result<Option<UserId>, ExecuteError> {
    let Some(record) = record else {
        return Ok(None);
    };
    let owner = match record.kind.as_str() {
        "lead" => store
            .get_lead(org, &LeadId(record.id.clone()))
            .await
            .map(|r| r.owner),
        _ => store
            .get_contact(org, &ContactId(record.id.clone()))
            .await
            .map(|r| r.owner),
    };
    match owner {
        Ok(owner) => Ok(owner),
        // Deleted since the run: there is no owner to ask.
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The store's name of a record kind.
pub fn kind_name(kind: CrmRecordKind) -> &'static str {
    match kind {
        CrmRecordKind::Contact => "contact",
        CrmRecordKind::Lead => "lead",
    }
}

/// The record an action is about: the one it names, which must be one of
/// the message's records, or else the message's first record (of `kind`
/// when given).
pub fn regarding(
    context: &ActionContext,
    named: Option<&CrmRef>,
    kind: Option<CrmRecordKind>,
) -> Result<Option<TaskRecord>, ExecuteError> {
    if let Some(named) = named {
        let kind = kind_name(named.kind);
        return match context
            .links
            .iter()
            .find(|(k, id)| k == kind && *id == named.id)
        {
            Some((kind, id)) => Ok(Some(TaskRecord {
                kind: kind.clone(),
                id: id.clone(),
            })),
            None => Err(ExecuteError::Refused(format!(
                "{kind} {} is not one of the message's records",
                mailroom_core::text::loggable(&named.id)
            ))),
        };
    }
    Ok(context
        .links
        .iter()
        .find(|(k, _)| kind.is_none_or(|want| k == kind_name(want)))
        .map(|(kind, id)| TaskRecord {
            kind: kind.clone(),
            id: id.clone(),
        }))
}
