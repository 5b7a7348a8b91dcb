//! The connection test of an outgoing (SMTP) server: after the shared
//! network steps, the greeting and EHLO, STARTTLS when the account asks for
//! it, and the login (AUTH); then QUIT. No mail is sent. A failure goes to
//! the provider's diagnosis with `smtp` as the protocol and the contract's
//! SMTP steps (`smtp-connect`, `smtp-auth`), which is where, for example,
//! Microsoft 365 explains a `535 5.7.139` (SMTP AUTH turned off).

use super::report::{ServerReport, Step};
use super::tester::{Protocol, Tester};
use crate::provider::Diagnoser;
use mailroom_net::smtp::{Smtp, login};
use mailroom_net::{LoginAuth, NetError, ServerTarget, Timeouts};
use std::time::Instant;

/// Tests `target` with `auth` (or, without usable credentials, up to the
/// login, which fails with why), step by step.
pub(super) async fn test(
    target: &ServerTarget,
    auth: Result<LoginAuth, NetError>,
    timeouts: Timeouts,
    diagnoser: &dyn Diagnoser,
) -> ServerReport {
    let mut t = Tester::new(target, diagnoser, Protocol::Smtp);
    let Some(mut greeted) = t.reach::<Smtp>(timeouts).await else {
        return t.finish();
    };
    let start = Instant::now();
    match auth {
        Ok(auth) => match login(target, &mut greeted, &auth, timeouts).await {
            Ok(mechanism) => t.ok(
                Step::Login,
                start,
                format!(
                    "logged in as {} with {}",
                    auth.username(),
                    mechanism.describe()
                ),
            ),
            Err(e) => {
                t.fail::<()>(Step::Login, start, e).await;
            }
        },
        Err(e) => {
            t.fail::<()>(Step::Login, start, e).await;
        }
    }
    greeted.quit(timeouts).await;
    t.finish()
}
