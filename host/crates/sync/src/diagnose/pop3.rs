//! The connection test of a POP3 account: the shared network steps (DNS,
//! TCP, implicit TLS), then the `+OK` greeting, STLS when the account asks
//! for it, login, and the message listing (in the report's folder-list
//! step: POP3 has one mailbox). Same report, same provider diagnosis as
//! IMAP, with `pop3` as the protocol.

use super::super::account::imap_auth;
use super::super::diagnose::{ConnectionReport, Step, Tester, verify_words};
use super::super::error::SyncError;
use super::super::imap::ImapAuth;
use super::super::provider::Diagnoser;
use super::super::transport::{ServerTarget, Timeouts};
use super::connect::{Greeted, read_greeting, stls};
use super::session::Pop3Session;
use mailroom_store::{Account, Security, Store, StoreResult};
use std::time::Instant;

/// Tests a stored POP3 account with its credentials. Only a store failure
/// is an error; every connection problem is in the report.
pub async fn test_account(
    store: &Store,
    account: &Account,
    target: &ServerTarget,
    diagnoser: &dyn Diagnoser,
    timeouts: Timeouts,
) -> StoreResult<ConnectionReport> {
    match imap_auth(store, account).await {
        Ok(auth) => Ok(test_connection(target, &auth, timeouts, diagnoser).await),
        Err(SyncError::Store(e)) => Err(e),
        // No credentials: the network steps are still worth testing.
        Err(e) => {
            let mut t = Tester::new(target, diagnoser, "pop3");
            if reach(&mut t, target, timeouts).await.is_some() {
                t.fail::<()>(Step::Login, Instant::now(), e).await;
            }
            Ok(t.finish())
        }
    }
}

/// Tests `target` with `auth`, step by step.
pub async fn test_connection(
    target: &ServerTarget,
    auth: &ImapAuth,
    timeouts: Timeouts,
    diagnoser: &dyn Diagnoser,
) -> ConnectionReport {
    let mut t = Tester::new(target, diagnoser, "pop3");
    let Some(greeted) = reach(&mut t, target, timeouts).await else {
        return t.finish();
    };
    let start = Instant::now();
    let mut session = match Pop3Session::login(target, greeted, auth, timeouts).await {
        Ok(s) => s,
        Err(e) => {
            t.fail::<()>(Step::Login, start, e).await;
            return t.finish();
        }
    };
    t.ok(
        Step::Login,
        start,
        format!(
            "logged in as {} with {}",
            auth.username(),
            session.login_mechanism().describe()
        ),
    );
    let start = Instant::now();
    match session.listing().await {
        Ok(listing) => {
            let bytes: u64 = listing.iter().map(|m| m.size).sum();
            t.ok(
                Step::ListFolders,
                start,
                format!(
                    "POP3 has one mailbox, INBOX: {} messages, {bytes} bytes",
                    listing.len()
                ),
            );
        }
        Err(e) => {
            t.fail::<()>(Step::ListFolders, start, e).await;
        }
    }
    // The test marked nothing for deletion: how QUIT goes changes nothing.
    let _ = session.quit().await;
    t.finish()
}

/// The network steps, the greeting and, for STLS, the upgrade.
async fn reach(t: &mut Tester<'_>, target: &ServerTarget, timeouts: Timeouts) -> Option<Greeted> {
    let stream = t.transport(timeouts).await?;
    let start = Instant::now();
    let greeted = match read_greeting(target, stream, timeouts).await {
        Ok(g) => g,
        Err(e) => return t.fail(Step::Greeting, start, e).await,
    };
    t.ok(
        Step::Greeting,
        start,
        format!("the server says: +OK {}", greeted.greeting),
    );
    if target.security != Security::Starttls {
        return Some(greeted);
    }
    let start = Instant::now();
    match stls(target, greeted, timeouts).await {
        Ok(upgraded) => {
            t.ok(Step::Tls, start, format!("STLS, {}", verify_words(target)));
            Some(upgraded)
        }
        Err(e) => t.fail(Step::Tls, start, e).await,
    }
}
