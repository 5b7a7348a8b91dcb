//! What incremental sync needs to know and change about server locations:
//! the UIDs stored for a folder (to find expunged mail), their flags (for
//! two-way flag sync), re-found locations after a UIDVALIDITY change,
//! where written-back moves put their messages (COPYUID), and the UIDLs
//! stored for a POP3 account. Messages are never touched here; of the
//! mailbox's state only read/starred, when the server's `\Seen` or
//! `\Flagged` changes.

use super::db::SqlBuilder;
use super::folders::{FolderCheckpoint, write_checkpoint};
use super::mailbox_state::follow_server_folders;
use super::messages::{Location, upsert_location};
use super::{Store, StoreError, StoreResult};
use mailroom_core::ids::{AccountId, FolderId, MessageId, OrgId};
use sqlx::any::Any;
use sqlx::{Row, Transaction};

/// How sync recognises a stored message without its bytes: the Message-ID
/// header and the size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageFingerprint {
    pub message_id: MessageId,
    pub header_message_id: Option<String>,
    pub size: u64,
}

/// A stored message found again at a new UID (after a UIDVALIDITY change).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelocatedUid {
    pub uid: u32,
    pub message_id: MessageId,
    pub flags: Vec<String>,
    pub modseq: Option<u64>,
}

/// A UID's flags as the server reports them now (CONDSTORE or a refresh).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerFlags {
    pub uid: u32,
    pub flags: Vec<String>,
    pub modseq: Option<u64>,
}

fn has_flag(flags: &[String], flag: &str) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case(flag))
}

/// Where the server put messages Mailroom moved: the destination folder,
/// its UIDVALIDITY and (source UID, destination UID) pairs, as `COPYUID`
/// reported them.
#[derive(Clone, Copy, Debug)]
pub struct MovedTo<'a> {
    pub folder: &'a FolderId,
    pub uidvalidity: u32,
    pub uids: &'a [(u32, u32)],
}

/// One stored IMAP location of a folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredUid {
    pub uid: u32,
    pub uidvalidity: u32,
    pub message_id: MessageId,
    pub flags: Vec<String>,
    pub modseq: Option<u64>,
}

