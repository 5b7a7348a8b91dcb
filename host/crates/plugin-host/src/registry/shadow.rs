//! Shadow runs: a new version of a plugin installed *beside* the running
//! one is called on the same live calls, its output compared with the
//! running version's and never applied. An admin sees how often the new
//! version would have answered differently (with examples), and its latency
//! and failures next to the running version's, then promotes or discards it.
//!
//! A shadow call is made right after the running version's call, with the
//! same input, the same config and limits, and the key-value data the
//! running call started from; its key-value writes are dropped; its
//! failures are its own (they never count toward disabling the running
//! version); its time is charged to the org's plugin time budget. The
//! comparison lives in memory (since the shadow was installed or the server
//! started); the shadow version itself is stored and survives restarts.

use super::storage::{PluginEventKind, PluginVersionRecord};
use super::{ActivePlugin, PluginRegistry, PluginView, RegistryError};
use crate::engine::LoadedComponent;
use crate::error::PluginError;
use crate::metrics::{MetricsSnapshot, PluginMetrics};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::OrgId;
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;

/// Differing calls kept as examples (the newest).
pub const SHADOW_EXAMPLES: usize = 20;
/// Longest answer kept in an example, in bytes of JSON.
const EXAMPLE_BYTES: usize = 4096;

/// A plugin's shadow version and what it has answered so far.
pub struct ShadowPlugin {
    pub version: PluginVersionRecord,
    pub component: Arc<LoadedComponent>,
    pub(crate) metrics: Arc<PluginMetrics>,
    pub(crate) log_budget: Arc<crate::log_budget::LogBudget>,
    since: i64,
    comparison: Mutex<Comparison>,
}

#[derive(Default)]
struct Comparison {
    compared: u64,
    differed: u64,
    examples: VecDeque<ShadowExample>,
}

/// One call where the shadow answered differently.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ShadowExample {
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// What the call was about (the message's id for the pipeline's calls).
    pub subject: Option<String>,
    /// The running version's answer as JSON, or `failed: …` (cut at 4 KiB).
    pub active: String,
    /// The shadow version's answer, the same way.
    pub shadow: String,
}

/// How a shadow version compares with the running one.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ShadowReport {
    pub plugin: String,
    pub active_version: PluginVersionRecord,
    pub shadow_version: PluginVersionRecord,
    /// Since when calls are compared (installed, or this server's start),
    /// milliseconds since the Unix epoch.
    pub since: i64,
    /// Calls both versions answered (or failed).
    pub compared: u64,
    /// Calls whose answers differed.
    pub differed: u64,
    /// `differed / compared` (0 before the first call).
    pub difference_rate: f64,
    /// The newest differing calls (at most 20), newest first.
    pub examples: Vec<ShadowExample>,
    /// The running version's calls (since it became the running one).
    pub active_metrics: MetricsSnapshot,
    /// The shadow's calls, failures and latency.
    pub shadow_metrics: MetricsSnapshot,
}

/// An installed shadow and what it answered on the golden set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShadowInstall {
    pub shadow: ShadowReport,
    pub upload_check: Vec<crate::golden::GoldenCase>,
}

impl ShadowPlugin {
    pub(super) fn new(version: PluginVersionRecord, component: Arc<LoadedComponent>) -> Self {
        Self {
            version,
            component,
            metrics: Arc::default(),
            log_budget: Arc::default(),
            since: now_ms(),
            comparison: Mutex::default(),
        }
    }

    /// Records one compared call.
    pub(crate) fn compare(&self, subject: Option<&str>, active: String, shadow: String) {
        let mut c = self.comparison.lock();
        c.compared += 1;
        if active == shadow {
            return;
        }
        c.differed += 1;
        if c.examples.len() == SHADOW_EXAMPLES {
            c.examples.pop_back();
        }
        c.examples.push_front(ShadowExample {
            at: now_ms(),
            subject: subject.map(str::to_owned),
            active: cut(active),
            shadow: cut(shadow),
        });
    }

    fn report(&self, active: &ActivePlugin) -> ShadowReport {
        let c = self.comparison.lock();
        ShadowReport {
            plugin: active.record.name.clone(),
            active_version: active.version.clone(),
            shadow_version: self.version.clone(),
            since: self.since,
            compared: c.compared,
            differed: c.differed,
            difference_rate: if c.compared == 0 {
                0.0
            } else {
                c.differed as f64 / c.compared as f64
            },
            examples: c.examples.iter().cloned().collect(),
            active_metrics: active.metrics.snapshot(),
            shadow_metrics: self.metrics.snapshot(),
        }
    }
}

/// A call's answer as compared: its JSON, or why it failed.
pub(crate) fn answer<T: Serialize>(result: &Result<T, PluginError>) -> String {
    match result {
        Ok(value) => {
            serde_json::to_string(value).unwrap_or_else(|e| format!("(answer not shown: {e})"))
        }
        Err(e) => format!("failed: {e}"),
    }
}

