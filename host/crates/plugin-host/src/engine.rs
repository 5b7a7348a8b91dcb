//! The process's one wasmtime engine: configuration (pooling allocator,
//! async calls, epoch interruption), the epoch ticker, the linker with exactly the granted
//! imports, and loading components — each content hash compiled once,
//! precompiled artifacts reused from disk.

use super::bindings;
use super::bindings::dispatch::WorldPre;
use super::cache::ArtifactCache;
use super::contract::{self, ComponentShape, World};
use super::error::PluginError;
use super::state::InvocationState;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: a running plugin returns to the async
/// executor (and has its wall-clock deadline checked) once per tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Held while a component compiles (`PluginEngine::compile`).
static COMPILING: Mutex<()> = Mutex::new(());

/// Unused pooling slots kept warm (resident) for their component's next
/// call: enough for the plugins of a busy server, few enough that the
/// memory they keep stays small (at most ~17 MiB each).
const MAX_UNUSED_WARM_SLOTS: u32 = 16;

#[derive(Clone, Debug)]
pub struct EngineSettings {
    /// Where precompiled artifacts are kept; `None` compiles in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Most plugin instances alive at once (the pooling allocator's slots).
    pub max_instances: u32,
    /// Largest linear memory any plugin may ever reach (per-org limits are lower).
    pub max_memory_bytes: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            cache_dir: None,
            max_instances: 1000,
            max_memory_bytes: 1 << 30,
        }
    }
}

/// A compiled, admitted component, ready to instantiate. Shared by every org
/// that installed the same bytes.
pub struct LoadedComponent {
    pub sha256: String,
    pub world: World,
    pub shape: ComponentShape,
    pub size_bytes: u64,
    pub(super) pre: WorldPre,
    /// Kept to write its precompiled artifact once it is admitted ([`PluginEngine::keep`]).
    compiled: Component,
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent")
            .field("sha256", &self.sha256)
            .field("world", &self.world)
            .finish_non_exhaustive()
    }
}

/// What [`PluginEngine::inspect`] found.
pub struct Inspection {
    pub shape: Option<ComponentShape>,
    pub problems: Vec<PluginError>,
    pub component: Option<Arc<LoadedComponent>>,
}

/// Counters that show whether the precompile cache works.
#[derive(Debug, Default)]
pub struct LoadStats {
    pub compiled: AtomicU64,
    pub loaded_from_cache: AtomicU64,
    pub reused_in_memory: AtomicU64,
}

pub struct PluginEngine {
    engine: Engine,
    linker: Linker<InvocationState>,
    cache: Option<ArtifactCache>,
    loaded: Mutex<HashMap<String, Weak<LoadedComponent>>>,
    pub stats: LoadStats,
    ticker_stop: Arc<AtomicBool>,
}

