//! The connection test of an IMAP server: after the shared network steps,
//! the greeting, STARTTLS when the account asks for it, the login and the
//! folder list.

use super::report::{ServerReport, Step};
use super::tester::{Protocol, Tester};
use crate::imap::folders::special_use;
use crate::provider::Diagnoser;
use mailroom_net::imap::MailboxInfo;
use mailroom_net::imap::auth::login;
use mailroom_net::imap::connect::Imap;
use mailroom_net::{ImapSession, LoginAuth, NetError, ServerTarget, Timeouts};
use std::time::Instant;

/// Tests `target` with `auth` (or, without usable credentials, up to the
/// login, which fails with why), step by step.
pub(super) async fn test(
    target: &ServerTarget,
    auth: Result<LoginAuth, NetError>,
    timeouts: Timeouts,
    diagnoser: &dyn Diagnoser,
) -> ServerReport {
    let mut t = Tester::new(target, diagnoser, Protocol::Imap);
    let Some(greeted) = t.reach::<Imap>(timeouts).await else {
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
    let logged_in = match login(target, greeted, &auth, timeouts).await {
        Ok(s) => s,
        Err(e) => {
            t.fail::<()>(Step::Login, start, e).await;
            return t.finish();
        }
    };
    let mechanism = logged_in.mechanism;
    let mut session = match ImapSession::logged_in(target, logged_in, timeouts).await {
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
            mechanism.describe()
        ),
    );
    let start = Instant::now();
    match session.list().await {
        Ok(list) => {
            let names: Vec<String> = list.iter().map(describe_mailbox).collect();
            t.ok(
                Step::ListFolders,
                start,
                format!("{} folders: {}", names.len(), names.join(", ")),
            );
        }
        Err(e) => {
            t.fail::<()>(Step::ListFolders, start, e).await;
        }
    }
    session.logout().await;
    t.finish()
}

fn describe_mailbox(m: &MailboxInfo) -> String {
    match special_use(m) {
        Some(attr) => format!("{} ({attr})", m.name),
        None => m.name.clone(),
    }
}
