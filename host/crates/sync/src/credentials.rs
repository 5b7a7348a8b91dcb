//! What it takes to log in to an account's servers, from what the store
//! holds: its incoming and outgoing servers as [`ServerTarget`]s, its
//! logins as [`LoginAuth`] (a password decrypted from the store, or an
//! OAuth access token refreshed when it is about to expire), and a login
//! that is tried once more with a refreshed token when the server rejects
//! the one it was given. The same for IMAP, POP3 and SMTP: sync, the
//! connection test and sending all start here. (It needs the store and
//! OAuth, so it cannot live with the protocol clients in `mailroom-net`.)

use super::error::{SyncError, SyncResult};
use mailroom_core::destinations::DestinationPolicy;
use mailroom_net::{ImapSession, LoginAuth, NetError, ServerTarget, Timeouts};
use mailroom_oauth::{self as oauth, OAuthError};
use mailroom_store::{Account, AuthKind, ServerSettings, Store};
use std::sync::Arc;

fn target(
    server: &ServerSettings,
    account: &Account,
    destinations: Arc<DestinationPolicy>,
) -> ServerTarget {
    ServerTarget {
        host: server.host.clone(),
        port: server.port,
        security: server.security,
        tls_verify: account.tls_verify,
        destinations,
    }
}

/// The account's incoming (IMAP or POP3) server, bound by its org's
/// destination policy; certificates verified unless it opted out.
pub async fn incoming_target(store: &Store, account: &Account) -> SyncResult<ServerTarget> {
    let destinations = Arc::new(store.destination_policy(&account.org).await?);
    Ok(target(&account.incoming, account, destinations))
}

/// The account's outgoing (SMTP) server, if it has one, bound by its org's
/// destination policy.
pub async fn outgoing_target(store: &Store, account: &Account) -> SyncResult<Option<ServerTarget>> {
    let Some(server) = &account.outgoing else {
        return Ok(None);
    };
    let destinations = Arc::new(store.destination_policy(&account.org).await?);
    Ok(Some(target(server, account, destinations)))
}

/// The account's incoming login, decrypted from the store; an OAuth access
/// token is refreshed first when less than a few minutes of it are left.
pub async fn incoming_login(store: &Store, account: &Account) -> SyncResult<LoginAuth> {
    let username = account.username.clone();
    match account.auth_kind {
        AuthKind::Password | AuthKind::AppPassword => {
            let secrets = store.account_secrets(&account.org, &account.id).await?;
            let password = secrets.password.ok_or_else(|| NetError::Auth {
                server_says: "no password is stored for this account; set one".into(),
            })?;
            Ok(LoginAuth::Password { username, password })
        }
        AuthKind::Oauth2 => oauth_login(store, account, username).await,
    }
}

/// The account's outgoing login: the incoming credentials when it uses the
/// same for both, else its outgoing username and password. OAuth accounts
/// send with the mailbox's access token.
pub async fn outgoing_login(store: &Store, account: &Account) -> SyncResult<LoginAuth> {
    let username = if account.same_credentials_for_outgoing {
        account.username.clone()
    } else {
        account
            .outgoing_username
            .clone()
            .unwrap_or_else(|| account.username.clone())
    };
    match account.auth_kind {
        AuthKind::Password | AuthKind::AppPassword => {
            let secrets = store.account_secrets(&account.org, &account.id).await?;
            let password = if account.same_credentials_for_outgoing {
                secrets.password
            } else {
                secrets.outgoing_password.or(secrets.password)
            };
            let password = password.ok_or_else(|| NetError::Auth {
                server_says: "no password is stored for this account's outgoing server; set one"
                    .into(),
            })?;
            Ok(LoginAuth::Password { username, password })
        }
        AuthKind::Oauth2 => oauth_login(store, account, username).await,
    }
}

async fn oauth_login(store: &Store, account: &Account, username: String) -> SyncResult<LoginAuth> {
    let access_token = oauth::fresh_access_token(store, &account.org, &account.id).await?;
    Ok(LoginAuth::OAuth2 {
        username,
        access_token,
    })
}

/// Connects and logs in over IMAP; see [`login_with_refresh`].
pub async fn open_imap_session(
    store: &Store,
    account: &Account,
    timeouts: Timeouts,
) -> SyncResult<ImapSession> {
    let target = incoming_target(store, account).await?;
    let auth = incoming_login(store, account).await?;
    login_with_refresh(store, account, auth, |auth| {
        let target = target.clone();
        async move { Ok(ImapSession::open(&target, &auth, timeouts).await?) }
    })
    .await
}

/// Logs in with `open` (IMAP, POP3 or SMTP) and `auth`. When the server
/// rejects an OAuth access token (revoked, or expired early), the token is
/// refreshed and the login tried once more; a second rejection is the
/// answer.
pub async fn login_with_refresh<S, F, Fut>(
    store: &Store,
    account: &Account,
    auth: LoginAuth,
    open: F,
) -> SyncResult<S>
where
    F: Fn(LoginAuth) -> Fut,
    Fut: std::future::Future<Output = SyncResult<S>>,
{
    let (username, rejected_token) = match &auth {
        LoginAuth::OAuth2 {
            username,
            access_token,
        } => (username.clone(), Some(access_token.clone())),
        LoginAuth::Password { .. } => (String::new(), None),
    };
    match (open(auth).await, rejected_token) {
        (Err(SyncError::Net(NetError::Auth { server_says })), Some(access_token)) => {
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
                    return Err(NetError::Auth {
                        server_says: format!("{server_says} (refreshing the token failed: {e})"),
                    }
                    .into());
                }
            };
            open(LoginAuth::OAuth2 {
                username,
                access_token,
            })
            .await
        }
        (other, _) => other,
    }
}

/// A token refresh that failed before any login: an unreachable identity
/// provider is a connection problem (worth another try), anything else a
/// login the admin or the mailbox owner must fix.
impl From<OAuthError> for SyncError {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::Store(s) => SyncError::Store(s),
            OAuthError::Unavailable(reason) => NetError::Connect {
                server: "the identity provider".into(),
                reason,
            }
            .into(),
            other => NetError::Auth {
                server_says: other.to_string(),
            }
            .into(),
        }
    }
}
