//! The admin's changes to an installed plugin: enable/disable, rollout,
//! config, order, limits, rollback and removal. Each persists the record,
//! logs an event and swaps in a new `Arc<ActivePlugin>`, so calls already
//! in flight finish on the settings they started with.

use super::storage::{PluginEventKind, PluginRecord, Rollout};
use super::{PluginRegistry, PluginView, RegistryError};
use crate::limits::Limits;
use crate::metadata::Permission;
use crate::outbound::OutboundGrant;
use mailroom_core::ids::OrgId;
use mailroom_core::secret::Secret;
use std::collections::BTreeMap;
use std::sync::Arc;

impl PluginRegistry {
    /// Enables or disables the plugin for the org. Enabling clears an
    /// automatic disable and its failure count.
    pub async fn set_enabled(
        &self,
        org: &OrgId,
        name: &str,
        enabled: bool,
    ) -> Result<PluginView, RegistryError> {
        let (kind, msg) = if enabled {
            (PluginEventKind::Enabled, "enabled by an admin")
        } else {
            (PluginEventKind::Disabled, "disabled by an admin")
        };
        self.update(org, name, (kind, msg.to_owned()), |record| {
            record.enabled = enabled;
            if enabled {
                record.disabled_reason = None;
                record.consecutive_failures = 0;
            }
            Ok(())
        })
        .await
    }

    pub async fn set_rollout(
        &self,
        org: &OrgId,
        name: &str,
        rollout: Rollout,
    ) -> Result<PluginView, RegistryError> {
        let msg = match &rollout {
            Rollout::Everyone => "runs for everyone in the org".to_owned(),
            Rollout::Users(users) => format!("runs only for {} selected user(s)", users.len()),
        };
        self.update(org, name, (PluginEventKind::ConfigChanged, msg), |record| {
            record.rollout = rollout;
            Ok(())
        })
        .await
    }

    /// Replaces the plugin's config. Keys the plugin does not declare are
    /// refused, and so are keys held as secrets (a key is one or the other).
    pub async fn set_config(
        &self,
        org: &OrgId,
        name: &str,
        config: BTreeMap<String, String>,
    ) -> Result<PluginView, RegistryError> {
        self.check_declared(org, name, config.keys()).await?;
        let msg = format!("config set ({} key(s))", config.len());
        self.update(org, name, (PluginEventKind::ConfigChanged, msg), |record| {
            if let Some(key) = config
                .keys()
                .find(|k| record.secret_config.contains_key(*k))
            {
                return Err(RegistryError::Invalid(format!(
                    "config key `{key}` of plugin `{name}` is held as a secret: \
                     set it as a secret, or remove the secret first"
                )));
            }
            record.config = config;
            Ok(())
        })
        .await
    }

    /// Stores one config value as a secret (sealed at rest, never shown
    /// again, given to the plugin only), or removes it with `None` (removing
    /// one that is not there changes nothing). A plain value of the same key
    /// is dropped: the secret replaces it.
    pub async fn set_secret(
        &self,
        org: &OrgId,
        name: &str,
        key: &str,
        value: Option<Secret>,
    ) -> Result<PluginView, RegistryError> {
        self.check_declared(org, name, std::iter::once(&key.to_owned()))
            .await?;
        let msg = match value {
            Some(_) => format!("secret config key `{key}` set"),
            None => format!("secret config key `{key}` removed"),
        };
        self.update(org, name, (PluginEventKind::ConfigChanged, msg), |record| {
            match value {
                Some(value) => {
                    record.config.remove(key);
                    record.secret_config.insert(key.to_owned(), value);
                }
                None => {
                    record.secret_config.remove(key);
                }
            }
            Ok(())
        })
        .await
    }

