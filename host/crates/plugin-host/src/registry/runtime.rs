//! Calling an org's plugins: each call runs on a blocking thread under the
//! plugin's limits (a chain of one, `chain.rs`), its metrics are recorded,
//! its key-value writes persisted, and failures counted — N in a row disable the plugin for the org with an
//! event saying why. The caller always gets a `Result` and goes on.

use super::chain::{FinishedCall, kv_changes};
use super::storage::{KvChange, PluginEventKind};
use super::{ActivePlugin, PluginRegistry};
use crate::bindings::latest as api;
use crate::error::PluginError;
use crate::invoke::{Call, Outcome};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A typed request to a plugin; built by the callers below.
pub type PluginCall<T> = Box<dyn FnOnce(Call<'_>) -> Outcome<T> + Send + 'static>;

impl PluginRegistry {
    pub async fn classify(
        &self,
        plugin: &Arc<ActivePlugin>,
        message: api::types::Message,
    ) -> Result<api::types::Classification, PluginError> {
        self.call(plugin, Box::new(move |call| call.classify(&message)))
            .await
    }

    pub async fn on_event(
        &self,
        plugin: &Arc<ActivePlugin>,
        event: api::workflow::Event,
    ) -> Result<Vec<api::types::Action>, PluginError> {
        self.call(plugin, Box::new(move |call| call.on_event(&event)))
            .await
    }

    pub async fn provider_info(
        &self,
        plugin: &Arc<ActivePlugin>,
    ) -> Result<api::provider::ProviderInfo, PluginError> {
        self.call(plugin, Box::new(|call| call.provider_info()))
            .await
    }

    pub async fn map_folder(
        &self,
        plugin: &Arc<ActivePlugin>,
        mailbox: api::types::Mailbox,
    ) -> Result<Option<api::types::FolderRole>, PluginError> {
        self.call(plugin, Box::new(move |call| call.map_folder(&mailbox)))
            .await
    }

    pub async fn normalize(
        &self,
        plugin: &Arc<ActivePlugin>,
        message: api::types::Message,
    ) -> Result<api::types::Message, PluginError> {
        self.call(plugin, Box::new(move |call| call.normalize(&message)))
            .await
    }

    pub async fn diagnose(
        &self,
        plugin: &Arc<ActivePlugin>,
        problem: api::provider::ConnectionProblem,
    ) -> Result<Option<api::provider::Diagnosis>, PluginError> {
        self.call(plugin, Box::new(move |call| call.diagnose(&problem)))
            .await
    }

    pub async fn filter_formats(
        &self,
        plugin: &Arc<ActivePlugin>,
    ) -> Result<Vec<api::filter_importer::FilterFormat>, PluginError> {
        self.call(plugin, Box::new(|call| call.filter_formats()))
            .await
    }

    pub async fn import_filters(
        &self,
        plugin: &Arc<ActivePlugin>,
        format: String,
        data: Vec<u8>,
    ) -> Result<
        Result<api::filter_importer::ImportedRules, api::filter_importer::ImportError>,
        PluginError,
    > {
        self.call(
            plugin,
            Box::new(move |call| call.import_filters(&format, &data)),
        )
        .await
    }

    /// Runs one call of `plugin` and does the bookkeeping around it.
    pub async fn call<T: Send + 'static>(
        &self,
        plugin: &Arc<ActivePlugin>,
        request: PluginCall<T>,
    ) -> Result<T, PluginError> {
        let plugin = plugin.clone();
        self.run_chain(move |chain| chain.call(&plugin, request))
            .await?
    }

    /// The bookkeeping of a finished call: metrics, key-value writes
    /// persisted (already applied in memory by the chain), failures counted.
    pub(super) async fn settle(&self, call: FinishedCall) {
        let FinishedCall {
            plugin,
            report,
            error,
        } = call;
        plugin.metrics.record(
            report.elapsed,
            report.peak_memory_bytes,
            error.as_ref().map(|e| e.kind()),
        );
        match &error {
            None => {
                plugin.consecutive_failures.store(0, Ordering::Relaxed);
                if !report.kv_changes.is_empty() {
                    self.persist_kv(&plugin, &kv_changes(&report.kv_changes))
                        .await;
                }
            }
            Some(e) if e.counts_against_plugin() => self.count_failure(&plugin, e).await,
            Some(_) => {}
        }
    }

    async fn persist_kv(&self, plugin: &ActivePlugin, changes: &[KvChange]) {
        if let Err(e) = self
            .storage
            .kv_apply(&plugin.record.org, &plugin.record.name, changes)
            .await
        {
            tracing::error!(org = %plugin.record.org, plugin = %plugin.record.name, error = %e, "could not persist plugin key-value data");
        }
    }

    async fn count_failure(&self, plugin: &Arc<ActivePlugin>, error: &PluginError) {
        let failures = plugin.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        let (org, name) = (&plugin.record.org, plugin.record.name.as_str());
        let message = format!(
            "version {} (#{}) failed: {error}",
            plugin.version.metadata.version, plugin.version.seq
        );
        self.event(org, name, PluginEventKind::Failure, message)
            .await;
        if failures < self.settings.failure_threshold {
            return;
        }
        let reason = format!(
            "disabled after {failures} consecutive failures; the last one: {error}. \
             Fix or roll back the plugin, then enable it again"
        );
        let result = self
            .update(
                org,
                name,
                (PluginEventKind::AutoDisabled, reason.clone()),
                |record| {
                    // Only the running version's failures disable it: if an admin
                    // swapped versions meanwhile, the new one starts clean.
                    if record.active_seq == plugin.version.seq && record.enabled {
                        record.enabled = false;
                        record.disabled_reason = Some(reason.clone());
                        record.consecutive_failures = failures;
                    }
                    Ok(())
                },
            )
            .await;
        if let Err(e) = result {
            tracing::error!(org = %org, plugin = name, error = %e, "could not disable failing plugin");
        }
    }
}
