//! The one error type of sending. What the caller did wrong (a from-address
//! the account may not use, a malformed recipient) is `Invalid` and becomes
//! a 422; what the mail servers said is kept in their own words, split into
//! what is worth retrying and what is not.

use mailroom_net::NetError;
use mailroom_net::smtp::SmtpError;
use mailroom_oauth::OAuthError;
use mailroom_store::StoreError;
use mailroom_sync::SyncError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SendError {
    /// The request cannot be sent as given (bad address, from-address not
    /// the account's, no outgoing server …).
    #[error("{0}")]
    Invalid(String),
    /// The SMTP exchange failed. `transient`: worth another attempt later
    /// (4xx, refused connection, timeout); otherwise the server refused for
    /// good (5xx) or the settings cannot work (bad certificate, no STARTTLS).
    #[error("{reason}")]
    Smtp { reason: String, transient: bool },
    /// The server refused the login itself (535, or an XOAUTH2 error
    /// challenge): a wrong password, or an OAuth token it no longer takes.
    #[error("{reason}")]
    LoginRefused { reason: String },
    /// Filing the Sent copy over IMAP failed (the message itself is sent).
    #[error("filing the copy in Sent failed: {0}")]
    Imap(#[from] NetError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl SendError {
    pub fn is_transient(&self) -> bool {
        match self {
            SendError::Smtp { transient, .. } => *transient,
            // The copy step retries on its own schedule; a store hiccup is
            // worth another try.
            SendError::Imap(_) | SendError::Store(_) => true,
            SendError::Invalid(_) | SendError::LoginRefused { .. } => false,
        }
    }
}

pub type SendResult<T> = Result<T, SendError>;

/// A failed SMTP attempt: a refused login is its own kind (the caller may
/// refresh an OAuth token and try again); everything else keeps the
/// client's verdict on whether to retry.
impl From<SmtpError> for SendError {
    fn from(e: SmtpError) -> Self {
        match e.error {
            NetError::Auth { server_says } => SendError::LoginRefused {
                reason: server_says,
            },
            error => SendError::Smtp {
                reason: error.to_string(),
                transient: e.transient,
            },
        }
    }
}

/// What the sync layer hands back to sending: the account's outgoing login
/// (before any SMTP) and the IMAP session and Sent folder for the copy.
/// A store failure stays one; a connection problem is worth retrying, a
/// refused or missing login is not.
impl From<SyncError> for SendError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Store(s) => SendError::Store(s),
            SyncError::Net(e) => SendError::Imap(e),
        }
    }
}

/// A token refresh that failed before any SMTP: an unreachable identity
/// provider is worth retrying; a refused grant or a missing OAuth client is not.
impl From<OAuthError> for SendError {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::Store(s) => SendError::Store(s),
            other => SendError::Smtp {
                transient: other.is_transient(),
                reason: other.to_string(),
            },
        }
    }
}
