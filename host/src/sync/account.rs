//! What it takes to connect an account: its incoming server as an
//! [`ImapTarget`] and its stored credentials as an [`ImapAuth`]. Despite
//! the names, both serve POP3 accounts too: the target is the transport's
//! and the credentials are the same kinds.

use super::error::{SyncError, SyncResult};
use super::imap::{ImapAuth, ImapTarget};
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

/// The account's login, decrypted from the store.
pub async fn imap_auth(store: &Store, account: &Account) -> SyncResult<ImapAuth> {
    let secrets = store.account_secrets(&account.org, &account.id).await?;
    let username = account.username.clone();
    match account.auth_kind {
        AuthKind::Password | AuthKind::AppPassword => {
            let password = secrets.password.ok_or_else(|| SyncError::Auth {
                server_says: "no password is stored for this account; set one".into(),
            })?;
            Ok(ImapAuth::Password { username, password })
        }
        AuthKind::Oauth2 => {
            let access_token = secrets.oauth_access_token.ok_or_else(|| SyncError::Auth {
                server_says: "the account has no OAuth access token; connect it again".into(),
            })?;
            Ok(ImapAuth::OAuth2 {
                username,
                access_token,
            })
        }
    }
}
