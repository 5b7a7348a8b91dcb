//! What the pipeline concluded about a message — classifications and the
//! actions rules and workflows asked for — committed together with the end of
//! the message's pipeline run, so a message is classified and acted on once,
//! also across crashes and concurrent workers.

use super::db::now_ms;
use super::message_query::{MessageStateUpdate, state_update_sql};
use super::{Store, StoreResult};
use crate::ids::{MessageId, OrgId};
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

/// One action; `applied` when the host carried it out in the same
/// transaction (user state), `pending` when an executor still has to.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StoredAction {
    /// The plugin that asked for it (or `rules`).
    pub source: String,
    #[schema(value_type = Object)]
    pub action: serde_json::Value,
    pub status: String,
    pub created_at: i64,
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
}

impl Store {
    /// Finishes a pending run and stores its results in one transaction.
    /// Returns false, storing nothing, when the run was not pending (another
    /// worker finished it first).
    pub async fn complete_pipeline_run(
        &self,
        org: &OrgId,
        message: &MessageId,
        results: &RunResults,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let detail = (!results.problems.is_empty())
            .then(|| super::mime_index::clean_text(&results.problems.join("; "), 4000));
        let finished = sqlx::query(
            "UPDATE pipeline_runs SET status = 'done', finished_at = $1, detail = $2 \
             WHERE org_id = $3 AND message_id = $4 AND status = 'pending'",
        )
        .bind(now)
        .bind(detail)
        .bind(org.as_str())
        .bind(message.as_str())
        .execute(&mut *tx)
        .await?;
        if finished.rows_affected() == 0 {
            return Ok(false);
        }
        for (plugin, version, result) in &results.classifications {
            sqlx::query(
                "INSERT INTO message_classifications \
                 (org_id, message_id, plugin, plugin_version, result, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(org.as_str())
            .bind(message.as_str())
            .bind(plugin.as_str())
            .bind(version.as_str())
            .bind(result.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        for (source, action, applied) in &results.actions {
            sqlx::query(
                "INSERT INTO message_actions (org_id, message_id, source, action, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(org.as_str())
            .bind(message.as_str())
            .bind(source.as_str())
            .bind(action.to_string())
            .bind(if *applied { "applied" } else { "pending" })
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(update) = &results.state {
            state_update_sql(org, message, update)?
                .query()
                .execute(&mut *tx)
                .await?;
            super::server_changes::enqueue_for_update(&mut tx, org, message, update).await?;
        }
        tx.commit().await?;
        Ok(true)
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

    pub async fn message_actions(
        &self,
        org: &OrgId,
        message: &MessageId,
    ) -> StoreResult<Vec<StoredAction>> {
        let rows = sqlx::query(
            "SELECT source, action, status, created_at FROM message_actions \
             WHERE org_id = $1 AND message_id = $2 ORDER BY id",
        )
        .bind(org.as_str())
        .bind(message.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredAction {
                    source: r.try_get("source")?,
                    action: super::db::from_json(&r.try_get::<String, _>("action")?)?,
                    status: r.try_get("status")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
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
