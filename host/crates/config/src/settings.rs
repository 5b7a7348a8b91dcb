//! The settings model: every key of the config file, its type and its
//! default. Reading the layers is [`crate::load`]'s job, their bounds
//! [`crate::check`]'s.

use mailroom_core::plugin_limits::{
    DEFAULT_CPU_SECONDS_PER_MINUTE, DEFAULT_FAILURE_THRESHOLD, Limits,
};
use mailroom_net::Timeouts;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

/// Where the server listens unless told otherwise (loopback only).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The data directory unless told otherwise, relative to the working one.
pub const DEFAULT_DATA_DIR: &str = "./mailroom-data";

/// Request body limits, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BodyLimits {
    /// Any JSON request.
    pub json_bytes: usize,
    /// A plugin component upload (raw or multipart).
    pub plugin_upload_bytes: usize,
    /// A CSV import of contacts or leads.
    pub import_bytes: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            json_bytes: 1 << 20,
            plugin_upload_bytes: 64 << 20,
            import_bytes: 16 << 20,
        }
    }
}

/// Defaults for every org's plugins (an admin may override limits per plugin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginDefaults {
    /// Wall-clock deadline of one plugin call, in milliseconds.
    pub deadline_ms: u64,
    /// Most memory one plugin instance may grow to, in MiB.
    pub memory_mib: u64,
    /// Largest input handed to a plugin, in MiB.
    pub input_mib: u64,
    /// Largest result accepted back, in KiB.
    pub output_kib: u64,
    /// Consecutive failures after which a plugin is disabled for its org.
    pub failure_threshold: u32,
    /// Seconds of plugin time one org may use per minute, over all its
    /// plugins; past it, the pipeline waits before the org's next message.
    /// 0: unlimited.
    pub cpu_seconds_per_minute: u64,
}

impl Default for PluginDefaults {
    fn default() -> Self {
        let l = Limits::default();
        Self {
            deadline_ms: l.deadline_ms,
            memory_mib: l.memory_bytes >> 20,
            input_mib: l.input_bytes >> 20,
            output_kib: l.output_bytes >> 10,
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            cpu_seconds_per_minute: DEFAULT_CPU_SECONDS_PER_MINUTE,
        }
    }
}

/// How served accounts are kept in sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSettings {
    /// IMAP push: IDLE on INBOX, STATUS polls of the other folders.
    /// Off: every account is fully synced every minute.
    pub push: bool,
    /// Most seconds between two STATUS polls of an account's other folders.
    pub poll_seconds: u64,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            push: true,
            poll_seconds: 60,
        }
    }
}

/// When the message pipeline counts as behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineSettings {
    /// Seconds the oldest message may wait for its pipeline run before
    /// `/healthz` answers 503 `degraded`.
    pub stale_after_seconds: u64,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            stale_after_seconds: 300,
        }
    }
}

/// What the HTTP server allows a client, against slow, noisy or hostile ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Failed authentications an address may make per minute before it is
    /// answered 429 (valid tokens are never counted).
    pub auth_failures_per_minute: NonZeroU32,
    /// Failed authentications an address may make at once.
    pub auth_failure_burst: NonZeroU32,
    /// Seconds a client has to send a request's headers, counted from the
    /// connection's start or the end of its previous response: a client
    /// trickling headers, or a kept-alive connection left idle, is closed.
    pub header_read_timeout_secs: u64,
    /// Open connections one client address may hold.
    pub connections_per_address: usize,
    /// Longest request target (path and query) answered; longer is 414.
    pub max_uri_bytes: usize,
    /// Most bytes of request headers answered; more is 431.
    pub max_header_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            auth_failures_per_minute: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            auth_failure_burst: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            header_read_timeout_secs: 30,
            connections_per_address: 64,
            max_uri_bytes: 8 << 10,
            max_header_bytes: 32 << 10,
        }
    }
}

/// The connection test's deadline per step, in seconds: short, since
/// someone waits for the answer (sync and sending keep patient ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionTestSettings {
    /// The DNS lookup, and the TCP connection.
    pub connect_secs: u64,
    /// A TLS handshake (and the STARTTLS/STLS command before it).
    pub tls_secs: u64,
    /// The server's first words (for SMTP: and the EHLO answer).
    pub greeting_secs: u64,
    /// Each command after that: the login, the folder list.
    pub command_secs: u64,
}

impl Default for ConnectionTestSettings {
    fn default() -> Self {
        let t = Timeouts::connection_test();
        Self {
            connect_secs: t.connect.as_secs(),
            tls_secs: t.tls.as_secs(),
            greeting_secs: t.greeting.as_secs(),
            command_secs: t.command.as_secs(),
        }
    }
}

impl ConnectionTestSettings {
    /// The deadlines the connection test runs under.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(self.connect_secs),
            tls: Duration::from_secs(self.tls_secs),
            greeting: Duration::from_secs(self.greeting_secs),
            command: Duration::from_secs(self.command_secs),
        }
    }
}

/// Everything `mailroom serve` needs to know.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The HTTP API's address.
    pub listen: SocketAddr,
    /// The SQLite file, the secret key and the plugin cache live here.
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite:…`; `None`: `<data_dir>/mailroom.db`.
    pub database_url: Option<String>,
    /// The key sealing mail credentials; `None`: `MAILROOM_SECRET_KEY`, else
    /// `<data_dir>/secret.key` (created on first start).
    pub secret_key_file: Option<PathBuf>,
    /// Logs as JSON lines instead of text.
    pub log_json: bool,
    /// Lets a non-loopback scraper read `/metrics` with this bearer token.
    pub metrics_token: Option<String>,
    /// `[limits]`: request body limits.
    pub limits: BodyLimits,
    /// `[plugins]`: every org's plugin defaults.
    pub plugins: PluginDefaults,
    /// `[sync]`: push and polling.
    pub sync: SyncSettings,
    /// `[http]`: what a client is allowed.
    pub http: HttpSettings,
    /// `[connection_test]`: the test's deadlines.
    pub connection_test: ConnectionTestSettings,
    /// `[pipeline]`: when it counts as behind.
    pub pipeline: PipelineSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            secret_key_file: None,
            log_json: false,
            metrics_token: None,
            limits: BodyLimits::default(),
            plugins: PluginDefaults::default(),
            sync: SyncSettings::default(),
            http: HttpSettings::default(),
            connection_test: ConnectionTestSettings::default(),
            pipeline: PipelineSettings::default(),
        }
    }
}

impl Settings {
    /// The per-call limits every org's plugins start with.
    pub fn plugin_limits(&self) -> Limits {
        Limits {
            deadline_ms: self.plugins.deadline_ms,
            memory_bytes: self.plugins.memory_mib << 20,
            input_bytes: self.plugins.input_mib << 20,
            output_bytes: self.plugins.output_kib << 10,
        }
    }

    /// Where precompiled plugin artifacts are cached.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.data_dir.join("plugin-cache")
    }
}
