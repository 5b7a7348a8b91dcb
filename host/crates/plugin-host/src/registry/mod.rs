//! The per-org plugin registry: what each org installed, which version runs,
//! for whom, with which config — and the admin operations on it (install,
//! enable/disable, phased rollout, config, order, limits, rollback, remove).
//!
//! Each org's running plugins are a map of `Arc<ActivePlugin>`; an operation
//! swaps in a new `Arc`, so calls already in flight finish on the version they
//! started with (hot swap without restart). Persistence goes through
//! [`RegistryStorage`]; installing lives in [`install`], the admin's changes
//! to an installed plugin in
//! [`admin`], calling plugins and failure accounting in [`runtime`], a new
//! version compared beside the running one in [`shadow`].

mod admin;
mod artifacts;
mod chain;
mod install;
pub mod memory;
mod runtime;
pub use chain::PluginChain;
pub mod shadow;
pub mod storage;

use self::shadow::ShadowPlugin;

use self::storage::{
    PluginEvent, PluginEventKind, PluginRecord, PluginVersionRecord, RegistryStorage, StorageError,
};
use super::PluginKind;
use super::budget::{CpuBudget, OrgBudgets};
use super::engine::{LoadedComponent, PluginEngine};
use super::error::PluginError;
use super::limits::{KvLimits, Limits};
use super::metadata::PluginMetadata;
use super::metrics::{MetricsSnapshot, PluginMetrics};
use super::outbound::{OutboundAccess, OutboundClients};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::OrgId;
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicU32;

#[derive(Clone, Debug)]
pub struct RegistrySettings {
    /// Consecutive failures after which a plugin is disabled for the org.
    pub failure_threshold: u32,
    pub default_limits: Limits,
    pub kv_limits: KvLimits,
    /// Largest component accepted at upload.
    pub max_component_bytes: u64,
    /// Longest a component may take to compile at upload (`artifacts.rs`).
    pub compile_timeout: std::time::Duration,
    /// Most components compiling at once.
    pub max_concurrent_compiles: usize,
    /// Run every upload through the golden set (`golden`) and refuse one
    /// that fails it. Off only where a test installs a plugin that is
    /// meant to fail at run time.
    pub upload_check: bool,
    /// Plugin time each org may use (over all its plugins); the pipeline
    /// waits for it before an org's next message. `None`: unlimited.
    pub cpu_budget: Option<CpuBudget>,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            failure_threshold: mailroom_core::plugin_limits::DEFAULT_FAILURE_THRESHOLD,
            default_limits: Limits::default(),
            kv_limits: KvLimits::default(),
            max_component_bytes: 64 << 20,
            compile_timeout: std::time::Duration::from_secs(60),
            max_concurrent_compiles: 2,
            upload_check: true,
            cpu_budget: Some(CpuBudget::per_minute(std::time::Duration::from_secs(
                mailroom_core::plugin_limits::DEFAULT_CPU_SECONDS_PER_MINUTE,
            ))),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Rejected(#[from] PluginError),
    #[error("no plugin named `{0}` is installed in this org")]
    NotFound(String),
    #[error("`{0}` has no shadow version: upload one with `POST /v1/plugins/{0}/shadow`")]
    NoShadow(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the component is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error(transparent)]
    UploadCheck(#[from] crate::golden::GoldenFailure),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The key-value data of one (org, plugin), shared by all its versions:
/// what calls start from, and a lock that puts its saves in one order, so
/// the stored data and this copy apply the same changes in the same order.
#[derive(Debug, Default)]
pub(crate) struct KvCell {
    data: Mutex<crate::kv::KvData>,
    saving: tokio::sync::Mutex<()>,
}

impl KvCell {
    fn new(data: BTreeMap<String, Vec<u8>>) -> Self {
        Self {
            data: Mutex::new(Arc::new(data)),
            saving: tokio::sync::Mutex::default(),
        }
    }
}

/// One plugin of one org as it runs now.
pub struct ActivePlugin {
    pub record: PluginRecord,
    pub version: PluginVersionRecord,
    pub component: Arc<LoadedComponent>,
    pub(crate) kv: Arc<KvCell>,
    pub(crate) metrics: Arc<PluginMetrics>,
    pub(crate) log_budget: Arc<crate::log_budget::LogBudget>,
    pub(crate) consecutive_failures: Arc<AtomicU32>,
    /// A version called beside this one and compared (`shadow.rs`).
    pub(crate) shadow: Option<Arc<ShadowPlugin>>,
    /// Its HTTPS clients, kept across calls and versions (`outbound`).
    pub(crate) outbound_clients: Arc<OutboundClients>,
    /// What its grant lets it reach, parsed once per grant.
    pub(crate) outbound: Option<Arc<OutboundAccess>>,
}

impl ActivePlugin {
    pub fn name(&self) -> &str {
        &self.record.name
    }
    pub fn kind(&self) -> PluginKind {
        self.record.kind
    }

    /// The access `record`'s grant gives, through `clients`.
    fn outbound_access(
        record: &PluginRecord,
        clients: &Arc<OutboundClients>,
    ) -> Option<Arc<OutboundAccess>> {
        record
            .outbound_http
            .clone()
            .map(|grant| Arc::new(OutboundAccess::new(grant, clients.clone())))
    }
    /// The same plugin with another record or version: its key-value data
    /// and failure streak carry over; its metrics too unless the version
    /// changes (each version's calls are its own, so an upgrade can be
    /// compared with what it replaced).
    fn successor(
        &self,
        record: PluginRecord,
        version: PluginVersionRecord,
        component: Arc<LoadedComponent>,
    ) -> Self {
        let metrics = if version.seq == self.version.seq {
            self.metrics.clone()
        } else {
            Arc::default()
        };
        // Kept while the record still names it: promoting or discarding
        // clears `shadow_seq`.
        let shadow = self
            .shadow
            .clone()
            .filter(|s| record.shadow_seq == Some(s.version.seq));
        let outbound = Self::outbound_access(&record, &self.outbound_clients);
        Self {
            record,
            version,
            component,
            kv: self.kv.clone(),
            metrics,
            log_budget: self.log_budget.clone(),
            consecutive_failures: self.consecutive_failures.clone(),
            shadow,
            outbound_clients: self.outbound_clients.clone(),
            outbound,
        }
    }
}

/// An org's plugins: the running set, and a lock that serialises admin changes.
#[derive(Default)]
struct OrgPlugins {
    active: RwLock<BTreeMap<String, Arc<ActivePlugin>>>,
    admin: tokio::sync::Mutex<()>,
}

impl OrgPlugins {
    /// The running plugin `name`.
    fn running(&self, name: &str) -> Result<Arc<ActivePlugin>, RegistryError> {
        self.active
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| RegistryError::NotFound(name.into()))
    }
}

/// What the API shows of one plugin.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PluginView {
    #[serde(flatten)]
    pub record: PluginRecord,
    pub active_version: PluginVersionRecord,
    /// Calls of the running version (since it became the running one).
    pub metrics: MetricsSnapshot,
}

/// An installed plugin and what it answered on the golden set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckedInstall {
    #[serde(flatten)]
    pub plugin: PluginView,
    /// Each golden case the upload ran, in order.
    pub upload_check: Vec<crate::golden::GoldenCase>,
}

