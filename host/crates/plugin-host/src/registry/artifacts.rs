//! Compiling uploads, and which precompiled artifacts the host keeps.
//!
//! Compiling is bounded: at most `max_concurrent_compiles` at once (others
//! wait their turn) and each within `compile_timeout` (a compile past it is
//! refused; its thread finishes in the background still holding its turn,
//! so the bound on concurrent compiles holds). An artifact is written only
//! for a component that runs (admitted at upload, or restored), and the
//! artifacts of components no org runs any more are removed at startup and
//! after a plugin is removed, upgraded or rolled back.

use super::{PluginRegistry, RegistryError};
use crate::engine::LoadedComponent;
use crate::error::PluginError;
use std::collections::HashSet;
use std::sync::Arc;

impl PluginRegistry {
    /// Compiles (or loads from the cache) and admits a component within
    /// the compile bounds; see the module doc.
    pub(super) async fn compile(
        &self,
        bytes: Arc<[u8]>,
    ) -> Result<Arc<LoadedComponent>, PluginError> {
        let turn = self
            .compiles
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| PluginError::Host(format!("compile queue closed: {e}")))?;
        let engine = self.engine.clone();
        let compiling = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            engine.load(&bytes)
        });
        let limit = self.settings.compile_timeout;
        match tokio::time::timeout(limit, compiling).await {
            Ok(joined) => {
                joined.map_err(|e| PluginError::Host(format!("compile task failed: {e}")))?
            }
            Err(_) => Err(PluginError::InvalidComponent(format!(
                "compiling it took longer than {} s, the host's limit; \
                 make the component smaller (e.g. build in release mode, strip debug info)",
                limit.as_secs_f64()
            ))),
        }
    }

    /// Writes the artifact of a component that now runs.
    pub(super) async fn keep_artifact(&self, component: &Arc<LoadedComponent>) {
        let (engine, component) = (self.engine.clone(), component.clone());
        if let Err(e) = tokio::task::spawn_blocking(move || engine.keep(&component)).await {
            tracing::warn!(error = %e, "could not write a precompiled plugin");
        }
    }

    /// Removes the artifacts of components no org runs; returns how many.
    pub async fn collect_unused_artifacts(&self) -> Result<usize, RegistryError> {
        let running: HashSet<String> = self
            .storage
            .running_components()
            .await?
            .into_iter()
            .collect();
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || engine.retain_artifacts(&running))
            .await
            .map_err(|e| {
                RegistryError::Rejected(PluginError::Host(format!("cache cleaning failed: {e}")))
            })
    }

    /// [`Self::collect_unused_artifacts`] after a change, logging a failure
    /// (the change itself is done).
    pub(super) async fn collect_after_change(&self) {
        if let Err(e) = self.collect_unused_artifacts().await {
            tracing::warn!(error = %e, "could not clean the plugin cache");
        }
    }
}
