//! Access tokens for logins. [`fresh_access_token`] hands out the stored
//! token while more than [`REFRESH_MARGIN_MS`](super::REFRESH_MARGIN_MS) of
//! its life is left and refreshes it otherwise; [`access_token_after_rejection`]
//! refreshes after a mail server rejected a token. New tokens are stored at
//! once (a rotated refresh token replaces the old one).
//!
//! Refreshes of one account are serialised in this process, so two logins
//! at the same moment refresh once and the second reuses the result; across
//! nodes the last write wins, which is harmless for providers that keep the
//! old refresh token valid. A refused grant (`invalid_grant`) clears the
//! tokens and sets the account's error: later logins fail at once with
//! "reconnect" instead of asking the provider again and again.

use super::REFRESH_MARGIN_MS;
use super::client::{self, ClientSettings};
use super::error::{OAuthError, OAuthResult};
use mailroom_core::ids::{AccountId, OrgId};
use mailroom_store::{AccountStatus, Secret, Store, StoreError, now_ms};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Weak};

type AccountLock = Arc<tokio::sync::Mutex<()>>;

/// One lock per account with a refresh in flight (entries die with their last holder).
static LOCKS: LazyLock<Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Mutex::default);

fn account_lock(org: &OrgId, account: &AccountId) -> AccountLock {
    let key = format!("{org}/{account}");
    let mut locks = LOCKS.lock();
    if let Some(lock) = locks.get(&key).and_then(Weak::upgrade) {
        return lock;
    }
    locks.retain(|_, weak| weak.strong_count() > 0);
    let lock = AccountLock::default();
    locks.insert(key, Arc::downgrade(&lock));
    lock
}

/// The account's access token, refreshed first when it expires within the
/// margin (or none is stored).
pub async fn fresh_access_token(
    store: &Store,
    org: &OrgId,
    account: &AccountId,
) -> OAuthResult<Secret> {
    let lock = account_lock(org, account);
    let _serialised = lock.lock().await;
    let secrets = store.account_secrets(org, account).await?;
    if let (Some(token), Some(expires_at)) =
        (&secrets.oauth_access_token, secrets.oauth_access_expires_at)
        && expires_at.saturating_sub(now_ms()) > REFRESH_MARGIN_MS
    {
        return Ok(token.clone());
    }
    refresh_locked(store, org, account, secrets.oauth_refresh_token).await
}

/// A new access token after the mail server rejected `rejected`; when
/// another login refreshed in the meantime, its token is returned as is.
pub async fn access_token_after_rejection(
    store: &Store,
    org: &OrgId,
    account: &AccountId,
    rejected: &Secret,
) -> OAuthResult<Secret> {
    let lock = account_lock(org, account);
    let _serialised = lock.lock().await;
    let secrets = store.account_secrets(org, account).await?;
    if let Some(token) = &secrets.oauth_access_token
        && token != rejected
    {
        return Ok(token.clone());
    }
    refresh_locked(store, org, account, secrets.oauth_refresh_token).await
}

/// Runs the refresh grant and stores the outcome. Call with the account's lock held.
async fn refresh_locked(
    store: &Store,
    org: &OrgId,
    account: &AccountId,
    refresh_token: Option<Secret>,
) -> OAuthResult<Secret> {
    let Some(refresh_token) = refresh_token else {
        return Err(OAuthError::Reconnect(
            "no refresh token is stored for this account".into(),
        ));
    };
    let grant = store.oauth_grant(org, account).await?.ok_or_else(|| {
        OAuthError::Reconnect(
            "the account was never connected through this server's OAuth flow".into(),
        )
    })?;
    let settings = client_settings(store, org, &grant.client_provider).await?;
    match client::refresh(&settings, &grant.token_url, &refresh_token).await {
        Ok(tokens) => {
            store
                .set_oauth_tokens(
                    org,
                    account,
                    &tokens.access_token,
                    tokens.expires_at,
                    tokens.refresh_token.as_ref(),
                )
                .await?;
            tracing::info!(org = %org, account = %account, rotated = tokens.refresh_token.is_some(), "OAuth access token refreshed");
            Ok(tokens.access_token)
        }
        Err(e @ OAuthError::Reconnect(_)) => {
            tracing::warn!(org = %org, account = %account, error = %e, "OAuth grant refused; the account needs a new authorization");
            store.clear_oauth_tokens(org, account).await?;
            store
                .set_account_status(org, account, AccountStatus::Error, Some(&e.to_string()))
                .await?;
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// The org's client for `provider`, secret decrypted.
pub(crate) async fn client_settings(
    store: &Store,
    org: &OrgId,
    provider: &str,
) -> OAuthResult<ClientSettings> {
    let missing = |e: StoreError| match e {
        StoreError::NotFound(_) => OAuthError::Config(format!(
            "no OAuth client is registered for provider {provider:?} in this org; an admin sets \
             one with PUT /v1/oauth/clients/{provider}"
        )),
        other => other.into(),
    };
    let client = store
        .get_oauth_client(org, provider)
        .await
        .map_err(missing)?;
    let client_secret = store
        .oauth_client_secret(org, provider)
        .await
        .map_err(missing)?;
    Ok(ClientSettings {
        client_id: client.client_id,
        client_secret,
        allow_insecure_http: client.allow_insecure_http,
        destinations: std::sync::Arc::new(store.destination_policy(org).await?),
    })
}
