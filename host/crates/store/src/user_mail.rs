//! What the org keeps of each user's mail: per account, how many messages
//! and bytes it holds, and the email backup, which moves a (deactivated)
//! user's Public accounts into the org archive so their mail stays in
//! related lists under the same sharing after the user is gone.

use super::accounts::Sharing;
use super::db::get_bool;
use super::{Protocol, Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, OrgId, UserId};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// One account of a user as an admin reviews it: settings that matter for
/// its mail, and what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccountUsage {
    pub id: AccountId,
    pub owner: UserId,
    pub email: String,
    pub protocol: Protocol,
    pub sharing: Sharing,
    pub locked_by_admin: bool,
    pub deactivated_at: Option<i64>,
    /// When its mail went to the org archive (see [`Store::back_up_user_mail`]).
    pub backed_up_at: Option<i64>,
    /// Messages in its mailbox.
    pub messages: i64,
    /// Their raw size in bytes (a message other accounts hold too counts
    /// in each).
    pub storage_bytes: i64,
}

/// An account the backup left out, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BackupRefused {
    pub account: AccountId,
    pub email: String,
    pub sharing: Sharing,
    pub reason: String,
}

/// What an email backup did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EmailBackup {
    /// The accounts whose mail is in the org archive (also those that
    /// already were).
    pub backed_up: Vec<AccountId>,
    /// Their messages.
    pub messages: i64,
    pub refused: Vec<BackupRefused>,
}

fn usage_from_row(row: &AnyRow) -> StoreResult<AccountUsage> {
    let protocol: String = row.try_get("protocol")?;
    let sharing: String = row.try_get("sharing")?;
    Ok(AccountUsage {
        id: AccountId(row.try_get("id")?),
        owner: UserId(row.try_get("owner_id")?),
        email: row.try_get("email")?,
        protocol: Protocol::parse(&protocol)
            .ok_or_else(|| StoreError::Invalid(format!("stored protocol {protocol:?}")))?,
        sharing: Sharing::parse(&sharing)
            .ok_or_else(|| StoreError::Invalid(format!("stored sharing {sharing:?}")))?,
        locked_by_admin: get_bool(row, "locked_by_admin")?,
        deactivated_at: row.try_get("deactivated_at")?,
        backed_up_at: row.try_get("backed_up_at")?,
        messages: row.try_get("messages")?,
        storage_bytes: row.try_get("storage_bytes")?,
    })
}

impl Store {
    /// Every account of the org (or of `owner`) with its message count and
    /// storage, by email.
    pub async fn account_usage(
        &self,
        org: &OrgId,
        owner: Option<&UserId>,
    ) -> StoreResult<Vec<AccountUsage>> {
        const COLUMNS: &str = "a.id, a.owner_id, a.email, a.protocol, a.sharing, \
            a.locked_by_admin, a.deactivated_at, a.backed_up_at";
        let owner_sql = if owner.is_some() {
            " AND a.owner_id = $2"
        } else {
            ""
        };
        // SUM of BIGINT is NUMERIC on PostgreSQL: cast back for one decoder.
        let sql = format!(
            "SELECT {COLUMNS}, COUNT(m.id) AS messages, \
             CAST(COALESCE(SUM(m.size), 0) AS BIGINT) AS storage_bytes \
             FROM mail_accounts a LEFT JOIN mailbox_state ms ON ms.account_id = a.id \
             LEFT JOIN messages m ON m.org_id = ms.org_id AND m.id = ms.message_id \
             WHERE a.org_id = $1{owner_sql} GROUP BY {COLUMNS} ORDER BY a.email, a.id"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org.as_str());
        if let Some(owner) = owner {
            q = q.bind(owner.as_str());
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(usage_from_row)
            .collect()
    }

    /// Moves the user's Public accounts into the org archive: their mail
    /// stays visible under their sharing (and the accounts locked, so it
    /// cannot be narrowed by the user) once the user is deactivated. Other
    /// accounts are refused with the reason; nothing is refused when all
    /// are Public. Running it again changes nothing.
    pub async fn back_up_user_mail(&self, org: &OrgId, user: &UserId) -> StoreResult<EmailBackup> {
        self.get_user(org, user).await?;
        let mut tx = self.begin_write().await?;
        let accounts = sqlx::query(
            "SELECT id, email, sharing, backed_up_at FROM mail_accounts \
             WHERE org_id = $1 AND owner_id = $2 ORDER BY email, id",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let now = now_ms();
        let mut backup = EmailBackup {
            backed_up: Vec::new(),
            messages: 0,
            refused: Vec::new(),
        };
        for row in &accounts {
            let id = AccountId(row.try_get("id")?);
            let sharing: String = row.try_get("sharing")?;
            let sharing = Sharing::parse(&sharing)
                .ok_or_else(|| StoreError::Invalid(format!("stored sharing {sharing:?}")))?;
            if sharing != Sharing::Public {
                backup.refused.push(BackupRefused {
                    email: row.try_get("email")?,
                    reason: format!(
                        "shared {}: only mail shared with every user (Public) goes to the org \
                         archive, where every user keeps seeing it; share the account Public \
                         (PUT /v1/accounts/{id}/sharing) and back up again",
                        sharing.as_str()
                    ),
                    account: id,
                    sharing,
                });
                continue;
            }
            sqlx::query(
                "UPDATE mail_accounts SET backed_up_at = COALESCE(backed_up_at, $1), \
                 locked_by_admin = TRUE, updated_at = $1 WHERE org_id = $2 AND id = $3",
            )
            .bind(now)
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
            let held: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM mailbox_state WHERE org_id = $1 AND account_id = $2",
            )
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_one(&mut *tx)
            .await?;
            backup.messages += held;
            backup.backed_up.push(id);
        }
        tx.commit().await?;
        Ok(backup)
    }
}
