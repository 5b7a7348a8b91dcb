//! Committing finished runs so that one message's store failure holds back
//! no other. A batch commits in one transaction (one commit instead of one
//! per message); if that fails, each run commits on its own, so the others
//! of the batch land whatever broke. A run whose own commit (or evaluation)
//! fails stays pending and is tried again on a later pass, at most
//! [`MAX_ATTEMPTS`] times — at once if the store called its input invalid,
//! which no retry mends — and is then finished as failed with the error on
//! the run, so it is neither retried forever nor lost from view.

use mailroom_core::ids::{MessageId, OrgId};
use mailroom_store::pipeline_results::CompletedRun;
use mailroom_store::{Store, StoreError};
use parking_lot::Mutex;
use std::collections::HashMap;

/// Tries a run gets (commit or evaluation) before it is finished as failed.
pub const MAX_ATTEMPTS: u32 = 3;

/// Failed attempts per run, kept by the process: a restart gives every run
/// its attempts again, which is what a restart after a database outage wants.
#[derive(Default)]
pub(crate) struct Attempts(Mutex<HashMap<(OrgId, MessageId), u32>>);

/// What became of a run that failed this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterFailure {
    /// Left pending for a later pass.
    RetryLater,
    /// Finished as failed, with the error on the run.
    Failed,
}

impl Attempts {
    /// Records a failed attempt at `run`; past the limit (or for an error no
    /// retry mends) the run is finished as failed with `why`.
    pub(crate) async fn failed(
        &self,
        store: &Store,
        org: &OrgId,
        message: &MessageId,
        why: &str,
        permanent: bool,
    ) -> AfterFailure {
        let key = (org.clone(), message.clone());
        let attempts = {
            let mut book = self.0.lock();
            let n = book.entry(key.clone()).or_insert(0);
            *n += 1;
            *n
        };
        tracing::warn!(org = %org, message = %message, attempt = attempts, "pipeline run failed: {}", mailroom_core::text::loggable(why));
        if attempts < MAX_ATTEMPTS && !permanent {
            return AfterFailure::RetryLater;
        }
        let detail = format!("given up after {attempts} attempt(s): {why}");
        match store
            .finish_pipeline_run(org, message, false, Some(&detail))
            .await
        {
            Ok(_) => {
                self.0.lock().remove(&key);
                AfterFailure::Failed
            }
            // The store is down: the run stays pending and this is tried
            // again on the next pass.
            Err(e) => {
                tracing::error!(org = %org, message = %message, error = %e, "cannot record a failed pipeline run");
                AfterFailure::RetryLater
            }
        }
    }

    fn succeeded(&self, org: &OrgId, message: &MessageId) {
        let mut book = self.0.lock();
        if !book.is_empty() {
            book.remove(&(org.clone(), message.clone()));
        }
    }
}

/// Whether no retry can mend `e`: the store refused the data itself.
pub(crate) fn is_permanent(e: &StoreError) -> bool {
    matches!(e, StoreError::Invalid(_) | StoreError::NotFound(_))
}

/// What committing a batch did.
#[derive(Debug, Default)]
pub(crate) struct Committed {
    pub processed: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Runs left pending for a later pass.
    pub deferred: Vec<MessageId>,
    pub plugin_failures: usize,
}

/// Commits `runs`, all together if it can, else one by one; see the module doc.
pub(crate) async fn commit(
    store: &Store,
    attempts: &Attempts,
    runs: Vec<CompletedRun>,
) -> Committed {
    let mut out = Committed::default();
    let batch_error = match store.complete_pipeline_runs(&runs).await {
        Ok(finished) => {
            for (run, done) in runs.iter().zip(finished) {
                out.count(attempts, run, done);
            }
            return out;
        }
        Err(e) => e,
    };
    if let [run] = runs.as_slice() {
        out.refused(store, attempts, run, &batch_error).await;
        return out;
    }
    tracing::warn!(runs = runs.len(), error = %batch_error, "a pipeline batch did not commit; committing its runs one by one");
    for run in &runs {
        match store
            .complete_pipeline_runs(std::slice::from_ref(run))
            .await
        {
            Ok(finished) => out.count(attempts, run, finished.first().copied().unwrap_or(false)),
            Err(e) => out.refused(store, attempts, run, &e).await,
        }
    }
    out
}

impl Committed {
    fn count(&mut self, attempts: &Attempts, run: &CompletedRun, done: bool) {
        attempts.succeeded(&run.org, &run.message);
        self.plugin_failures += run.results.problems.len();
        if done {
            self.processed += 1;
        } else {
            self.skipped += 1;
        }
    }

    async fn refused(
        &mut self,
        store: &Store,
        attempts: &Attempts,
        run: &CompletedRun,
        e: &StoreError,
    ) {
        let why = format!("the store refused the run's results: {e}");
        match attempts
            .failed(store, &run.org, &run.message, &why, is_permanent(e))
            .await
        {
            AfterFailure::RetryLater => self.deferred.push(run.message.clone()),
            AfterFailure::Failed => self.failed += 1,
        }
    }
}
