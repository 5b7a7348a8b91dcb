//! OAuth2 rows: each org's OAuth client per provider (client secret
//! sealed), the authorizations waiting for their callback (PKCE verifier
//! sealed, keyed by a hash of the CSRF state, taken once), and which token
//! endpoint and client an account's refresh token belongs to. The HTTP and
//! token logic lives in `mailroom_oauth`.

use super::db::{from_json, get_bool, to_json};
use super::secrets::Secret;
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, OrgId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

/// An org's OAuth client for one provider, as the API shows it: never the
/// client secret, only whether one is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OAuthClient {
    pub provider_id: String,
    pub client_id: String,
    pub has_client_secret: bool,
    /// Where the identity provider sends the browser back: this server's
    /// `/v1/oauth/callback`, exactly as registered with the provider.
    pub redirect_uri: String,
    /// Override of the provider plugin's authorization endpoint.
    pub authorization_url: Option<String>,
    /// Override of the provider plugin's token endpoint.
    pub token_url: Option<String>,
    /// Override of the provider plugin's scopes.
    pub scopes: Option<Vec<String>>,
    /// Plain-HTTP endpoints are accepted (a test or loopback identity provider).
    pub allow_insecure_http: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an admin sets. A `client_secret` of `None` keeps the stored one.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuthClientInput {
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<Secret>,
    pub redirect_uri: String,
    #[serde(default)]
    pub authorization_url: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub allow_insecure_http: bool,
}

/// An authorization started and not yet called back.
#[derive(Clone, Debug)]
pub struct PendingAuthorization {
    pub org: OrgId,
    pub account: AccountId,
    pub provider_id: String,
    pub pkce_verifier: Secret,
    pub token_url: String,
    pub expires_at: i64,
}

/// Where an account's refresh token is redeemed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthGrant {
    pub token_url: String,
    /// The provider id of the org's OAuth client that obtained it.
    pub client_provider: String,
}

const CLIENT_COLUMNS: &str = "provider_id, client_id, client_secret IS NOT NULL AS has_client_secret, \
    redirect_uri, authorization_url, token_url, scopes, allow_insecure_http, created_at, updated_at";

