//! Server settings, layered: built-in defaults, then a TOML file
//! (`--config FILE`), then `MAILROOM_*` environment variables, then command
//! line flags — each layer overrides the ones before it. Loading is a plain
//! function over a file and an environment lookup so every layer is tested
//! without touching the process environment.

use mailroom_net::Timeouts;
use mailroom_plugin_host::Limits;
use mailroom_plugin_host::registry::RegistrySettings;
use serde::Deserialize;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./mailroom-data";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// toml's message names the line, column and (for unknown keys) the
    /// keys that are allowed.
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{name}: {message}")]
    Value { name: String, message: String },
}

/// Request body limits, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginDefaults {
    pub deadline_ms: u64,
    pub memory_mib: u64,
    pub input_mib: u64,
    pub output_kib: u64,
    /// Consecutive failures after which a plugin is disabled for its org.
    pub failure_threshold: u32,
}

impl Default for PluginDefaults {
    fn default() -> Self {
        let l = Limits::default();
        Self {
            deadline_ms: l.deadline_ms,
            memory_mib: l.memory_bytes >> 20,
            input_mib: l.input_bytes >> 20,
            output_kib: l.output_bytes >> 10,
            failure_threshold: RegistrySettings::default().failure_threshold,
        }
    }
}

/// How served accounts are kept in sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite:…`; `None`: `<data_dir>/mailroom.db`.
    pub database_url: Option<String>,
    /// The key sealing mail credentials; `None`: `MAILROOM_SECRET_KEY`, else
    /// `<data_dir>/secret.key` (created on first start).
    pub secret_key_file: Option<PathBuf>,
    pub log_json: bool,
    /// Lets a non-loopback scraper read `/metrics` with this bearer token.
    pub metrics_token: Option<String>,
    pub limits: BodyLimits,
    pub plugins: PluginDefaults,
    pub sync: SyncSettings,
    pub http: HttpSettings,
    pub connection_test: ConnectionTestSettings,
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

/// The command line's layer: `Some` overrides everything below it.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub secret_key_file: Option<PathBuf>,
    pub log_json: bool,
}

/// Environment variable naming the config file when `--config` is absent.
pub const CONFIG_ENV: &str = "MAILROOM_CONFIG";

impl Settings {
    /// Loads the settings from the real process environment.
    pub fn load(flags: &Overrides) -> Result<Settings, ConfigError> {
        Self::load_with(flags, |name| std::env::var(name).ok())
    }

    /// Loads the settings with `env` as the environment (for tests).
    pub fn load_with(
        flags: &Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let file = flags
            .config
            .clone()
            .or_else(|| env(CONFIG_ENV).map(PathBuf::from));
        let mut settings = match &file {
            Some(path) => Self::from_file(path)?,
            None => Settings::default(),
        };
        settings.apply_env(&env)?;
        settings.apply_flags(flags);
        settings.check()?;
        Ok(settings)
    }

