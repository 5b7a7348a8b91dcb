//! Reading the layers: the TOML file over the defaults, then `MAILROOM_*`
//! environment variables, then command line flags, each overriding the ones
//! before it; loading is a plain function over a file and an environment
//! lookup, so every layer is tested without touching the process
//! environment.

use crate::settings::Settings;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Why the settings cannot be loaded; each says where the bad value is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file cannot be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file named by `--config` or `MAILROOM_CONFIG`.
        path: PathBuf,
        /// Why the read failed (missing, not UTF-8, …).
        source: std::io::Error,
    },
    /// The config file is not valid TOML for the settings.
    #[error("config file {path}: {error}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, and on which line.
        error: TomlError,
    },
    /// A value (from the file, a variable or a flag) is out of its range.
    #[error("{name}: {message}")]
    Value {
        /// The key (`plugins.deadline_ms`) or variable (`MAILROOM_LISTEN`).
        name: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

/// A config text that toml refused: its message names the line, the column
/// and, for an unknown key, the keys that are allowed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TomlError {
    /// toml's own words, with the line and a caret under the bad part.
    pub message: String,
    /// The line (from 1) where the problem starts, when toml knows it.
    pub line: Option<usize>,
}

impl TomlError {
    fn new(text: &str, e: &toml::de::Error) -> Self {
        let line = e.span().map(|span| {
            let start = span.start.min(text.len());
            text.as_bytes()[..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1
        });
        Self {
            message: e.to_string().trim_end().to_owned(),
            line,
        }
    }
}

/// The command line's layer: `Some` overrides everything below it.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--config`: the file, over `MAILROOM_CONFIG`.
    pub config: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--secret-key-file`.
    pub secret_key_file: Option<PathBuf>,
    /// `--log-json`: can only switch JSON logs on.
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

    /// Reads a config file over the defaults (no environment, no checks).
    pub fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|error| ConfigError::Parse {
            path: path.to_owned(),
            error,
        })
    }

    /// Reads a config file's text over the defaults (no environment, no
    /// checks: [`Settings::check`] follows).
    pub fn from_toml(text: &str) -> Result<Settings, TomlError> {
        toml::from_str(text).map_err(|e| TomlError::new(text, &e))
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
        let plugin: [(&str, &mut u64); 5] = [
            ("MAILROOM_PLUGIN_DEADLINE_MS", &mut self.plugins.deadline_ms),
            ("MAILROOM_PLUGIN_MEMORY_MIB", &mut self.plugins.memory_mib),
            ("MAILROOM_PLUGIN_INPUT_MIB", &mut self.plugins.input_mib),
            ("MAILROOM_PLUGIN_OUTPUT_KIB", &mut self.plugins.output_kib),
            (
                "MAILROOM_PLUGIN_CPU_SECONDS_PER_MINUTE",
                &mut self.plugins.cpu_seconds_per_minute,
            ),
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
