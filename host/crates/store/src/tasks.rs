//! CRM tasks: made by the `create-task` actions of rules and workflows (one
//! task per action at most: `action_id` is unique), listed and changed by
//! the person they are assigned to. A task's title and notes come from mail
//! that only some people may read, so a task belongs to its assignee alone,
//! admins included.

use super::db::{Arg, SqlBuilder};
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{MessageId, OrgId, TaskId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// How urgent a task is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskPriority {
    Low,
    Normal,
    High,
}

impl TaskPriority {
    fn as_str(self) -> &'static str {
        match self {
            TaskPriority::Low => "low",
            TaskPriority::Normal => "normal",
            TaskPriority::High => "high",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        match s {
            "low" => Ok(TaskPriority::Low),
            "normal" => Ok(TaskPriority::Normal),
            "high" => Ok(TaskPriority::High),
            other => Err(StoreError::Invalid(format!(
                "stored task priority {other:?}"
            ))),
        }
    }
}

/// Whether a task is still to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Open,
    Done,
}

impl TaskStatus {
    fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Done => "done",
        }
    }
}

/// The CRM record a task is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskRecord {
    /// `contact` or `lead`.
    pub kind: String,
    pub id: String,
}

/// A task to create.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTask {
    pub title: String,
    pub notes: Option<String>,
    pub assignee: UserId,
    /// Unix ms.
    pub due_at: Option<i64>,
    pub priority: TaskPriority,
    /// The message it came from.
    pub message: Option<MessageId>,
    pub regarding: Option<TaskRecord>,
    /// The rule (`rule:…`) or plugin that asked for it.
    pub source: String,
}

/// A stored task.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: TaskId,
    pub title: String,
    pub notes: Option<String>,
    pub assignee: UserId,
    /// Unix ms.
    pub due_at: Option<i64>,
    pub priority: TaskPriority,
    pub status: TaskStatus,
    /// The message it came from.
    pub message: Option<MessageId>,
    pub regarding: Option<TaskRecord>,
    /// The rule (`rule:…`) or plugin that asked for it.
    pub source: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A change to a task by its assignee; absent fields stay.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskUpdate {
    pub status: Option<TaskStatus>,
    /// Unix ms; `null` keeps the date (there is no way to clear it yet).
    pub due_at: Option<i64>,
    pub priority: Option<TaskPriority>,
}

/// The longest title and notes kept (a plugin's text is bounded before
/// it gets here; this bounds what the store keeps whatever the source).
const MAX_TITLE_CHARS: usize = 500;
const MAX_NOTES_CHARS: usize = 10_000;

const COLUMNS: &str = "id, title, notes, assignee, due_at, priority, status, message_id, \
    record_kind, record_id, source, created_at, updated_at";

fn from_row(r: &AnyRow) -> StoreResult<Task> {
    let status: String = r.try_get("status")?;
    let kind: Option<String> = r.try_get("record_kind")?;
    let record: Option<String> = r.try_get("record_id")?;
    Ok(Task {
        id: TaskId(r.try_get("id")?),
        title: r.try_get("title")?,
        notes: r.try_get("notes")?,
        assignee: UserId(r.try_get("assignee")?),
        due_at: r.try_get("due_at")?,
        priority: TaskPriority::parse(&r.try_get::<String, _>("priority")?)?,
        status: if status == "done" {
            TaskStatus::Done
        } else {
            TaskStatus::Open
        },
        message: r.try_get::<Option<String>, _>("message_id")?.map(MessageId),
        regarding: kind.zip(record).map(|(kind, id)| TaskRecord { kind, id }),
        source: r.try_get("source")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Writes a task inside the caller's transaction (the executor's, so the
/// task exists exactly when its action is done).
pub(crate) async fn insert_task(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    task: &NewTask,
    action: Option<i64>,
) -> StoreResult<TaskId> {
    let id = TaskId::generate();
    let now = now_ms();
    let title = super::mime_index::clean_text(&task.title, MAX_TITLE_CHARS);
    let notes = task
        .notes
        .as_deref()
        .map(|n| n.chars().take(MAX_NOTES_CHARS).collect::<String>());
    sqlx::query(
        "INSERT INTO tasks (id, org_id, title, notes, assignee, due_at, priority, status, \
         message_id, record_kind, record_id, source, action_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(id.as_str())
    .bind(org.as_str())
    .bind(title)
    .bind(notes)
    .bind(task.assignee.as_str())
    .bind(task.due_at)
    .bind(task.priority.as_str())
    .bind(task.message.as_ref().map(|m| m.as_str().to_owned()))
    .bind(task.regarding.as_ref().map(|r| r.kind.clone()))
    .bind(task.regarding.as_ref().map(|r| r.id.clone()))
    .bind(task.source.as_str())
    .bind(action)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

impl Store {
    /// The tasks assigned to `assignee`, open ones first by due date, then
    /// done ones, newest first; `status` narrows them.
    pub async fn list_tasks(
        &self,
        org: &OrgId,
        assignee: &UserId,
        status: Option<TaskStatus>,
        limit: u32,
    ) -> StoreResult<Vec<Task>> {
        let mut q = SqlBuilder::new(&format!("SELECT {COLUMNS} FROM tasks WHERE org_id = "));
        q.bind_text(org.as_str()).push(" AND assignee = ");
        q.bind_text(assignee.as_str());
        if let Some(s) = status {
            q.push(" AND status = ").bind_text(s.as_str());
        }
        q.push(
            " ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, \
             CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, due_at, created_at DESC, id LIMIT ",
        )
        .bind(Arg::I64(i64::from(limit.clamp(1, 1000))));
        let rows = q.query().fetch_all(self.pool()).await?;
        rows.iter().map(from_row).collect()
    }

    /// One task of `assignee` (another person's task is not found).
    pub async fn get_task(&self, org: &OrgId, assignee: &UserId, id: &TaskId) -> StoreResult<Task> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM tasks WHERE org_id = $1 AND id = $2 AND assignee = $3"
        )))
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(assignee.as_str())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("task"))?;
        from_row(&row)
    }

    /// Changes a task of `assignee`.
    pub async fn update_task(
        &self,
        org: &OrgId,
        assignee: &UserId,
        id: &TaskId,
        update: &TaskUpdate,
    ) -> StoreResult<Task> {
        let mut q = SqlBuilder::new("UPDATE tasks SET updated_at = ");
        q.bind_i64(now_ms());
        if let Some(s) = update.status {
            q.push(", status = ").bind_text(s.as_str());
        }
        if let Some(due) = update.due_at {
            q.push(", due_at = ").bind_i64(due);
        }
        if let Some(p) = update.priority {
            q.push(", priority = ").bind_text(p.as_str());
        }
        q.push(" WHERE org_id = ").bind_text(org.as_str());
        q.push(" AND id = ").bind_text(id.as_str());
        q.push(" AND assignee = ").bind_text(assignee.as_str());
        let done = q.query().execute(self.pool()).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("task"));
        }
        self.get_task(org, assignee, id).await
    }

    /// The task an action made, if it made one (the org's own view, for
    /// the execution log and tests).
    pub async fn task_of_action(&self, org: &OrgId, action: i64) -> StoreResult<Option<Task>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM tasks WHERE org_id = $1 AND action_id = $2"
        )))
        .bind(org.as_str())
        .bind(action)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose()
    }
}