    pub fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })
    }

    pub fn from_toml(text: &str) -> Result<Settings, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }

    fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("MAILROOM_LISTEN") {
            self.listen = parse("MAILROOM_LISTEN", &v)?;
        }
        if let Some(v) = get("MAILROOM_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("MAILROOM_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = get("MAILROOM_SECRET_KEY_FILE") {
            self.secret_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("MAILROOM_LOG_JSON") {
            self.log_json = parse_bool("MAILROOM_LOG_JSON", &v)?;
        }
        if let Some(v) = get("MAILROOM_METRICS_TOKEN") {
            self.metrics_token = Some(v);
        }
        let sizes: [(&str, &mut usize); 3] = [
            ("MAILROOM_JSON_BODY_LIMIT", &mut self.limits.json_bytes),
            (
                "MAILROOM_PLUGIN_UPLOAD_LIMIT",
                &mut self.limits.plugin_upload_bytes,
            ),
            ("MAILROOM_IMPORT_BODY_LIMIT", &mut self.limits.import_bytes),
        ];
        for (name, slot) in sizes {
            if let Some(v) = get(name) {
                *slot = parse(name, &v)?;
            }
        }
        let plugin: [(&str, &mut u64); 4] = [
            ("MAILROOM_PLUGIN_DEADLINE_MS", &mut self.plugins.deadline_ms),
            ("MAILROOM_PLUGIN_MEMORY_MIB", &mut self.plugins.memory_mib),
            ("MAILROOM_PLUGIN_INPUT_MIB", &mut self.plugins.input_mib),
            ("MAILROOM_PLUGIN_OUTPUT_KIB", &mut self.plugins.output_kib),
        ];
        for (name, slot) in plugin {
            if let Some(v) = get(name) {
                *slot = parse(name, &v)?;
            }
        }
        if let Some(v) = get("MAILROOM_PLUGIN_FAILURE_THRESHOLD") {
            self.plugins.failure_threshold = parse("MAILROOM_PLUGIN_FAILURE_THRESHOLD", &v)?;
        }
        if let Some(v) = get("MAILROOM_SYNC_PUSH") {
            self.sync.push = parse_bool("MAILROOM_SYNC_PUSH", &v)?;
        }
        if let Some(v) = get("MAILROOM_SYNC_POLL_SECONDS") {
            self.sync.poll_seconds = parse("MAILROOM_SYNC_POLL_SECONDS", &v)?;
        }
        if let Some(v) = get("MAILROOM_PIPELINE_STALE_AFTER_SECONDS") {
            self.pipeline.stale_after_seconds = parse("MAILROOM_PIPELINE_STALE_AFTER_SECONDS", &v)?;
        }
        Ok(())
    }

    fn apply_flags(&mut self, flags: &Overrides) {
        if let Some(v) = flags.listen {
            self.listen = v;
        }
        if let Some(v) = &flags.data_dir {
            self.data_dir = v.clone();
        }
        if let Some(v) = &flags.database_url {
            self.database_url = Some(v.clone());
        }
        if let Some(v) = &flags.secret_key_file {
            self.secret_key_file = Some(v.clone());
        }
        // A boolean flag can only switch JSON logging on.
        self.log_json |= flags.log_json;
    }

    fn check(&self) -> Result<(), ConfigError> {
        let value = |name: &str, message: &str| ConfigError::Value {
            name: name.into(),
            message: message.into(),
        };
        if self.limits.json_bytes == 0
            || self.limits.plugin_upload_bytes == 0
            || self.limits.import_bytes == 0
        {
            return Err(value("limits", "body limits must be above 0"));
        }
        let p = &self.plugins;
        if p.deadline_ms == 0 || p.deadline_ms > 60_000 {
            return Err(value("plugins.deadline_ms", "must be 1..=60000"));
        }
        if p.memory_mib == 0 || p.input_mib == 0 || p.output_kib == 0 || p.failure_threshold == 0 {
            return Err(value(
                "plugins",
                "memory_mib, input_mib, output_kib and failure_threshold must be above 0",
            ));
        }
        let h = &self.http;
        if h.header_read_timeout_secs == 0
            || h.connections_per_address == 0
            || h.max_uri_bytes == 0
            || h.max_header_bytes == 0
        {
            return Err(value(
                "http",
                "header_read_timeout_secs, connections_per_address, \
                 max_uri_bytes and max_header_bytes must be above 0",
            ));
        }
        let c = &self.connection_test;
        if [c.connect_secs, c.tls_secs, c.greeting_secs, c.command_secs].contains(&0) {
            return Err(value(
                "connection_test",
                "connect_secs, tls_secs, greeting_secs and command_secs must be above 0",
            ));
        }
        if self.pipeline.stale_after_seconds == 0 {
            return Err(value(
                "pipeline.stale_after_seconds",
                "must be above 0 (300 is the default)",
            ));
        }
        if self.sync.poll_seconds == 0 {
            return Err(value(
                "sync.poll_seconds",
                "must be above 0 (60 is the default)",
            ));
        }
        Ok(())
    }

    /// The per-call limits every org's plugins start with.
    pub fn plugin_limits(&self) -> Limits {
        Limits {
            deadline_ms: self.plugins.deadline_ms,
            memory_bytes: self.plugins.memory_mib << 20,
            input_bytes: self.plugins.input_mib << 20,
            output_bytes: self.plugins.output_kib << 10,
        }
    }

    /// The plugin registry's settings derived from these.
    pub fn registry_settings(&self) -> RegistrySettings {
        RegistrySettings {
            failure_threshold: self.plugins.failure_threshold,
            default_limits: self.plugin_limits(),
            max_component_bytes: self.limits.plugin_upload_bytes as u64,
            ..RegistrySettings::default()
        }
    }

    /// The sync scheduler's settings derived from these.
    pub fn scheduler_settings(&self) -> mailroom_sync::scheduler::SchedulerSettings {
        use mailroom_sync::scheduler::SchedulerSettings;
        use mailroom_sync::watch::WatchSettings;
        SchedulerSettings {
            push: self.sync.push,
            watch: WatchSettings {
                poll_interval: std::time::Duration::from_secs(self.sync.poll_seconds),
                ..WatchSettings::default()
            },
            ..SchedulerSettings::default()
        }
    }

    /// Where precompiled plugin artifacts are cached.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.data_dir.join("plugin-cache")
    }
}

