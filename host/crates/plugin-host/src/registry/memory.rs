//! An in-memory [`RegistryStorage`] for the runtime's own tests and for
//! one-off CLI runs. The product uses the SQL store.

use super::storage::*;
use async_trait::async_trait;
use mailroom_core::destinations::DestinationPolicy;
use mailroom_core::ids::OrgId;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub struct InMemoryStorage {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    blobs: HashMap<String, Vec<u8>>,
    plugins: BTreeMap<(OrgId, String), PluginRecord>,
    versions: BTreeMap<(OrgId, String), Vec<PluginVersionRecord>>,
    kv: BTreeMap<(OrgId, String), BTreeMap<String, Vec<u8>>>,
    events: Vec<PluginEvent>,
    destinations: HashMap<OrgId, DestinationPolicy>,
}

impl InMemoryStorage {
    /// Sets where `org`'s plugins may connect (the default: public addresses only).
    pub fn set_destination_policy(&self, org: &OrgId, policy: DestinationPolicy) {
        self.inner.lock().destinations.insert(org.clone(), policy);
    }
}

fn key(org: &OrgId, name: &str) -> (OrgId, String) {
    (org.clone(), name.to_owned())
}

#[async_trait]
impl RegistryStorage for InMemoryStorage {
    async fn put_blob(&self, sha256: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.inner
            .lock()
            .blobs
            .entry(sha256.to_owned())
            .or_insert_with(|| bytes.to_vec());
        Ok(())
    }

    async fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.inner.lock().blobs.get(sha256).cloned())
    }

    async fn list_plugins(&self, org: &OrgId) -> Result<Vec<PluginRecord>, StorageError> {
        Ok(self
            .inner
            .lock()
            .plugins
            .values()
            .filter(|p| &p.org == org)
            .cloned()
            .collect())
    }

    async fn save_plugin(&self, record: &PluginRecord) -> Result<(), StorageError> {
        self.inner
            .lock()
            .plugins
            .insert(key(&record.org, &record.name), record.clone());
        Ok(())
    }

    async fn delete_plugin(&self, org: &OrgId, name: &str) -> Result<(), StorageError> {
        let mut inner = self.inner.lock();
        inner.plugins.remove(&key(org, name));
        inner.versions.remove(&key(org, name));
        inner.kv.remove(&key(org, name));
        Ok(())
    }

    async fn add_version(&self, version: &PluginVersionRecord) -> Result<(), StorageError> {
        self.inner
            .lock()
            .versions
            .entry(key(&version.org, &version.name))
            .or_default()
            .push(version.clone());
        Ok(())
    }

    async fn list_versions(
        &self,
        org: &OrgId,
        name: &str,
    ) -> Result<Vec<PluginVersionRecord>, StorageError> {
        Ok(self
            .inner
            .lock()
            .versions
            .get(&key(org, name))
            .cloned()
            .unwrap_or_default())
    }

    async fn running_components(&self) -> Result<Vec<String>, StorageError> {
        let inner = self.inner.lock();
        let mut running: Vec<String> = inner
            .plugins
            .iter()
            .filter_map(|(k, p)| inner.versions.get(k).map(|versions| (versions, p)))
            .flat_map(|(versions, p)| {
                versions
                    .iter()
                    .filter(|v| v.seq == p.active_seq || Some(v.seq) == p.shadow_seq)
                    .map(|v| v.sha256.clone())
            })
            .collect();
        running.sort();
        running.dedup();
        Ok(running)
    }

    async fn kv_load(
        &self,
        org: &OrgId,
        plugin: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        Ok(self
            .inner
            .lock()
            .kv
            .get(&key(org, plugin))
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    async fn kv_apply(
        &self,
        org: &OrgId,
        plugin: &str,
        changes: &[KvChange],
    ) -> Result<(), StorageError> {
        let mut inner = self.inner.lock();
        apply_kv_changes(inner.kv.entry(key(org, plugin)).or_default(), changes);
        Ok(())
    }

    async fn record_event(&self, event: &PluginEvent) -> Result<(), StorageError> {
        self.inner.lock().events.push(event.clone());
        Ok(())
    }

    async fn list_events(
        &self,
        org: &OrgId,
        plugin: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PluginEvent>, StorageError> {
        Ok(self
            .inner
            .lock()
            .events
            .iter()
            .rev()
            .filter(|e| &e.org == org && plugin.is_none_or(|p| e.plugin == p))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn destination_policy(&self, org: &OrgId) -> Result<DestinationPolicy, StorageError> {
        Ok(self
            .inner
            .lock()
            .destinations
            .get(org)
            .cloned()
            .unwrap_or_default())
    }
}
