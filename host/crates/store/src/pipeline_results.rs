//! What the pipeline concluded about a message — classifications and the
//! actions rules and workflows asked for — committed together with the end of
//! the message's pipeline run, so a message is classified and acted on once,
//! also across crashes and concurrent workers.

use super::action_queue::{ActionAttempt, ActionContext, context_arg};
use super::db::{Arg, SqlBuilder, insert_rows};
use super::mailbox_state::{apply_update, mailbox_accounts};
use super::message_query::MessageStateUpdate;
use super::{Store, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{MessageId, OrgId};
use serde::Serialize;
use sqlx::Row;

/// One classifier's answer, as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StoredClassification {
    pub plugin: String,
    pub plugin_version: String,
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    pub created_at: i64,
}

/// One action and what became of it: `applied` when the host carried it
/// out with the run (user state); for the others, which an executor
/// carries out after the run, `pending` (queued, or waiting to be tried
/// again), `done`, `refused` (not allowed, never tried again) or `failed`
/// (given up after its last attempt), with every attempt.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StoredAction {
    /// The action's id.
    pub id: i64,
    /// The plugin, or the rule (`rule:rul_…`), that asked for it.
    pub source: String,
    #[schema(value_type = Object)]
    pub action: serde_json::Value,
    pub status: String,
    /// Unix ms.
    pub created_at: i64,
    /// What the last attempt did, or why not.
    pub outcome: Option<String>,
    /// When it was done, refused or given up (unix ms).
    pub finished_at: Option<i64>,
    /// Every attempt, in order.
    pub attempts: Vec<ActionAttempt>,
}

/// Everything one pipeline run produced.
#[derive(Clone, Debug, Default)]
pub struct RunResults {
    pub classifications: Vec<(String, String, serde_json::Value)>,
    /// (source, action, applied)
    pub actions: Vec<(String, serde_json::Value, bool)>,
    /// The user-state change the applied actions add up to.
    pub state: Option<MessageStateUpdate>,
    /// What went wrong along the way (plugin failures), for the run's record.
    pub problems: Vec<String>,
    /// What the executors of the pending actions need to know of the run.
    pub context: Option<ActionContext>,
}

/// A finished run waiting to be committed.
#[derive(Clone, Debug)]
pub struct CompletedRun {
    pub org: OrgId,
    pub message: MessageId,
    pub results: RunResults,
}

