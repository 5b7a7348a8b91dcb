//! What it takes to connect an account: its incoming server as an
//! [`ImapTarget`], its stored credentials as an [`ImapAuth`] (an OAuth
//! access token refreshed when it is about to expire), and a logged-in
//! session that retries once with a refreshed token when the server
//! rejects the one it was given. Despite the names, the target and the
//! credentials serve POP3 accounts too.

use super::error::{SyncError, SyncResult};
use super::imap::{ImapAuth, ImapSession, ImapTarget, Timeouts};
use mailroom_oauth::{self as oauth, OAuthError};
use mailroom_store::{Account, AuthKind, Store};

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

/// Connects and logs in over IMAP; see [`login_with_refresh`].
pub async fn open_session(
    store: &Store,
    account: &Account,
    timeouts: Timeouts,
) -> SyncResult<ImapSession> {
    let target = imap_target(account);
    login_with_refresh(store, account, |auth| {
        let target = target.clone();
        async move { ImapSession::open(&target, &auth, timeouts).await }
    })
    .await
}

/// Logs in with `open` (IMAP or POP3). When the server rejects an OAuth
/// access token (revoked, or expired early), the token is refreshed and the
/// login tried once more; a second rejection is the answer.
pub async fn login_with_refresh<S, F, Fut>(
    store: &Store,
    account: &Account,
    open: F,
) -> SyncResult<S>
where
    F: Fn(ImapAuth) -> Fut,
    Fut: std::future::Future<Output = SyncResult<S>>,
{
    let auth = imap_auth(store, account).await?;
    let rejected_token = match &auth {
        ImapAuth::OAuth2 { access_token, .. } => Some(access_token.clone()),
        ImapAuth::Password { .. } => None,
    };
    match (open(auth).await, rejected_token) {
        (Err(SyncError::Auth { server_says }), Some(access_token)) => {
            tracing::info!(account = %account.id, server_says = %server_says, "OAuth access token rejected; refreshing once");
            let refreshed = oauth::access_token_after_rejection(
                store,
                &account.org,
                &account.id,
                &access_token,
            )
            .await;
            // Keep the server's words: they say why the token was refused.
            let access_token = match refreshed {
                Ok(token) => token,
                Err(OAuthError::Store(e)) => return Err(SyncError::Store(e)),
                Err(e) => {
                    return Err(SyncError::Auth {
                        server_says: format!("{server_says} (refreshing the token failed: {e})"),
                    });
                }
            };
            open(ImapAuth::OAuth2 {
                username: account.username.clone(),
                access_token,
            })
            .await
        }
        (other, _) => other,
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
