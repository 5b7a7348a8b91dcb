//! Logging in: LOGIN or SASL PLAIN with a password (or app password), SASL
//! OAUTHBEARER or XOAUTH2 with an OAuth access token, whichever the server
//! advertises (OAUTHBEARER first; see [`crate::oauth_sasl`]). A
//! rejection becomes [`SyncError::Auth`] with the server's own words, which
//! is what an admin needs to tell a wrong password from a disabled account.

use super::super::error::{SyncError, SyncResult};
use super::super::oauth_sasl::{OAuthMechanism, error_detail};
use super::connect::{Greeted, ImapTarget, MailStream, Timeouts, timed};
use super::server_words;
use async_imap::imap_proto::{Capability, Response};
use async_imap::types::UnsolicitedResponse;
use async_imap::{Authenticator, Client, Session};
use mailroom_store::Secret;

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

/// How a login went through, for the connection test's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginMechanism {
    /// IMAP LOGIN, or POP3's own choice of USER/PASS or PLAIN.
    Password,
    SaslPlain,
    OAuth(OAuthMechanism),
}

impl LoginMechanism {
    pub fn describe(self) -> &'static str {
        match self {
            LoginMechanism::Password => "a password",
            LoginMechanism::SaslPlain => "SASL PLAIN",
            LoginMechanism::OAuth(m) => m.name(),
        }
    }
}

/// A session that just logged in, and how.
pub struct LoggedIn {
    pub session: Session<MailStream>,
    pub mechanism: LoginMechanism,
}

/// Logs in on a greeted connection.
pub async fn login(
    target: &ImapTarget,
    greeted: Greeted,
    auth: &ImapAuth,
    timeouts: Timeouts,
) -> SyncResult<LoggedIn> {
    let mut client = greeted.client;
    timed("the login", timeouts.command, async {
        match auth {
            // LOGIN takes quoted strings, which are ASCII; anything else goes
            // through SASL PLAIN, which carries UTF-8 (RFC 4616).
            ImapAuth::Password { username, password }
                if username.is_ascii() && password.expose().is_ascii() =>
            {
                let session = client
                    .login(username, password.expose())
                    .await
                    .map_err(|(e, _)| rejected(target, &e))?;
                Ok(LoggedIn {
                    session,
                    mechanism: LoginMechanism::Password,
                })
            }
            ImapAuth::Password { username, password } => {
                let plain = Plain {
                    response: format!("\0{username}\0{}", password.expose()).into_bytes(),
                };
                let session = client
                    .authenticate("PLAIN", plain)
                    .await
                    .map_err(|(e, _)| rejected(target, &e))?;
                Ok(LoggedIn {
                    session,
                    mechanism: LoginMechanism::SaslPlain,
                })
            }
            ImapAuth::OAuth2 {
                username,
                access_token,
            } => {
                let advertised = auth_mechanisms(target, &mut client).await?;
                let mechanism = OAuthMechanism::choose(target, &advertised)?;
                let mut exchange = OAuthExchange {
                    response: mechanism.initial_response(target, username, access_token.expose()),
                    answer_to_error: mechanism.answer_to_error(),
                    sent: false,
                    server_error: None,
                };
                let result = client.authenticate(mechanism.name(), &mut exchange).await;
                let session = result.map_err(|(e, _)| match exchange.server_error.take() {
                    Some(detail) => SyncError::Auth {
                        server_says: format!("{} ({detail})", server_words(&e)),
                    },
                    None => rejected(target, &e),
                })?;
                Ok(LoggedIn {
                    session,
                    mechanism: LoginMechanism::OAuth(mechanism),
                })
            }
        }
    })
    .await
}

/// The SASL mechanisms the server offers before login (`AUTH=…` in its
/// CAPABILITY answer), asked for because after STARTTLS, or when the
/// greeting carries none, nothing else says.
async fn auth_mechanisms(
    target: &ImapTarget,
    client: &mut Client<MailStream>,
) -> SyncResult<Vec<String>> {
    // async-imap parses the untagged answer but hands it only to a channel.
    let (tx, rx) = async_channel::unbounded();
    client
        .run_command_and_check_ok("CAPABILITY", Some(tx))
        .await
        .map_err(|e| super::imap_error(&target.server(), e))?;
    let mut mechanisms = Vec::new();
    while let Ok(answer) = rx.try_recv() {
        let UnsolicitedResponse::Other(data) = answer else {
            continue;
        };
        if let Response::Capabilities(caps) = data.parsed() {
            mechanisms.extend(caps.iter().filter_map(|c| match c {
                Capability::Auth(m) => Some(m.to_uppercase()),
                _ => None,
            }));
        }
    }
    Ok(mechanisms)
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

/// SASL OAUTHBEARER or XOAUTH2. On failure the server sends a JSON error
/// as a challenge and waits for the mechanism's answer before its NO; the
/// JSON is kept for the error message.
struct OAuthExchange {
    response: Vec<u8>,
    answer_to_error: &'static [u8],
    sent: bool,
    server_error: Option<String>,
}

impl Authenticator for &mut OAuthExchange {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        if !self.sent {
            self.sent = true;
            return std::mem::take(&mut self.response);
        }
        if let Some(detail) = error_detail(challenge) {
            self.server_error = Some(detail);
        }
        self.answer_to_error.to_vec()
    }
}