impl PluginEngine {
    pub fn new(settings: &EngineSettings) -> Result<Arc<Self>, PluginError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(settings.max_instances)
            // Python and JavaScript components hold a dozen core instances and
            // several memories and tables each.
            .total_core_instances(settings.max_instances * 8)
            .total_memories(settings.max_instances * 2)
            .total_tables(settings.max_instances * 4)
            // Every call runs on a fiber whose stack comes from the pool.
            .total_stacks(settings.max_instances)
            .max_memories_per_module(2)
            .max_tables_per_module(4)
            .table_elements(200_000)
            .max_memory_size(settings.max_memory_bytes as usize);
        // Resetting a slot by madvise makes the next instance page-fault on
        // every page it touches; measured, that was most of a fresh call. With
        // PAGEMAP_SCAN (Linux 6.7+) wasmtime resets only the dirty pages of a
        // large window in place, so they stay resident. Without it, a large
        // window would be memset whole on every reuse: keep it small.
        // Each slot a component used keeps its resident pages (below) while
        // it waits, warm, for that component's next call. Only this many
        // unused slots stay warm; the rest are decommitted, so RSS is bounded
        // by the plugins that actually run, not by every slot ever used
        // (with wasmtime's default of 100, about 1.7 GB per engine).
        pool.max_unused_warm_slots(MAX_UNUSED_WARM_SLOTS);
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            pool.pagemap_scan(Enabled::Yes)
                .linear_memory_keep_resident(16 << 20)
                .table_keep_resident(1 << 20);
        } else {
            pool.linear_memory_keep_resident(64 << 10)
                .table_keep_resident(16 << 10);
        }

        let mut config = Config::new();
        config
            .wasm_component_model(true)
            // Calls are async (`invoke.rs`): a plugin waiting in a WASI host
            // call (a sleep, a poll that never fires) is a pending future,
            // dropped at the deadline; running wasm yields back at every
            // epoch tick.
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .max_wasm_stack(1 << 20)
            .parallel_compilation(true);
        let engine = Engine::new(&config).map_err(host_error)?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(host_error)?;
        // Linked for every plugin; each request is checked against the
        // plugin's grant (`outbound::send`).
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(host_error)?;
        // The `host` imports of every supported contract version.
        bindings::add_to_linker(&mut linker).map_err(host_error)?;

        let cache = match &settings.cache_dir {
            Some(dir) => Some(ArtifactCache::new(dir, &engine).map_err(|e| {
                PluginError::Host(format!("cannot use plugin cache {}: {e}", dir.display()))
            })?),
            None => None,
        };

        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(&engine, ticker_stop.clone());

        Ok(Arc::new(Self {
            engine,
            linker,
            cache,
            loaded: Mutex::new(HashMap::new()),
            stats: LoadStats::default(),
            ticker_stop,
        }))
    }

    pub fn wasmtime(&self) -> &Engine {
        &self.engine
    }

    /// Compiles (or loads from cache) and admits a component: it must be a
    /// component, implement one known world, and import nothing ungranted.
    /// Blocking: compiling can take seconds; call from a blocking thread.
    pub fn load(&self, bytes: &[u8]) -> Result<Arc<LoadedComponent>, PluginError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        if let Some(loaded) = self.loaded.lock().get(&sha256).and_then(Weak::upgrade) {
            self.stats.reused_in_memory.fetch_add(1, Ordering::Relaxed);
            return Ok(loaded);
        }
        sniff_component(bytes)?;
        // The world and imports are read from the bytes first, so a
        // component the host would refuse for them is never compiled.
        let shape = ComponentShape::parse(bytes).map_err(PluginError::InvalidComponent)?;
        let ungranted = contract::ungranted_imports(&shape);
        if !ungranted.is_empty() {
            return Err(PluginError::UngrantedImports(ungranted));
        }
        contract::detect_world(&shape)?;
        let component = self.compile(&sha256, bytes)?;
        let loaded = Arc::new(self.admit(sha256.clone(), component, bytes.len() as u64)?);
        self.loaded.lock().insert(sha256, Arc::downgrade(&loaded));
        Ok(loaded)
    }

    /// Inspects a component without failing on the first problem: its shape,
    /// every admission problem found, and, when there is none, the admitted
    /// component (compiled once, for `mailroom plugin check` to call).
    pub fn inspect(&self, bytes: &[u8]) -> Inspection {
        let refused = |problem| Inspection {
            shape: None,
            problems: vec![problem],
            component: None,
        };
        if let Err(e) = sniff_component(bytes) {
            return refused(e);
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        let component = match self.compile(&sha256, bytes) {
            Ok(c) => c,
            Err(e) => return refused(e),
        };
        let shape = ComponentShape::of(&self.engine, &component);
        let mut problems = Vec::new();
        let ungranted = contract::ungranted_imports(&shape);
        if !ungranted.is_empty() {
            problems.push(PluginError::UngrantedImports(ungranted));
        }
        if let Err(e) = contract::detect_world(&shape) {
            problems.push(e);
        }
        let mut admitted = None;
        if problems.is_empty() {
            match self.admit(sha256, component, bytes.len() as u64) {
                Ok(loaded) => admitted = Some(Arc::new(loaded)),
                Err(e) => problems.push(e),
            }
        }
        Inspection {
            shape: Some(shape),
            problems,
            component: admitted,
        }
    }

    fn compile(&self, sha256: &str, bytes: &[u8]) -> Result<Component, PluginError> {
        if let Some(cache) = &self.cache
            && let Some(path) = cache.lookup(sha256)
        {
            // SAFETY: the cache directory only ever holds artifacts this
            // host serialized itself from components it compiled; the
            // compatibility hash in the path guards against another
            // wasmtime version or configuration.
            match unsafe { Component::deserialize_file(&self.engine, &path) } {
                Ok(component) => {
                    self.stats.loaded_from_cache.fetch_add(1, Ordering::Relaxed);
                    return Ok(component);
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "discarding unreadable precompiled plugin");
                    cache.evict(sha256);
                }
            }
        }
        // One compile at a time in the process: a compile already uses every
        // core (parallel compilation), and Cranelift needs gigabytes for an
        // interpreter-sized component (a 12 MB JavaScript one peaks near
        // 4 GB), so two at once only add up their memory.
        let component = {
            let _one_at_a_time = COMPILING.lock();
            let compiled = Component::new(&self.engine, bytes).map_err(invalid);
            release_freed_memory();
            compiled?
        };
        self.stats.compiled.fetch_add(1, Ordering::Relaxed);
        Ok(component)
    }

    /// Writes the precompiled artifact of a component the host admitted and
    /// runs, so the next start loads it instead of compiling. Only admitted
    /// components are written: a refused upload leaves nothing on disk.
    /// Blocking (file I/O).
    pub fn keep(&self, loaded: &LoadedComponent) {
        let Some(cache) = &self.cache else {
            return;
        };
        if cache.lookup(&loaded.sha256).is_some() {
            return;
        }
        let stored = loaded
            .compiled
            .serialize()
            .map_err(|e| e.to_string())
            .and_then(|artifact| {
                cache
                    .store(&loaded.sha256, &artifact)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = stored {
            // The component still works; it just compiles again next start.
            tracing::warn!(sha256 = %loaded.sha256, error = %e, "could not write precompiled plugin to the cache");
        }
    }

    /// Keeps only the `keep` most recently written precompiled artifacts;
    /// returns how many were removed. Blocking (file I/O).
    pub fn retain_newest_artifacts(&self, keep: usize) -> usize {
        let Some(cache) = &self.cache else {
            return 0;
        };
        cache.retain_newest(keep).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not clean the plugin cache");
            0
        })
    }

    /// Removes the precompiled artifacts of every component not in
    /// `running`; returns how many. Blocking (file I/O).
    pub fn retain_artifacts(&self, running: &std::collections::HashSet<String>) -> usize {
        let Some(cache) = &self.cache else {
            return 0;
        };
        match cache.retain(running) {
            Ok(removed) => removed,
            Err(e) => {
                tracing::warn!(error = %e, "could not clean the plugin cache");
                0
            }
        }
    }

    fn admit(
        &self,
        sha256: String,
        component: Component,
        size_bytes: u64,
    ) -> Result<LoadedComponent, PluginError> {
        let shape = ComponentShape::of(&self.engine, &component);
        let ungranted = contract::ungranted_imports(&shape);
        if !ungranted.is_empty() {
            return Err(PluginError::UngrantedImports(ungranted));
        }
        let world = contract::detect_world(&shape)?;
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|e| {
            PluginError::InvalidComponent(format!(
                "its imports do not match what the host provides: {e:#}"
            ))
        })?;
        let mismatch = |e: wasmtime::Error| {
            PluginError::InvalidComponent(format!(
                "it exports {} with types that differ from the contract: {e:#}",
                world.export_name()
            ))
        };
        let pre = WorldPre::new(world, instance_pre).map_err(mismatch)?;
        Ok(LoadedComponent {
            sha256,
            world,
            shape,
            size_bytes,
            pre,
            compiled: component,
        })
    }
}

