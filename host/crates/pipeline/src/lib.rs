//! The per-org message pipeline of `DESIGN.md`: every newly stored message
//! goes once through provider normalize → rules → classifiers → workflows,
//! and the actions that result are applied by the host.
//!
//! Mail is stored before any plugin runs (ingestion queues the run in the
//! same transaction), a plugin failure is recorded and the pipeline goes on,
//! and the results are committed together with the end of the run, so each
//! message is processed exactly once across crashes, resyncs and restarts.
//! The native rule engine (imported filters) is the stage between normalize
//! and classifiers; it arrives with the rules work, and until then no rules
//! exist to run there.

mod actions;
mod context;

use futures_util::{StreamExt, TryStreamExt, stream};
use mailroom_core::ids::{MessageId, OrgId};
use mailroom_plugin_host::PluginKind;
use mailroom_plugin_host::bindings::latest::types::{Action, Classification, Message};
use mailroom_plugin_host::bindings::latest::workflow::{CrmLink, Event, Trigger};
use mailroom_plugin_host::registry::{ActivePlugin, PluginChain, PluginRegistry, RegistryError};
use mailroom_store::pipeline_results::{CompletedRun, RunResults};
use mailroom_store::{Store, StoreError};
use serde::Serialize;
use std::sync::Arc;

/// Why a pipeline pass stopped (a plugin's failure does not stop it: that is
/// recorded on the run).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The org's plugins could not be listed or loaded.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The thread running the plugin chain failed (a panic in host code;
    /// plugin failures are recorded on the run instead).
    #[error(transparent)]
    Plugin(mailroom_plugin_host::error::PluginError),
}

/// What one pass over the pending runs did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PipelineReport {
    /// Runs this pass finished.
    pub processed: usize,
    /// Runs another worker finished first (nothing applied twice).
    pub skipped: usize,
    /// Plugin calls that failed (recorded on the run; mail unaffected).
    pub plugin_failures: usize,
}

/// Messages evaluated at once: enough to overlap one message's database
/// reads with another's plugin calls on a few cores.
const EVALUATE_AT_ONCE: usize = 8;

/// Runs each newly stored message through its org's plugins, once.
pub struct Pipeline {
    store: Store,
    registry: Arc<PluginRegistry>,
}

impl Pipeline {
    /// A pipeline over `store`, calling the plugins of `registry`.
    pub fn new(store: Store, registry: Arc<PluginRegistry>) -> Self {
        Self { store, registry }
    }

    /// Processes pending runs, `batch` at a time, until none are left.
    /// The messages of a batch are evaluated a few at a time (their plugin
    /// calls and reads overlap) and their results committed together.
    pub async fn run_pending(&self, batch: u32) -> Result<PipelineReport, PipelineError> {
        let mut report = PipelineReport::default();
        loop {
            let pending = self.store.pending_pipeline_runs(batch).await?;
            if pending.is_empty() {
                return Ok(report);
            }
            let runs: Vec<_> = pending
                .iter()
                .map(|r| (r.org.clone(), r.message.clone()))
                .collect();
            let cache = context::BatchCache::prefetch(&self.store, &runs).await?;
            let cache = &cache;
            let completed: Vec<CompletedRun> = stream::iter(pending)
                .map(|run| async move {
                    let results = self.evaluate(cache, &run.org, &run.message).await?;
                    Ok::<_, PipelineError>(CompletedRun {
                        org: run.org,
                        message: run.message,
                        results,
                    })
                })
                .buffer_unordered(EVALUATE_AT_ONCE)
                .try_collect()
                .await?;
            let finished = self.store.complete_pipeline_runs(&completed).await?;
            for (run, done) in completed.iter().zip(finished) {
                report.plugin_failures += run.results.problems.len();
                if done {
                    report.processed += 1;
                } else {
                    report.skipped += 1;
                }
            }
        }
    }

    /// Runs one message through the org's plugins and commits the results
    /// with the end of its run. Returns whether this call finished the run,
    /// and how many plugin calls failed.
    pub async fn process(
        &self,
        org: &OrgId,
        id: &MessageId,
    ) -> Result<(bool, usize), PipelineError> {
        let cache =
            context::BatchCache::prefetch(&self.store, &[(org.clone(), id.clone())]).await?;
        let results = self.evaluate(&cache, org, id).await?;
        let failures = results.problems.len();
        let run = CompletedRun {
            org: org.clone(),
            message: id.clone(),
            results,
        };
        let finished = self.store.complete_pipeline_runs(&[run]).await?;
        Ok((finished.first().copied().unwrap_or(false), failures))
    }