fn parse<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e| ConfigError::Value {
        name: name.into(),
        message: format!("{value:?}: {e}"),
    })
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Value {
            name: name.into(),
            message: format!("{value:?} is not true or false"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_without_file_env_or_flags() {
        let s = Settings::load_with(&Overrides::default(), env(&[])).expect("defaults");
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(s.database_url, None);
        assert_eq!(s.limits.json_bytes, 1 << 20);
        assert_eq!(s.limits.plugin_upload_bytes, 64 << 20);
        assert_eq!(s.plugin_limits(), Limits::default());
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mailroom.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/from/file\"\ndatabase_url = \"sqlite:///file.db\"\n\
             [limits]\njson_bytes = 2048\n[plugins]\ndeadline_ms = 300\n",
        )
        .expect("write");
        let file_only = Overrides {
            config: Some(path.clone()),
            ..Default::default()
        };
        let s = Settings::load_with(&file_only, env(&[])).expect("file");
        assert_eq!(s.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(s.data_dir, PathBuf::from("/from/file"));
        assert_eq!(s.limits.json_bytes, 2048);
        assert_eq!(
            s.limits.plugin_upload_bytes,
            64 << 20,
            "unset keys keep their default"
        );
        assert_eq!(s.plugins.deadline_ms, 300);

        let e = env(&[
            ("MAILROOM_DATA_DIR", "/from/env"),
            ("MAILROOM_LISTEN", "127.0.0.1:9001"),
            ("MAILROOM_JSON_BODY_LIMIT", "4096"),
        ]);
        let s = Settings::load_with(&file_only, &e).expect("env");
        assert_eq!(s.data_dir, PathBuf::from("/from/env"));
        assert_eq!(s.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(s.limits.json_bytes, 4096);
        assert_eq!(s.database_url.as_deref(), Some("sqlite:///file.db"));

        let flags = Overrides {
            data_dir: Some("/from/flag".into()),
            listen: None,
            ..file_only.clone()
        };
        let s = Settings::load_with(&flags, &e).expect("flags");
        assert_eq!(s.data_dir, PathBuf::from("/from/flag"));
        assert_eq!(
            s.listen.to_string(),
            "127.0.0.1:9001",
            "env still beats the file"
        );
    }

    #[test]
    fn sync_settings_reach_the_scheduler() {
        let s = Settings::from_toml("[sync]\npush = false\npoll_seconds = 30\n").expect("toml");
        let scheduler = s.scheduler_settings();
        assert!(!scheduler.push);
        assert_eq!(
            scheduler.watch.poll_interval,
            std::time::Duration::from_secs(30)
        );
        let e = env(&[
            ("MAILROOM_SYNC_PUSH", "yes"),
            ("MAILROOM_SYNC_POLL_SECONDS", "90"),
        ]);
        let s = Settings::load_with(&Overrides::default(), e).expect("env");
        assert!(s.scheduler_settings().push);
        assert_eq!(s.sync.poll_seconds, 90);
        let err = Settings::load_with(
            &Overrides::default(),
            env(&[("MAILROOM_SYNC_POLL_SECONDS", "0")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("sync.poll_seconds"), "{err}");
    }

    #[test]
    fn config_file_from_env_variable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.toml");
        std::fs::write(&path, "log_json = true\n").expect("write");
        let path = path.to_string_lossy().into_owned();
        let s =
            Settings::load_with(&Overrides::default(), env(&[(CONFIG_ENV, &path)])).expect("load");
        assert!(s.log_json);
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let err = Settings::from_toml("listen = \"127.0.0.1:1\"\nlisten_port = 3\n").unwrap_err();
        assert!(err.contains("listen_port"), "{err}");
        let err = Settings::from_toml("[limits]\njson = 3\n").unwrap_err();
        assert!(err.contains("json"), "{err}");
    }

    #[test]
    fn bad_values_name_their_source() {
        let err = Settings::load_with(
            &Overrides::default(),
            env(&[("MAILROOM_LISTEN", "nowhere")]),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("MAILROOM_LISTEN:"), "{err}");
        let err = Settings::load_with(
            &Overrides::default(),
            env(&[("MAILROOM_PLUGIN_DEADLINE_MS", "0")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("deadline_ms"), "{err}");
        let missing = Overrides {
            config: Some("/nonexistent/mailroom.toml".into()),
            ..Default::default()
        };
        let err = Settings::load_with(&missing, env(&[])).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/mailroom.toml"),
            "{err}"
        );
    }
}
