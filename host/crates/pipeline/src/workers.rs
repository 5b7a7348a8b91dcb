//! Per-org work. Each org with pending runs is drained by its own task, a
//! few of its messages at a time, and all orgs share a bounded number of
//! evaluation slots; a slow or stuck plugin call in one org holds at most
//! that org's few slots, and the other orgs' mail goes on. The server's
//! worker starts an org's task whenever the org has pending runs and no
//! task yet, without waiting for any other org's.

use super::commit::{self, AfterFailure};
use super::{Pipeline, PipelineError, PipelineReport, context};
use futures_util::{StreamExt, stream};
use mailroom_core::ids::{MessageId, OrgId};
use mailroom_store::pipeline_results::{CompletedRun, RunResults};
use parking_lot::Mutex;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// Messages of one org evaluated at once: enough to overlap one message's
/// database reads with another's plugin calls.
pub const PER_ORG_AT_ONCE: usize = 4;
/// Messages evaluated at once over all orgs (a few cores' worth of plugin
/// calls, and a bound on database connections in use).
pub const EVALUATING_AT_ONCE: usize = 16;
/// How often the background worker looks for orgs with pending runs.
pub const WORKER_INTERVAL: Duration = Duration::from_secs(1);
/// Runs fetched at once per org.
const BATCH: u32 = 50;

impl Pipeline {
    /// Processes pending runs of every org, the orgs side by side, until
    /// none are left but those deferred to a later pass (see `commit`).
    /// `batch` runs of an org are read and committed together.
    pub async fn run_pending(&self, batch: u32) -> Result<PipelineReport, PipelineError> {
        let orgs = self.store.pipeline_backlog().await?;
        let drained =
            futures_util::future::join_all(orgs.iter().map(|o| self.drain_org(&o.org, batch)))
                .await;
        let mut report = PipelineReport::default();
        for result in drained {
            report.add(&result?);
        }
        Ok(report)
    }

    /// One org's pending runs, `batch` at a time, until none are left but
    /// those deferred to a later pass.
    pub async fn drain_org(
        &self,
        org: &OrgId,
        batch: u32,
    ) -> Result<PipelineReport, PipelineError> {
        let mut report = PipelineReport::default();
        let mut deferred: HashSet<MessageId> = HashSet::new();
        loop {
            let fetch = batch.saturating_add(u32::try_from(deferred.len()).unwrap_or(u32::MAX));
            let pending: Vec<MessageId> = self
                .store
                .pending_pipeline_runs_of(org, fetch)
                .await?
                .into_iter()
                .map(|r| r.message)
                .filter(|m| !deferred.contains(m))
                .take(batch as usize)
                .collect();
            if pending.is_empty() {
                return Ok(report);
            }
            let runs: Vec<_> = pending.iter().map(|m| (org.clone(), m.clone())).collect();
            let cache = context::BatchCache::prefetch(&self.store, &runs).await?;
            let cache = &cache;
            let evaluated: Vec<(MessageId, Result<RunResults, PipelineError>)> =
                stream::iter(pending)
                    .map(|message| async move {
                        // An org past its plugin time waits here, holding
                        // none of the slots the other orgs share.
                        self.registry.budgets().until_available(org).await;
                        // The semaphore is never closed.
                        let _slot = self.slots.acquire().await;
                        let result = self.evaluate(cache, org, &message).await;
                        (message, result)
                    })
                    .buffer_unordered(PER_ORG_AT_ONCE)
                    .collect()
                    .await;
            let mut completed = Vec::with_capacity(evaluated.len());
            for (message, result) in evaluated {
                match result {
                    Ok(results) => completed.push(CompletedRun {
                        org: org.clone(),
                        message,
                        results,
                    }),
                    Err(e) => {
                        let why = format!("evaluating the message failed: {e}");
                        let permanent =
                            matches!(&e, PipelineError::Store(s) if commit::is_permanent(s));
                        match self
                            .attempts
                            .failed(&self.store, org, &message, &why, permanent)
                            .await
                        {
                            AfterFailure::RetryLater => {
                                deferred.insert(message);
                            }
                            AfterFailure::Failed => report.failed += 1,
                        }
                    }
                }
            }
            let committed = commit::commit(&self.store, &self.attempts, completed).await;
            report.processed += committed.processed;
            report.skipped += committed.skipped;
            report.failed += committed.failed;
            report.plugin_failures += committed.plugin_failures;
            deferred.extend(committed.deferred);
        }
    }
}

/// Runs the pipeline until the task is dropped: what `mailroom serve` keeps
/// going next to the API. Every [`WORKER_INTERVAL`] each org with pending
/// runs and no task draining it gets one; errors (e.g. the database briefly
/// unavailable) are logged and the org is tried again at the next look.
pub async fn run_worker(pipeline: Arc<Pipeline>) {
    let busy: Arc<Mutex<HashSet<OrgId>>> = Arc::default();
    loop {
        match pipeline.store.pipeline_backlog().await {
            Ok(orgs) => {
                for backlog in orgs {
                    let Some(claim) = OrgClaim::take(&busy, backlog.org) else {
                        continue;
                    };
                    let pipeline = pipeline.clone();
                    tokio::spawn(async move {
                        let org = &claim.org;
                        match pipeline.drain_org(org, BATCH).await {
                            Ok(report) if report.processed + report.failed > 0 => tracing::info!(
                                org = %org,
                                processed = report.processed,
                                failed = report.failed,
                                plugin_failures = report.plugin_failures,
                                "pipeline pass"
                            ),
                            Ok(_) => {}
                            Err(e) => {
                                tracing::error!(org = %org, error = %e, "pipeline pass failed; will retry")
                            }
                        }
                    });
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list pending pipeline runs; will retry"),
        }
        tokio::time::sleep(WORKER_INTERVAL).await;
    }
}

/// An org being drained by a task; given back when the task ends, however
/// it ends, so the org gets a new task at the next look.
struct OrgClaim {
    busy: Arc<Mutex<HashSet<OrgId>>>,
    org: OrgId,
}

impl OrgClaim {
    fn take(busy: &Arc<Mutex<HashSet<OrgId>>>, org: OrgId) -> Option<Self> {
        busy.lock().insert(org.clone()).then(|| Self {
            busy: busy.clone(),
            org,
        })
    }
}

impl Drop for OrgClaim {
    fn drop(&mut self) {
        self.busy.lock().remove(&self.org);
    }
}