pub struct PluginRegistry {
    engine: Arc<PluginEngine>,
    storage: Arc<dyn RegistryStorage>,
    settings: RegistrySettings,
    orgs: RwLock<HashMap<OrgId, Arc<OrgPlugins>>>,
    /// Serialises first loads of an org from storage.
    loading: tokio::sync::Mutex<()>,
    /// Turns to compile (`artifacts.rs`).
    compiles: Arc<tokio::sync::Semaphore>,
    /// Plugin time per org, charged by every call (`runtime.rs`, `chain.rs`).
    budgets: Arc<OrgBudgets>,
}

impl PluginRegistry {
    pub fn new(
        engine: Arc<PluginEngine>,
        storage: Arc<dyn RegistryStorage>,
        settings: RegistrySettings,
    ) -> Arc<Self> {
        let compiles = Arc::new(tokio::sync::Semaphore::new(
            settings.max_concurrent_compiles.max(1),
        ));
        Arc::new(Self {
            engine,
            storage,
            budgets: Arc::new(OrgBudgets::new(settings.cpu_budget)),
            settings,
            orgs: RwLock::default(),
            loading: Default::default(),
            compiles,
        })
    }

    /// Every org's plugin time and what is left of its budget.
    pub fn budgets(&self) -> &OrgBudgets {
        &self.budgets
    }

    pub fn engine(&self) -> &Arc<PluginEngine> {
        &self.engine
    }

    pub fn settings(&self) -> &RegistrySettings {
        &self.settings
    }

    pub async fn list(&self, org: &OrgId) -> Result<Vec<PluginView>, RegistryError> {
        let plugins = self.org(org).await?;
        let mut views: Vec<_> = plugins
            .active
            .read()
            .values()
            .map(|p| self.view(p))
            .collect();
        views.sort_by(|a, b| {
            (a.record.kind.as_str(), a.record.position, &a.record.name).cmp(&(
                b.record.kind.as_str(),
                b.record.position,
                &b.record.name,
            ))
        });
        Ok(views)
    }

    pub async fn get(&self, org: &OrgId, name: &str) -> Result<PluginView, RegistryError> {
        Ok(self.view(&*self.active(org, name).await?))
    }

    pub async fn versions(
        &self,
        org: &OrgId,
        name: &str,
    ) -> Result<Vec<PluginVersionRecord>, RegistryError> {
        self.active(org, name).await?;
        Ok(self.storage.list_versions(org, name).await?)
    }