    /// What the org's plugins make of one message; nothing is stored. The
    /// reads come first, then every plugin call in one chain (one task per
    /// message, see `PluginChain`).
    async fn evaluate(
        &self,
        cache: &context::BatchCache,
        org: &OrgId,
        id: &MessageId,
    ) -> Result<RunResults, PipelineError> {
        let ctx = context::load(&self.store, cache, org, id).await?;
        let owner = Some(&ctx.account.owner);
        let provider = ctx.provider_plugin();
        let stages = Stages {
            provider: self
                .registry
                .plugins_for(org, PluginKind::Provider, owner)
                .await?
                .into_iter()
                .find(|p| p.name() == provider),
            classifiers: self
                .registry
                .plugins_for(org, PluginKind::Classifier, owner)
                .await?,
            workflows: self
                .registry
                .plugins_for(org, PluginKind::Workflow, owner)
                .await?,
            trigger: ctx.trigger(&self.store).await?,
            links: ctx.crm_links(),
            message: ctx.message.clone(),
        };
        let (mut results, wanted) = self
            .registry
            .run_chain(move |chain| async move { stages.run(&chain).await })
            .await
            .map_err(PipelineError::Plugin)?;
        actions::apply(&ctx.state, wanted, &mut results);
        for problem in &results.problems {
            tracing::warn!(org = %org, message = %id, "pipeline: {problem}");
        }
        Ok(results)
    }
}

/// One message's plugin stages with everything they read from the store.
struct Stages {
    provider: Option<Arc<ActivePlugin>>,
    classifiers: Vec<Arc<ActivePlugin>>,
    workflows: Vec<Arc<ActivePlugin>>,
    trigger: Trigger,
    links: Vec<CrmLink>,
    /// As the host parsed it.
    message: Message,
}

impl Stages {
    /// Runs the stages in order; a failing plugin is recorded in the
    /// results and the next one runs.
    async fn run(self, chain: &PluginChain) -> (RunResults, Vec<(String, Action)>) {
        let mut results = RunResults::default();
        let mut message = self.message.clone();

        // 1. Provider quirks. The host's identity fields are not the plugin's
        //    to change: they are put back whatever it returns.
        if let Some(plugin) = &self.provider {
            match chain.call(plugin, |call| call.normalize(&message)).await {
                Ok(normalized) => message = context::keep_identity(normalized, &self.message),
                Err(e) => results.problems.push(format!("{}: {e}", plugin.name())),
            }
        }

        // 2. Rules: see the module doc.

        // 3. Classifiers, in the org's order.
        let mut classifications: Vec<Classification> = Vec::new();
        for plugin in &self.classifiers {
            match chain.call(plugin, |call| call.classify(&message)).await {
                Ok(c) => {
                    let json = serde_json::to_value(&c).unwrap_or(serde_json::Value::Null);
                    let version = plugin.version.metadata.version.clone();
                    results
                        .classifications
                        .push((plugin.name().to_owned(), version, json));
                    classifications.push(c);
                }
                Err(e) => results.problems.push(format!("{}: {e}", plugin.name())),
            }
        }

        // 4. Workflows, in order; `stop` ends the chain.
        let event = Event {
            trigger: self.trigger,
            message,
            classifications,
            links: self.links,
        };
        let mut wanted: Vec<(String, Action)> = Vec::new();
        'workflows: for plugin in &self.workflows {
            match chain.call(plugin, |call| call.on_event(&event)).await {
                Ok(list) => {
                    for action in list {
                        let stop = matches!(action, Action::Stop);
                        wanted.push((plugin.name().to_owned(), action));
                        if stop {
                            break 'workflows;
                        }
                    }
                }
                Err(e) => results.problems.push(format!("{}: {e}", plugin.name())),
            }
        }
        (results, wanted)
    }
}

/// How often the background worker looks for pending runs when idle.
pub const WORKER_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs the pipeline over pending runs until the task is dropped: what
/// `mailroom serve` keeps going next to the API. Errors (e.g. the database
/// briefly unavailable) are logged and retried; runs stay pending until done.
pub async fn run_worker(pipeline: Arc<Pipeline>) {
    loop {
        match pipeline.run_pending(200).await {
            Ok(report) if report.processed > 0 => {
                tracing::info!(
                    processed = report.processed,
                    plugin_failures = report.plugin_failures,
                    "pipeline pass"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "pipeline pass failed; will retry"),
        }
        tokio::time::sleep(WORKER_INTERVAL).await;
    }
}
