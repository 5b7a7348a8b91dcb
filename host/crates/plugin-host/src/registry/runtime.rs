//! Calling an org's plugins: each call runs under the plugin's limits (a
//! chain of one, `chain.rs`, which also saves its key-value writes), its
//! metrics are recorded, and failures counted — N in a row disable the plugin for the org with an
//! event saying why. The caller always gets a `Result` and goes on.

use super::chain::FinishedCall;
use super::storage::PluginEventKind;
use super::{ActivePlugin, PluginRegistry};
use crate::bindings::latest as api;
use crate::error::PluginError;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Runs one call of `$plugin` as a chain of one (`$call` picks the export
/// and its input, which the call's task owns) and returns its result.
macro_rules! one_call {
    ($registry:ident, $plugin:ident, |$call:ident| $request:expr) => {{
        let $plugin = $plugin.clone();
        $registry
            .run_chain(move |chain| async move { chain.call(&$plugin, |$call| $request).await })
            .await?
    }};
}

impl PluginRegistry {
    pub async fn classify(
        self: &Arc<Self>,
        plugin: &Arc<ActivePlugin>,
        message: api::types::Message,
    ) -> Result<api::types::Classification, PluginError> {
        one_call!(self, plugin, |call| call.classify(&message))
    }

    pub async fn on_event(
        self: &Arc<Self>,
        plugin: &Arc<ActivePlugin>,
        event: api::workflow::Event,
    ) -> Result<Vec<api::types::Action>, PluginError> {
        one_call!(self, plugin, |call| call.on_event(&event))
    }

    pub async fn provider_info(
        self: &Arc<Self>,
        plugin: &Arc<ActivePlugin>,
    ) -> Result<api::provider::ProviderInfo, PluginError> {
        one_call!(self, plugin, |call| call.provider_info())
    }

    pub async fn map_folder(
        self: &Arc<Self>,
        plugin: &Arc<ActivePlugin>,
        mailbox: api::types::Mailbox,
    ) -> Result<Option<api::types::FolderRole>, PluginError> {
        one_call!(self, plugin, |call| call.map_folder(&mailbox))
    }

    pub async fn normalize(
        self: &Arc<Self>,
        plugin: &Arc<ActivePlugin>,
        message: api::types::Message,
    ) -> Result<api::types::Message, PluginError> {
        one_call!(self, plugin, |call| call.normalize(&message))
    }

    pub async fn diagnose(
        self: &Arc<Self>,
        plugin: &Arc<ActivePlugin>,
        problem: api::provider::ConnectionProblem,
    ) -> Result<Option<api::provider::Diagnosis>, PluginError> {
        one_call!(self, plugin, |call| call.diagnose(&problem))
    }

    pub async fn filter_formats(
        self: &Arc<Self>,
        plugin: &Arc<ActivePlugin>,
    ) -> Result<Vec<api::filter_importer::FilterFormat>, PluginError> {
        one_call!(self, plugin, |call| call.filter_formats())
    }

    pub async fn import_filters(
        self: &Arc<Self>,
        plugin: &Arc<ActivePlugin>,
        format: String,
        data: Vec<u8>,
    ) -> Result<
        Result<api::filter_importer::ImportedRules, api::filter_importer::ImportError>,
        PluginError,
    > {
        one_call!(self, plugin, |call| call.import_filters(&format, &data))
    }

    /// The bookkeeping of a finished call: metrics, failures counted.
    pub(super) async fn settle(&self, call: FinishedCall) {
        let FinishedCall {
            plugin,
            report,
            error,
        } = call;
        self.budgets.charge(&plugin.record.org, report.elapsed);
        plugin.metrics.record(
            report.elapsed,
            report.peak_memory_bytes,
            error.as_ref().map(|e| e.kind()),
        );
        match &error {
            None => plugin.consecutive_failures.store(0, Ordering::Relaxed),
            Some(e) if e.counts_against_plugin() => self.count_failure(&plugin, e).await,
            Some(_) => {}
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
        // Exactly the failure that reaches the threshold disables: calls
        // failing at the same time count past it, and must not each
        // disable again with their own "after N failures" event.
        if failures != self.settings.failure_threshold {
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
