//! POP3: connecting (implicit TLS, STLS, plain), logging in (password or
//! SASL XOAUTH2), and the UIDL-based download of the one mailbox POP3 has.
//! The wire protocol is `async-pop`'s; [`Pop3Session`] is the one type the
//! rest of the host sees, and [`sync::sync_account`] reports through the
//! same [`crate::SyncReport`] as IMAP, with a single pseudo-folder
//! `INBOX`.

pub mod auth;
pub mod connect;
pub mod diagnose;
pub mod session;
pub mod sync;

pub use session::{Pop3Session, ServerMessage};

use super::error::SyncError;
use async_pop::error::{Error as PopError, ErrorKind};

/// Converts a failed command (after login).
pub(crate) fn pop_error(server: &str, what: &str, e: PopError) -> SyncError {
    match e.kind() {
        ErrorKind::Io(io) => SyncError::Connect {
            server: server.to_owned(),
            reason: format!("the connection broke during {what}: {io}"),
        },
        ErrorKind::ServerError(words) => {
            SyncError::Protocol(format!("{server} refused {what}: -ERR {words}"))
        }
        ErrorKind::ResponseTooLarge => SyncError::Protocol(format!(
            "{server}: the answer to {what} is larger than the POP3 client accepts (20 MiB)"
        )),
        _ => SyncError::Protocol(format!("{server}, {what}: {e}")),
    }
}