    pub async fn events(
        &self,
        org: &OrgId,
        name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PluginEvent>, RegistryError> {
        Ok(self.storage.list_events(org, name, limit).await?)
    }

    async fn active(&self, org: &OrgId, name: &str) -> Result<Arc<ActivePlugin>, RegistryError> {
        self.org(org).await?.running(name)
    }

    fn view(&self, plugin: &ActivePlugin) -> PluginView {
        PluginView {
            record: plugin.record.clone(),
            active_version: plugin.version.clone(),
            metrics: plugin.metrics.snapshot(),
        }
    }

    async fn event(&self, org: &OrgId, plugin: &str, kind: PluginEventKind, message: String) {
        let event = PluginEvent {
            org: org.clone(),
            plugin: plugin.to_owned(),
            kind,
            message,
            at: now_ms(),
        };
        tracing::info!(org = %org, plugin, kind = ?kind, "{}", event.message);
        if let Err(e) = self.storage.record_event(&event).await {
            tracing::warn!(org = %org, plugin, error = %e, "could not record plugin event");
        }
    }

    /// The org's plugins, loaded from storage on first use.
    async fn org(&self, org: &OrgId) -> Result<Arc<OrgPlugins>, RegistryError> {
        if let Some(p) = self.orgs.read().get(org) {
            return Ok(p.clone());
        }
        let _loading = self.loading.lock().await;
        if let Some(p) = self.orgs.read().get(org) {
            return Ok(p.clone());
        }
        let plugins = Arc::new(OrgPlugins::default());
        for record in self.storage.list_plugins(org).await? {
            match self.restore(&record).await {
                Ok(active) => {
                    plugins
                        .active
                        .write()
                        .insert(record.name.clone(), Arc::new(active));
                }
                Err(e) => {
                    // One unloadable plugin must not take the org's others down.
                    tracing::error!(org = %org, plugin = %record.name, error = %e, "cannot load installed plugin");
                    self.event(
                        org,
                        &record.name,
                        PluginEventKind::Failure,
                        format!("cannot be loaded: {e}"),
                    )
                    .await;
                }
            }
        }
        self.orgs.write().insert(org.clone(), plugins.clone());
        Ok(plugins)
    }

    async fn restore(&self, record: &PluginRecord) -> Result<ActivePlugin, RegistryError> {
        let versions = self
            .storage
            .list_versions(&record.org, &record.name)
            .await?;
        let version = versions
            .into_iter()
            .find(|v| v.seq == record.active_seq)
            .ok_or_else(|| {
                RegistryError::NotFound(format!("{} version #{}", record.name, record.active_seq))
            })?;
        let component = self.load_version(&version).await?;
        let kv = self.storage.kv_load(&record.org, &record.name).await?;
        let outbound_clients = OutboundClients::new(self.storage.clone());
        let mut active = ActivePlugin {
            outbound: ActivePlugin::outbound_access(record, &outbound_clients),
            outbound_clients,
            record: record.clone(),
            version,
            component,
            kv: Arc::new(KvCell::new(kv.into_iter().collect())),
            metrics: Arc::default(),
            log_budget: Arc::default(),
            consecutive_failures: Arc::new(AtomicU32::new(record.consecutive_failures)),
            shadow: None,
        };
        active.shadow = self.restore_shadow(&active).await;
        Ok(active)
    }

    async fn load_version(
        &self,
        version: &PluginVersionRecord,
    ) -> Result<Arc<LoadedComponent>, RegistryError> {
        let bytes = self
            .storage
            .get_blob(&version.sha256)
            .await?
            .ok_or_else(|| StorageError(format!("component blob {} is missing", version.sha256)))?;
        let loaded = self.compile(bytes.into()).await?;
        // Installed before: it was admitted, and runs again.
        self.keep_artifact(&loaded).await;
        Ok(loaded)
    }

    /// Running plugins of a kind for a user, in order (`user = None`: org-wide work).
    pub async fn plugins_for(
        &self,
        org: &OrgId,
        kind: PluginKind,
        user: Option<&mailroom_core::ids::UserId>,
    ) -> Result<Vec<Arc<ActivePlugin>>, RegistryError> {
        let plugins = self.org(org).await?;
        let mut found: Vec<_> = plugins
            .active
            .read()
            .values()
            .filter(|p| p.kind() == kind && p.record.enabled && p.record.rollout.includes(user))
            .cloned()
            .collect();
        found.sort_by(|a, b| {
            (a.record.position, &a.record.name).cmp(&(b.record.position, &b.record.name))
        });
        Ok(found)
    }
}

/// Checks that a component's metadata tells the truth about it (the
/// range of each field was checked when `metadata` returned: `validate`);
/// upload applies it, and `mailroom plugin check` with it.
pub fn validate_metadata(
    meta: &PluginMetadata,
    component: &LoadedComponent,
) -> Result<(), PluginError> {
    if meta.kind != component.world.kind {
        return Err(PluginError::InvalidMetadata(format!(
            "it says it is a {} plugin, but it implements the {} world ({})",
            meta.kind,
            component.world.kind,
            component.world.name()
        )));
    }
    Ok(())
}