fn cut(mut text: String) -> String {
    if text.len() > EXAMPLE_BYTES {
        let mut end = EXAMPLE_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

impl PluginRegistry {
    /// Installs a component as the shadow of the installed plugin `name`
    /// (its metadata must name it; same kind, other bytes), after the same
    /// admission and golden set as an upload. A shadow already there is
    /// replaced; the same bytes again change nothing.
    pub async fn install_shadow(
        &self,
        org: &OrgId,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<ShadowInstall, RegistryError> {
        // Before compiling anything: a shadow needs the plugin installed.
        self.active(org, name).await?;
        let (component, metadata, bytes, upload_check) = self.admit_checked(org, bytes).await?;
        if metadata.name != name {
            return Err(RegistryError::Invalid(format!(
                "this component is the plugin `{}` (its metadata says so), not `{name}`",
                metadata.name
            )));
        }
        let plugins = self.org(org).await?;
        let _admin = plugins.admin.lock().await;
        let current = plugins
            .active
            .read()
            .get(&metadata.name)
            .cloned()
            .ok_or_else(|| RegistryError::NotFound(metadata.name.clone()))?;
        if current.kind() != metadata.kind {
            return Err(RegistryError::Conflict(format!(
                "`{}` is a {} plugin; this component is a {} plugin",
                metadata.name,
                current.kind(),
                metadata.kind
            )));
        }
        if current.version.sha256 == component.sha256 {
            return Err(RegistryError::Conflict(format!(
                "this component is the running version of `{}` ({}): a shadow must differ",
                metadata.name, current.version.metadata.version
            )));
        }
        if let Some(shadow) = current
            .shadow
            .as_ref()
            .filter(|s| s.version.sha256 == component.sha256)
        {
            return Ok(ShadowInstall {
                shadow: shadow.report(&current),
                upload_check,
            });
        }
        let version = self
            .store_version(org, &metadata, &component, &bytes)
            .await?;
        let mut record = current.record.clone();
        record.shadow_seq = Some(version.seq);
        self.storage.save_plugin(&record).await?;
        let message = format!(
            "version {} (#{}) runs as a shadow beside {}",
            version.metadata.version, version.seq, current.version.metadata.version
        );
        self.event(
            org,
            &metadata.name,
            PluginEventKind::ShadowInstalled,
            message,
        )
        .await;
        let mut next =
            current.successor(record, current.version.clone(), current.component.clone());
        next.shadow = Some(Arc::new(ShadowPlugin::new(version, component)));
        let next = Arc::new(next);
        plugins
            .active
            .write()
            .insert(metadata.name.clone(), next.clone());
        if let Some(shadow) = &next.shadow {
            self.keep_artifact(&shadow.component).await;
        }
        let report = next
            .shadow
            .as_ref()
            .map(|s| s.report(&next))
            .ok_or_else(|| RegistryError::Invalid("the shadow was not kept".into()))?;
        Ok(ShadowInstall {
            shadow: report,
            upload_check,
        })
    }

    /// How the plugin's shadow compares with its running version.
    pub async fn shadow_report(
        &self,
        org: &OrgId,
        name: &str,
    ) -> Result<ShadowReport, RegistryError> {
        let active = self.active(org, name).await?;
        active
            .shadow
            .as_ref()
            .map(|s| s.report(&active))
            .ok_or_else(|| no_shadow(name))
    }

    /// Makes the shadow the running version (the old one stays a rollback target).
    pub async fn promote_shadow(
        &self,
        org: &OrgId,
        name: &str,
    ) -> Result<PluginView, RegistryError> {
        let plugins = self.org(org).await?;
        let _admin = plugins.admin.lock().await;
        let current = plugins.running(name)?;
        let shadow = current.shadow.clone().ok_or_else(|| no_shadow(name))?;
        let mut record = current.record.clone();
        record.active_seq = shadow.version.seq;
        record.shadow_seq = None;
        self.storage.save_plugin(&record).await?;
        let report = shadow.report(&current);
        let message = format!(
            "shadow version {} (#{}) promoted over {} after {} compared calls, {} different",
            shadow.version.metadata.version,
            shadow.version.seq,
            current.version.metadata.version,
            report.compared,
            report.differed
        );
        self.event(org, name, PluginEventKind::ShadowPromoted, message)
            .await;
        let next =
            Arc::new(current.successor(record, shadow.version.clone(), shadow.component.clone()));
        plugins.active.write().insert(name.to_owned(), next.clone());
        self.collect_after_change().await;
        Ok(self.view(&next))
    }

    /// Stops the shadow; its version stays in the plugin's versions.
    pub async fn discard_shadow(&self, org: &OrgId, name: &str) -> Result<(), RegistryError> {
        let current = self.active(org, name).await?;
        let shadow = current.shadow.clone().ok_or_else(|| no_shadow(name))?;
        let message = format!(
            "shadow version {} (#{}) discarded",
            shadow.version.metadata.version, shadow.version.seq
        );
        self.update(
            org,
            name,
            (PluginEventKind::ShadowDiscarded, message),
            |record| {
                record.shadow_seq = None;
                Ok(())
            },
        )
        .await?;
        self.collect_after_change().await;
        Ok(())
    }

    /// The shadow a stored record names, loaded; `None` (and an event) if it
    /// cannot be: the running version must not depend on its shadow.
    pub(super) async fn restore_shadow(&self, active: &ActivePlugin) -> Option<Arc<ShadowPlugin>> {
        let seq = active.record.shadow_seq?;
        let (org, name) = (&active.record.org, &active.record.name);
        let loaded = async {
            let version = self
                .storage
                .list_versions(org, name)
                .await?
                .into_iter()
                .find(|v| v.seq == seq)
                .ok_or_else(|| RegistryError::NotFound(format!("{name} version #{seq}")))?;
            let component = self.load_version(&version).await?;
            Ok::<_, RegistryError>(ShadowPlugin::new(version, component))
        };
        match loaded.await {
            Ok(shadow) => Some(Arc::new(shadow)),
            Err(e) => {
                let message = format!("the shadow version #{seq} cannot be loaded: {e}");
                self.event(org, name, PluginEventKind::Failure, message)
                    .await;
                None
            }
        }
    }
}

fn no_shadow(name: &str) -> RegistryError {
    RegistryError::NoShadow(name.to_owned())
}
