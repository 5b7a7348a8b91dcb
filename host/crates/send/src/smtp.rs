//! Sending one message as an account over SMTP: its outgoing server and
//! login (an OAuth access token refreshed when it is about to expire, and
//! once more when the server refuses it), then one attempt with the SMTP
//! client of `mailroom-net`, whose failures arrive sorted into transient
//! and permanent for the retry logic.

use super::error::{SendError, SendResult};
use mailroom_net::smtp::{self, SmtpError};
use mailroom_net::{LoginAuth, NetError};
use mailroom_store::{Account, Store};
use mailroom_sync::SyncError;
use mailroom_sync::credentials::{outgoing_login, outgoing_target};
use std::time::Duration;

/// Sends as `account`: its server and login (an OAuth access token
/// refreshed when about to expire), and when the server refuses an OAuth
/// token, one more attempt with a refreshed one.
pub async fn send_for_account(
    store: &Store,
    account: &Account,
    from: &str,
    to: &[String],
    raw: &[u8],
    timeout: Duration,
) -> SendResult<()> {
    let target = outgoing_target(store, account)
        .await
        .map_err(login_unavailable)?
        .ok_or_else(|| SendError::Smtp {
            reason: "this account has no outgoing (SMTP) server; set one in its settings".into(),
            transient: false,
        })?;
    let auth = outgoing_login(store, account)
        .await
        .map_err(login_unavailable)?;
    match smtp::send(&target, &auth, from, to, raw, timeout).await {
        Err(SmtpError {
            error: NetError::Auth { server_says },
            ..
        }) => {
            let LoginAuth::OAuth2 {
                username,
                access_token,
            } = auth
            else {
                return Err(SendError::LoginRefused {
                    reason: server_says,
                });
            };
            tracing::info!(account = %account.id, server_says = %server_says, "OAuth access token refused by SMTP; refreshing once");
            let access_token = mailroom_oauth::access_token_after_rejection(
                store,
                &account.org,
                &account.id,
                &access_token,
            )
            .await?;
            let retry = LoginAuth::OAuth2 {
                username,
                access_token,
            };
            Ok(smtp::send(&target, &retry, from, to, raw, timeout).await?)
        }
        other => Ok(other?),
    }
}

/// No login to send with (no password stored, the OAuth token cannot be
/// refreshed): worth retrying only when the identity provider could not be
/// reached.
fn login_unavailable(e: SyncError) -> SendError {
    match e {
        SyncError::Store(s) => SendError::Store(s),
        SyncError::Net(e) => SendError::Smtp {
            transient: matches!(e, NetError::Connect { .. } | NetError::Timeout { .. }),
            reason: e.to_string(),
        },
    }
}
