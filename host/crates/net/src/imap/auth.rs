//! Logging in to IMAP: LOGIN or SASL PLAIN with a password (or app password), SASL
//! OAUTHBEARER or XOAUTH2 with an OAuth access token, whichever the server
//! advertises (OAUTHBEARER first; see [`crate::sasl`]). A
//! rejection becomes [`NetError::Auth`](crate::NetError::Auth) with the server's own words, which
//! is what an admin needs to tell a wrong password from a disabled account.

use super::connect::Greeted;
use super::server_words;
use crate::error::{NetError, NetResult};
use crate::login::{LoginAuth, LoginMechanism};
use crate::sasl::{OAuthMechanism, error_detail};
use crate::transport::{MailStream, ServerTarget, Timeouts, timed};
use async_imap::imap_proto::{Capability, Response};
use async_imap::types::UnsolicitedResponse;
use async_imap::{Authenticator, Client, Session};

/// A session that just logged in, and how.
pub struct LoggedIn {
    pub session: Session<MailStream>,
    pub mechanism: LoginMechanism,
}

/// Logs in on a greeted connection.
pub async fn login(
    target: &ServerTarget,
    greeted: Greeted,
    auth: &LoginAuth,
    timeouts: Timeouts,
) -> NetResult<LoggedIn> {
    let mut client = greeted.client;
    timed("the login", timeouts.command, async {
        match auth {
            // LOGIN takes quoted strings, which are ASCII; anything else goes
            // through SASL PLAIN, which carries UTF-8 (RFC 4616).
            LoginAuth::Password { username, password }
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
            LoginAuth::Password { username, password } => {
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
            LoginAuth::OAuth2 {
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
                    Some(detail) => NetError::Auth {
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
    target: &ServerTarget,
    client: &mut Client<MailStream>,
) -> NetResult<Vec<String>> {
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
fn rejected(target: &ServerTarget, e: &async_imap::error::Error) -> NetError {
    use async_imap::error::Error;
    match e {
        Error::No(_) | Error::Bad(_) => NetError::Auth {
            server_says: server_words(e),
        },
        Error::Io(_) | Error::ConnectionLost => NetError::Connect {
            server: target.server(),
            reason: format!("the connection dropped during login: {e}"),
        },
        other => NetError::Protocol(format!("login: {other}")),
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
