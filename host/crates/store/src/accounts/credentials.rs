//! An account's credentials, sealed at rest (see `store::secrets`). The
//! associated data names the account and column, so a sealed value copied
//! into another account's row does not decrypt.

use super::super::secrets::Secret;
use super::super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, OrgId};
use serde::Deserialize;
use sqlx::Row;

/// Credentials as given by the user; each `Some` replaces the stored value.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Incoming (and, with "same credentials", outgoing) password or app password.
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default)]
    pub outgoing_password: Option<Secret>,
    #[serde(default)]
    pub oauth_refresh_token: Option<Secret>,
}

impl Credentials {
    pub fn is_empty(&self) -> bool {
        self.password.is_none()
            && self.outgoing_password.is_none()
            && self.oauth_refresh_token.is_none()
    }
}

/// Decrypted credentials for the sync and send code. Debug prints `***`.
#[derive(Clone, Debug, Default)]
pub struct AccountSecrets {
    pub password: Option<Secret>,
    pub outgoing_password: Option<Secret>,
    pub oauth_refresh_token: Option<Secret>,
    pub oauth_access_token: Option<Secret>,
    pub oauth_access_expires_at: Option<i64>,
}

pub(crate) fn aad(account: &AccountId, column: &str) -> Vec<u8> {
    format!("mail_accounts/{account}/{column}").into_bytes()
}

impl Store {
    pub(crate) fn seal_opt(
        &self,
        account: &AccountId,
        column: &str,
        secret: Option<&Secret>,
    ) -> StoreResult<Option<Vec<u8>>> {
        secret
            .map(|s| self.cipher().seal_secret(s, &aad(account, column)))
            .transpose()
    }

    /// Replaces the credentials given in `creds`, keeps the others.
    pub async fn set_account_credentials(
        &self,
        org: &OrgId,
        id: &AccountId,
        creds: &Credentials,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE mail_accounts SET incoming_secret = COALESCE($1, incoming_secret), \
             outgoing_secret = COALESCE($2, outgoing_secret), \
             oauth_refresh_token = COALESCE($3, oauth_refresh_token), updated_at = $4 \
             WHERE org_id = $5 AND id = $6",
        )
        .bind(self.seal_opt(id, "incoming_secret", creds.password.as_ref())?)
        .bind(self.seal_opt(id, "outgoing_secret", creds.outgoing_password.as_ref())?)
        .bind(self.seal_opt(
            id,
            "oauth_refresh_token",
            creds.oauth_refresh_token.as_ref(),
        )?)
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        crate::db::expect_found(&done, "account")?;
        Ok(())
    }

    /// Stores a fresh OAuth access token (and a rotated refresh token, when
    /// the provider issued one).
    pub async fn set_oauth_tokens(
        &self,
        org: &OrgId,
        id: &AccountId,
        access_token: &Secret,
        expires_at: i64,
        refresh_token: Option<&Secret>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE mail_accounts SET oauth_access_token = $1, oauth_access_expires_at = $2, \
             oauth_refresh_token = COALESCE($3, oauth_refresh_token), updated_at = $4 \
             WHERE org_id = $5 AND id = $6",
        )
        .bind(self.seal_opt(id, "oauth_access_token", Some(access_token))?)
        .bind(expires_at)
        .bind(self.seal_opt(id, "oauth_refresh_token", refresh_token)?)
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        crate::db::expect_found(&done, "account")?;
        Ok(())
    }

    /// Decrypts the account's credentials (for logging in; never for the API).
    pub async fn account_secrets(
        &self,
        org: &OrgId,
        id: &AccountId,
    ) -> StoreResult<AccountSecrets> {
        let row = sqlx::query(
            "SELECT incoming_secret, outgoing_secret, oauth_refresh_token, oauth_access_token, \
             oauth_access_expires_at FROM mail_accounts WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("account"))?;
        let open = |column: &str| -> StoreResult<Option<Secret>> {
            let sealed: Option<Vec<u8>> = row.try_get(column)?;
            sealed
                .map(|s| self.cipher().open_secret(&s, &aad(id, column)))
                .transpose()
        };
        Ok(AccountSecrets {
            password: open("incoming_secret")?,
            outgoing_password: open("outgoing_secret")?,
            oauth_refresh_token: open("oauth_refresh_token")?,
            oauth_access_token: open("oauth_access_token")?,
            oauth_access_expires_at: row.try_get("oauth_access_expires_at")?,
        })
    }
}
