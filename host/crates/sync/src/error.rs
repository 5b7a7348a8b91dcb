//! The one error type of mail sync: what the protocol clients report
//! ([`NetError`]: the connection, TLS, the login, the protocol, a timeout,
//! each with the server's own words and never a credential) or what the
//! store reports. Each kind is something an admin can act on.

use mailroom_net::NetError;
use mailroom_store::StoreError;
use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SyncError {
    /// Talking to the mail server failed.
    #[error(transparent)]
    Net(#[from] NetError),
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
    /// The org's destination policy does not allow the host, address or port.
    NotAllowed,
    Store,
}

impl SyncError {
    pub fn kind(&self) -> SyncErrorKind {
        match self {
            SyncError::Net(NetError::Connect { .. }) => SyncErrorKind::Connect,
            SyncError::Net(NetError::Tls { .. }) => SyncErrorKind::Tls,
            SyncError::Net(NetError::Auth { .. }) => SyncErrorKind::Auth,
            SyncError::Net(NetError::Protocol(_)) => SyncErrorKind::Protocol,
            SyncError::Net(NetError::Timeout { .. }) => SyncErrorKind::Timeout,
            SyncError::Net(NetError::NotAllowed { .. }) => SyncErrorKind::NotAllowed,
            SyncError::Store(_) => SyncErrorKind::Store,
        }
    }

    /// True when the server's certificate was rejected.
    pub fn is_certificate_error(&self) -> bool {
        matches!(self, SyncError::Net(e) if e.is_certificate_error())
    }
}

pub type SyncResult<T> = Result<T, SyncError>;
