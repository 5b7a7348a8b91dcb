//! What it takes to connect an account: its incoming server as an
//! [`ImapTarget`], its stored credentials as an [`ImapAuth`] (an OAuth
//! access token refreshed when it is about to expire), and a logged-in
//! session that retries once with a refreshed token when the server
//! rejects the one it was given.

use super::error::{SyncError, SyncResult};
use super::imap::{ImapAuth, ImapSession, ImapTarget, Timeouts};
use crate::oauth::{self, OAuthError};
use crate::store::{Account, AuthKind, Store};

/// The account's incoming server; certificates verified unless it opted out.
pub fn imap_target(account: &Account) -> ImapTarget {
    ImapTarget {
        host: account.incoming.host.clone(),
        port: account.incoming.port,
        security: account.incoming.security,
        tls_verify: account.tls_verify,
    }
}

/// The account's login, decrypted from the store; an OAuth access token is
/// refreshed first when less than a few minutes of it are left.
pub async fn imap_auth(store: &Store, account: &Account) -> SyncResult<ImapAuth> {
    let username = account.username.clone();
    match account.auth_kind {
        AuthKind::Password | AuthKind::AppPassword => {
            let secrets = store.account_secrets(&account.org, &account.id).await?;
            let password = secrets.password.ok_or_else(|| SyncError::Auth {
                server_says: "no password is stored for this account; set one".into(),
            })?;
            Ok(ImapAuth::Password { username, password })
        }
        AuthKind::Oauth2 => {
            let access_token = oauth::fresh_access_token(store, &account.org, &account.id).await?;
            Ok(ImapAuth::OAuth2 {
                username,
                access_token,
            })
        }
    }
}

/// Connects and logs in. When the server rejects an OAuth access token
/// (revoked, or expired early), the token is refreshed and the login tried
/// once more; a second rejection is the answer.
pub async fn open_session(
    store: &Store,
    account: &Account,
    timeouts: Timeouts,
) -> SyncResult<ImapSession> {
    let target = imap_target(account);
    let auth = imap_auth(store, account).await?;
    match ImapSession::open(&target, &auth, timeouts).await {
        Err(SyncError::Auth { server_says }) => {
            let ImapAuth::OAuth2 {
                username,
                access_token,
            } = auth
            else {
                return Err(SyncError::Auth { server_says });
            };
            tracing::info!(account = %account.id, server_says = %server_says, "OAuth access token rejected; refreshing once");
            let access_token = oauth::access_token_after_rejection(
                store,
                &account.org,
                &account.id,
                &access_token,
            )
            .await?;
            let retry = ImapAuth::OAuth2 {
                username,
                access_token,
            };
            ImapSession::open(&target, &retry, timeouts).await
        }
        other => other,
    }
}

impl From<OAuthError> for SyncError {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::Store(s) => SyncError::Store(s),
            OAuthError::Unavailable(reason) => SyncError::Connect {
                server: "the identity provider".into(),
                reason,
            },
            other => SyncError::Auth {
                server_says: other.to_string(),
            },
        }
    }
}
