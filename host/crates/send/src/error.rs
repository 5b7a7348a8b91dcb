//! The one error type of sending. What the caller did wrong (a from-address
//! the account may not use, a malformed recipient) is `Invalid` and becomes
//! a 422; what the mail servers said is kept in their own words, split into
//! what is worth retrying and what is not.

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
    Imap(#[from] SyncError),
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
