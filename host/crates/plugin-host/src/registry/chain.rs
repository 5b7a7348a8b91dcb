//! Several plugin calls on one blocking thread. Plugin calls are synchronous
//! and go to tokio's blocking pool; each hand-off there and back costs two
//! thread wake-ups, which measured about a tenth of the sync benchmark's
//! CPU when the pipeline made one per call. So the pipeline makes all of a
//! message's calls (normalize, classifiers, workflows) in one chain, and a
//! single call is a chain of one.
//!
//! Every call in a chain runs under its plugin's limits exactly as a single
//! call does; its key-value writes are visible to the next call at once, and
//! the bookkeeping that touches the database (persisting key-value writes,
//! failure events, disabling) runs when the chain returns (`runtime.rs`).

use super::storage::{KvChange, apply_kv_changes};
use super::{ActivePlugin, KvCell, PluginRegistry, RegistrySettings};
use crate::engine::PluginEngine;
use crate::error::PluginError;
use crate::invoke::{Call, CallReport, Outcome};
use crate::state::PluginScope;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Makes plugin calls on the current (blocking) thread; see the module doc.
pub struct PluginChain {
    engine: Arc<PluginEngine>,
    settings: RegistrySettings,
    finished: Vec<FinishedCall>,
}

/// A call made in a chain, waiting for its bookkeeping.
pub(super) struct FinishedCall {
    pub plugin: Arc<ActivePlugin>,
    pub report: CallReport,
    pub error: Option<PluginError>,
}

impl PluginChain {
    /// Calls `plugin` now, on this thread.
    pub fn call<T>(
        &mut self,
        plugin: &Arc<ActivePlugin>,
        request: impl FnOnce(Call<'_>) -> Outcome<T>,
    ) -> Result<T, PluginError> {
        let Outcome { result, report } = request(Call {
            engine: &self.engine,
            component: &plugin.component,
            scope: Arc::new(scope_for(&self.settings, plugin)),
            limits: plugin.record.limits.unwrap_or(self.settings.default_limits),
        });
        if result.is_ok() && !report.kv_changes.is_empty() {
            apply_to_cell(&plugin.kv, &kv_changes(&report.kv_changes));
        }
        self.finished.push(FinishedCall {
            plugin: plugin.clone(),
            report,
            error: result.as_ref().err().cloned(),
        });
        result
    }
}

impl PluginRegistry {
    /// Runs `chain` on one blocking thread, then does the bookkeeping of
    /// every call it made. Fails only if the blocking task itself did (a
    /// panic in host code); plugin failures are in the chain's own results.
    pub async fn run_chain<R: Send + 'static>(
        &self,
        chain: impl FnOnce(&mut PluginChain) -> R + Send + 'static,
    ) -> Result<R, PluginError> {
        let mut calls = PluginChain {
            engine: self.engine.clone(),
            settings: self.settings.clone(),
            finished: Vec::new(),
        };
        let (result, calls) = tokio::task::spawn_blocking(move || {
            let result = chain(&mut calls);
            (result, calls)
        })
        .await
        .map_err(|e| PluginError::Host(format!("plugin call task failed: {e}")))?;
        for call in calls.finished {
            self.settle(call).await;
        }
        Ok(result)
    }
}

/// What the plugin may see: its config for this org (declared defaults
/// filled in) and, if it asked for it, its key-value data.
fn scope_for(settings: &RegistrySettings, plugin: &ActivePlugin) -> PluginScope {
    let mut config: BTreeMap<String, String> = plugin
        .version
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
    PluginScope {
        org: plugin.record.org.clone(),
        plugin: plugin.record.name.clone(),
        config: Arc::new(config),
        kv: plugin.wants_kv().then(|| plugin.kv.0.lock().clone()),
        kv_limits: settings.kv_limits,
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

fn apply_to_cell(cell: &KvCell, changes: &[KvChange]) {
    let mut guard = cell.0.lock();
    let mut map = (**guard).clone();
    apply_kv_changes(&mut map, changes);
    *guard = Arc::new(map);
}
