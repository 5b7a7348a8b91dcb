//! The range of every number in the settings, checked after all layers are
//! read: a value out of range is refused with its key, its range and its
//! default, instead of a server that starts and misbehaves (a memory limit
//! that wraps to zero when turned into bytes, a hyper buffer below its
//! minimum, a deadline too far away to be one).

use crate::load::ConfigError;
use crate::settings::Settings;

/// Longest duration any `*_secs` / `*_seconds` setting may name: a day.
pub const MAX_SECONDS: u64 = 86_400;
/// Largest request body limit: 4 GiB.
pub const MAX_BODY_BYTES: u64 = 4 << 30;
/// Largest plugin memory, input (MiB) or output (KiB) limit: 1 TiB.
pub const MAX_PLUGIN_MIB: u64 = 1 << 20;

/// One bounded number: its key, its value and its allowed maximum (every
/// number here must also be above 0, unless 0 means "no limit").
struct Bound {
    key: &'static str,
    value: u64,
    max: u64,
    /// 0 allowed (it means "no limit").
    zero_allowed: bool,
}

fn bounds(s: &Settings) -> [Bound; 19] {
    let b = |key, value: u64, max| Bound {
        key,
        value,
        max,
        zero_allowed: false,
    };
    let (l, p, h, c) = (&s.limits, &s.plugins, &s.http, &s.connection_test);
    [
        b("limits.json_bytes", l.json_bytes as u64, MAX_BODY_BYTES),
        b(
            "limits.plugin_upload_bytes",
            l.plugin_upload_bytes as u64,
            MAX_BODY_BYTES,
        ),
        b("limits.import_bytes", l.import_bytes as u64, MAX_BODY_BYTES),
        b("plugins.deadline_ms", p.deadline_ms, 60_000),
        b("plugins.memory_mib", p.memory_mib, MAX_PLUGIN_MIB),
        b("plugins.input_mib", p.input_mib, MAX_PLUGIN_MIB),
        b("plugins.output_kib", p.output_kib, MAX_PLUGIN_MIB << 10),
        // A minute of 3,600 cores is no limit any more.
        Bound {
            zero_allowed: true,
            ..b(
                "plugins.cpu_seconds_per_minute",
                p.cpu_seconds_per_minute,
                216_000,
            )
        },
        b(
            "plugins.failure_threshold",
            p.failure_threshold.into(),
            1_000_000,
        ),
        b("sync.poll_seconds", s.sync.poll_seconds, MAX_SECONDS),
        b(
            "pipeline.stale_after_seconds",
            s.pipeline.stale_after_seconds,
            MAX_SECONDS,
        ),
        b(
            "http.header_read_timeout_secs",
            h.header_read_timeout_secs,
            MAX_SECONDS,
        ),
        b(
            "http.connections_per_address",
            h.connections_per_address as u64,
            1 << 20,
        ),
        b("http.max_uri_bytes", h.max_uri_bytes as u64, 1 << 20),
        b("http.max_header_bytes", h.max_header_bytes as u64, 1 << 20),
        b("connection_test.connect_secs", c.connect_secs, MAX_SECONDS),
        b("connection_test.tls_secs", c.tls_secs, MAX_SECONDS),
        b(
            "connection_test.greeting_secs",
            c.greeting_secs,
            MAX_SECONDS,
        ),
        b("connection_test.command_secs", c.command_secs, MAX_SECONDS),
    ]
}

impl Settings {
    /// Checks every number against its range; the error names the first
    /// key out of range, what it may be and its default.
    pub fn check(&self) -> Result<(), ConfigError> {
        let defaults = bounds(&Settings::default());
        for (bound, default) in bounds(self).iter().zip(&defaults) {
            let min = u64::from(!bound.zero_allowed);
            if !(min..=bound.max).contains(&bound.value) {
                return Err(ConfigError::Value {
                    name: bound.key.into(),
                    message: format!(
                        "{} is out of range: must be {min} to {} (the default is {})",
                        bound.value, bound.max, default.value
                    ),
                });
            }
        }
        Ok(())
    }
}