impl Store {
    /// The folder's stored locations, by UID.
    pub async fn folder_uids(&self, org: &OrgId, folder: &FolderId) -> StoreResult<Vec<StoredUid>> {
        let rows = sqlx::query(
            "SELECT uid, uidvalidity, message_id, flags, modseq FROM message_locations \
             WHERE org_id = $1 AND folder_id = $2 AND uid IS NOT NULL ORDER BY uid",
        )
        .bind(org.as_str())
        .bind(folder.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let num = |c: &str| -> StoreResult<u32> {
                    let v: i64 = r.try_get(c)?;
                    u32::try_from(v).map_err(|_| StoreError::Invalid(format!("stored {c} {v}")))
                };
                let flags: String = r.try_get("flags")?;
                Ok(StoredUid {
                    uid: num("uid")?,
                    uidvalidity: num("uidvalidity")?,
                    message_id: MessageId(r.try_get("message_id")?),
                    flags: flags.split_whitespace().map(str::to_owned).collect(),
                    modseq: r
                        .try_get::<Option<i64>, _>("modseq")?
                        .and_then(|m| u64::try_from(m).ok()),
                })
            })
            .collect()
    }

    /// How many IMAP locations the folder has (what the server's message
    /// count should be when nothing changed).
    pub async fn count_folder_uids(&self, org: &OrgId, folder: &FolderId) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM message_locations \
             WHERE org_id = $1 AND folder_id = $2 AND uid IS NOT NULL",
        )
        .bind(org.as_str())
        .bind(folder.as_str())
        .fetch_one(self.pool())
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Records the server's flags of one UID (CONDSTORE or a flag refresh).
    pub async fn set_location_flags(
        &self,
        org: &OrgId,
        folder: &FolderId,
        uid: u32,
        flags: &[String],
        modseq: Option<u64>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE message_locations SET flags = $1, modseq = $2 WHERE org_id = $3 AND folder_id = $4 AND uid = $5",
        )
        .bind(flags.join(" "))
        .bind(modseq.and_then(|m| i64::try_from(m).ok()))
        .bind(org.as_str())
        .bind(folder.as_str())
        .bind(i64::from(uid))
        .execute(self.pool())
        .await?;
        crate::db::expect_found(&done, "location")?;
        Ok(())
    }

    /// Records that Mailroom set (or cleared) `flag` on a UID itself (a
    /// written-back change), so the next flag sync sees nothing new. A
    /// location that is gone is fine: the pull forgets it anyway.
    pub async fn set_location_flag(
        &self,
        org: &OrgId,
        folder: &FolderId,
        uid: u32,
        flag: &str,
        set: bool,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let flags: Option<String> = sqlx::query_scalar(
            "SELECT flags FROM message_locations WHERE org_id = $1 AND folder_id = $2 AND uid = $3",
        )
        .bind(org.as_str())
        .bind(folder.as_str())
        .bind(i64::from(uid))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(flags) = flags else {
            return Ok(());
        };
        let mut flags: Vec<&str> = flags
            .split_whitespace()
            .filter(|f| !f.eq_ignore_ascii_case(flag))
            .collect();
        if set {
            flags.push(flag);
        }
        flags.sort_unstable();
        sqlx::query(
            "UPDATE message_locations SET flags = $1 WHERE org_id = $2 AND folder_id = $3 AND uid = $4",
        )
        .bind(flags.join(" "))
        .bind(org.as_str())
        .bind(folder.as_str())
        .bind(i64::from(uid))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the server's current flags of several UIDs of a folder in one
    /// transaction, and carries a change of `\Seen` or `\Flagged` over to
    /// the user's read/starred state: the server's change is newer than what
    /// the store knew — unless the user's own change of it still waits to be
    /// written to the server (`server_changes`), which then wins. Other user state (folder, labels, reminders) is not
    /// touched. Returns how many locations' flags changed; unknown UIDs are
    /// skipped (a message that arrived since is fetched as new).
    pub async fn apply_server_flags(
        &self,
        org: &OrgId,
        folder: &FolderId,
        changes: &[ServerFlags],
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let changed = write_server_flags(&mut tx, org, folder, changes).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// What a folder sync learnt about its known messages, committed with
    /// the checkpoint in one transaction: flag changes (as
    /// [`apply_server_flags`](Self::apply_server_flags)), then the UIDs
    /// gone from the folder (locations dropped; the messages stay). A sync
    /// cut off before the commit learns it all again next time. Returns
    /// (locations whose flags changed, locations dropped).
    pub async fn apply_folder_changes(
        &self,
        org: &OrgId,
        flags: &[ServerFlags],
        gone: &[u32],
        checkpoint: &FolderCheckpoint,
    ) -> StoreResult<(u64, u64)> {
        let folder = &checkpoint.folder;
        let mut tx = self.begin_write().await?;
        let changed = write_server_flags(&mut tx, org, folder, flags).await?;
        let removed = delete_folder_uids(&mut tx, org, folder, gone).await?;
        write_checkpoint(&mut tx, org, checkpoint).await?;
        tx.commit().await?;
        Ok((changed, removed))
    }

    /// The Message-ID header and size of stored messages of the org
    /// (unknown ids are left out).
    pub async fn message_fingerprints(
        &self,
        org: &OrgId,
        ids: &[MessageId],
    ) -> StoreResult<Vec<MessageFingerprint>> {
        let ids: Vec<&str> = ids.iter().map(MessageId::as_str).collect();
        self.fingerprints_where(org, "id", &ids).await
    }

    /// Fingerprints of the org's messages whose `column` is one of `values`.
    async fn fingerprints_where(
        &self,
        org: &OrgId,
        column: &'static str,
        values: &[&str],
    ) -> StoreResult<Vec<MessageFingerprint>> {
        let mut out = Vec::with_capacity(values.len());
        // Chunks keep the parameter count far below both databases' limits.
        for chunk in values.chunks(500) {
            let mut q =
                SqlBuilder::new("SELECT id, header_message_id, size FROM messages WHERE org_id = ");
            q.bind_text(org.as_str())
                .push(" AND ")
                .push(column)
                .push(" IN ")
                .bind_list(chunk.iter().copied());
            for r in q.into_query().fetch_all(self.pool()).await? {
                out.push(MessageFingerprint {
                    message_id: MessageId(r.try_get("id")?),
                    header_message_id: r.try_get("header_message_id")?,
                    size: u64::try_from(r.try_get::<i64, _>("size")?).unwrap_or(0),
                });
            }
        }
        Ok(out)
    }

    /// The folder got a new UIDVALIDITY: replaces all its locations with the
    /// ones sync found again (by Message-ID and size, without downloading),
    /// and restarts its checkpoint, in one transaction. Messages not found
    /// again are fetched and matched by content hash.
    pub async fn relocate_folder(
        &self,
        org: &OrgId,
        account: &AccountId,
        folder: &FolderId,
        uidvalidity: u32,
        located: &[RelocatedUid],
    ) -> StoreResult<()> {
        if &self.get_folder(org, folder).await?.account != account {
            return Err(StoreError::NotFound("folder"));
        }
        let now = super::now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM message_locations WHERE org_id = $1 AND folder_id = $2")
            .bind(org.as_str())
            .bind(folder.as_str())
            .execute(&mut *tx)
            .await?;
        for r in located {
            let location = Location::Imap {
                folder: folder.clone(),
                uidvalidity,
                uid: r.uid,
                flags: r.flags.clone(),
                modseq: r.modseq,
            };
            upsert_location(&mut tx, org, account, &r.message_id, &location, now).await?;
        }
        let cp = FolderCheckpoint {
            folder: folder.clone(),
            uidvalidity,
            last_uid: 0,
            highestmodseq: None,
        };
        write_checkpoint(&mut tx, org, &cp).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that stored messages also sit at these UIDs of `folder`
    /// (copies found by Message-ID and size, not downloaded), in one
    /// transaction.
    pub async fn add_folder_locations(
        &self,
        org: &OrgId,
        account: &AccountId,
        folder: &FolderId,
        uidvalidity: u32,
        located: &[RelocatedUid],
    ) -> StoreResult<()> {
        if &self.get_folder(org, folder).await?.account != account {
            return Err(StoreError::NotFound("folder"));
        }
        let now = super::now_ms();
        let mut tx = self.begin_write().await?;
        for r in located {
            let location = Location::Imap {
                folder: folder.clone(),
                uidvalidity,
                uid: r.uid,
                flags: r.flags.clone(),
                modseq: r.modseq,
            };
            upsert_location(&mut tx, org, account, &r.message_id, &location, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stored messages of the org with these Message-ID headers.
    pub async fn messages_by_header_ids(
        &self,
        org: &OrgId,
        header_ids: &[String],
    ) -> StoreResult<Vec<MessageFingerprint>> {
        let header_ids: Vec<&str> = header_ids.iter().map(String::as_str).collect();
        self.fingerprints_where(org, "header_message_id", &header_ids)
            .await
    }

    /// Forgets UIDs the server expunged (or moved away). Returns how many
    /// locations went; the messages stay.
    pub async fn remove_folder_uids(
        &self,
        org: &OrgId,
        folder: &FolderId,
        uids: &[u32],
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let removed = delete_folder_uids(&mut tx, org, folder, uids).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// Records a move Mailroom wrote to the server, in one transaction: the
    /// moved UIDs leave `source`, and where the server said where they went
    /// (`COPYUID`) the messages are located there at once, so the next sync
    /// of the destination does not download them again. When the
    /// destination's stored UIDVALIDITY is not the one the server gave, only
    /// the source side is recorded (that sync then finds the messages by
    /// content). Returns how many new locations were recorded.
    pub async fn record_move(
        &self,
        org: &OrgId,
        account: &AccountId,
        source: &FolderId,
        moved: &[u32],
        to: Option<MovedTo<'_>>,
    ) -> StoreResult<u64> {
        let now = super::now_ms();
        let mut tx = self.begin_write().await?;
        let mut located = 0;
        if let Some(to) = to {
            let stored: Option<Option<i64>> = sqlx::query_scalar(
                "SELECT uidvalidity FROM folders WHERE org_id = $1 AND account_id = $2 AND id = $3",
            )
            .bind(org.as_str())
            .bind(account.as_str())
            .bind(to.folder.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if stored.flatten() == Some(i64::from(to.uidvalidity)) {
                for (from, at) in to.uids.iter().filter(|(from, _)| moved.contains(from)) {
                    let row = sqlx::query(
                        "SELECT message_id, flags FROM message_locations \
                         WHERE org_id = $1 AND folder_id = $2 AND uid = $3",
                    )
                    .bind(org.as_str())
                    .bind(source.as_str())
                    .bind(i64::from(*from))
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else { continue };
                    let flags: String = row.try_get("flags")?;
                    let location = Location::Imap {
                        folder: to.folder.clone(),
                        uidvalidity: to.uidvalidity,
                        uid: *at,
                        flags: flags.split_whitespace().map(str::to_owned).collect(),
                        modseq: None,
                    };
                    let message = MessageId(row.try_get("message_id")?);
                    upsert_location(&mut tx, org, account, &message, &location, now).await?;
                    located += 1;
                }
            }
        }
        delete_folder_uids(&mut tx, org, source, moved).await?;
        tx.commit().await?;
        Ok(located)
    }

    /// The POP3 UIDLs already stored for the account (what not to download again).
    pub async fn pop3_uidls(&self, org: &OrgId, account: &AccountId) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT pop3_uidl FROM message_locations WHERE org_id = $1 AND account_id = $2 \
             AND pop3_uidl IS NOT NULL ORDER BY pop3_uidl",
        )
        .bind(org.as_str())
        .bind(account.as_str())
        .fetch_all(self.pool())
        .await?)
    }

    /// Forgets a POP3 location (the message was deleted from the server and
    /// its UIDL may be reused).
    pub async fn remove_pop3_uidl(
        &self,
        org: &OrgId,
        account: &AccountId,
        uidl: &str,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM message_locations WHERE org_id = $1 AND account_id = $2 AND pop3_uidl = $3")
            .bind(org.as_str())
            .bind(account.as_str())
            .bind(uidl)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// The body of [`Store::apply_server_flags`], inside the caller's transaction.
async fn write_server_flags(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    folder: &FolderId,
    changes: &[ServerFlags],
) -> StoreResult<u64> {
    let now = super::now_ms();
    let mut changed = 0;
    for c in changes {
        let row = sqlx::query(
            "SELECT message_id, account_id, flags FROM message_locations \
             WHERE org_id = $1 AND folder_id = $2 AND uid = $3",
        )
        .bind(org.as_str())
        .bind(folder.as_str())
        .bind(i64::from(c.uid))
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else { continue };
        let message: String = row.try_get("message_id")?;
        let account: String = row.try_get("account_id")?;
        let old: String = row.try_get("flags")?;
        let old: Vec<String> = old.split_whitespace().map(str::to_owned).collect();
        let mut sorted_old = old.clone();
        sorted_old.sort();
        let mut sorted_new = c.flags.clone();
        sorted_new.sort();
        sqlx::query(
            "UPDATE message_locations SET flags = $1, modseq = $2 \
             WHERE org_id = $3 AND folder_id = $4 AND uid = $5",
        )
        .bind(c.flags.join(" "))
        .bind(c.modseq.and_then(|m| i64::try_from(m).ok()))
        .bind(org.as_str())
        .bind(folder.as_str())
        .bind(i64::from(c.uid))
        .execute(&mut **tx)
        .await?;
        if sorted_old == sorted_new {
            continue;
        }
        changed += 1;
        for (flag, column, kind) in [
            ("\\Seen", "is_read", "read"),
            ("\\Flagged", "is_starred", "starred"),
        ] {
            let now_set = has_flag(&c.flags, flag);
            if has_flag(&old, flag) == now_set
                || super::server_changes::change_pending(tx, org, &account, &message, kind).await?
            {
                continue;
            }
            // Only this account's mailbox: another mailbox holding the same
            // message keeps its own read and starred.
            // `column` is one of two literals above, never input.
            let sql = format!(
                "UPDATE mailbox_state SET {column} = $1, updated_at = $2 \
                 WHERE org_id = $3 AND message_id = $4 AND account_id = $5"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now_set)
                .bind(now)
                .bind(org.as_str())
                .bind(message.as_str())
                .bind(account.as_str())
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(changed)
}

/// Drops the folder's locations at these UIDs; returns how many there were.
/// A message that left the folder but sits in another folder of the
/// account was moved on the server: its mailbox follows.
async fn delete_folder_uids(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    folder: &FolderId,
    uids: &[u32],
) -> StoreResult<u64> {
    let mut removed = 0;
    let mut left = Vec::new();
    for uid in uids {
        let gone: Option<String> = sqlx::query_scalar(
            "DELETE FROM message_locations WHERE org_id = $1 AND folder_id = $2 AND uid = $3 \
             RETURNING message_id",
        )
        .bind(org.as_str())
        .bind(folder.as_str())
        .bind(i64::from(*uid))
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(message) = gone {
            removed += 1;
            left.push(MessageId(message));
        }
    }
    if !left.is_empty() {
        let account: Option<String> =
            sqlx::query_scalar("SELECT account_id FROM folders WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(folder.as_str())
                .fetch_optional(&mut **tx)
                .await?;
        if let Some(account) = account {
            follow_server_folders(tx, org, &AccountId(account), &left).await?;
        }
    }
    Ok(removed)
}
