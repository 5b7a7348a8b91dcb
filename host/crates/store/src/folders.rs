//! Server folders of an account and their sync checkpoints (UIDVALIDITY,
//! last UID, HIGHESTMODSEQ), plus the SalesInbox role each one maps to.
//!
//! Roles are strings: one of [`STANDARD_ROLES`] or `custom:<name>` for a
//! SalesInbox folder an org made up.

use super::mailbox_state::{folder_of, refile_folder};
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, FolderId, OrgId};
use serde::{Deserialize, Serialize};
use sqlx::any::{Any, AnyRow};
use sqlx::{Row, Transaction};
use std::collections::HashMap;

pub const STANDARD_ROLES: [&str; 7] = [
    "inbox", "drafts", "sent", "outbox", "spam", "trash", "archive",
];

/// Validates and normalises a SalesInbox folder role.
pub fn check_role(role: &str) -> StoreResult<String> {
    let role = role.trim();
    let lower = role.to_lowercase();
    if STANDARD_ROLES.contains(&lower.as_str()) {
        return Ok(lower);
    }
    if let Some(name) = role.strip_prefix("custom:")
        && mailroom_core::text::folder_name_problem(name).is_none()
    {
        return Ok(format!("custom:{}", name.trim()));
    }
    Err(StoreError::Invalid(format!(
        "folder role {role:?} must be one of {} or custom:NAME",
        STANDARD_ROLES.join(", ")
    )))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Folder {
    pub id: FolderId,
    pub org: OrgId,
    pub account: AccountId,
    /// The server's name (IMAP mailbox name, e.g. `INBOX.Sent Items`).
    pub name: String,
    pub delimiter: Option<String>,
    /// RFC 6154 attribute, e.g. `\Sent`.
    pub special_use: Option<String>,
    pub role: Option<String>,
    pub uidvalidity: Option<u32>,
    pub last_uid: u32,
    pub highestmodseq: Option<u64>,
    pub last_synced_at: Option<i64>,
}

/// Stored messages of an account, in all and per folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountMessageCounts {
    /// Distinct messages (one in two folders counts once).
    pub messages: u64,
    /// Locations per folder.
    pub by_folder: HashMap<FolderId, u64>,
}

/// A folder as listed by the server.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct FolderInfo {
    pub name: String,
    pub delimiter: Option<String>,
    pub special_use: Option<String>,
}

/// Where sync got to in a folder; committed with the messages it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderCheckpoint {
    pub folder: FolderId,
    pub uidvalidity: u32,
    pub last_uid: u32,
    pub highestmodseq: Option<u64>,
}

const FOLDER_COLUMNS: &str = "id, org_id, account_id, name, delimiter, special_use, role, uidvalidity, \
    last_uid, highestmodseq, last_synced_at";

fn folder_from_row(row: &AnyRow) -> StoreResult<Folder> {
    let u32_col = |col: &str| -> StoreResult<Option<u32>> {
        let v: Option<i64> = row.try_get(col)?;
        v.map(|v| u32::try_from(v).map_err(|_| StoreError::Invalid(format!("stored {col} {v}"))))
            .transpose()
    };
    let modseq: Option<i64> = row.try_get("highestmodseq")?;
    Ok(Folder {
        id: FolderId(row.try_get("id")?),
        org: OrgId(row.try_get("org_id")?),
        account: AccountId(row.try_get("account_id")?),
        name: row.try_get("name")?,
        delimiter: row.try_get("delimiter")?,
        special_use: row.try_get("special_use")?,
        role: row.try_get("role")?,
        uidvalidity: u32_col("uidvalidity")?,
        last_uid: u32_col("last_uid")?.unwrap_or(0),
        highestmodseq: modseq.map(|m| m as u64),
        last_synced_at: row.try_get("last_synced_at")?,
    })
}

/// Mod-sequences are at most 2^63 - 1 (RFC 7162), so they fit a BIGINT.
fn modseq_to_i64(m: Option<u64>) -> StoreResult<Option<i64>> {
    m.map(|m| {
        i64::try_from(m)
            .map_err(|_| StoreError::Invalid(format!("mod-sequence {m} is out of range")))
    })
    .transpose()
}

/// Writes a checkpoint inside a caller's transaction (the ingest batch).
pub(crate) async fn write_checkpoint(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    cp: &FolderCheckpoint,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE folders SET uidvalidity = $1, last_uid = $2, highestmodseq = $3, last_synced_at = $4 \
         WHERE org_id = $5 AND id = $6",
    )
    .bind(i64::from(cp.uidvalidity))
    .bind(i64::from(cp.last_uid))
    .bind(modseq_to_i64(cp.highestmodseq)?)
    .bind(now_ms())
    .bind(org.as_str())
    .bind(cp.folder.as_str())
    .execute(&mut **tx)
    .await?;
    crate::db::expect_found(&done, "folder")?;
    Ok(())
}

