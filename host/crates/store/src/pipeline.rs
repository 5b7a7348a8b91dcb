//! The exactly-once marker of the message pipeline. Ingestion queues a run
//! in the same transaction that stores a *new* message (a re-ingested one
//! queues nothing), and the pipeline marks it finished. A crash between the
//! two leaves the run pending, so it is picked up again after a restart;
//! a finished run is never handed out again.

use super::{Store, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{MessageId, OrgId};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRun {
    pub org: OrgId,
    pub message: MessageId,
    pub queued_at: i64,
}

/// One org's pending runs: how many, and since when the oldest waits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgBacklog {
    pub org: OrgId,
    pub pending: u64,
    /// When the oldest pending run was queued (ms since the Unix epoch).
    pub oldest_queued_at: i64,
}

impl Store {
    /// Every org with pending runs, the longest-waiting first: what the
    /// pipeline's per-org workers start from, and what `/healthz` reports.
    pub async fn pipeline_backlog(&self) -> StoreResult<Vec<OrgBacklog>> {
        let rows = sqlx::query(
            "SELECT org_id, COUNT(*) AS pending, MIN(queued_at) AS oldest FROM pipeline_runs \
             WHERE status = 'pending' GROUP BY org_id ORDER BY oldest, org_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OrgBacklog {
                    org: OrgId(r.try_get("org_id")?),
                    pending: u64::try_from(r.try_get::<i64, _>("pending")?).unwrap_or(0),
                    oldest_queued_at: r.try_get("oldest")?,
                })
            })
            .collect()
    }

    /// Pending runs of one org, oldest first.
    pub async fn pending_pipeline_runs_of(
        &self,
        org: &OrgId,
        limit: u32,
    ) -> StoreResult<Vec<PendingRun>> {
        let rows = sqlx::query(
            "SELECT message_id, queued_at FROM pipeline_runs \
             WHERE org_id = $1 AND status = 'pending' ORDER BY queued_at, message_id LIMIT $2",
        )
        .bind(org.as_str())
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingRun {
                    org: org.clone(),
                    message: MessageId(r.try_get("message_id")?),
                    queued_at: r.try_get("queued_at")?,
                })
            })
            .collect()
    }

    /// Pending runs of every org, oldest first.
    pub async fn pending_pipeline_runs(&self, limit: u32) -> StoreResult<Vec<PendingRun>> {
        let rows = sqlx::query(
            "SELECT org_id, message_id, queued_at FROM pipeline_runs WHERE status = 'pending' \
             ORDER BY queued_at, org_id, message_id LIMIT $1",
        )
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingRun {
                    org: OrgId(r.try_get("org_id")?),
                    message: MessageId(r.try_get("message_id")?),
                    queued_at: r.try_get("queued_at")?,
                })
            })
            .collect()
    }

    /// Marks a run done (or failed, with why). Returns false when it was not
    /// pending (already finished, or no such message in the org): the caller
    /// must then not apply its results again.
    pub async fn finish_pipeline_run(
        &self,
        org: &OrgId,
        message: &MessageId,
        ok: bool,
        detail: Option<&str>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE pipeline_runs SET status = $1, finished_at = $2, detail = $3 \
             WHERE org_id = $4 AND message_id = $5 AND status = 'pending'",
        )
        .bind(if ok { "done" } else { "failed" })
        .bind(now_ms())
        .bind(detail.map(|d| super::mime_index::clean_text(d, 4000)))
        .bind(org.as_str())
        .bind(message.as_str())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
