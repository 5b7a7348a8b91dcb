//! The connection test of an IMAP server: after the shared network steps,
//! the greeting, STARTTLS when the account asks for it, the login and the
//! folder list.

use super::report::{ServerReport, Step};
use super::tester::{Protocol, Tester, verify_words};
use crate::imap::folders::special_use;
use crate::provider::Diagnoser;
use mailroom_net::imap::MailboxInfo;
use mailroom_net::imap::auth::login;
use mailroom_net::imap::connect::{Greeted, read_greeting, starttls};
use mailroom_net::{ImapSession, LoginAuth, NetError, Security, ServerTarget, Timeouts};
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
    let Some(greeted) = reach(&mut t, target, timeouts).await else {
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

/// The network steps, the greeting and, for STARTTLS, the upgrade.
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
        format!("the server says: {}", greeted.greeting),
    );
    if target.security != Security::Starttls {
        return Some(greeted);
    }
    let greeting = greeted.greeting.clone();
    let start = Instant::now();
    // STARTTLS does not report the negotiated version; the handshake
    // succeeding is what matters here.
    match starttls(target, greeted, timeouts).await {
        Ok(client) => {
            t.ok(
                Step::Tls,
                start,
                format!("STARTTLS, {}", verify_words(target)),
            );
            Some(Greeted { client, greeting })
        }
        Err(e) => t.fail(Step::Tls, start, e).await,
    }
}
