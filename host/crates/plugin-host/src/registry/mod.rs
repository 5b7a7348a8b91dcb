//! The per-org plugin registry: what each org installed, which version runs,
//! for whom, with which config — and the admin operations on it (install,
//! enable/disable, phased rollout, config, order, limits, rollback, remove).
//!
//! Each org's running plugins are a map of `Arc<ActivePlugin>`; an operation
//! swaps in a new `Arc`, so calls already in flight finish on the version they
//! started with (hot swap without restart). Persistence goes through
//! [`RegistryStorage`]; the admin's changes to an installed plugin live in
//! [`admin`], calling plugins and failure accounting in [`runtime`].

mod admin;
mod artifacts;
mod chain;
pub mod memory;
mod runtime;
pub use chain::PluginChain;
pub mod storage;

use self::storage::{
    PluginEvent, PluginEventKind, PluginRecord, PluginVersionRecord, RegistryStorage, Rollout,
    StorageError,
};
use super::PluginKind;
use super::engine::{LoadedComponent, PluginEngine};
use super::error::PluginError;
use super::invoke::Call;
use super::limits::{KvLimits, Limits};
use super::metadata::{Permission, PluginMetadata};
use super::metrics::{MetricsSnapshot, PluginMetrics};
use super::state::PluginScope;
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
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Rejected(#[from] PluginError),
    #[error("no plugin named `{0}` is installed in this org")]
    NotFound(String),
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
}

impl ActivePlugin {
    pub fn name(&self) -> &str {
        &self.record.name
    }
    pub fn kind(&self) -> PluginKind {
        self.record.kind
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
        Self {
            record,
            version,
            component,
            kv: self.kv.clone(),
            metrics,
            log_budget: self.log_budget.clone(),
            consecutive_failures: self.consecutive_failures.clone(),
        }
    }

    fn wants_kv(&self) -> bool {
        self.version
            .metadata
            .permissions
            .contains(&Permission::KeyValue)
    }
}

