//! Deactivating an account's integration, with the choice the admin (or
//! owner) makes: **retain** keeps everything (messages, folders with their
//! sync checkpoints, rules, labels and the rest of the mailbox's state) and
//! only stops syncing, so activating the account again resumes where it
//! stopped and downloads nothing it has; **delete** removes the account's
//! folders, rules and mailbox state (labels with it) and the messages no
//! other account holds, and says what it removed.

use super::super::{Store, StoreError, StoreResult};
use super::{Account, LeaseScope};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, OrgId};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::BTreeSet;

/// What becomes of the account's mail when its integration is deactivated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeactivationMode {
    /// Keep it all; it re-attaches when the account is activated again.
    Retain,
    /// Remove folders, rules, labels, and messages no other account holds.
    Delete,
}

/// What a deactivation did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeactivationReport {
    pub account: AccountId,
    pub mode: DeactivationMode,
    pub folders_removed: i64,
    pub rules_removed: i64,
    /// The distinct labels the account's mailbox used.
    pub labels_removed: Vec<String>,
    /// Messages gone from the store (no other account held them).
    pub messages_removed: i64,
    /// Messages the account held that stay, because another account holds
    /// them too.
    pub messages_kept: i64,
}

impl Store {
    /// Deactivates the account's integration (again: `Conflict`); see the
    /// module doc for the two modes. Its leases are dropped in the same
    /// transaction, so no node starts a sync of it any more.
    pub async fn deactivate_account(
        &self,
        org: &OrgId,
        id: &AccountId,
        mode: DeactivationMode,
    ) -> StoreResult<DeactivationReport> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE mail_accounts SET deactivated_at = $1, updated_at = $1 \
             WHERE org_id = $2 AND id = $3 AND deactivated_at IS NULL",
        )
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            self.get_account(org, id).await?;
            return Err(StoreError::Conflict(
                "the account's integration is deactivated already; activate it first \
                 (POST /v1/accounts/{id}/activate)"
                    .into(),
            ));
        }
        Store::drop_leases(&mut tx, org, LeaseScope::Account, id.as_str()).await?;
        let mut report = DeactivationReport {
            account: id.clone(),
            mode,
            folders_removed: 0,
            rules_removed: 0,
            labels_removed: Vec::new(),
            messages_removed: 0,
            messages_kept: 0,
        };
        if mode == DeactivationMode::Delete {
            let run = |sql: &'static str| sqlx::query(sql).bind(org.as_str()).bind(id.as_str());
            let mut labels = BTreeSet::new();
            for row in run(
                "SELECT labels FROM mailbox_state WHERE org_id = $1 AND account_id = $2 \
                 AND labels <> '[]'",
            )
            .fetch_all(&mut *tx)
            .await?
            {
                let list: Vec<String> =
                    super::super::db::from_json(&row.try_get::<String, _>("labels")?)?;
                labels.extend(list);
            }
            report.labels_removed = labels.into_iter().collect();
            // Held elsewhere: another mailbox or another account's location.
            const ALONE: &str = "NOT EXISTS (SELECT 1 FROM mailbox_state o WHERE o.org_id = s.org_id \
                AND o.message_id = s.message_id AND o.account_id <> s.account_id) \
                AND NOT EXISTS (SELECT 1 FROM message_locations l WHERE l.org_id = s.org_id \
                AND l.message_id = s.message_id AND l.account_id <> s.account_id)";
            let alone: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT s.message_id FROM mailbox_state s WHERE s.org_id = $1 AND s.account_id = $2 \
                 AND {ALONE}"
            )))
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_all(&mut *tx)
            .await?;
            let held: i64 = run(
                "SELECT COUNT(*) AS n FROM mailbox_state WHERE org_id = $1 AND account_id = $2",
            )
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
            for chunk in alone.chunks(500) {
                let mut q =
                    super::super::db::SqlBuilder::new("DELETE FROM messages WHERE org_id = ");
                q.bind_text(org.as_str())
                    .push(" AND id IN ")
                    .bind_list(chunk.iter().map(String::as_str));
                q.into_query().execute(&mut *tx).await?;
            }
            let removed = i64::try_from(alone.len()).unwrap_or(i64::MAX);
            report.messages_removed = removed;
            report.messages_kept = held - removed;
            for sql in [
                "DELETE FROM server_changes WHERE org_id = $1 AND account_id = $2",
                "DELETE FROM mailbox_state WHERE org_id = $1 AND account_id = $2",
                "DELETE FROM message_locations WHERE org_id = $1 AND account_id = $2",
            ] {
                run(sql).execute(&mut *tx).await?;
            }
            report.rules_removed = i64::try_from(
                run("DELETE FROM rules WHERE org_id = $1 AND account_id = $2")
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
            )
            .unwrap_or(i64::MAX);
            report.folders_removed = i64::try_from(
                run("DELETE FROM folders WHERE org_id = $1 AND account_id = $2")
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
            )
            .unwrap_or(i64::MAX);
        }
        tx.commit().await?;
        Ok(report)
    }

    /// Activates a deactivated account's integration: it syncs again from
    /// what it kept (a retained account downloads nothing it has).
    pub async fn activate_account(&self, org: &OrgId, id: &AccountId) -> StoreResult<Account> {
        let done = sqlx::query(
            "UPDATE mail_accounts SET deactivated_at = NULL, updated_at = $1 \
             WHERE org_id = $2 AND id = $3 AND deactivated_at IS NOT NULL",
        )
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        let account = self.get_account(org, id).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the account's integration is active already".into(),
            ));
        }
        Ok(account)
    }
}
