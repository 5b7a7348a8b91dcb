//! The per-org message pipeline of `DESIGN.md`: every newly stored message
//! goes once through provider normalize → rules → classifiers → workflows,
//! and the actions that result are applied by the host.
//!
//! Mail is stored before any plugin runs (ingestion queues the run in the
//! same transaction), a plugin failure is recorded and the pipeline goes on,
//! and the results are committed together with the end of the run, so each
//! message is processed exactly once across crashes, resyncs and restarts.
//! Each org is worked by its own task (`workers`), so one org's slow plugin
//! delays no other org; a run the store refuses holds back no other run and
//! is retried a bounded number of times (`commit`); what a plugin returns was
//! checked against its range before it gets here (`mailroom_plugin_host::validate`).
//! The native rule engine runs between normalize and classifiers: see
//! [`rules`].

mod actions;
mod commit;
mod context;
pub mod contract;
pub mod health;
pub mod rules;
mod subscriptions;
mod workers;

pub use commit::MAX_ATTEMPTS;
pub use subscriptions::REFRESH as SUBSCRIPTIONS_REFRESH;
pub use workers::{EVALUATING_AT_ONCE, PER_ORG_AT_ONCE, WORKER_INTERVAL, run_worker};

use mailroom_core::ids::{MessageId, OrgId};
use mailroom_plugin_host::PluginKind;
use mailroom_plugin_host::bindings::latest::types::{Action, Classification, Message};
use mailroom_plugin_host::bindings::latest::workflow::{CrmLink, Event, Trigger};
use mailroom_plugin_host::registry::{ActivePlugin, PluginChain, PluginRegistry, RegistryError};
use mailroom_store::pipeline_results::RunResults;
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
    /// Runs finished as failed: the store refused their results (or they
    /// could not be evaluated) [`MAX_ATTEMPTS`] times, or refused them as
    /// invalid; the error is on the run.
    pub failed: usize,
    /// Plugin calls that failed (recorded on the run; mail unaffected).
    pub plugin_failures: usize,
}

impl PipelineReport {
    fn add(&mut self, other: &PipelineReport) {
        self.processed += other.processed;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.plugin_failures += other.plugin_failures;
    }
}

/// Runs each newly stored message through its org's plugins, once.
pub struct Pipeline {
    store: Store,
    registry: Arc<PluginRegistry>,
    /// Evaluation slots shared by all orgs ([`EVALUATING_AT_ONCE`]).
    slots: tokio::sync::Semaphore,
    attempts: commit::Attempts,
    rule_sets: rules::RuleSets,
    subscriptions: subscriptions::Subscriptions,
}

impl Pipeline {
    /// A pipeline over `store`, calling the plugins of `registry`.
    pub fn new(store: Store, registry: Arc<PluginRegistry>) -> Self {
        Self {
            store,
            registry,
            slots: tokio::sync::Semaphore::new(EVALUATING_AT_ONCE),
            attempts: commit::Attempts::default(),
            rule_sets: rules::RuleSets::default(),
            subscriptions: subscriptions::Subscriptions::default(),
        }
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
        let trigger = ctx.trigger(&self.store).await?;
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
            rules: self
                .rule_sets
                .for_account(&self.store, cache, org, &ctx.account.id)
                .await?,
            trigger,
            links: ctx.crm_links(),
            message: ctx.message.clone(),
        };
        let (mut results, wanted) = self
            .registry
            .run_chain(move |chain| async move { stages.run(&chain).await })
            .await
            .map_err(PipelineError::Plugin)?;
        actions::apply(&ctx.state, wanted, &mut results);
        self.subscriptions
            .add_deliveries(&self.store, org, id, trigger, &mut results)
            .await?;
        if results.actions.iter().any(|(_, _, applied)| !applied) {
            results.context = Some(ctx.action_context());
        }
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
    /// The account's rules, then the org's.
    rules: rules::AccountRules,
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
            match chain
                .call_about(plugin, Some(&self.message.id), |call| {
                    call.normalize(&message)
                })
                .await
            {
                Ok(normalized) => message = context::keep_identity(normalized, &self.message),
                Err(e) => results.problems.push(format!("{}: {e}", plugin.name())),
            }
        }

        // 2. Rules, natively; their actions come first. A stored rule the
        //    engine now refuses is left out and named on the run.
        let mut wanted = rules::wanted(&self.rules.set, &message);
        results.problems.extend(self.rules.refused.iter().cloned());

        // 3. Classifiers, in the org's order.
        let mut classifications: Vec<Classification> = Vec::new();
        for plugin in &self.classifiers {
            match chain
                .call_about(plugin, Some(&self.message.id), |call| {
                    call.classify(&message)
                })
                .await
            {
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
        'workflows: for plugin in &self.workflows {
            match chain
                .call_about(plugin, Some(&event.message.id), |call| {
                    call.on_event(&event)
                })
                .await
            {
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
