//! The plugin registry's persistence ([`RegistryStorage`]) on the store, so
//! uploaded plugins, their versions, configuration, key-value data and
//! events survive restarts and are shared by every node of a deployment.
//! Metadata, limits, rollout and config are JSON text (their serde form).

use super::db::{SqlBuilder, from_json, get_bool, to_json};
use super::{Store, StoreError};
use async_trait::async_trait;
use mailroom_core::clock::now_ms;
use mailroom_core::destinations::DestinationPolicy;
use mailroom_core::ids::OrgId;
use mailroom_core::secret::Secret;
use mailroom_plugin_host::PluginKind;
use mailroom_plugin_host::registry::storage::{
    KvChange, PluginEvent, PluginEventKind, PluginRecord, PluginVersionRecord, RegistryStorage,
    StorageError,
};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

impl From<StoreError> for StorageError {
    fn from(e: StoreError) -> Self {
        StorageError(e.to_string())
    }
}

fn db(e: sqlx::Error) -> StorageError {
    StoreError::from(e).into()
}

fn event_kind_str(kind: PluginEventKind) -> Result<String, StorageError> {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(StorageError(format!("cannot name event kind {kind:?}"))),
    }
}

/// Binds sealed plugin secrets to their org and plugin, so a value copied
/// to another row does not open.
fn secret_config_aad(org: &OrgId, name: &str) -> Vec<u8> {
    format!("plugins/{org}/{name}/secret_config").into_bytes()
}

impl Store {
    fn seal_secret_config(
        &self,
        org: &OrgId,
        name: &str,
        secrets: &BTreeMap<String, Secret>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        if secrets.is_empty() {
            return Ok(None);
        }
        let plain: BTreeMap<&str, &str> = secrets
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        let json = Zeroizing::new(serde_json::to_vec(&plain)?);
        self.cipher()
            .seal(&json, &secret_config_aad(org, name))
            .map(Some)
    }

    fn open_secret_config(
        &self,
        org: &OrgId,
        name: &str,
        sealed: Option<Vec<u8>>,
    ) -> Result<BTreeMap<String, Secret>, StoreError> {
        let Some(sealed) = sealed else {
            return Ok(BTreeMap::new());
        };
        let json = Zeroizing::new(self.cipher().open(&sealed, &secret_config_aad(org, name))?);
        Ok(serde_json::from_slice(&json)?)
    }

    fn plugin_from_row(&self, row: &AnyRow) -> Result<PluginRecord, StoreError> {
        let org = OrgId(row.try_get("org_id")?);
        let name: String = row.try_get("name")?;
        let kind: String = row.try_get("kind")?;
        let limits: Option<String> = row.try_get("limits")?;
        let failures: i64 = row.try_get("consecutive_failures")?;
        Ok(PluginRecord {
            secret_config: self.open_secret_config(&org, &name, row.try_get("secret_config")?)?,
            org,
            name,
            kind: PluginKind::parse(&kind)
                .ok_or_else(|| StoreError::Invalid(format!("stored plugin kind {kind:?}")))?,
            active_seq: row.try_get("active_seq")?,
            shadow_seq: row.try_get("shadow_seq")?,
            enabled: get_bool(row, "enabled")?,
            rollout: from_json(&row.try_get::<String, _>("rollout")?)?,
            position: row.try_get("position")?,
            config: from_json(&row.try_get::<String, _>("config")?)?,
            limits: limits.as_deref().map(from_json).transpose()?,
            outbound_http: row
                .try_get::<Option<String>, _>("outbound_http")?
                .as_deref()
                .map(from_json)
                .transpose()?,
            disabled_reason: row.try_get("disabled_reason")?,
            consecutive_failures: u32::try_from(failures).unwrap_or(u32::MAX),
        })
    }
}

fn version_from_row(row: &AnyRow) -> Result<PluginVersionRecord, StoreError> {
    let size: i64 = row.try_get("size_bytes")?;
    Ok(PluginVersionRecord {
        org: OrgId(row.try_get("org_id")?),
        name: row.try_get("name")?,
        seq: row.try_get("seq")?,
        sha256: row.try_get("sha256")?,
        contract: row.try_get("contract")?,
        metadata: from_json(&row.try_get::<String, _>("metadata")?)?,
        size_bytes: u64::try_from(size).unwrap_or(0),
        installed_at: row.try_get("installed_at")?,
    })
}

