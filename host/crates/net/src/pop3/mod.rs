//! The POP3 client: connecting (implicit TLS, STLS, plain: `connect`),
//! logging in (password, or SASL OAUTHBEARER/XOAUTH2: `auth`) and the
//! commands of a session (`session`: UIDL, LIST, RETR, DELE, QUIT), with
//! a server's `-ERR` turned into a [`NetError`] that keeps its words. The
//! wire protocol is `async-pop`'s; [`Pop3Session`] is the one type the rest
//! of the host sees. The UIDL-based download is in `mailroom-sync`.

pub mod auth;
pub mod connect;
pub mod session;

pub use session::{Pop3Session, ServerMessage};

use crate::error::NetError;
use async_pop::error::{Error as PopError, ErrorKind};

/// Converts a failed command (after login).
pub(crate) fn pop_error(server: &str, what: &str, e: PopError) -> NetError {
    match e.kind() {
        ErrorKind::Io(io) => NetError::Connect {
            server: server.to_owned(),
            reason: format!("the connection broke during {what}: {io}"),
        },
        ErrorKind::ServerError(words) => {
            NetError::Protocol(format!("{server} refused {what}: -ERR {words}"))
        }
        ErrorKind::ResponseTooLarge => NetError::Protocol(format!(
            "{server}: the answer to {what} is larger than the POP3 client accepts (20 MiB)"
        )),
        _ => NetError::Protocol(format!("{server}, {what}: {e}")),
    }
}
