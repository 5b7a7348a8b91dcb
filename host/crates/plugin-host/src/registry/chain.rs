//! Several plugin calls whose bookkeeping is done together. The pipeline
//! makes all of a message's calls (normalize, classifiers, workflows) in one
//! chain, and a single call is a chain of one.
//!
//! Every call in a chain runs under its plugin's limits exactly as a single
//! call does. A successful call's key-value writes (a bounded batch,
//! `kv.rs`) are saved before the call returns and only then applied to the
//! copy later calls start from; if saving fails, the call fails, so what a
//! plugin sees never differs from what is stored. The bookkeeping that
//! touches the database otherwise (failure events, disabling) runs when the
//! chain's work is done (`runtime.rs`). A chain runs as its own task, so the calls of different
//! chains run in parallel on the executor's threads, and its bookkeeping
//! happens even if whoever asked stops waiting.

use super::shadow::answer;
use super::storage::{KvChange, PluginVersionRecord, RegistryStorage, apply_kv_changes};
use super::{ActivePlugin, PluginRegistry, RegistrySettings};
use crate::budget::OrgBudgets;
use crate::engine::PluginEngine;
use crate::error::PluginError;
use crate::invoke::{Call, CallReport, Outcome};
use crate::log_budget::LogBudget;
use crate::metadata::Permission;
use crate::state::PluginScope;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Makes plugin calls and keeps them for their bookkeeping; see the module doc.
pub struct PluginChain {
    engine: Arc<PluginEngine>,
    storage: Arc<dyn RegistryStorage>,
    settings: RegistrySettings,
    budgets: Arc<OrgBudgets>,
    finished: Mutex<Vec<FinishedCall>>,
}

/// A call made in a chain, waiting for its bookkeeping.
pub(super) struct FinishedCall {
    pub plugin: Arc<ActivePlugin>,
    pub report: CallReport,
    pub error: Option<PluginError>,
}

impl PluginChain {
    /// Calls `plugin`: `request` picks the export and its input.
    pub async fn call<'c, T, F>(
        &'c self,
        plugin: &'c Arc<ActivePlugin>,
        request: impl Fn(Call<'c>) -> F,
    ) -> Result<T, PluginError>
    where
        F: Future<Output = Outcome<T>>,
        T: serde::Serialize,
    {
        self.call_about(plugin, None, request).await
    }

    /// [`call`](Self::call) with what it is about (a message's id), named
    /// in the plugin's shadow comparison if it has a shadow.
    pub async fn call_about<'c, T, F>(
        &'c self,
        plugin: &'c Arc<ActivePlugin>,
        about: Option<&str>,
        request: impl Fn(Call<'c>) -> F,
    ) -> Result<T, PluginError>
    where
        F: Future<Output = Outcome<T>>,
        T: serde::Serialize,
    {
        let limits = plugin.record.limits.unwrap_or(self.settings.default_limits);
        // Taken before the call: the shadow starts from what it started from.
        let shadow_scope = plugin
            .shadow
            .as_ref()
            .map(|s| scope_for(&self.settings, plugin, &s.version, &s.log_budget));
        let Outcome { mut result, report } = request(Call {
            engine: &self.engine,
            component: &plugin.component,
            scope: Arc::new(scope_for(
                &self.settings,
                plugin,
                &plugin.version,
                &plugin.log_budget,
            )),
            limits,
        })
        .await;
        if result.is_ok()
            && !report.kv_changes.is_empty()
            && let Err(e) = self.save_kv(plugin, &kv_changes(&report.kv_changes)).await
        {
            result = Err(e);
        }
        self.finished.lock().push(FinishedCall {
            plugin: plugin.clone(),
            report,
            error: result.as_ref().err().cloned(),
        });
        if let (Some(shadow), Some(scope)) = (&plugin.shadow, shadow_scope) {
            // Never applied: its key-value writes are dropped, its failures
            // are its own, its answer is only compared.
            let outcome = request(Call {
                engine: &self.engine,
                component: &shadow.component,
                scope: Arc::new(scope),
                limits,
            })
            .await;
            let report = &outcome.report;
            shadow.metrics.record(
                report.elapsed,
                report.peak_memory_bytes,
                outcome.result.as_ref().err().map(PluginError::kind),
            );
            self.budgets.charge(&plugin.record.org, report.elapsed);
            shadow.compare(about, answer(&result), answer(&outcome.result));
        }
        result
    }
}

