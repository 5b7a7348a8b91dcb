//! OAuth2 for mail accounts: the authorization-code flow with PKCE that
//! connects a mailbox (`connect`), and the access tokens IMAP, POP3 and SMTP
//! logins use, refreshed before they expire and after a server rejects one
//! (`refresh`). `client` holds the `oauth2` crate's set-up; the rows live in
//! `store::oauth`. Endpoints come from the org's OAuth client for the
//! provider (an admin's overrides) or else from the provider plugin.
//!
//! Nothing here logs or returns a token or a client secret.

mod client;
pub mod connect;
mod error;
pub mod refresh;

pub use client::check_endpoint;
pub use connect::{AuthorizationStart, CallbackParams, ProviderEndpoints};
pub use error::{OAuthError, OAuthResult};
pub use refresh::{access_token_after_rejection, fresh_access_token};

/// How long an authorization may wait for its callback.
pub const AUTHORIZATION_TTL_MS: i64 = 10 * 60 * 1000;
/// Refresh an access token when less than this much of its life is left.
pub const REFRESH_MARGIN_MS: i64 = 5 * 60 * 1000;
