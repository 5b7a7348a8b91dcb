//! Connecting a mailbox with OAuth2: [`start`] builds the authorization URL
//! the mailbox owner opens (code flow, PKCE S256, CSRF state) and records
//! the pending authorization; [`finish`] takes the provider's callback,
//! checks the state (known, unused, not expired), redeems the code and
//! stores the tokens, the refresh token sealed.

use super::AUTHORIZATION_TTL_MS;
use super::client::{self, ClientSettings};
use super::error::{OAuthError, OAuthResult};
use super::refresh::client_settings;
use mailroom_core::ids::{AccountId, OrgId, UserId};
use mailroom_store::{
    Account, AccountStatus, AuthKind, OAuthClient, OAuthGrant, PendingAuthorization, Store,
    StoreError, now_ms,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A provider plugin's OAuth2 endpoints (its `oauth2-endpoints`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderEndpoints {
    /// Where the mailbox owner signs in and consents.
    pub authorization_url: String,
    /// Where codes and refresh tokens are exchanged for access tokens.
    pub token_url: String,
    /// The scopes mail access needs (IMAP, POP3, SMTP).
    pub scopes: Vec<String>,
}

/// Where to send the mailbox owner.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorizationStart {
    /// Open in the mailbox owner's browser; the provider sends it back to
    /// the client's redirect URI (`/v1/oauth/callback`).
    pub authorization_url: String,
    /// The authorization must come back before this (ms since the epoch).
    pub expires_at: i64,
}

/// The query of the provider's redirect back to `/v1/oauth/callback`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct CallbackParams {
    /// The authorization code to exchange for tokens.
    #[serde(default)]
    pub code: Option<String>,
    /// The state Mailroom sent, naming the pending authorization.
    #[serde(default)]
    pub state: Option<String>,
    /// Set by the provider instead of `code` when it did not authorize
    /// (`access_denied` when the owner declined).
    #[serde(default)]
    pub error: Option<String>,
    /// The provider's words about `error`.
    #[serde(default)]
    pub error_description: Option<String>,
}

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

fn callback_error(code: &'static str, message: impl Into<String>) -> OAuthError {
    OAuthError::Callback {
        code,
        message: message.into(),
    }
}

/// The endpoints and scopes to use: the org client's overrides first, then
/// the provider plugin's.
fn endpoints(
    client: &OAuthClient,
    provider: Option<&ProviderEndpoints>,
) -> OAuthResult<ProviderEndpoints> {
    let pick = |own: &Option<String>, plugin: Option<&String>, what: &str| {
        own.clone().or_else(|| plugin.cloned()).ok_or_else(|| {
            OAuthError::Config(format!(
                "no {what} is known for provider {:?}: its provider plugin names none; set \
                 {what} on the org's OAuth client",
                client.provider_id
            ))
        })
    };
    let scopes = client
        .scopes
        .clone()
        .or_else(|| provider.map(|p| p.scopes.clone()))
        .unwrap_or_default();
    if scopes.is_empty() {
        return Err(OAuthError::Config(format!(
            "no scopes are known for provider {:?}; set scopes on the org's OAuth client",
            client.provider_id
        )));
    }
    Ok(ProviderEndpoints {
        authorization_url: pick(
            &client.authorization_url,
            provider.map(|p| &p.authorization_url),
            "authorization_url",
        )?,
        token_url: pick(
            &client.token_url,
            provider.map(|p| &p.token_url),
            "token_url",
        )?,
        scopes,
    })
}

