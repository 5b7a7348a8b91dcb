//! What sync and send record on an account: status and last error, last
//! sync time, the learned "provider files sent mail itself" answer, and the
//! sync lease that lets several nodes share one PostgreSQL without two of
//! them syncing the same account.

use super::super::db::now_ms;
use super::super::{Store, StoreResult};
use super::AccountStatus;
use super::repo::Value;
use crate::ids::{AccountId, OrgId};
use sqlx::Row;

impl Store {
    /// Records the account's sync state and its last error (`None` clears it).
    pub async fn set_account_status(
        &self,
        org: &OrgId,
        id: &AccountId,
        status: AccountStatus,
        last_error: Option<&str>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE mail_accounts SET status = $1, last_error = $2, updated_at = $3 WHERE org_id = $4 AND id = $5",
        )
        .bind(status.as_str())
        .bind(last_error)
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        crate::store::db::expect_found(&done, "account")?;
        Ok(())
    }

    /// Records a completed sync: status ok, error cleared, time stamped.
    pub async fn record_account_synced(
        &self,
        org: &OrgId,
        id: &AccountId,
        at: i64,
    ) -> StoreResult<()> {
        self.set_account_status(org, id, AccountStatus::Ok, None)
            .await?;
        self.update_account_column(org, id, "last_sync_at", Value::OptI64(Some(at)))
            .await
    }

    /// Remembers whether the provider files a copy of sent mail itself.
    pub async fn set_store_sent_learned(
        &self,
        org: &OrgId,
        id: &AccountId,
        learned: Option<bool>,
    ) -> StoreResult<()> {
        self.update_account_column(org, id, "store_sent_learned", Value::OptBool(learned))
            .await
    }

    /// Takes (or renews) the sync lease of an account for `node` until
    /// `now + ttl_ms`. One atomic UPDATE: it succeeds only when the lease is
    /// free, expired, or already this node's, on either back end.
    pub async fn try_lease_account(
        &self,
        org: &OrgId,
        id: &AccountId,
        node: &str,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE mail_accounts SET lease_owner = $1, lease_expires_at = $2 \
             WHERE org_id = $3 AND id = $4 \
             AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at IS NULL OR lease_expires_at < $5)",
        )
        .bind(node)
        .bind(now.saturating_add(ttl_ms))
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease back (only if `node` holds it).
    pub async fn release_account_lease(
        &self,
        org: &OrgId,
        id: &AccountId,
        node: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE mail_accounts SET lease_owner = NULL, lease_expires_at = NULL \
             WHERE org_id = $1 AND id = $2 AND lease_owner = $3",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(node)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every account of every org whose lease is free or expired, with its
    /// org: what a sync scheduler may try to lease next.
    pub async fn accounts_to_sync(&self) -> StoreResult<Vec<(OrgId, AccountId)>> {
        let rows = sqlx::query(
            "SELECT org_id, id FROM mail_accounts WHERE status <> 'disabled' \
             AND (lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < $1) \
             ORDER BY COALESCE(last_sync_at, 0), id",
        )
        .bind(now_ms())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((OrgId(r.try_get("org_id")?), AccountId(r.try_get("id")?))))
            .collect()
    }
}
