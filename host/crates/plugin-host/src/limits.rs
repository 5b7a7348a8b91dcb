//! Per-invocation limits: how long a plugin may run, how much memory it may
//! grow to, and how big its input and output may be. Configurable per org and
//! per plugin; the defaults suit a Rust plugin and still let a Python or
//! JavaScript component (a large runtime) start.

use serde::{Deserialize, Serialize};

/// A call's limits are plain data in `mailroom-core`, so the config file
/// (`mailroom-config`) names them without building the plugin host.
pub use mailroom_core::plugin_limits::Limits;

/// Caps on the plugin key-value store (see `kv.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvLimits {
    pub max_key_bytes: u64,
    pub max_value_bytes: u64,
    /// Keys and values of one (org, plugin) together.
    pub max_total_bytes: u64,
    /// Distinct keys one call may set or delete: the batch saved after it.
    pub max_changes_per_call: u32,
    /// `kv-get`, `kv-set` and `kv-delete` calls in one plugin call.
    pub max_operations_per_call: u32,
}

impl Default for KvLimits {
    fn default() -> Self {
        Self {
            max_key_bytes: 256,
            max_value_bytes: 64 << 10,
            max_total_bytes: 1 << 20,
            max_changes_per_call: 1_000,
            max_operations_per_call: 10_000,
        }
    }
}
