//! Per-invocation limits: how long a plugin may run, how much memory it may
//! grow to, and how big its input and output may be. Configurable per org and
//! per plugin; the defaults suit a Rust plugin and still let a Python or
//! JavaScript component (a large runtime) start.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock deadline of one call, instantiation included.
    pub deadline_ms: u64,
    /// Cap on the sum of the instance's linear memories.
    pub memory_bytes: u64,
    /// Largest message / file the host hands to a plugin.
    pub input_bytes: u64,
    /// Largest result (JSON-encoded size) the host accepts back.
    pub output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            deadline_ms: 2_000,
            memory_bytes: 128 << 20,
            input_bytes: 16 << 20,
            output_bytes: 1 << 20,
        }
    }
}

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
