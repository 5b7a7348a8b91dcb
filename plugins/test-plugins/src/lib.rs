//! Shared helpers for the test plugins in `examples/`.
//!
//! Each example is one component the host's tests load: some behave (probe,
//! trivial, slow), most misbehave on purpose (loop, allocate, recurse, trap,
//! flood the output, try to escape the sandbox, import what the host does not
//! offer, lie about their kind), and two versions of one plugin (`swap-v1`,
//! `swap-v2`) test upgrades and rollback. They are built with the bundled plugins by
//! `host/artifacts` and exposed as path constants (`PROBE`, `TRAP`…).

use mailroom_plugin_sdk::types::{Classification, ConfigKey, Metadata, PluginKind, ScoredLabel};
use mailroom_plugin_sdk::{config, time};

/// Metadata for a test classifier called `name`.
pub fn metadata(name: &str) -> Metadata {
    Metadata::new(name, env!("CARGO_PKG_VERSION"), PluginKind::Classifier)
        .description("Test plugin for the Mailroom host's tests; not for production")
}

/// A classification carrying only `labels` as tags (score 1).
pub fn tagged<I, S>(labels: I) -> Classification
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Classification {
        tags: labels
            .into_iter()
            .map(|l| ScoredLabel::new(l, 1.0))
            .collect(),
        ..Default::default()
    }
}

/// The config key read by [`busy_wait_config_ms`], declared in metadata
/// (the host refuses undeclared keys).
pub fn ms_config_key() -> ConfigKey {
    ConfigKey::optional("ms", "How long to busy-wait, in milliseconds", Some("0"))
}

/// Busy-waits for config key `ms` milliseconds (default 0) on the host's
/// clock and returns the number of milliseconds asked for. Busy, not
/// sleeping: the instance keeps executing wasm, so the host's deadline cuts it
/// off exactly like real work.
pub fn busy_wait_config_ms() -> i64 {
    let ms: i64 = config::parse_or("ms", 0);
    let start = time::now_ms();
    while time::now_ms() - start < ms {
        std::hint::spin_loop();
    }
    ms
}