impl Store {
    /// Finishes pending runs and stores their results, all in one
    /// transaction (one commit for a batch instead of one per message).
    /// Returns, per run, whether it was finished by this call: a run that was
    /// no longer pending (another worker finished it first) stores nothing.
    pub async fn complete_pipeline_runs(&self, runs: &[CompletedRun]) -> StoreResult<Vec<bool>> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let mut finished = Vec::with_capacity(runs.len());
        let mut classifications = Vec::new();
        let mut actions = Vec::new();
        for run in runs {
            let (org, message, results) = (&run.org, &run.message, &run.results);
            let detail = (!results.problems.is_empty())
                .then(|| super::mime_index::clean_text(&results.problems.join("; "), 4000));
            let done = sqlx::query(
                "UPDATE pipeline_runs SET status = 'done', finished_at = $1, detail = $2 \
                 WHERE org_id = $3 AND message_id = $4 AND status = 'pending'",
            )
            .bind(now)
            .bind(detail)
            .bind(org.as_str())
            .bind(message.as_str())
            .execute(&mut *tx)
            .await?;
            finished.push(done.rows_affected() > 0);
            if done.rows_affected() == 0 {
                continue;
            }
            let o = || Arg::Text(org.as_str().to_owned());
            let m = || Arg::Text(message.as_str().to_owned());
            for (plugin, version, result) in &results.classifications {
                classifications.push(vec![
                    o(),
                    m(),
                    Arg::Text(plugin.clone()),
                    Arg::Text(version.clone()),
                    Arg::Text(result.to_string()),
                    Arg::I64(now),
                ]);
            }
            for (source, action, applied) in &results.actions {
                let (status, context) = if *applied {
                    ("applied", Arg::NullText)
                } else {
                    ("pending", context_arg(results.context.as_ref())?)
                };
                actions.push(vec![
                    o(),
                    m(),
                    Arg::Text(source.clone()),
                    Arg::Text(action.to_string()),
                    Arg::Text(status.into()),
                    Arg::I64(now),
                    context,
                ]);
            }
            if let Some(update) = &results.state {
                // The org's rules act on every mailbox holding the message.
                let accounts = mailbox_accounts(&mut tx, org, message).await?;
                apply_update(&mut tx, org, message, update, &accounts).await?;
            }
        }
        insert_rows(
            &mut tx,
            "INSERT INTO message_classifications \
             (org_id, message_id, plugin, plugin_version, result, created_at)",
            classifications,
        )
        .await?;
        insert_rows(
            &mut tx,
            "INSERT INTO message_actions \
             (org_id, message_id, source, action, status, created_at, context)",
            actions,
        )
        .await?;
        tx.commit().await?;
        Ok(finished)
    }

    pub async fn message_classifications(
        &self,
        org: &OrgId,
        message: &MessageId,
    ) -> StoreResult<Vec<StoredClassification>> {
        let rows = sqlx::query(
            "SELECT plugin, plugin_version, result, created_at FROM message_classifications \
             WHERE org_id = $1 AND message_id = $2 ORDER BY plugin",
        )
        .bind(org.as_str())
        .bind(message.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredClassification {
                    plugin: r.try_get("plugin")?,
                    plugin_version: r.try_get("plugin_version")?,
                    result: super::db::from_json(&r.try_get::<String, _>("result")?)?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The message's actions in the order they were asked for, with what
    /// became of each.
    pub async fn message_actions(
        &self,
        org: &OrgId,
        message: &MessageId,
    ) -> StoreResult<Vec<StoredAction>> {
        let rows = sqlx::query(
            "SELECT id, message_id, source, action, status, created_at, outcome, finished_at \
             FROM message_actions WHERE org_id = $1 AND message_id = $2 ORDER BY id",
        )
        .bind(org.as_str())
        .bind(message.as_str())
        .fetch_all(self.pool())
        .await?;
        self.stored_actions(org, &rows).await
    }

    /// The org's latest actions of one kind (the action's JSON key, e.g.
    /// `Webhook`), newest first, optionally of one status: the delivery log.
    pub async fn actions_of_kind(
        &self,
        org: &OrgId,
        kind: &str,
        status: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<(MessageId, StoredAction)>> {
        let mut q = SqlBuilder::new(
            "SELECT id, message_id, source, action, status, created_at, outcome, finished_at \
             FROM message_actions WHERE org_id = ",
        );
        q.bind_text(org.as_str())
            .push(" AND action LIKE ")
            .bind_text(format!("{{\"{kind}\":%"));
        if let Some(status) = status {
            q.push(" AND status = ").bind_text(status);
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .bind_i64(i64::from(limit.clamp(1, 500)));
        let rows = q.query().fetch_all(self.pool()).await?;
        let actions = self.stored_actions(org, &rows).await?;
        rows.iter()
            .zip(actions)
            .map(|(r, a)| Ok((MessageId(r.try_get("message_id")?), a)))
            .collect()
    }

    async fn stored_actions(
        &self,
        org: &OrgId,
        rows: &[sqlx::any::AnyRow],
    ) -> StoreResult<Vec<StoredAction>> {
        let mut actions = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let status: String = r.try_get("status")?;
            actions.push(StoredAction {
                id,
                source: r.try_get("source")?,
                action: super::db::from_json(&r.try_get::<String, _>("action")?)?,
                attempts: if status == "applied" {
                    Vec::new()
                } else {
                    self.action_attempts(org, id).await?
                },
                status,
                created_at: r.try_get("created_at")?,
                outcome: r.try_get("outcome")?,
                finished_at: r.try_get("finished_at")?,
            });
        }
        Ok(actions)
    }
}

impl Store {
    /// The From address of the org's message with this Message-ID, if any
    /// (how the pipeline tells a reply to our own mail).
    pub async fn message_from_by_header_id(
        &self,
        org: &OrgId,
        header_message_id: &str,
    ) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT from_address FROM messages WHERE org_id = $1 AND header_message_id = $2 \
             AND from_address IS NOT NULL",
        )
        .bind(org.as_str())
        .bind(header_message_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get("from_address")?))
            .collect()
    }
}
