//! The data one invocation's `Store` carries: an empty WASI context, the
//! memory limiter, and the calling org's view of this plugin (config and a
//! copy-on-write view of its key-value store, `kv.rs`). Also the `host`
//! import implementation, which can only ever see that one (org, plugin) scope.

use super::bindings::latest::host::{self, KvError, LogLevel};
use super::kv::{KvData, KvSession};
use super::limits::KvLimits;
use super::log_budget::LogBudget;
use super::outbound::{OutboundAccess, OutboundHooks};
use super::stderr_tail::StderrTail;
use mailroom_core::ids::OrgId;
use std::collections::BTreeMap;
use std::sync::Arc;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The tail of a plugin's stderr kept for error reports (a Rust panic message lands there).
const STDERR_CAPTURE_BYTES: usize = 4096;

/// At most this many log lines per call reach the host log (and fewer when
/// the plugin's per-minute budget, `log_budget.rs`, runs out); the rest are
/// counted, so a chatty plugin cannot flood it.
const MAX_LOG_LINES_PER_CALL: u32 = 100;
const MAX_LOG_LINE_BYTES: usize = 4096;

/// Who is calling and what that caller lets the plugin see.
#[derive(Clone, Debug)]
pub struct PluginScope {
    pub org: OrgId,
    pub plugin: String,
    pub config: Arc<BTreeMap<String, String>>,
    /// The plugin's key-value data as of the call's start; `None` when the
    /// plugin did not ask for the `key-value` permission.
    pub kv: Option<KvData>,
    pub kv_limits: KvLimits,
    /// Shared by all calls of this (org, plugin).
    pub log_budget: Arc<LogBudget>,
    /// The hosts an admin let this plugin reach over HTTPS; `None`: every
    /// request is refused (`outbound`).
    pub outbound: Option<Arc<OutboundAccess>>,
}

impl PluginScope {
    /// A scope with no config and no key-value store (admission, CLI runs).
    pub fn isolated(org: OrgId, plugin: impl Into<String>) -> Self {
        Self {
            org,
            plugin: plugin.into(),
            config: Arc::default(),
            kv: None,
            kv_limits: KvLimits::default(),
            log_budget: Arc::default(),
            outbound: None,
        }
    }
}

/// Caps linear memory and table growth and remembers the peak.
#[derive(Debug)]
pub struct MemoryLimiter {
    pub cap_bytes: u64,
    /// Sum of all linear memories right now, and the most it ever was.
    pub current_bytes: u64,
    pub peak_bytes: u64,
    /// Set when a growth was refused, so the resulting trap is reported as a memory limit.
    pub hit_cap: bool,
}

const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grown = self.current_bytes + (desired - current) as u64;
        if grown > self.cap_bytes {
            self.hit_cap = true;
            // Trapping (rather than returning `false`) stops the plugin at the
            // point of excess instead of letting it misbehave on a failed grow.
            return Err(wasmtime::Error::msg(format!(
                "memory limit of {} bytes reached",
                self.cap_bytes
            )));
        }
        self.current_bytes = grown;
        self.peak_bytes = self.peak_bytes.max(grown);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

pub struct InvocationState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: MemoryLimiter,
    pub scope: Arc<PluginScope>,
    /// Key-value reads and writes of this call; the writes are applied by
    /// the registry only if the call succeeds.
    pub kv: KvSession,
    /// `wasi:http`: linked for every plugin, sending only what its grant allows.
    http: WasiHttpCtx,
    pub outbound: OutboundHooks,
    log_lines: u32,
    stderr: StderrTail,
}

impl InvocationState {
    pub fn new(scope: Arc<PluginScope>, memory_cap: u64) -> Self {
        // Nothing is granted: no preopened directories, no environment, no
        // arguments, no sockets. Components built with std (or by
        // componentize-py/js) import these interfaces, so they are linked, but
        // every attempt finds nothing.
        let stderr = StderrTail::new(STDERR_CAPTURE_BYTES);
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                cap_bytes: memory_cap,
                current_bytes: 0,
                peak_bytes: 0,
                hit_cap: false,
            },
            kv: KvSession::new(scope.kv.clone(), scope.kv_limits),
            http: WasiHttpCtx::new(),
            outbound: OutboundHooks::new(
                scope.outbound.clone(),
                scope.org.clone(),
                scope.plugin.clone(),
            ),
            scope,
            log_lines: 0,
            stderr,
        }
    }

    /// The end of what the plugin wrote to stderr, lossily decoded (e.g. a panic message).
    pub fn stderr_text(&self) -> String {
        self.stderr.text()
    }
}

impl WasiView for InvocationState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InvocationState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// `types` declares no functions; linking it only makes its types importable.
impl super::bindings::latest::types::Host for InvocationState {}

impl host::Host for InvocationState {
    fn log(&mut self, level: LogLevel, message: String) {
        self.log_lines += 1;
        let budget = &self.scope.log_budget;
        if self.log_lines > MAX_LOG_LINES_PER_CALL {
            budget.count_suppressed();
            return;
        }
        let admission = budget.admit(message.len().min(MAX_LOG_LINE_BYTES));
        let (org, plugin) = (self.scope.org.as_str(), self.scope.plugin.as_str());
        if let Some(suppressed) = admission.report_suppressed {
            tracing::warn!(
                target: "plugin", org, plugin,
                "suppressed {suppressed} log lines of this plugin in the last minute \
                 (over its budget of {} lines or {} bytes per minute, or {MAX_LOG_LINES_PER_CALL} per call)",
                crate::log_budget::LINES_PER_MINUTE,
                crate::log_budget::BYTES_PER_MINUTE,
            );
        }
        if !admission.log_line {
            return;
        }
        let mut message = message;
        if message.len() > MAX_LOG_LINE_BYTES {
            let mut end = MAX_LOG_LINE_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push('…');
        }
        // One plugin line is one log line, whatever it holds.
        let message = mailroom_core::text::loggable(&message);
        match level {
            LogLevel::Trace => tracing::trace!(target: "plugin", org, plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(target: "plugin", org, plugin, "{message}"),
            LogLevel::Info => tracing::info!(target: "plugin", org, plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(target: "plugin", org, plugin, "{message}"),
            LogLevel::Error => tracing::error!(target: "plugin", org, plugin, "{message}"),
        }
    }

    fn config_get(&mut self, key: String) -> Option<String> {
        self.scope.config.get(&key).cloned()
    }

    fn config_all(&mut self) -> Vec<(String, String)> {
        self.scope
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn kv_get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        Ok(self.kv.get(&key)?)
    }

    fn kv_set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), KvError>> {
        Ok(self.kv.set(key, value)?)
    }

    fn kv_delete(&mut self, key: String) -> wasmtime::Result<()> {
        Ok(self.kv.delete(key)?)
    }

    fn now(&mut self) -> i64 {
        mailroom_core::clock::now_ms()
    }
}
