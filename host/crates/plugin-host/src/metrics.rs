//! Per-plugin call metrics: calls, failures by kind, a latency histogram and
//! peak memory. Lock-free counters updated on every call; rendered as JSON
//! for the API and as Prometheus text for `/metrics`.

use super::error::PluginErrorKind;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in microseconds.
pub const LATENCY_BUCKETS_US: [u64; 16] = [
    10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 250_000, 1_000_000,
    2_500_000, 10_000_000,
];

const ERROR_KINDS: [PluginErrorKind; 13] = [
    PluginErrorKind::InvalidComponent,
    PluginErrorKind::UnknownWorld,
    PluginErrorKind::UngrantedImport,
    PluginErrorKind::InvalidMetadata,
    PluginErrorKind::Trap,
    PluginErrorKind::DeadlineExceeded,
    PluginErrorKind::MemoryLimit,
    PluginErrorKind::OutputTooLarge,
    PluginErrorKind::InvalidOutput,
    PluginErrorKind::Reported,
    PluginErrorKind::InputTooLarge,
    PluginErrorKind::Busy,
    PluginErrorKind::Host,
];

#[derive(Debug, Default)]
pub struct PluginMetrics {
    calls: AtomicU64,
    failures: [AtomicU64; ERROR_KINDS.len()],
    /// One count per bucket plus one for slower calls.
    latency: [AtomicU64; LATENCY_BUCKETS_US.len() + 1],
    latency_sum_us: AtomicU64,
    peak_memory_bytes: AtomicU64,
}

impl PluginMetrics {
    pub fn record(
        &self,
        elapsed: Duration,
        peak_memory_bytes: u64,
        failure: Option<PluginErrorKind>,
    ) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let us = elapsed.as_micros() as u64;
        let bucket = LATENCY_BUCKETS_US
            .iter()
            .position(|&b| us <= b)
            .unwrap_or(LATENCY_BUCKETS_US.len());
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(us, Ordering::Relaxed);
        self.peak_memory_bytes
            .fetch_max(peak_memory_bytes, Ordering::Relaxed);
        if let Some(kind) = failure
            && let Some(i) = ERROR_KINDS.iter().position(|&k| k == kind)
        {
            self.failures[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            calls: self.calls.load(Ordering::Relaxed),
            failures: ERROR_KINDS
                .iter()
                .zip(&self.failures)
                .map(|(k, n)| (k.as_str().to_owned(), n.load(Ordering::Relaxed)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            latency_buckets_us: LATENCY_BUCKETS_US
                .iter()
                .map(|b| b.to_string())
                .chain(["+Inf".to_owned()])
                .zip(self.latency.iter().map(|n| n.load(Ordering::Relaxed)))
                .collect(),
            latency_sum_us: self.latency_sum_us.load(Ordering::Relaxed),
            peak_memory_bytes: self.peak_memory_bytes.load(Ordering::Relaxed),
        }
    }
}

/// The schema of `latency_buckets_us` as sent: an array of two-item arrays.
fn bucket_pairs() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ArrayItems, ObjectBuilder, Type};
    let pair = ArrayBuilder::new()
        .prefix_items([
            ObjectBuilder::new().schema_type(Type::String).build(),
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::UInt64,
                )))
                .minimum(Some(0))
                .build(),
        ])
        .items(ArrayItems::False)
        .min_items(Some(2))
        .max_items(Some(2));
    ArrayBuilder::new().items(pair).build()
}

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct MetricsSnapshot {
    pub calls: u64,
    /// Failures by kind (only kinds that happened).
    pub failures: BTreeMap<String, u64>,
    /// Calls per latency bucket: `[upper bound in µs, count]` pairs (not
    /// cumulative; the last bound is `+Inf`).
    #[schema(schema_with = bucket_pairs)]
    pub latency_buckets_us: Vec<(String, u64)>,
    pub latency_sum_us: u64,
    pub peak_memory_bytes: u64,
}

impl MetricsSnapshot {
    pub fn failures_total(&self) -> u64 {
        self.failures.values().sum()
    }

    /// Appends this plugin version's series in Prometheus text format
    /// (without the `# TYPE` lines, which [`prometheus_header`] writes once).
    pub fn write_prometheus(&self, out: &mut String, org: &str, plugin: &str, version: &str) {
        let labels = format!(
            "org=\"{}\",plugin=\"{}\",version=\"{}\"",
            escape(org),
            escape(plugin),
            escape(version)
        );
        let _ = writeln!(
            out,
            "mailroom_plugin_calls_total{{{labels}}} {}",
            self.calls
        );
        for (kind, n) in &self.failures {
            let _ = writeln!(
                out,
                "mailroom_plugin_failures_total{{{labels},kind=\"{kind}\"}} {n}"
            );
        }
        let mut cumulative = 0;
        for (le, n) in &self.latency_buckets_us {
            cumulative += n;
            let le = if le == "+Inf" {
                le.clone()
            } else {
                format!("{}", le.parse::<f64>().unwrap_or(0.0) / 1e6)
            };
            let _ = writeln!(
                out,
                "mailroom_plugin_call_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "mailroom_plugin_call_seconds_sum{{{labels}}} {}",
            self.latency_sum_us as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "mailroom_plugin_call_seconds_count{{{labels}}} {}",
            self.calls
        );
        let _ = writeln!(
            out,
            "mailroom_plugin_peak_memory_bytes{{{labels}}} {}",
            self.peak_memory_bytes
        );
    }
}

/// The `# HELP`/`# TYPE` lines of the plugin series.
pub fn prometheus_header(out: &mut String) {
    out.push_str(
        "# HELP mailroom_plugin_calls_total Plugin invocations.\n\
         # TYPE mailroom_plugin_calls_total counter\n\
         # HELP mailroom_plugin_failures_total Failed plugin invocations by kind.\n\
         # TYPE mailroom_plugin_failures_total counter\n\
         # HELP mailroom_plugin_call_seconds Plugin invocation latency, instantiation included.\n\
         # TYPE mailroom_plugin_call_seconds histogram\n\
         # HELP mailroom_plugin_peak_memory_bytes Largest linear memory a call of the plugin reached.\n\
         # TYPE mailroom_plugin_peak_memory_bytes gauge\n",
    );
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_calls_failures_and_buckets() {
        let m = PluginMetrics::default();
        m.record(Duration::from_micros(7), 1000, None);
        m.record(Duration::from_millis(3), 5000, Some(PluginErrorKind::Trap));
        let s = m.snapshot();
        assert_eq!(s.calls, 2);
        assert_eq!(s.failures.get("trap"), Some(&1));
        assert_eq!(s.latency_buckets_us[0], ("10".to_owned(), 1));
        assert_eq!(s.peak_memory_bytes, 5000);
        let mut out = String::new();
        s.write_prometheus(&mut out, "org_a", "p", "1.0.0");
        assert!(
            out.contains(
                "mailroom_plugin_call_seconds_bucket{org=\"org_a\",plugin=\"p\",version=\"1.0.0\",le=\"+Inf\"} 2"
            ),
            "{out}"
        );
    }
}
