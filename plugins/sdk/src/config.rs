//! This plugin's configuration for the calling org.
//!
//! An org admin sets the values in Mailroom; a plugin declares the keys it
//! reads in [`Metadata::config_keys`](crate::types::Metadata) so the admin
//! knows what to fill in. Values are strings; the helpers here parse them.
//! Each call is one host call: read a key once per invocation, not in a loop.

use std::str::FromStr;

/// The value of `key`, if the admin set one.
pub fn get(key: &str) -> Option<String> {
    crate::host::config_get(key)
}

/// The value of `key`, or `default` when unset.
pub fn get_or(key: &str, default: &str) -> String {
    get(key).unwrap_or_else(|| default.to_string())
}

/// The value of `key` parsed as `T`, or `default` when unset or unparsable.
/// An unparsable value is logged as a warning (once per call) so the admin
/// can see why the default was used.
pub fn parse_or<T: FromStr>(key: &str, default: T) -> T {
    match get(key) {
        None => default,
        Some(raw) => match raw.trim().parse() {
            Ok(value) => value,
            Err(_) => {
                crate::log::warn(&format!(
                    "config `{key}`: cannot parse {raw:?}, using the default"
                ));
                default
            }
        },
    }
}

/// `true` for `true`/`yes`/`on`/`1`, `false` for `false`/`no`/`off`/`0`
/// (any case), `default` otherwise.
pub fn flag(key: &str, default: bool) -> bool {
    match get(key).map(|v| v.trim().to_ascii_lowercase()) {
        Some(v) if matches!(v.as_str(), "true" | "yes" | "on" | "1") => true,
        Some(v) if matches!(v.as_str(), "false" | "no" | "off" | "0") => false,
        _ => default,
    }
}

/// Every key and value set for this plugin in the calling org.
pub fn all() -> Vec<(String, String)> {
    crate::host::config_all()
}