impl PluginChain {
    /// Saves a successful call's key-value changes, then applies them to
    /// the copy later calls start from (see the module doc).
    async fn save_kv(
        &self,
        plugin: &ActivePlugin,
        changes: &[KvChange],
    ) -> Result<(), PluginError> {
        let _in_order = plugin.kv.saving.lock().await;
        let (org, name) = (&plugin.record.org, &plugin.record.name);
        if let Err(e) = self.storage.kv_apply(org, name, changes).await {
            tracing::error!(org = %org, plugin = %name, error = %e, "could not save plugin key-value data");
            return Err(PluginError::Host(format!(
                "the plugin's key-value changes could not be saved ({e}); \
                 the call's result was discarded and its changes not applied"
            )));
        }
        let mut data = plugin.kv.data.lock();
        let mut map = (**data).clone();
        apply_kv_changes(&mut map, changes);
        *data = Arc::new(map);
        Ok(())
    }
}

impl PluginRegistry {
    /// Runs `work` (which makes its plugin calls on the chain it is given)
    /// as its own task, then does the bookkeeping of every call it made.
    /// Fails only if the task itself did (a panic in host code); plugin
    /// failures are in the chain's own results.
    pub async fn run_chain<R, W>(
        self: &Arc<Self>,
        work: impl FnOnce(Arc<PluginChain>) -> W,
    ) -> Result<R, PluginError>
    where
        W: Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        let chain = Arc::new(PluginChain {
            engine: self.engine.clone(),
            storage: self.storage.clone(),
            settings: self.settings.clone(),
            budgets: self.budgets.clone(),
            finished: Mutex::default(),
        });
        let work = work(chain.clone());
        let registry = self.clone();
        tokio::spawn(async move {
            let result = work.await;
            let finished = std::mem::take(&mut *chain.finished.lock());
            for call in finished {
                registry.settle(call).await;
            }
            result
        })
        .await
        .map_err(|e| PluginError::Host(format!("plugin call task failed: {e}")))
    }
}

/// What the plugin may see: its config for this org (the defaults that
/// `version` declares filled in) and, if it asked for it, its key-value data.
fn scope_for(
    settings: &RegistrySettings,
    plugin: &ActivePlugin,
    version: &PluginVersionRecord,
    log_budget: &Arc<LogBudget>,
) -> PluginScope {
    let mut config: BTreeMap<String, String> = version
        .metadata
        .config_keys
        .iter()
        .filter_map(|k| Some((k.name.clone(), k.default_value.clone()?)))
        .collect();
    config.extend(
        plugin
            .record
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    // Secrets reach the plugin like any config value; only the API hides them.
    config.extend(
        plugin
            .record
            .secret_config
            .iter()
            .map(|(k, v)| (k.clone(), v.expose().to_owned())),
    );
    PluginScope {
        org: plugin.record.org.clone(),
        plugin: plugin.record.name.clone(),
        config: Arc::new(config),
        kv: version
            .metadata
            .permissions
            .contains(&Permission::KeyValue)
            .then(|| plugin.kv.data.lock().clone()),
        kv_limits: settings.kv_limits,
        log_budget: log_budget.clone(),
        // A shadow version makes the requests the running one would: its
        // answer is only comparable if it sees what the running one sees.
        outbound: plugin.outbound.clone(),
    }
}

pub(super) fn kv_changes(changes: &BTreeMap<String, Option<Vec<u8>>>) -> Vec<KvChange> {
    changes
        .iter()
        .map(|(k, v)| match v {
            Some(v) => KvChange::Set(k.clone(), v.clone()),
            None => KvChange::Delete(k.clone()),
        })
        .collect()
}
