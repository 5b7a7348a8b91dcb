//! Per-user notifications: made by the `notify` actions of rules and
//! workflows (one per action at most: `action_id` is unique), read and
//! marked read by their user alone. `seq` orders them across the org, so a
//! live stream resumes after the last one a page saw.

use super::db::SqlBuilder;
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{MessageId, NotificationId, OrgId, UserId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// A notification to write.
#[derive(Clone, Debug, PartialEq)]
pub struct NewNotification {
    pub user: UserId,
    pub title: String,
    pub text: String,
    /// The message it is about.
    pub message: Option<MessageId>,
    /// The rule (`rule:…`) or plugin that asked for it.
    pub source: String,
}

/// A stored notification.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: NotificationId,
    /// Its place in the org's order of notifications: a live stream's
    /// event id, to resume after.
    pub seq: i64,
    pub title: String,
    pub text: String,
    /// The message it is about.
    pub message: Option<MessageId>,
    /// The rule (`rule:…`) or plugin that asked for it.
    pub source: String,
    /// When its user marked it read (unix ms); `null`: unread.
    pub read_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
}

const MAX_TITLE_CHARS: usize = 200;
const MAX_TEXT_CHARS: usize = 4000;

const COLUMNS: &str = "seq, id, title, text, message_id, source, read_at, created_at";

fn from_row(r: &AnyRow) -> StoreResult<Notification> {
    Ok(Notification {
        id: NotificationId(r.try_get("id")?),
        seq: r.try_get("seq")?,
        title: r.try_get("title")?,
        text: r.try_get("text")?,
        message: r.try_get::<Option<String>, _>("message_id")?.map(MessageId),
        source: r.try_get("source")?,
        read_at: r.try_get("read_at")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Writes a notification inside the caller's transaction (the executor's,
/// so it exists exactly when its action is done).
pub(crate) async fn insert_notification(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    n: &NewNotification,
    action: Option<i64>,
) -> StoreResult<NotificationId> {
    let id = NotificationId::generate();
    let title = super::mime_index::clean_text(&n.title, MAX_TITLE_CHARS);
    let text: String = n.text.chars().take(MAX_TEXT_CHARS).collect();
    sqlx::query(
        "INSERT INTO notifications (id, org_id, user_id, title, text, message_id, source, \
         action_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.as_str())
    .bind(org.as_str())
    .bind(n.user.as_str())
    .bind(title)
    .bind(text)
    .bind(n.message.as_ref().map(|m| m.as_str().to_owned()))
    .bind(n.source.as_str())
    .bind(action)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

impl Store {
    /// `user`'s notifications, newest first; only unread ones when asked.
    pub async fn list_notifications(
        &self,
        org: &OrgId,
        user: &UserId,
        unread_only: bool,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        let mut q = SqlBuilder::new(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE org_id = "
        ));
        q.bind_text(org.as_str()).push(" AND user_id = ");
        q.bind_text(user.as_str());
        if unread_only {
            q.push(" AND read_at IS NULL");
        }
        q.push(" ORDER BY seq DESC LIMIT ")
            .bind_i64(i64::from(limit.clamp(1, 1000)));
        let rows = q.query().fetch_all(self.pool()).await?;
        rows.iter().map(from_row).collect()
    }

    /// `user`'s notifications after `seq`, oldest first: what a live
    /// stream sends next.
    pub async fn notifications_after(
        &self,
        org: &OrgId,
        user: &UserId,
        seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications WHERE org_id = $1 AND user_id = $2 AND seq > $3 \
             ORDER BY seq LIMIT $4"
        )))
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(seq)
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The newest `seq` of `user`'s notifications (0 when none): where a
    /// live stream opened without a resume point starts.
    pub async fn last_notification_seq(&self, org: &OrgId, user: &UserId) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT MAX(seq) AS seq FROM notifications WHERE org_id = $1 AND user_id = $2",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<Option<i64>, _>("seq")?.unwrap_or(0))
    }

    /// Marks one of `user`'s notifications read (or unread again); another
    /// person's is not found.
    pub async fn mark_notification(
        &self,
        org: &OrgId,
        user: &UserId,
        id: &NotificationId,
        read: bool,
    ) -> StoreResult<Notification> {
        let done = sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE org_id = $2 AND user_id = $3 AND id = $4",
        )
        .bind(read.then(now_ms))
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("notification"));
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications WHERE org_id = $1 AND id = $2"
        )))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_one(self.pool())
        .await?;
        from_row(&row)
    }

    /// The notification an action made, if it made one (the org's own
    /// view, for the execution log and tests).
    pub async fn notification_of_action(
        &self,
        org: &OrgId,
        action: i64,
    ) -> StoreResult<Option<(UserId, Notification)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT user_id, {COLUMNS} FROM notifications WHERE org_id = $1 AND action_id = $2"
        )))
        .bind(org.as_str())
        .bind(action)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((UserId(r.try_get("user_id")?), from_row(&r)?)))
            .transpose()
    }
}