fn client_from_row(row: &AnyRow) -> StoreResult<OAuthClient> {
    let scopes: Option<String> = row.try_get("scopes")?;
    Ok(OAuthClient {
        provider_id: row.try_get("provider_id")?,
        client_id: row.try_get("client_id")?,
        has_client_secret: get_bool(row, "has_client_secret")?,
        redirect_uri: row.try_get("redirect_uri")?,
        authorization_url: row.try_get("authorization_url")?,
        token_url: row.try_get("token_url")?,
        scopes: scopes.as_deref().map(from_json).transpose()?,
        allow_insecure_http: get_bool(row, "allow_insecure_http")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn client_secret_aad(org: &OrgId, provider: &str) -> Vec<u8> {
    format!("oauth_clients/{org}/{provider}/client_secret").into_bytes()
}

fn verifier_aad(state_hash: &str) -> Vec<u8> {
    format!("oauth_authorizations/{state_hash}/pkce_verifier").into_bytes()
}

impl Store {
    /// Creates or replaces the org's client for `provider` (validated by
    /// the caller); keeps the stored client secret when none is given.
    pub async fn set_oauth_client(
        &self,
        org: &OrgId,
        provider: &str,
        input: &OAuthClientInput,
    ) -> StoreResult<OAuthClient> {
        let sealed = input
            .client_secret
            .as_ref()
            .map(|s| {
                self.cipher()
                    .seal_secret(s, &client_secret_aad(org, provider))
            })
            .transpose()?;
        let scopes = input.scopes.as_ref().map(to_json).transpose()?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO oauth_clients (org_id, provider_id, client_id, client_secret, redirect_uri, \
             authorization_url, token_url, scopes, allow_insecure_http, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (org_id, provider_id) DO UPDATE SET client_id = excluded.client_id, \
             client_secret = COALESCE(excluded.client_secret, oauth_clients.client_secret), \
             redirect_uri = excluded.redirect_uri, authorization_url = excluded.authorization_url, \
             token_url = excluded.token_url, scopes = excluded.scopes, \
             allow_insecure_http = excluded.allow_insecure_http, updated_at = excluded.updated_at",
        )
        .bind(org.as_str())
        .bind(provider)
        .bind(&input.client_id)
        .bind(sealed)
        .bind(&input.redirect_uri)
        .bind(input.authorization_url.as_deref())
        .bind(input.token_url.as_deref())
        .bind(scopes)
        .bind(input.allow_insecure_http)
        .bind(now)
        .execute(self.pool())
        .await?;
        self.get_oauth_client(org, provider).await
    }

    pub async fn get_oauth_client(&self, org: &OrgId, provider: &str) -> StoreResult<OAuthClient> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE org_id = $1 AND provider_id = $2"
        )))
        .bind(org.as_str())
        .bind(provider)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("OAuth client"))?;
        client_from_row(&row)
    }

    pub async fn list_oauth_clients(&self, org: &OrgId) -> StoreResult<Vec<OAuthClient>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE org_id = $1 ORDER BY provider_id"
        )))
        .bind(org.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(client_from_row).collect()
    }

    pub async fn delete_oauth_client(&self, org: &OrgId, provider: &str) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM oauth_clients WHERE org_id = $1 AND provider_id = $2")
            .bind(org.as_str())
            .bind(provider)
            .execute(self.pool())
            .await?;
        super::db::expect_found(&done, "OAuth client")
    }

    /// The decrypted client secret (for the token endpoint only).
    pub async fn oauth_client_secret(
        &self,
        org: &OrgId,
        provider: &str,
    ) -> StoreResult<Option<Secret>> {
        let sealed: Option<Option<Vec<u8>>> = sqlx::query_scalar(
            "SELECT client_secret FROM oauth_clients WHERE org_id = $1 AND provider_id = $2",
        )
        .bind(org.as_str())
        .bind(provider)
        .fetch_optional(self.pool())
        .await?;
        let sealed = sealed.ok_or(StoreError::NotFound("OAuth client"))?;
        sealed
            .map(|s| {
                self.cipher()
                    .open_secret(&s, &client_secret_aad(org, provider))
            })
            .transpose()
    }

    /// Records an authorization waiting for its callback; expired ones are
    /// swept on the way.
    pub async fn insert_oauth_authorization(
        &self,
        state_hash: &str,
        pending: &PendingAuthorization,
        created_by: &UserId,
    ) -> StoreResult<()> {
        let now = now_ms();
        sqlx::query("DELETE FROM oauth_authorizations WHERE expires_at < $1")
            .bind(now)
            .execute(self.pool())
            .await?;
        let sealed = self
            .cipher()
            .seal_secret(&pending.pkce_verifier, &verifier_aad(state_hash))?;
        sqlx::query(
            "INSERT INTO oauth_authorizations (state_hash, org_id, account_id, provider_id, \
             pkce_verifier, token_url, created_by, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(state_hash)
        .bind(pending.org.as_str())
        .bind(pending.account.as_str())
        .bind(&pending.provider_id)
        .bind(sealed)
        .bind(&pending.token_url)
        .bind(created_by.as_str())
        .bind(pending.expires_at)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes and returns the authorization for `state_hash`: a state
    /// works once, also when two callbacks race. Expired ones are returned
    /// too, so the caller can say "expired" rather than "unknown".
    pub async fn take_oauth_authorization(
        &self,
        state_hash: &str,
    ) -> StoreResult<Option<PendingAuthorization>> {
        let row = sqlx::query(
            "DELETE FROM oauth_authorizations WHERE state_hash = $1 RETURNING org_id, account_id, \
             provider_id, pkce_verifier, token_url, expires_at",
        )
        .bind(state_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Vec<u8> = row.try_get("pkce_verifier")?;
        Ok(Some(PendingAuthorization {
            org: OrgId(row.try_get("org_id")?),
            account: AccountId(row.try_get("account_id")?),
            provider_id: row.try_get("provider_id")?,
            pkce_verifier: self
                .cipher()
                .open_secret(&sealed, &verifier_aad(state_hash))?,
            token_url: row.try_get("token_url")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    /// Records where the account's new refresh token is redeemed.
    pub async fn set_oauth_grant(
        &self,
        org: &OrgId,
        id: &AccountId,
        grant: &OAuthGrant,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE mail_accounts SET oauth_token_url = $1, oauth_client_provider = $2, updated_at = $3 \
             WHERE org_id = $4 AND id = $5",
        )
        .bind(&grant.token_url)
        .bind(&grant.client_provider)
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        super::db::expect_found(&done, "account")
    }

    /// Where the account's refresh token is redeemed; `None` before its
    /// first authorization.
    pub async fn oauth_grant(
        &self,
        org: &OrgId,
        id: &AccountId,
    ) -> StoreResult<Option<OAuthGrant>> {
        let row = sqlx::query(
            "SELECT oauth_token_url, oauth_client_provider FROM mail_accounts \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("account"))?;
        let token_url: Option<String> = row.try_get("oauth_token_url")?;
        let client_provider: Option<String> = row.try_get("oauth_client_provider")?;
        Ok(token_url
            .zip(client_provider)
            .map(|(token_url, client_provider)| OAuthGrant {
                token_url,
                client_provider,
            }))
    }

    /// Forgets the account's tokens (the provider refused the refresh token
    /// for good): logins stop trying until the owner authorizes again.
    pub async fn clear_oauth_tokens(&self, org: &OrgId, id: &AccountId) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE mail_accounts SET oauth_access_token = NULL, oauth_access_expires_at = NULL, \
             oauth_refresh_token = NULL, updated_at = $1 WHERE org_id = $2 AND id = $3",
        )
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        super::db::expect_found(&done, "account")
    }
}