impl Store {
    /// Fails with NotFound unless the account belongs to the org.
    pub(crate) async fn check_account(&self, org: &OrgId, account: &AccountId) -> StoreResult<()> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM mail_accounts WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(account.as_str())
                .fetch_one(self.pool())
                .await?;
        if n == 0 {
            return Err(StoreError::NotFound("account"));
        }
        Ok(())
    }

    /// Records a folder the server listed (or refreshes its attributes and
    /// role, re-filing its messages when the role changed); its sync
    /// checkpoint is kept.
    pub async fn upsert_folder(
        &self,
        org: &OrgId,
        account: &AccountId,
        info: &FolderInfo,
        role: Option<&str>,
    ) -> StoreResult<Folder> {
        self.check_account(org, account).await?;
        let role = role.map(check_role).transpose()?;
        if info.name.is_empty() {
            return Err(StoreError::Invalid("folder name must not be empty".into()));
        }
        let mut tx = self.begin_write().await?;
        let before = sqlx::query(
            "SELECT id, role FROM folders WHERE org_id = $1 AND account_id = $2 AND name = $3",
        )
        .bind(org.as_str())
        .bind(account.as_str())
        .bind(&info.name)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO folders (id, org_id, account_id, name, delimiter, special_use, role) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, name) DO UPDATE SET \
             delimiter = excluded.delimiter, special_use = excluded.special_use, role = excluded.role",
        )
        .bind(FolderId::generate().as_str())
        .bind(org.as_str())
        .bind(account.as_str())
        .bind(&info.name)
        .bind(info.delimiter.clone())
        .bind(info.special_use.clone())
        .bind(role.clone())
        .execute(&mut *tx)
        .await?;
        if let Some(before) = before {
            let old_role: Option<String> = before.try_get("role")?;
            let id = FolderId(before.try_get("id")?);
            let (old, new) = (
                folder_of(&info.name, old_role.as_deref()),
                folder_of(&info.name, role.as_deref()),
            );
            refile_folder(&mut tx, org, &id, &old, &new).await?;
        }
        tx.commit().await?;
        let sql = format!(
            "SELECT {FOLDER_COLUMNS} FROM folders WHERE org_id = $1 AND account_id = $2 AND name = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(account.as_str())
            .bind(&info.name)
            .fetch_one(self.pool())
            .await?;
        folder_from_row(&row)
    }

    pub async fn get_folder(&self, org: &OrgId, id: &FolderId) -> StoreResult<Folder> {
        let sql = format!("SELECT {FOLDER_COLUMNS} FROM folders WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("folder"))?;
        folder_from_row(&row)
    }

    /// The account's folders by name.
    /// How many messages the account's mailbox holds, and locations per
    /// folder.
    pub async fn account_message_counts(
        &self,
        org: &OrgId,
        account: &AccountId,
    ) -> StoreResult<AccountMessageCounts> {
        // The mailbox's messages: a POP3 download counts after the server
        // deleted it (see `mailbox_state::held_sql`).
        let sql = format!(
            "SELECT COUNT(*) FROM mailbox_state ms JOIN mail_accounts a ON a.id = ms.account_id \
             WHERE ms.org_id = $1 AND ms.account_id = $2 AND {}",
            super::mailbox_state::held_sql("ms")
        );
        let messages: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(account.as_str())
            .fetch_one(self.pool())
            .await?;
        let rows = sqlx::query(
            "SELECT folder_id, COUNT(*) AS n FROM message_locations \
             WHERE org_id = $1 AND account_id = $2 AND folder_id IS NOT NULL GROUP BY folder_id",
        )
        .bind(org.as_str())
        .bind(account.as_str())
        .fetch_all(self.pool())
        .await?;
        let by_folder = rows
            .iter()
            .map(|r| {
                let n: i64 = r.try_get("n")?;
                Ok((
                    FolderId(r.try_get("folder_id")?),
                    u64::try_from(n).unwrap_or(0),
                ))
            })
            .collect::<StoreResult<_>>()?;
        Ok(AccountMessageCounts {
            messages: u64::try_from(messages).unwrap_or(0),
            by_folder,
        })
    }

    pub async fn list_folders(&self, org: &OrgId, account: &AccountId) -> StoreResult<Vec<Folder>> {
        let sql = format!(
            "SELECT {FOLDER_COLUMNS} FROM folders WHERE org_id = $1 AND account_id = $2 ORDER BY name"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(account.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(folder_from_row).collect()
    }

    /// Gives the folder a role (or none); the messages stored from it
    /// that sit in its old mailbox folder are re-filed to the new one.
    pub async fn set_folder_role(
        &self,
        org: &OrgId,
        id: &FolderId,
        role: Option<&str>,
    ) -> StoreResult<Folder> {
        let role = role.map(check_role).transpose()?;
        let before = self.get_folder(org, id).await?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE folders SET role = $1 WHERE org_id = $2 AND id = $3")
            .bind(role.clone())
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        crate::db::expect_found(&done, "folder")?;
        let old = folder_of(&before.name, before.role.as_deref());
        let new = folder_of(&before.name, role.as_deref());
        refile_folder(&mut tx, org, id, &old, &new).await?;
        tx.commit().await?;
        self.get_folder(org, id).await
    }

    /// Forgets a folder that is gone from the server, with its locations;
    /// the messages and their user state stay.
    pub async fn delete_folder(&self, org: &OrgId, id: &FolderId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM folders WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(self.pool())
            .await?;
        crate::db::expect_found(&done, "folder")?;
        Ok(())
    }

    /// Commits a checkpoint on its own (e.g. a folder with nothing new).
    pub async fn checkpoint_folder(&self, org: &OrgId, cp: &FolderCheckpoint) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        write_checkpoint(&mut tx, org, cp).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The server changed the folder's UIDVALIDITY: every stored UID of it is
    /// void. Drops its locations and restarts the checkpoint, in one
    /// transaction. Messages and their user state stay; re-fetched mail
    /// matches them again by content hash, so nothing is lost or duplicated.
    pub async fn reset_folder_uidvalidity(
        &self,
        org: &OrgId,
        id: &FolderId,
        uidvalidity: u32,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM message_locations WHERE org_id = $1 AND folder_id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let cp = FolderCheckpoint {
            folder: id.clone(),
            uidvalidity,
            last_uid: 0,
            highestmodseq: None,
        };
        write_checkpoint(&mut tx, org, &cp).await?;
        tx.commit().await?;
        Ok(())
    }
}
