//! The persistence the plugin registry needs, as a small trait so the
//! registry does not depend on a database. `store` implements it on SQLite
//! and PostgreSQL; `memory` implements it for the runtime's own unit tests.

use crate::limits::Limits;
use crate::metadata::PluginMetadata;
use async_trait::async_trait;
use mailroom_core::destinations::DestinationPolicy;
use mailroom_core::ids::{OrgId, UserId};
use mailroom_core::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Who in an org a plugin runs for: a phased rollout reaches selected users first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(tag = "mode", content = "users", rename_all = "snake_case")]
pub enum Rollout {
    #[default]
    Everyone,
    Users(Vec<UserId>),
}

impl Rollout {
    /// Whether the plugin runs for `user` (`None`: org-wide work with no user, e.g. a shared mailbox).
    pub fn includes(&self, user: Option<&UserId>) -> bool {
        match self {
            Rollout::Everyone => true,
            Rollout::Users(users) => user.is_some_and(|u| users.contains(u)),
        }
    }
}

/// One installed plugin of one org. `name` (from its metadata) is its identity
/// in the org; uploading a component with the same name adds a version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PluginRecord {
    pub org: OrgId,
    pub name: String,
    pub kind: crate::PluginKind,
    /// Sequence number of the version that runs (see [`PluginVersionRecord::seq`]).
    pub active_seq: i64,
    /// A version running beside it on live traffic, its output compared and
    /// never applied, until an admin promotes or discards it (`shadow.rs`).
    pub shadow_seq: Option<i64>,
    pub enabled: bool,
    pub rollout: Rollout,
    /// Order among plugins of the same kind; lower runs first.
    pub position: i64,
    pub config: BTreeMap<String, String>,
    /// Config values held as secrets: sealed at rest, write-only through the
    /// API, given to the plugin only. Shown as their keys (`secret_keys`).
    #[serde(
        rename = "secret_keys",
        serialize_with = "keys_only",
        skip_deserializing
    )]
    #[schema(value_type = Vec<String>)]
    pub secret_config: BTreeMap<String, Secret>,
    /// Per-plugin overrides of the org's limits.
    pub limits: Option<Limits>,
    /// The hosts an admin let this plugin reach over HTTPS (`outbound`);
    /// `None`: every request it makes is refused.
    #[serde(default)]
    pub outbound_http: Option<crate::outbound::OutboundGrant>,
    /// Why the host disabled it, when it did (e.g. after repeated failures).
    pub disabled_reason: Option<String>,
    pub consecutive_failures: u32,
}

/// A map shown by its keys alone: how secret config appears to anyone but the plugin.
fn keys_only<S: serde::Serializer, V>(
    map: &BTreeMap<String, V>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(map.keys())
}

/// One uploaded version of a plugin. Versions are kept for rollback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PluginVersionRecord {
    pub org: OrgId,
    pub name: String,
    /// Increases by one per upload of this plugin in this org.
    pub seq: i64,
    /// sha256 of the component bytes, hex; the blob's key.
    pub sha256: String,
    /// Contract version the component targets, e.g. `0.1.0`.
    pub contract: String,
    pub metadata: PluginMetadata,
    pub size_bytes: u64,
    /// Milliseconds since the Unix epoch.
    pub installed_at: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PluginEventKind {
    Installed,
    Upgraded,
    RolledBack,
    Enabled,
    Disabled,
    AutoDisabled,
    ConfigChanged,
    Removed,
    Failure,
    ShadowInstalled,
    ShadowPromoted,
    ShadowDiscarded,
}

/// Something an admin should be able to see happened to a plugin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PluginEvent {
    pub org: OrgId,
    pub plugin: String,
    pub kind: PluginEventKind,
    pub message: String,
    pub at: i64,
}

/// A change to a plugin's key-value store, applied after a successful call.
#[derive(Clone, Debug, PartialEq)]
pub enum KvChange {
    Set(String, Vec<u8>),
    Delete(String),
}

/// Applies `changes` in order to an in-memory copy of a plugin's data.
pub fn apply_kv_changes(map: &mut BTreeMap<String, Vec<u8>>, changes: &[KvChange]) {
    for change in changes {
        match change {
            KvChange::Set(k, v) => {
                map.insert(k.clone(), v.clone());
            }
            KvChange::Delete(k) => {
                map.remove(k);
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("plugin storage: {0}")]
pub struct StorageError(pub String);

/// Persistence for the registry. Every method is scoped by org where the
/// data belongs to one; blobs are shared content-addressed bytes (a blob is
/// only reachable through a version record of the caller's org).
#[async_trait]
pub trait RegistryStorage: Send + Sync + 'static {
    async fn put_blob(&self, sha256: &str, bytes: &[u8]) -> Result<(), StorageError>;
    async fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StorageError>;

    async fn list_plugins(&self, org: &OrgId) -> Result<Vec<PluginRecord>, StorageError>;
    /// Insert or replace the record keyed by (org, name).
    async fn save_plugin(&self, record: &PluginRecord) -> Result<(), StorageError>;
    /// Removes the plugin, its versions, its key-value data.
    async fn delete_plugin(&self, org: &OrgId, name: &str) -> Result<(), StorageError>;

    async fn add_version(&self, version: &PluginVersionRecord) -> Result<(), StorageError>;
    /// Oldest first.
    async fn list_versions(
        &self,
        org: &OrgId,
        name: &str,
    ) -> Result<Vec<PluginVersionRecord>, StorageError>;

    /// The sha256 of every plugin's running version, in every org: the
    /// components whose precompiled artifacts are worth keeping.
    async fn running_components(&self) -> Result<Vec<String>, StorageError>;

    async fn kv_load(
        &self,
        org: &OrgId,
        plugin: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError>;
    async fn kv_apply(
        &self,
        org: &OrgId,
        plugin: &str,
        changes: &[KvChange],
    ) -> Result<(), StorageError>;

    async fn record_event(&self, event: &PluginEvent) -> Result<(), StorageError>;

    /// Where the org lets connections go: binds plugins' outbound HTTP as
    /// it binds accounts and webhooks.
    async fn destination_policy(&self, org: &OrgId) -> Result<DestinationPolicy, StorageError>;
    /// Newest first; `plugin = None` lists the org's events for every plugin.
    async fn list_events(
        &self,
        org: &OrgId,
        plugin: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PluginEvent>, StorageError>;
}
