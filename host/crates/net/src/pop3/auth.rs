//! Logging in to POP3 after the server's capabilities (CAPA, RFC 2449):
//! a password with SASL PLAIN (RFC 5034) when CAPA lists it, USER/PASS
//! otherwise; an OAuth access token with SASL OAUTHBEARER or XOAUTH2,
//! whichever the CAPA `SASL` line lists (OAUTHBEARER first; see
//! [`crate::sasl`]). A rejection becomes [`NetError::Auth`] with the
//! server's own words; a command line never names the credential in an
//! error.

use super::wire::{Reply, Wire};
use crate::error::{NetError, NetResult};
use crate::login::{LoginAuth, LoginMechanism};
use crate::sasl::{OAuthMechanism, error_detail};
use crate::transport::ServerTarget;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// A CAPA answer is a few lines; more than this is not a POP3 server.
const MAX_CAPA_BYTES: u64 = 64 * 1024;

/// What the server says it can do (its CAPA lines, upper-cased).
#[derive(Clone, Debug, Default)]
pub struct Capabilities {
    lines: Vec<String>,
}

impl Capabilities {
    /// Asks with CAPA; a server that predates it (`-ERR`) offers nothing
    /// beyond RFC 1939, which USER/PASS needs no more than.
    pub async fn ask(wire: &mut Wire) -> NetResult<Self> {
        let lines = match wire.multiline("CAPA", "CAPA", MAX_CAPA_BYTES).await? {
            Ok(body) => String::from_utf8_lossy(&body)
                .lines()
                .map(|l| l.trim().to_uppercase())
                .filter(|l| !l.is_empty())
                .collect(),
            Err(_) => Vec::new(),
        };
        Ok(Self { lines })
    }

    /// The mechanisms of the `SASL` line.
    pub fn sasl(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|l| l.strip_prefix("SASL "))
            .flat_map(|m| m.split_whitespace().map(str::to_owned))
            .collect()
    }
}

/// Logs in on `wire`, whose capabilities are `caps`; returns how.
pub async fn login(
    target: &ServerTarget,
    wire: &mut Wire,
    caps: &Capabilities,
    auth: &LoginAuth,
) -> NetResult<LoginMechanism> {
    match auth {
        LoginAuth::Password { username, password } => {
            if caps.sasl().iter().any(|m| m == "PLAIN") {
                let response = format!("\0{username}\0{}", password.expose());
                sasl(wire, "PLAIN", response.as_bytes(), b"").await?;
                return Ok(LoginMechanism::SaslPlain);
            }
            accepted(wire.command("USER", &format!("USER {username}")).await?)?;
            accepted(
                wire.command("PASS", &format!("PASS {}", password.expose()))
                    .await?,
            )?;
            Ok(LoginMechanism::Password)
        }
        LoginAuth::OAuth2 {
            username,
            access_token,
        } => {
            let mechanism = OAuthMechanism::choose(target, &caps.sasl())?;
            let initial = mechanism.initial_response(target, username, access_token.expose());
            sasl(
                wire,
                mechanism.name(),
                &initial,
                mechanism.answer_to_error(),
            )
            .await?;
            Ok(LoginMechanism::OAuth(mechanism))
        }
    }
}

/// `AUTH mechanism initial-response` (RFC 5034). A challenge after it is
/// the error challenge of an OAuth mechanism, answered with `answer_to_error` so that the server finishes
/// with its `-ERR`; the challenge's words join the error, since they say
/// why (e.g. `{"status":"invalid_token"}`).
async fn sasl(
    wire: &mut Wire,
    mechanism: &str,
    initial: &[u8],
    answer_to_error: &[u8],
) -> NetResult<()> {
    let what = format!("AUTH {mechanism}");
    let mut reply = wire
        .command(
            &what,
            &format!("AUTH {mechanism} {}", BASE64.encode(initial)),
        )
        .await?;
    let mut detail = None;
    // One round for the error challenge; a server that keeps challenging
    // gets `*` (cancel, RFC 5034) and must then answer -ERR.
    for answer in [BASE64.encode(answer_to_error), "*".to_owned()] {
        let Reply::Challenge(challenge) = &reply else {
            break;
        };
        detail = BASE64
            .decode(challenge.as_bytes())
            .ok()
            .and_then(|c| error_detail(&c))
            .or(detail);
        wire.send(&what, &answer).await?;
        reply = wire.status(&what).await?;
    }
    match (accepted(reply), detail) {
        (Err(NetError::Auth { server_says }), Some(detail)) => Err(NetError::Auth {
            server_says: format!("{server_says} ({detail})"),
        }),
        (result, _) => result,
    }
}

/// `+OK` goes on; `-ERR` is a rejected login with the server's words.
fn accepted(reply: Reply) -> NetResult<()> {
    match reply {
        Reply::Ok(_) => Ok(()),
        Reply::Err(words) => Err(NetError::Auth {
            server_says: if words.is_empty() {
                "the server refused the login".into()
            } else {
                words
            },
        }),
        Reply::Challenge(_) => Err(NetError::Protocol(
            "the server kept asking for more during the login".into(),
        )),
    }
}