impl Drop for PluginEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// Advances the engine's epoch every tick so deadlines fire. Holds only a
/// weak reference: the thread ends when the engine goes away.
fn spawn_epoch_ticker(engine: &Engine, stop: Arc<AtomicBool>) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("plugin-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the plugin deadline thread");
    }
}

/// Tells apart the common ways a file is not a component, in words.
/// Hands the memory a compile freed back to the system. Cranelift's
/// gigabytes for an interpreter-sized component are freed when it ends, but
/// glibc keeps them in its heaps (fragmented, one arena per compile thread),
/// so without this a server that compiled one JavaScript plugin stays
/// gigabytes larger, and each further compile adds to it.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free heap pages to the kernel; it
    // touches no memory in use and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn sniff_component(bytes: &[u8]) -> Result<(), PluginError> {
    const MAGIC: &[u8] = b"\0asm";
    if bytes.is_empty() {
        return Err(PluginError::InvalidComponent("the file is empty".into()));
    }
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(PluginError::InvalidComponent(
            "it is not WebAssembly at all (no `\\0asm` header); upload the .wasm file your build produced"
                .into(),
        ));
    }
    // Bytes 4..8 are the version (core modules: 1) and layer (components: 1).
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(PluginError::InvalidComponent(
            "it is a core WebAssembly module, not a component; build for the `wasm32-wasip2` \
             target or wrap the module with `wasm-tools component new`"
                .into(),
        ));
    }
    Ok(())
}

fn invalid(e: wasmtime::Error) -> PluginError {
    PluginError::InvalidComponent(format!("{e:#}"))
}

fn host_error(e: wasmtime::Error) -> PluginError {
    PluginError::Host(format!("{e:#}"))
}
