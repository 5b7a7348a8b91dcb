//! POP3 accounts on the test server, and what the server still holds.

use super::support::{AccountSpec, Login, Tenant, account_with};
use mailroom::ids::AccountId;
use mailroom::store::{Protocol, Security, Store};
use mailroom_test_servers::Dovecot;

/// How the POP3 account connects.
pub struct Pop3 {
    pub port: u16,
    pub security: Security,
    pub tls_verify: bool,
    pub keep_on_server: bool,
}

impl Pop3 {
    /// The plain POP3 port of `d`, keeping mail on the server.
    pub fn plain(d: &Dovecot) -> Pop3 {
        Pop3 {
            port: d.ports().pop3,
            security: Security::None,
            tls_verify: true,
            keep_on_server: true,
        }
    }

    pub fn deleting(self) -> Pop3 {
        Pop3 {
            keep_on_server: false,
            ..self
        }
    }
}

/// A POP3 account of the first user of `d`, logging in with `login`.
pub async fn pop3_account_with(
    store: &Store,
    t: &Tenant,
    d: &Dovecot,
    how: Pop3,
    login: Login,
) -> AccountId {
    let spec = AccountSpec {
        protocol: Protocol::Pop3,
        user: &d.user().name,
        port: how.port,
        security: how.security,
        tls_verify: how.tls_verify,
        pop3_keep_on_server: how.keep_on_server,
    };
    account_with(store, t, spec, login).await
}

/// A POP3 account of the first user of `d` with the right password.
pub async fn pop3_account(store: &Store, t: &Tenant, d: &Dovecot, how: Pop3) -> AccountId {
    let password = d.user().password.clone();
    pop3_account_with(store, t, d, how, Login::Password(password)).await
}

/// Messages in the user's INBOX on the server.
pub fn on_server(d: &Dovecot) -> u64 {
    d.mailbox_status(&d.user().name, "INBOX", "messages")
}