#[async_trait]
impl RegistryStorage for Store {
    async fn put_blob(&self, sha256: &str, bytes: &[u8]) -> Result<(), StorageError> {
        // Content addressing is only sound if the key is the content's hash.
        if hex::encode(Sha256::digest(bytes)) != sha256 {
            return Err(StorageError(format!(
                "blob key {sha256} is not the sha256 of its bytes"
            )));
        }
        sqlx::query("INSERT INTO plugin_blobs (sha256, bytes, created_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha256)
            .bind(bytes.to_vec())
            .bind(now_ms())
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StorageError> {
        sqlx::query_scalar("SELECT bytes FROM plugin_blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(self.pool())
            .await
            .map_err(db)
    }

    async fn list_plugins(&self, org: &OrgId) -> Result<Vec<PluginRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT org_id, name, kind, active_seq, shadow_seq, enabled, rollout, position, config, secret_config, \
             limits, disabled_reason, consecutive_failures, outbound_http FROM plugins WHERE org_id = $1 \
             ORDER BY kind, position, name",
        )
        .bind(org.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        Ok(rows
            .iter()
            .map(|row| self.plugin_from_row(row))
            .collect::<Result<_, _>>()?)
    }

    async fn save_plugin(&self, r: &PluginRecord) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO plugins (org_id, name, kind, active_seq, enabled, rollout, position, config, limits, \
             disabled_reason, consecutive_failures, secret_config, shadow_seq, outbound_http) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (org_id, name) DO UPDATE SET kind = excluded.kind, active_seq = excluded.active_seq, \
             shadow_seq = excluded.shadow_seq, enabled = excluded.enabled, rollout = excluded.rollout, position = excluded.position, \
             config = excluded.config, limits = excluded.limits, disabled_reason = excluded.disabled_reason, \
             consecutive_failures = excluded.consecutive_failures, secret_config = excluded.secret_config, \
             outbound_http = excluded.outbound_http",
        )
        .bind(r.org.as_str())
        .bind(r.name.as_str())
        .bind(r.kind.as_str())
        .bind(r.active_seq)
        .bind(r.enabled)
        .bind(to_json(&r.rollout)?)
        .bind(r.position)
        .bind(to_json(&r.config)?)
        .bind(r.limits.as_ref().map(to_json).transpose()?)
        .bind(r.disabled_reason.clone())
        .bind(i64::from(r.consecutive_failures))
        .bind(self.seal_secret_config(&r.org, &r.name, &r.secret_config)?)
        .bind(r.shadow_seq)
        .bind(r.outbound_http.as_ref().map(to_json).transpose()?)
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn delete_plugin(&self, org: &OrgId, name: &str) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        for table in ["plugins", "plugin_versions"] {
            let sql = format!("DELETE FROM {table} WHERE org_id = $1 AND name = $2");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(org.as_str())
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        sqlx::query("DELETE FROM plugin_kv WHERE org_id = $1 AND plugin = $2")
            .bind(org.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        // Blobs stay: content-addressed, possibly shared, and an upload may
        // be between put_blob and add_version right now.
        tx.commit().await.map_err(db)
    }

    async fn add_version(&self, v: &PluginVersionRecord) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO plugin_versions (org_id, name, seq, sha256, contract, metadata, size_bytes, installed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(v.org.as_str())
        .bind(v.name.as_str())
        .bind(v.seq)
        .bind(v.sha256.as_str())
        .bind(v.contract.as_str())
        .bind(to_json(&v.metadata)?)
        .bind(i64::try_from(v.size_bytes).unwrap_or(i64::MAX))
        .bind(v.installed_at)
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn list_versions(
        &self,
        org: &OrgId,
        name: &str,
    ) -> Result<Vec<PluginVersionRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT org_id, name, seq, sha256, contract, metadata, size_bytes, installed_at FROM plugin_versions \
             WHERE org_id = $1 AND name = $2 ORDER BY seq",
        )
        .bind(org.as_str())
        .bind(name)
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        Ok(rows
            .iter()
            .map(version_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn running_components(&self) -> Result<Vec<String>, StorageError> {
        let rows = sqlx::query(
            "SELECT DISTINCT v.sha256 FROM plugins p JOIN plugin_versions v \
             ON v.org_id = p.org_id AND v.name = p.name \
             AND (v.seq = p.active_seq OR v.seq = p.shadow_seq)",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| r.try_get("sha256").map_err(db))
            .collect()
    }

    async fn destination_policy(&self, org: &OrgId) -> Result<DestinationPolicy, StorageError> {
        Store::destination_policy(self, org)
            .await
            .map_err(Into::into)
    }

    async fn kv_load(
        &self,
        org: &OrgId,
        plugin: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let rows = sqlx::query(
            "SELECT key, value FROM plugin_kv WHERE org_id = $1 AND plugin = $2 ORDER BY key",
        )
        .bind(org.as_str())
        .bind(plugin)
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("key").map_err(db)?,
                    r.try_get("value").map_err(db)?,
                ))
            })
            .collect()
    }

