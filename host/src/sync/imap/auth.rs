//! Logging in: LOGIN or SASL PLAIN with a password (or app password), SASL
//! XOAUTH2 with an OAuth access token. A rejection becomes
//! [`SyncError::Auth`] with the server's own words, which is what an admin
//! needs to tell a wrong password from a disabled account.

use super::super::error::{SyncError, SyncResult};
use super::connect::{Greeted, ImapTarget, MailStream, Timeouts, timed};
use super::server_words;
use crate::store::Secret;
use async_imap::{Authenticator, Session};

/// Credentials for one login.
#[derive(Clone, Debug)]
pub enum ImapAuth {
    /// A password or app-specific password.
    Password { username: String, password: Secret },
    /// An OAuth2 access token, sent with SASL XOAUTH2.
    OAuth2 {
        username: String,
        access_token: Secret,
    },
}

impl ImapAuth {
    pub fn username(&self) -> &str {
        match self {
            ImapAuth::Password { username, .. } | ImapAuth::OAuth2 { username, .. } => username,
        }
    }
}

/// Logs in on a greeted connection.
pub async fn login(
    target: &ImapTarget,
    greeted: Greeted,
    auth: &ImapAuth,
    timeouts: Timeouts,
) -> SyncResult<Session<MailStream>> {
    let client = greeted.client;
    timed("the login", timeouts.command, async {
        match auth {
            // LOGIN takes quoted strings, which are ASCII; anything else goes
            // through SASL PLAIN, which carries UTF-8 (RFC 4616).
            ImapAuth::Password { username, password }
                if username.is_ascii() && password.expose().is_ascii() =>
            {
                client
                    .login(username, password.expose())
                    .await
                    .map_err(|(e, _)| rejected(target, &e))
            }
            ImapAuth::Password { username, password } => {
                let plain = Plain {
                    response: format!("\0{username}\0{}", password.expose()).into_bytes(),
                };
                client
                    .authenticate("PLAIN", plain)
                    .await
                    .map_err(|(e, _)| rejected(target, &e))
            }
            ImapAuth::OAuth2 {
                username,
                access_token,
            } => {
                let mut xoauth2 = XOAuth2 {
                    response: format!(
                        "user={username}\x01auth=Bearer {}\x01\x01",
                        access_token.expose()
                    )
                    .into_bytes(),
                    sent: false,
                    server_error: None,
                };
                let result = client.authenticate("XOAUTH2", &mut xoauth2).await;
                result.map_err(|(e, _)| match xoauth2.server_error.take() {
                    Some(detail) => SyncError::Auth {
                        server_says: format!("{} ({detail})", server_words(&e)),
                    },
                    None => rejected(target, &e),
                })
            }
        }
    })
    .await
}

/// A failed login: the server's NO/BAD is an auth error; a dropped
/// connection is not the user's password's fault.
fn rejected(target: &ImapTarget, e: &async_imap::error::Error) -> SyncError {
    use async_imap::error::Error;
    match e {
        Error::No(_) | Error::Bad(_) => SyncError::Auth {
            server_says: server_words(e),
        },
        Error::Io(_) | Error::ConnectionLost => SyncError::Connect {
            server: target.server(),
            reason: format!("the connection dropped during login: {e}"),
        },
        other => SyncError::Protocol(format!("login: {other}")),
    }
}

/// SASL PLAIN: one response, no initial challenge.
struct Plain {
    response: Vec<u8>,
}

impl Authenticator for Plain {
    type Response = Vec<u8>;

    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        std::mem::take(&mut self.response)
    }
}

/// SASL XOAUTH2. On failure the server sends a JSON error as a challenge
/// and waits for an empty response before its NO; the JSON is kept for the
/// error message.
struct XOAuth2 {
    response: Vec<u8>,
    sent: bool,
    server_error: Option<String>,
}

impl Authenticator for &mut XOAuth2 {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        if !self.sent {
            self.sent = true;
            return std::mem::take(&mut self.response);
        }
        if !challenge.is_empty() {
            self.server_error = Some(String::from_utf8_lossy(challenge).into_owned());
        }
        Vec::new()
    }
}
