//! The server's settings: what each key means and its default
//! ([`settings`]), reading them from defaults, a TOML file, `MAILROOM_*`
//! variables and flags ([`load`]), and the range every number must be in
//! ([`check`]). Plain data below the plugin host, so the config file is
//! fuzzed without building wasmtime; the `mailroom` binary turns the
//! settings into each layer's own (registry, scheduler).

pub mod check;
pub mod load;
pub mod settings;

pub use load::{CONFIG_ENV, ConfigError, Overrides, TomlError};
pub use settings::{
    BodyLimits, ConnectionTestSettings, DEFAULT_DATA_DIR, DEFAULT_LISTEN, HttpSettings,
    PipelineSettings, PluginDefaults, Settings, SyncSettings,
};

#[cfg(test)]
mod tests;
