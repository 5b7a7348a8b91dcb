//! The limits of one plugin call: how long a plugin may run, how much
//! memory it may grow to, and how big its input and output may be — plain
//! data, so the config file sets their defaults without the plugin host
//! (which enforces them and re-exports this type). Configurable per org and
//! per plugin; the defaults suit a Rust plugin and still let a Python or
//! JavaScript component (a large runtime) start.

use serde::{Deserialize, Serialize};

/// Per-call limits of a plugin.
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

/// Consecutive failures after which a plugin is disabled for its org,
/// unless the config file says otherwise.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 5;

/// Seconds of plugin time each org may use per minute over all its plugins,
/// unless the config file says otherwise: one core's worth, so an org whose
/// plugins run flat out leaves the other cores to the other orgs.
pub const DEFAULT_CPU_SECONDS_PER_MINUTE: u64 = 60;
