//! The one error type of mail sync. Each variant is a kind an admin can act
//! on (fix the host/port, the certificate, the password; wait for a slow
//! server; report a broken server or a broken store), and carries the
//! server's own words where there are any, never a credential.

use mailroom_store::StoreError;
use serde::Serialize;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SyncError {
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
    /// unexpected NO/BAD or -ERR, a response that does not parse, a missing
    /// UIDVALIDITY or UIDL.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The server did not answer within the per-command timeout.
    #[error("the server did not answer {what} within {} s", after.as_secs_f32())]
    Timeout { what: String, after: Duration },
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// What kind of failure, for reports and the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncErrorKind {
    Connect,
    Tls,
    Auth,
    Protocol,
    Timeout,
    Store,
}

impl SyncError {
    pub fn kind(&self) -> SyncErrorKind {
        match self {
            SyncError::Connect { .. } => SyncErrorKind::Connect,
            SyncError::Tls { .. } => SyncErrorKind::Tls,
            SyncError::Auth { .. } => SyncErrorKind::Auth,
            SyncError::Protocol(_) => SyncErrorKind::Protocol,
            SyncError::Timeout { .. } => SyncErrorKind::Timeout,
            SyncError::Store(_) => SyncErrorKind::Store,
        }
    }

    /// True when the server's certificate was rejected.
    pub fn is_certificate_error(&self) -> bool {
        matches!(
            self,
            SyncError::Tls {
                certificate: true,
                ..
            }
        )
    }
}

pub type SyncResult<T> = Result<T, SyncError>;
