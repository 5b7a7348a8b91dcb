//! Logging in to POP3: a password (or app password) with `async-pop`'s
//! login, which uses SASL PLAIN when the server offers it and USER/PASS
//! otherwise; an OAuth access token with SASL XOAUTH2. A rejection becomes
//! [`SyncError::Auth`] with the server's own words.

use super::super::error::{SyncError, SyncResult};
use super::super::imap::ImapAuth;
use super::super::transport::{ServerTarget, Timeouts, timed};
use super::connect::{Greeted, Pop3Stream};
use super::pop_error;
use async_pop::Client;
use async_pop::error::{Error as PopError, ErrorKind};
use async_pop::request::Request;
use async_pop::sasl::OAuth2Authenticator;

pub type PopClient = Client<Pop3Stream>;

/// Hands the greeted stream to `async-pop` (which asks for CAPA) and logs in.
pub async fn login(
    target: &ServerTarget,
    greeted: Greeted,
    auth: &ImapAuth,
    timeouts: Timeouts,
) -> SyncResult<PopClient> {
    let server = target.server();
    let mut client = timed("CAPA", timeouts.command, async {
        async_pop::new(Pop3Stream::new(greeted))
            .await
            .map_err(|e| pop_error(&server, "CAPA", e))
    })
    .await?;
    timed("the login", timeouts.command, async {
        match auth {
            ImapAuth::Password { username, password } => client
                .login(username, password.expose())
                .await
                .map(|_| client)
                .map_err(|e| rejected(&server, e)),
            ImapAuth::OAuth2 {
                username,
                access_token,
            } => {
                let xoauth2 = OAuth2Authenticator::new(username, access_token.expose());
                match client.auth(xoauth2).await {
                    Ok(_) => Ok(client),
                    Err(e) if matches!(e.kind(), ErrorKind::UnexpectedResponse) => {
                        Err(xoauth2_refusal(&server, client).await)
                    }
                    Err(e) => Err(rejected(&server, e)),
                }
            }
        }
    })
    .await
}

/// On a bad token the server sends its error as a SASL challenge and waits
/// for an empty answer before its `-ERR`; `async-pop` stops at the
/// challenge, so the exchange is finished here to get the server's words.
async fn xoauth2_refusal(server: &str, client: PopClient) -> SyncError {
    let refused = || SyncError::Auth {
        server_says: "the server refused the OAuth access token".into(),
    };
    let Some(mut stream) = client.into_inner() else {
        return refused();
    };
    if stream.send_bytes("").await.is_err() {
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
fn rejected(server: &str, e: PopError) -> SyncError {
    match e.kind() {
        ErrorKind::ServerError(words) => SyncError::Auth {
            server_says: words.trim().to_owned(),
        },
        ErrorKind::Io(io) => SyncError::Connect {
            server: server.to_owned(),
            reason: format!("the connection dropped during login: {io}"),
        },
        _ => SyncError::Protocol(format!("{server}, login: {e}")),
    }
}
