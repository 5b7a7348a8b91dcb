//! The one error type of the protocol clients, [`NetError`]. Each variant
//! is a kind an admin can act on (fix the host/port, the certificate, the
//! password; wait for a slow server; report a broken server) and carries
//! the server's own words where there are any, never a credential. Sync
//! and sending wrap it in their own errors, which add what is theirs (the
//! store, retries).

use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum NetError {
    /// DNS, TCP, or the connection dropped mid-session.
    #[error("cannot reach {server}: {reason}")]
    Connect { server: String, reason: String },
    /// The TLS handshake failed; `certificate` when it was the server's
    /// certificate that was not trusted.
    #[error("TLS with {server} failed: {reason}")]
    Tls {
        server: String,
        reason: String,
        certificate: bool,
    },
    /// The server rejected the credentials (its words), or there are none.
    #[error("login rejected: {server_says}")]
    Auth { server_says: String },
    /// The server answered something this client cannot work with: an
    /// unexpected NO/BAD, -ERR or SMTP reply, a response that does not
    /// parse, a missing UIDVALIDITY or UIDL.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The org's destination policy does not allow this host, address or
    /// port; `reason` names them and what an admin can do.
    #[error("connecting to {server} is not allowed: {reason}")]
    NotAllowed { server: String, reason: String },
    /// The server did not answer within the deadline.
    #[error("the server did not answer {what} within {} s", after.as_secs_f32())]
    Timeout { what: String, after: Duration },
}

impl NetError {
    /// True when the server's certificate was rejected.
    pub fn is_certificate_error(&self) -> bool {
        matches!(
            self,
            NetError::Tls {
                certificate: true,
                ..
            }
        )
    }

    /// What the server said, for a provider's diagnosis: the words alone
    /// for a refused login, the whole message otherwise.
    pub fn server_words(&self) -> String {
        match self {
            NetError::Auth { server_says } => server_says.clone(),
            other => other.to_string(),
        }
    }
}

pub type NetResult<T> = Result<T, NetError>;
