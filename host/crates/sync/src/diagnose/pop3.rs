//! The connection test of a POP3 server: after the shared network steps,
//! the `+OK` greeting, STLS when the account asks for it, the login, and
//! the message listing (in the report's folder-list step: POP3 has one
//! mailbox). Same report, same provider diagnosis as IMAP, with `pop3` as
//! the protocol.

use super::report::{ServerReport, Step};
use super::tester::{Protocol, Tester};
use crate::provider::Diagnoser;
use mailroom_net::pop3::connect::Pop3;
use mailroom_net::{LoginAuth, NetError, Pop3Session, ServerTarget, Timeouts};
use std::time::Instant;

/// Tests `target` with `auth` (or, without usable credentials, up to the
/// login, which fails with why), step by step.
pub(super) async fn test(
    target: &ServerTarget,
    auth: Result<LoginAuth, NetError>,
    timeouts: Timeouts,
    diagnoser: &dyn Diagnoser,
) -> ServerReport {
    let mut t = Tester::new(target, diagnoser, Protocol::Pop3);
    let Some(greeted) = t.reach::<Pop3>(timeouts).await else {
        return t.finish();
    };
    let start = Instant::now();
    let auth = match auth {
        Ok(auth) => auth,
        Err(e) => {
            t.fail::<()>(Step::Login, start, e).await;
            return t.finish();
        }
    };
    let mut session = match Pop3Session::login(target, greeted, &auth, timeouts).await {
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
