//! Logging in to POP3: a password (or app password) with `async-pop`'s
//! login, which uses SASL PLAIN when the server offers it and USER/PASS
//! otherwise; an OAuth access token with SASL OAUTHBEARER or XOAUTH2,
//! whichever the server lists in its CAPA `SASL` line (OAUTHBEARER first;
//! see [`crate::sasl`]). A rejection becomes
//! [`NetError::Auth`] with the server's own words.

use super::connect::{Greeted, Pop3Stream};
use super::pop_error;
use crate::error::{NetError, NetResult};
use crate::login::{LoginAuth, LoginMechanism};
use crate::sasl::OAuthMechanism;
use crate::transport::{ServerTarget, Timeouts, timed};
use async_pop::Client;
use async_pop::error::{Error as PopError, ErrorKind};
use async_pop::request::Request;
use async_pop::response::capability::Capability;
use async_pop::sasl::Authenticator;

pub type PopClient = Client<Pop3Stream>;

/// Hands the greeted stream to `async-pop` (which asks for CAPA) and logs
/// in; returns the client and how it logged in.
pub async fn login(
    target: &ServerTarget,
    greeted: Greeted,
    auth: &LoginAuth,
    timeouts: Timeouts,
) -> NetResult<(PopClient, LoginMechanism)> {
    let server = target.server();
    let mut client = timed("CAPA", timeouts.command, async {
        async_pop::new(Pop3Stream::new(greeted))
            .await
            .map_err(|e| pop_error(&server, "CAPA", e))
    })
    .await?;
    timed("the login", timeouts.command, async {
        match auth {
            LoginAuth::Password { username, password } => client
                .login(username, password.expose())
                .await
                .map(|_| (client, LoginMechanism::Password))
                .map_err(|e| rejected(&server, e)),
            LoginAuth::OAuth2 {
                username,
                access_token,
            } => {
                let mechanism = OAuthMechanism::choose(target, &sasl_mechanisms(&client))?;
                let initial = mechanism.initial_response(target, username, access_token.expose());
                let exchange = OAuthSasl {
                    mechanism,
                    initial: String::from_utf8_lossy(&initial).into_owned(),
                };
                match client.auth(exchange).await {
                    Ok(_) => Ok((client, LoginMechanism::OAuth(mechanism))),
                    Err(e) if matches!(e.kind(), ErrorKind::UnexpectedResponse) => {
                        Err(oauth_refusal(&server, client, mechanism).await)
                    }
                    Err(e) => Err(rejected(&server, e)),
                }
            }
        }
    })
    .await
}

/// The mechanisms of the CAPA `SASL` line.
fn sasl_mechanisms(client: &PopClient) -> Vec<String> {
    client
        .capabilities()
        .iter()
        .filter_map(|c| match c {
            Capability::Sasl(mechanisms) => Some(mechanisms),
            _ => None,
        })
        .flatten()
        .map(|m| String::from_utf8_lossy(m).trim().to_uppercase())
        .collect()
}

/// OAUTHBEARER or XOAUTH2 with the token in the AUTH command itself.
struct OAuthSasl {
    mechanism: OAuthMechanism,
    initial: String,
}

impl Authenticator for OAuthSasl {
    fn mechanism(&self) -> &str {
        self.mechanism.name()
    }

    fn auth(&self) -> Option<String> {
        Some(self.initial.clone())
    }
}

/// On a bad token the server sends its error as a SASL challenge and waits
/// for the mechanism's answer before its `-ERR`; `async-pop` stops at the
/// challenge, so the exchange is finished here to get the server's words.
async fn oauth_refusal(server: &str, client: PopClient, mechanism: OAuthMechanism) -> NetError {
    use base64::Engine as _;
    let refused = || NetError::Auth {
        server_says: "the server refused the OAuth access token".into(),
    };
    let Some(mut stream) = client.into_inner() else {
        return refused();
    };
    let answer = base64::engine::general_purpose::STANDARD.encode(mechanism.answer_to_error());
    if stream.send_bytes(answer).await.is_err() {
        return refused();
    }
    // Any non-SASL command reads the final status line.
    let Ok(status_line) = "quit".parse::<Request>() else {
        return refused();
    };
    match stream.read_response(status_line).await {
        Err(e) => rejected(server, e),
        Ok(_) => refused(),
    }
}

/// A failed login: the server's `-ERR` is an auth error; a dropped
/// connection is not the password's fault.
fn rejected(server: &str, e: PopError) -> NetError {
    match e.kind() {
        ErrorKind::ServerError(words) => NetError::Auth {
            server_says: words.trim().to_owned(),
        },
        ErrorKind::Io(io) => NetError::Connect {
            server: server.to_owned(),
            reason: format!("the connection dropped during login: {io}"),
        },
        _ => NetError::Protocol(format!("{server}, login: {e}")),
    }
}