/// An org's plugins: the running set, and a lock that serialises admin changes.
#[derive(Default)]
struct OrgPlugins {
    active: RwLock<BTreeMap<String, Arc<ActivePlugin>>>,
    admin: tokio::sync::Mutex<()>,
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
            settings,
            orgs: RwLock::default(),
            loading: Default::default(),
            compiles,
        })
    }

    pub fn engine(&self) -> &Arc<PluginEngine> {
        &self.engine
    }

    pub fn settings(&self) -> &RegistrySettings {
        &self.settings
    }

    /// Validates, admits, stores and activates a component. Uploading a
    /// component whose metadata names an installed plugin adds a version and
    /// makes it the running one (upgrade); identical bytes are a no-op.
    pub async fn install(&self, org: &OrgId, bytes: Vec<u8>) -> Result<PluginView, RegistryError> {
        Ok(self.install_checked(org, bytes).await?.plugin)
    }

    /// [`install`](Self::install), with what the plugin answered on each
    /// case of the golden set (empty when the upload check is off).
    pub async fn install_checked(
        &self,
        org: &OrgId,
        bytes: Vec<u8>,
    ) -> Result<CheckedInstall, RegistryError> {
        let size = bytes.len() as u64;
        if size > self.settings.max_component_bytes {
            return Err(RegistryError::TooLarge {
                size,
                limit: self.settings.max_component_bytes,
            });
        }
        let (component, metadata, bytes) = self.admit(org, bytes).await?;
        let upload_check = if self.settings.upload_check {
            crate::golden::run(&self.engine, &component, org, self.settings.default_limits).await?
        } else {
            Vec::new()
        };
        let plugin = self.activate(org, component, metadata, bytes, size).await?;
        Ok(CheckedInstall {
            plugin,
            upload_check,
        })
    }

    /// Stores an admitted component and makes it the running version.
    async fn activate(
        &self,
        org: &OrgId,
        component: Arc<LoadedComponent>,
        metadata: PluginMetadata,
        bytes: Arc<[u8]>,
        size: u64,
    ) -> Result<PluginView, RegistryError> {
        let plugins = self.org(org).await?;
        let _admin = plugins.admin.lock().await;

        let existing = plugins.active.read().get(&metadata.name).cloned();
        let versions = match &existing {
            Some(current) => {
                if current.kind() != metadata.kind {
                    return Err(RegistryError::Conflict(format!(
                        "a {} plugin named `{}` is already installed; this component is a {} plugin: \
                         give it another name or remove the installed one first",
                        current.kind(),
                        metadata.name,
                        metadata.kind
                    )));
                }
                if current.version.sha256 == component.sha256 {
                    return Ok(self.view(current));
                }
                self.storage.list_versions(org, &metadata.name).await?
            }
            None => Vec::new(),
        };

        self.storage.put_blob(&component.sha256, &bytes).await?;
        let version = PluginVersionRecord {
            org: org.clone(),
            name: metadata.name.clone(),
            seq: versions.iter().map(|v| v.seq).max().unwrap_or(0) + 1,
            sha256: component.sha256.clone(),
            contract: component.world.version.to_owned(),
            metadata: metadata.clone(),
            size_bytes: size,
            installed_at: now_ms(),
        };
        self.storage.add_version(&version).await?;

        let (active, event) = match existing {
            Some(current) => {
                let mut record = current.record.clone();
                record.active_seq = version.seq;
                let msg = format!(
                    "upgraded from {} to {}",
                    current.version.metadata.version, metadata.version
                );
                let next = current.successor(record, version, component);
                (next, (PluginEventKind::Upgraded, msg))
            }
            None => {
                let position = plugins
                    .active
                    .read()
                    .values()
                    .filter(|p| p.kind() == metadata.kind)
                    .map(|p| p.record.position + 1)
                    .max()
                    .unwrap_or(0);
                let record = PluginRecord {
                    org: org.clone(),
                    name: metadata.name.clone(),
                    kind: metadata.kind,
                    active_seq: version.seq,
                    enabled: true,
                    rollout: Rollout::Everyone,
                    position,
                    config: BTreeMap::new(),
                    secret_config: BTreeMap::new(),
                    limits: None,
                    disabled_reason: None,
                    consecutive_failures: 0,
                };
                let msg = format!("installed version {} ({} bytes)", metadata.version, size);
                let new = ActivePlugin {
                    record,
                    version,
                    component,
                    kv: Arc::default(),
                    metrics: Arc::default(),
                    log_budget: Arc::default(),
                    consecutive_failures: Arc::default(),
                };
                (new, (PluginEventKind::Installed, msg))
            }
        };
        self.storage.save_plugin(&active.record).await?;
        self.event(org, &active.record.name, event.0, event.1).await;
        let active = Arc::new(active);
        let upgraded = plugins
            .active
            .write()
            .insert(metadata.name, active.clone())
            .is_some();
        self.keep_artifact(&active.component).await;
        if upgraded {
            self.collect_after_change().await;
        }
        Ok(self.view(&active))
    }

    /// Loads the component and runs its `metadata`, checking what it claims.
    async fn admit(
        &self,
        org: &OrgId,
        bytes: Vec<u8>,
    ) -> Result<(Arc<LoadedComponent>, PluginMetadata, Arc<[u8]>), RegistryError> {
        let scope = Arc::new(PluginScope::isolated(org.clone(), "(admission)"));
        let limits = self.settings.default_limits;
        let bytes: Arc<[u8]> = bytes.into();
        let component = self.compile(bytes.clone()).await?;
        let metadata = Call {
            engine: &self.engine,
            component: &component,
            scope,
            limits,
        }
        .metadata()
        .await
        .result?;
        validate_metadata(&metadata, &component)?;
        Ok((component, metadata, bytes))
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
        self.org(org)
            .await?
            .active
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| RegistryError::NotFound(name.into()))
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
        Ok(ActivePlugin {
            record: record.clone(),
            version,
            component,
            kv: Arc::new(KvCell::new(kv.into_iter().collect())),
            metrics: Arc::default(),
            log_budget: Arc::default(),
            consecutive_failures: Arc::new(AtomicU32::new(record.consecutive_failures)),
        })
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
