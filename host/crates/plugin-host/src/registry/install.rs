//! Installing a plugin: the size limit, admission (compile, contract,
//! metadata), the golden set, storing the version, and making it the running
//! one (a new plugin, or an upgrade whose predecessor stays a rollback target).

use super::storage::{PluginEventKind, PluginRecord, PluginVersionRecord, Rollout};
use super::{
    ActivePlugin, CheckedInstall, PluginRegistry, PluginView, RegistryError, validate_metadata,
};
use crate::engine::LoadedComponent;
use crate::invoke::Call;
use crate::metadata::PluginMetadata;
use crate::outbound::OutboundClients;
use crate::state::PluginScope;
use mailroom_core::clock::now_ms;
use mailroom_core::ids::OrgId;
use std::collections::BTreeMap;
use std::sync::Arc;

impl PluginRegistry {
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
        let (component, metadata, bytes, upload_check) = self.admit_checked(org, bytes).await?;
        let plugin = self.activate(org, component, metadata, bytes).await?;
        Ok(CheckedInstall {
            plugin,
            upload_check,
        })
    }

    /// What every upload goes through: the size limit, admission and the
    /// golden set (when the upload check is on).
    pub(super) async fn admit_checked(
        &self,
        org: &OrgId,
        bytes: Vec<u8>,
    ) -> Result<
        (
            Arc<LoadedComponent>,
            PluginMetadata,
            Arc<[u8]>,
            Vec<crate::golden::GoldenCase>,
        ),
        RegistryError,
    > {
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
        Ok((component, metadata, bytes, upload_check))
    }

    /// Stores a component's bytes and a new version record for it (the next
    /// sequence number of the plugin's versions).
    pub(super) async fn store_version(
        &self,
        org: &OrgId,
        metadata: &PluginMetadata,
        component: &LoadedComponent,
        bytes: &[u8],
    ) -> Result<PluginVersionRecord, RegistryError> {
        let versions = self.storage.list_versions(org, &metadata.name).await?;
        self.storage.put_blob(&component.sha256, bytes).await?;
        let version = PluginVersionRecord {
            org: org.clone(),
            name: metadata.name.clone(),
            seq: versions.iter().map(|v| v.seq).max().unwrap_or(0) + 1,
            sha256: component.sha256.clone(),
            contract: component.world.version.to_owned(),
            metadata: metadata.clone(),
            size_bytes: bytes.len() as u64,
            installed_at: now_ms(),
        };
        self.storage.add_version(&version).await?;
        Ok(version)
    }

    /// Stores an admitted component and makes it the running version.
    async fn activate(
        &self,
        org: &OrgId,
        component: Arc<LoadedComponent>,
        metadata: PluginMetadata,
        bytes: Arc<[u8]>,
    ) -> Result<PluginView, RegistryError> {
        let size = bytes.len() as u64;
        let plugins = self.org(org).await?;
        let _admin = plugins.admin.lock().await;

        let existing = plugins.active.read().get(&metadata.name).cloned();
        if let Some(current) = &existing {
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
        }
        let version = self
            .store_version(org, &metadata, &component, &bytes)
            .await?;

        let (active, event) = match existing {
            Some(current) => {
                let mut record = current.record.clone();
                record.active_seq = version.seq;
                // Uploading the shadow's bytes as a plugin promotes it.
                if current
                    .shadow
                    .as_ref()
                    .is_some_and(|s| s.version.sha256 == version.sha256)
                {
                    record.shadow_seq = None;
                }
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
                    shadow_seq: None,
                    enabled: true,
                    rollout: Rollout::Everyone,
                    position,
                    config: BTreeMap::new(),
                    secret_config: BTreeMap::new(),
                    limits: None,
                    outbound_http: None,
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
                    shadow: None,
                    outbound_clients: OutboundClients::new(self.storage.clone()),
                    outbound: None,
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
}
