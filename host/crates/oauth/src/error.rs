//! The one error type of OAuth: what an admin must fix (configuration), what
//! the mailbox owner must do (reconnect), what the identity provider refused,
//! what is worth another try later (the provider unreachable), and what went
//! wrong on the callback, each in words that say what to do next.

use mailroom_store::StoreError;
use thiserror::Error;

/// Why an OAuth2 step failed, by what an admin or owner can do about it.
#[derive(Debug, Error)]
pub enum OAuthError {
    /// The org's OAuth set-up cannot work as it is (no client registered, no
    /// endpoint known, a plain-HTTP endpoint not allowed …).
    #[error("{0}")]
    Config(String),
    /// The refresh token is gone or refused for good (`invalid_grant`):
    /// only a new authorization helps.
    #[error("the mailbox owner must reconnect (authorize again): {0}")]
    Reconnect(String),
    /// The identity provider refused the request for another reason
    /// (`invalid_client`, `unauthorized_client` …): a configuration matter.
    #[error("the identity provider refused: {0}")]
    Refused(String),
    /// The identity provider did not answer or answered garbage: try later.
    #[error("the identity provider could not be reached or failed: {0}")]
    Unavailable(String),
    /// The browser came back with something unusable: an unknown, used or
    /// expired state, or the provider's refusal (`access_denied`).
    #[error("{message}")]
    Callback {
        /// A stable code for the API error.
        code: &'static str,
        /// What went wrong, for the person at the browser.
        message: String,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl OAuthError {
    /// Worth trying again later without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, OAuthError::Unavailable(_) | OAuthError::Store(_))
    }
}

/// The result of an OAuth2 step.
pub type OAuthResult<T> = Result<T, OAuthError>;
