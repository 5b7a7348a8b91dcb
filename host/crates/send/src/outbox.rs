//! Putting a message in the outbox: the account is checked (it must have an
//! outgoing server), the message is built, and the entry is committed with
//! its raw bytes — all before any network call, so an accepted send is
//! never lost to a crash, a restart or a server that is down.

use super::compose::{OutgoingMessage, compose};
use super::error::{SendError, SendResult};
use mailroom_core::ids::{AccountId, OrgId, UserId};
use mailroom_store::{OutboxEntry, Store};

/// Builds `msg` as sent from the account and queues it. The caller's
/// access to the account is the API's to check.
pub async fn enqueue(
    store: &Store,
    org: &OrgId,
    account: &AccountId,
    msg: &OutgoingMessage,
    created_by: Option<&UserId>,
) -> SendResult<OutboxEntry> {
    let account = store.get_account(org, account).await?;
    if account.outgoing.is_none() {
        return Err(SendError::Invalid(
            "this account has no outgoing (SMTP) server; set one before sending".into(),
        ));
    }
    let composed = compose(&account, msg)?;
    let entry = store
        .create_outbox_entry(
            org,
            &composed.into_outbox_entry(account.id.clone(), created_by.cloned()),
        )
        .await?;
    tracing::info!(org = %org, account = %account.id, outbox = %entry.id, "message queued");
    Ok(entry)
}
