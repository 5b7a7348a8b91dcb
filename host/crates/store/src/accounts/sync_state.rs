//! What sync and send record on an account: status and last error, last
//! sync time, the learned "provider files sent mail itself" answer, and the
//! leases that let several nodes share one PostgreSQL without two of them
//! syncing the same account, or both keeping a push connection to it.

use super::super::{Store, StoreResult};
use super::AccountStatus;
use super::repo::Value;
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, OrgId};
use sqlx::{AssertSqlSafe, Row};

/// What a node leases an account for; each kind is held independently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountLease {
    /// One sync (full, push-triggered or polled) at a time.
    Sync,
    /// The one long-lived push (IDLE) connection.
    Push,
}

impl AccountLease {
    /// (owner column, expiry column): fixed names, never user input.
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            AccountLease::Sync => ("lease_owner", "lease_expires_at"),
            AccountLease::Push => ("push_owner", "push_expires_at"),
        }
    }
}

/// Why an account is not synced (nor watched): no lease is given for it,
/// so a sync or push running when this became true stops at its next
/// lease renewal at the latest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncStop {
    /// The account's owner is deactivated.
    OwnerInactive,
    /// The account's integration is deactivated.
    AccountDeactivated,
}

impl SyncStop {
    /// What to tell whoever asked for a sync.
    pub fn reason(self) -> &'static str {
        match self {
            SyncStop::OwnerInactive => {
                "the account's owner is deactivated, so it is not synced; reactivate the user \
                 (POST /v1/users/{id}/activate) to sync it again"
            }
            SyncStop::AccountDeactivated => {
                "the account's integration is deactivated, so it is not synced; reactivate it \
                 (POST /v1/accounts/{id}/activate) to sync it again"
            }
        }
    }
}

/// Whose leases [`Store::drop_leases`] drops: every account of an owner,
/// or one account.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LeaseScope {
    Owner,
    Account,
}

/// The condition under which `mail_accounts` may be synced: the account is
/// not deactivated and its owner is active.
const SYNCABLE_SQL: &str = "mail_accounts.deactivated_at IS NULL AND EXISTS (SELECT 1 FROM users u \
     WHERE u.id = mail_accounts.owner_id AND u.active = TRUE)";

/// A sync lease someone holds on an account: which node, and until when
/// (unix ms) it holds unless renewed. A node renews its lease while its
/// sync runs, so a lease that is not renewed is a dead node's, and lapses.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SyncLease {
    /// The node (server process or CLI) that holds it.
    pub node: String,
    /// When it lapses unless renewed, in unix milliseconds.
    pub until: i64,
}

impl Store {
    /// Who holds the `kind` lease of an account now (`None` when free or
    /// lapsed).
    pub async fn account_lease(
        &self,
        org: &OrgId,
        id: &AccountId,
        kind: AccountLease,
    ) -> StoreResult<Option<SyncLease>> {
        let (owner, expires) = kind.columns();
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {owner} AS node, {expires} AS until FROM mail_accounts \
             WHERE org_id = $1 AND id = $2",
        )))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Err(crate::StoreError::NotFound("account"));
        };
        let node: Option<String> = row.try_get("node")?;
        let until: Option<i64> = row.try_get("until")?;
        Ok(match (node, until) {
            (Some(node), Some(until)) if until >= now_ms() => Some(SyncLease { node, until }),
            _ => None,
        })
    }

    /// Gives back every lease `node` holds, of every kind: a node that
    /// restarts with the identity it had calls this first, since nothing
    /// it held before can still be running.
    pub async fn release_leases_of_node(&self, node: &str) -> StoreResult<u64> {
        let mut released = 0;
        for kind in [AccountLease::Sync, AccountLease::Push] {
            let (owner, expires) = kind.columns();
            let done = sqlx::query(AssertSqlSafe(format!(
                "UPDATE mail_accounts SET {owner} = NULL, {expires} = NULL WHERE {owner} = $1",
            )))
            .bind(node)
            .execute(self.pool())
            .await?;
            released += done.rows_affected();
        }
        Ok(released)
    }

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
        crate::db::expect_found(&done, "account")?;
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

    /// Why the account is not synced now, if it is not.
    pub async fn sync_stopped(&self, org: &OrgId, id: &AccountId) -> StoreResult<Option<SyncStop>> {
        let row = sqlx::query(
            "SELECT a.deactivated_at, u.active FROM mail_accounts a JOIN users u ON u.id = a.owner_id \
             WHERE a.org_id = $1 AND a.id = $2",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?
        .ok_or(crate::StoreError::NotFound("account"))?;
        Ok(
            if row.try_get::<Option<i64>, _>("deactivated_at")?.is_some() {
                Some(SyncStop::AccountDeactivated)
            } else if !crate::db::get_bool(&row, "active")? {
                Some(SyncStop::OwnerInactive)
            } else {
                None
            },
        )
    }

    /// Takes (or renews) the `kind` lease of an account for `node` until
    /// `now + ttl_ms`. One atomic UPDATE: it succeeds only when the lease is
    /// free, expired, or already this node's, on either back end, and the
    /// account may be synced (see [`SyncStop`]).
    pub async fn try_lease_account(
        &self,
        org: &OrgId,
        id: &AccountId,
        kind: AccountLease,
        node: &str,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        let (owner, expires) = kind.columns();
        let now = now_ms();
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE mail_accounts SET {owner} = $1, {expires} = $2 \
             WHERE org_id = $3 AND id = $4 AND {SYNCABLE_SQL} \
             AND ({owner} IS NULL OR {owner} = $1 OR {expires} IS NULL OR {expires} < $5)",
        )))
        .bind(node)
        .bind(now.saturating_add(ttl_ms))
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes both leases of the accounts `column` (`owner_id` or `id`, a
    /// fixed name) names from whoever holds them, in the caller's
    /// transaction: they are not to be synced any more, and the nodes
    /// syncing them find out at their next renewal.
    pub(crate) async fn drop_leases(
        tx: &mut sqlx::Transaction<'static, sqlx::any::Any>,
        org: &OrgId,
        column: LeaseScope,
        value: &str,
    ) -> StoreResult<()> {
        let column = match column {
            LeaseScope::Owner => "owner_id",
            LeaseScope::Account => "id",
        };
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE mail_accounts SET lease_owner = NULL, lease_expires_at = NULL, \
             push_owner = NULL, push_expires_at = NULL WHERE org_id = $1 AND {column} = $2",
        )))
        .bind(org.as_str())
        .bind(value)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Gives the `kind` lease back (only if `node` holds it).
    pub async fn release_account_lease(
        &self,
        org: &OrgId,
        id: &AccountId,
        kind: AccountLease,
        node: &str,
    ) -> StoreResult<()> {
        let (owner, expires) = kind.columns();
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE mail_accounts SET {owner} = NULL, {expires} = NULL \
             WHERE org_id = $1 AND id = $2 AND {owner} = $3",
        )))
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(node)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every syncable account of every org whose lease is free or expired,
    /// with its org: what a sync scheduler may try to lease next.
    pub async fn accounts_to_sync(&self) -> StoreResult<Vec<(OrgId, AccountId)>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT org_id, id FROM mail_accounts WHERE status <> 'disabled' AND {SYNCABLE_SQL} \
             AND (lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < $1) \
             ORDER BY COALESCE(last_sync_at, 0), id",
        )))
        .bind(now_ms())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((OrgId(r.try_get("org_id")?), AccountId(r.try_get("id")?))))
            .collect()
    }
}