/// Starts connecting `account`: the URL for the owner's browser. The
/// account must log in with OAuth2 and name the provider whose client the
/// org registered.
pub async fn start(
    store: &Store,
    account: &Account,
    provider: Option<&ProviderEndpoints>,
    started_by: &UserId,
) -> OAuthResult<AuthorizationStart> {
    if account.auth_kind != AuthKind::Oauth2 {
        return Err(OAuthError::Config(
            "this account logs in with a password; set its auth_kind to oauth2 first".into(),
        ));
    }
    let provider_id = account.provider_id.as_deref().ok_or_else(|| {
        OAuthError::Config(
            "the account names no provider; set its provider_id to the provider whose OAuth \
             client the org registered"
                .into(),
        )
    })?;
    let settings = client_settings(store, &account.org, provider_id).await?;
    let client = store.get_oauth_client(&account.org, provider_id).await?;
    let endpoints = endpoints(&client, provider)?;
    client::check_endpoint(
        &endpoints.token_url,
        "token URL",
        client.allow_insecure_http,
    )?;
    let request = client::authorization_request(
        &settings,
        &endpoints.authorization_url,
        &client.redirect_uri,
        &endpoints.scopes,
    )?;
    let expires_at = now_ms() + AUTHORIZATION_TTL_MS;
    let pending = PendingAuthorization {
        org: account.org.clone(),
        account: account.id.clone(),
        provider_id: provider_id.to_owned(),
        pkce_verifier: request.pkce_verifier,
        token_url: endpoints.token_url,
        expires_at,
    };
    store
        .insert_oauth_authorization(&state_hash(request.state.expose()), &pending, started_by)
        .await?;
    Ok(AuthorizationStart {
        authorization_url: request.url,
        expires_at,
    })
}

/// Completes an authorization from the provider's callback and connects
/// the account. A state works once; an unknown, used or expired state, or
/// the provider's refusal, is an [`OAuthError::Callback`] that says what to
/// do next.
pub async fn finish(store: &Store, params: &CallbackParams) -> OAuthResult<(OrgId, AccountId)> {
    let state = params
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            callback_error(
                "missing_state",
                "the callback has no state parameter: open the authorization URL the API gave, not \
             this address directly",
            )
        })?;
    let pending = store
        .take_oauth_authorization(&state_hash(state))
        .await?
        .ok_or_else(|| {
            callback_error(
                "unknown_state",
                "this authorization is unknown or was already used; start connecting the \
                 account again (POST /v1/accounts/{id}/oauth/authorize)",
            )
        })?;
    if pending.expires_at < now_ms() {
        return Err(callback_error(
            "expired_state",
            "this authorization expired (it must be completed within 10 minutes); start \
             connecting the account again",
        ));
    }
    if let Some(error) = params.error.as_deref() {
        let detail = params
            .error_description
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        return Err(if error == "access_denied" {
            callback_error(
                "access_denied",
                format!(
                    "the mailbox owner did not grant access at the identity provider{detail}; \
                     the account is not connected. Start again and approve the request to \
                     connect it"
                ),
            )
        } else {
            callback_error(
                "authorization_failed",
                format!("the identity provider did not authorize: {error}{detail}"),
            )
        });
    }
    let code = params
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            callback_error(
                "missing_code",
                "the identity provider sent neither a code nor an error; start again",
            )
        })?;
    let settings: ClientSettings =
        client_settings(store, &pending.org, &pending.provider_id).await?;
    let client = store
        .get_oauth_client(&pending.org, &pending.provider_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => OAuthError::Config(
                "the org's OAuth client was removed during the authorization".into(),
            ),
            other => other.into(),
        })?;
    let tokens = client::exchange_code(
        &settings,
        &pending.token_url,
        &client.redirect_uri,
        code,
        &pending.pkce_verifier,
    )
    .await?;
    if tokens.refresh_token.is_none() {
        tracing::warn!(org = %pending.org, account = %pending.account, "the identity provider issued no refresh token: the account must be authorized again when the access token expires (ask for offline access in the scopes)");
    }
    store
        .set_oauth_tokens(
            &pending.org,
            &pending.account,
            &tokens.access_token,
            tokens.expires_at,
            tokens.refresh_token.as_ref(),
        )
        .await?;
    store
        .set_oauth_grant(
            &pending.org,
            &pending.account,
            &OAuthGrant {
                token_url: pending.token_url.clone(),
                client_provider: pending.provider_id.clone(),
            },
        )
        .await?;
    store
        .set_account_status(&pending.org, &pending.account, AccountStatus::Ok, None)
        .await?;
    tracing::info!(org = %pending.org, account = %pending.account, "account connected with OAuth2");
    Ok((pending.org, pending.account))
}