    async fn kv_apply(
        &self,
        org: &OrgId,
        plugin: &str,
        changes: &[KvChange],
    ) -> Result<(), StorageError> {
        if changes.is_empty() {
            return Ok(());
        }
        // Plugins' saves must not starve people's writes. On SQLite every
        // write takes the one write lock, and a waiting writer only polls
        // for it (the busy handler), so a few plugins saving back to back
        // could keep a user's write out until its timeout. Saves therefore
        // go one at a time, and each leaves the lock free afterwards for
        // as long as it held it (at least `KV_YIELD`), longer than the busy
        // handler's longest poll interval (100 ms).
        // The caller does not wait out the pause; the next save does.
        let gate = match self.backend() {
            super::Backend::Sqlite => Some(self.kv_gate.clone().lock_owned().await),
            super::Backend::Postgres => None,
        };
        let started = std::time::Instant::now();
        let saved = self.kv_save(org, plugin, changes).await;
        if let Some(gate) = gate {
            let pause = started.elapsed().max(KV_YIELD);
            tokio::spawn(async move {
                tokio::time::sleep(pause).await;
                drop(gate);
            });
        }
        saved
    }

    async fn record_event(&self, e: &PluginEvent) -> Result<(), StorageError> {
        sqlx::query("INSERT INTO plugin_events (org_id, plugin, kind, message, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(e.org.as_str())
            .bind(e.plugin.as_str())
            .bind(event_kind_str(e.kind)?)
            .bind(super::mime_index::clean_text(&e.message, 4000))
            .bind(e.at)
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn list_events(
        &self,
        org: &OrgId,
        plugin: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PluginEvent>, StorageError> {
        let mut q = SqlBuilder::new(
            "SELECT org_id, plugin, kind, message, at FROM plugin_events WHERE org_id = ",
        );
        q.bind_text(org.as_str());
        if let Some(p) = plugin {
            q.push(" AND plugin = ").bind_text(p);
        }
        q.push(" ORDER BY at DESC, id DESC LIMIT ")
            .bind_i64(i64::from(limit.min(10_000)));
        let rows = q.query().fetch_all(self.pool()).await.map_err(db)?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind").map_err(db)?;
                Ok(PluginEvent {
                    org: OrgId(r.try_get("org_id").map_err(db)?),
                    plugin: r.try_get("plugin").map_err(db)?,
                    kind: serde_json::from_value(serde_json::Value::String(kind.clone())).map_err(
                        |_| StorageError(format!("stored event kind {kind:?} is unknown")),
                    )?,
                    message: r.try_get("message").map_err(db)?,
                    at: r.try_get("at").map_err(db)?,
                })
            })
            .collect()
    }
}

/// The least time a plugin key-value save on SQLite leaves the write lock
/// free after it (see `kv_apply`).
const KV_YIELD: std::time::Duration = std::time::Duration::from_millis(150);

impl Store {
    /// Writes one call's key-value changes in one transaction.
    async fn kv_save(
        &self,
        org: &OrgId,
        plugin: &str,
        changes: &[KvChange],
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        for change in changes {
            let q = match change {
                KvChange::Set(key, value) => sqlx::query(
                    "INSERT INTO plugin_kv (org_id, plugin, key, value) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (org_id, plugin, key) DO UPDATE SET value = excluded.value",
                )
                .bind(org.as_str())
                .bind(plugin)
                .bind(key.as_str())
                .bind(value.clone()),
                KvChange::Delete(key) => sqlx::query(
                    "DELETE FROM plugin_kv WHERE org_id = $1 AND plugin = $2 AND key = $3",
                )
                .bind(org.as_str())
                .bind(plugin)
                .bind(key.as_str()),
            };
            q.execute(&mut *tx).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }
}