    /// Refuses config keys the plugin's running version does not declare,
    /// naming the ones it does.
    async fn check_declared<'k>(
        &self,
        org: &OrgId,
        name: &str,
        keys: impl Iterator<Item = &'k String>,
    ) -> Result<(), RegistryError> {
        let declared: Vec<String> = self
            .active(org, name)
            .await?
            .version
            .metadata
            .config_keys
            .iter()
            .map(|k| k.name.clone())
            .collect();
        let unknown: Vec<String> = keys
            .filter(|k| !declared.contains(k))
            .map(|k| format!("`{k}`"))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(RegistryError::Invalid(format!(
            "plugin `{name}` does not read config key(s) {}; it declares: {}",
            unknown.join(", "),
            if declared.is_empty() {
                "none".to_owned()
            } else {
                declared.join(", ")
            }
        )))
    }

    pub async fn set_position(
        &self,
        org: &OrgId,
        name: &str,
        position: i64,
    ) -> Result<PluginView, RegistryError> {
        let msg = format!("moved to position {position}");
        self.update(org, name, (PluginEventKind::ConfigChanged, msg), |record| {
            record.position = position;
            Ok(())
        })
        .await
    }

    /// Overrides the org's default limits for this plugin (`None`: back to defaults).
    pub async fn set_limits(
        &self,
        org: &OrgId,
        name: &str,
        limits: Option<Limits>,
    ) -> Result<PluginView, RegistryError> {
        if let Some(l) = &limits
            && (l.deadline_ms == 0 || l.memory_bytes == 0 || l.deadline_ms > 60_000)
        {
            return Err(RegistryError::Invalid(
                "deadline_ms must be 1..=60000 and memory_bytes above 0".into(),
            ));
        }
        let msg = format!("limits set to {limits:?}");
        self.update(org, name, (PluginEventKind::ConfigChanged, msg), |record| {
            record.limits = limits;
            Ok(())
        })
        .await
    }

    /// Lets the plugin reach the grant's hosts over HTTPS, or (`None`)
    /// takes that back. Only a plugin whose metadata asks for the
    /// `outbound-http` permission can be granted hosts; the hosts it names
    /// there are what it asks for, the grant is what it gets.
    pub async fn set_outbound_http(
        &self,
        org: &OrgId,
        name: &str,
        grant: Option<OutboundGrant>,
    ) -> Result<PluginView, RegistryError> {
        if let Some(grant) = &grant {
            grant.check().map_err(RegistryError::Invalid)?;
            if let Some(pem) = &grant.ca_pem {
                crate::outbound::send::check_ca(pem).map_err(RegistryError::Invalid)?;
            }
            let asks = self
                .active(org, name)
                .await?
                .version
                .metadata
                .permissions
                .iter()
                .any(|p| matches!(p, Permission::OutboundHttp(_)));
            if !asks {
                return Err(RegistryError::Invalid(format!(
                    "plugin `{name}` does not ask for the outbound-http permission in its \
                     metadata, so it cannot be granted hosts; its author adds \
                     `permission::outbound-http([...])` and uploads a new version"
                )));
            }
        }
        let msg = match &grant {
            Some(g) => format!(
                "outbound HTTPS granted to {} (at most {} request(s) per call)",
                g.hosts.join(", "),
                g.max_requests_per_call
            ),
            None => "outbound HTTPS grant removed".to_owned(),
        };
        self.update(org, name, (PluginEventKind::ConfigChanged, msg), |record| {
            record.outbound_http = grant;
            Ok(())
        })
        .await
    }

    /// Makes an earlier version the running one: `to_seq`, or the one before the current.
    pub async fn rollback(
        &self,
        org: &OrgId,
        name: &str,
        to_seq: Option<i64>,
    ) -> Result<PluginView, RegistryError> {
        let plugins = self.org(org).await?;
        let _admin = plugins.admin.lock().await;
        let current = plugins.running(name)?;
        let versions = self.storage.list_versions(org, name).await?;
        let target = match to_seq {
            Some(seq) => versions.iter().find(|v| v.seq == seq),
            None => versions
                .iter()
                .filter(|v| v.seq < current.version.seq)
                .max_by_key(|v| v.seq),
        }
        .cloned()
        .ok_or_else(|| match to_seq {
            Some(seq) => RegistryError::NotFound(format!("{name} version #{seq}")),
            None => RegistryError::Conflict(format!(
                "`{name}` has no version older than the running one"
            )),
        })?;
        let component = self.load_version(&target).await?;
        let mut record = current.record.clone();
        record.active_seq = target.seq;
        self.storage.save_plugin(&record).await?;
        let msg = format!(
            "rolled back from {} to {} (#{})",
            current.version.metadata.version, target.metadata.version, target.seq
        );
        self.event(org, name, PluginEventKind::RolledBack, msg)
            .await;
        let active = Arc::new(current.successor(record, target, component));
        plugins
            .active
            .write()
            .insert(name.to_owned(), active.clone());
        self.collect_after_change().await;
        Ok(self.view(&active))
    }

    /// Removes the plugin with its versions and key-value data.
    pub async fn remove(&self, org: &OrgId, name: &str) -> Result<(), RegistryError> {
        let plugins = self.org(org).await?;
        let _admin = plugins.admin.lock().await;
        if !plugins.active.read().contains_key(name) {
            return Err(RegistryError::NotFound(name.into()));
        }
        self.storage.delete_plugin(org, name).await?;
        plugins.active.write().remove(name);
        self.event(
            org,
            name,
            PluginEventKind::Removed,
            "removed by an admin".into(),
        )
        .await;
        self.collect_after_change().await;
        Ok(())
    }

    /// Applies `change` to the record, persists it and swaps the running plugin.
    pub(super) async fn update(
        &self,
        org: &OrgId,
        name: &str,
        event: (PluginEventKind, String),
        change: impl FnOnce(&mut PluginRecord) -> Result<(), RegistryError>,
    ) -> Result<PluginView, RegistryError> {
        let plugins = self.org(org).await?;
        let _admin = plugins.admin.lock().await;
        let current = plugins.running(name)?;
        let mut record = current.record.clone();
        change(&mut record)?;
        self.storage.save_plugin(&record).await?;
        self.event(org, name, event.0, event.1).await;
        let active =
            Arc::new(current.successor(record, current.version.clone(), current.component.clone()));
        if active.record.enabled && !current.record.enabled {
            // Re-enabled: the failure streak that disabled it is over.
            active
                .consecutive_failures
                .store(0, std::sync::atomic::Ordering::Relaxed);
        }
        plugins
            .active
            .write()
            .insert(name.to_owned(), active.clone());
        Ok(self.view(&active))
    }
}
