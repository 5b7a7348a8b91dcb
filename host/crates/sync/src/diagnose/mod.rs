//! The connection test: each step of reaching an account's servers — DNS,
//! TCP, TLS, the server's greeting, login, and for the incoming server the
//! folder list (for POP3: the message listing) — tried in order, with what
//! happened in words an admin can act on: the server's own words when it
//! refused, the local error otherwise, and the provider's diagnosis where
//! it has one. A failed step stops that server's test; its later steps are
//! reported as not tried. The outgoing (SMTP) server is tested the same
//! way up to the login; no mail is sent. Nothing in the report is secret.
//!
//! `report` holds the report's types, `tester` the steps every protocol
//! shares, and `imap`, `pop3` and `smtp` each protocol's own steps.

mod imap;
mod pop3;
mod report;
mod smtp;
mod tester;

pub use report::{ConnectionReport, ServerReport, Step, StepReport, StepStatus};

use crate::credentials::{incoming_login, incoming_target, outgoing_login, outgoing_target};
use crate::provider::Diagnoser;
use mailroom_core::ids::{AccountId, OrgId};
use mailroom_net::Timeouts;
use mailroom_store::{Protocol, Store, StoreResult};

/// Tests a stored account's incoming connection, and its outgoing one if
/// it has an outgoing server, with its credentials. Only a store failure
/// is an error; every connection problem is in the report.
pub async fn test_account(
    store: &Store,
    org: &OrgId,
    account: &AccountId,
    diagnoser: &dyn Diagnoser,
    timeouts: Timeouts,
) -> StoreResult<ConnectionReport> {
    let account = store.get_account(org, account).await?;
    let target = incoming_target(store, &account).await.map_err(store_only)?;
    let login = tester::credentials(incoming_login(store, &account).await)?;
    let incoming = match account.protocol {
        Protocol::Imap => imap::test(&target, login, timeouts, diagnoser).await,
        Protocol::Pop3 => pop3::test(&target, login, timeouts, diagnoser).await,
    };
    let outgoing = match outgoing_target(store, &account).await.map_err(store_only)? {
        Some(target) => {
            let login = tester::credentials(outgoing_login(store, &account).await)?;
            Some(smtp::test(&target, login, timeouts, diagnoser).await)
        }
        None => None,
    };
    Ok(ConnectionReport::new(incoming, outgoing))
}

/// Building a target reads the store only.
fn store_only(e: crate::error::SyncError) -> mailroom_store::StoreError {
    match e {
        crate::error::SyncError::Store(e) => e,
        other => mailroom_store::StoreError::Invalid(other.to_string()),
    }
}
