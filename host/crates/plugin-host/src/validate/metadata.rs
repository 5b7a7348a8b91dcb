//! The range of the metadata record every plugin exports: a name the
//! registry can key on, a semantic version, a description an admin page
//! can show, config keys that are unique and bounded, and permissions that
//! name hosts. Upload and `mailroom plugin check` both get it from here.

use super::{PluginOutput, TextRule, Violation, count, host_name, identifier, violation};
use crate::error::PluginError;
use crate::metadata::{Permission, PluginMetadata};
use mailroom_core::text;
use std::collections::HashSet;

pub const MAX_NAME_BYTES: usize = 64;
pub const MAX_DESCRIPTION_BYTES: usize = 4096;
pub const MAX_CONFIG_KEYS: usize = 64;
const MAX_PERMISSIONS: usize = 8;
const MAX_HOSTS: usize = 50;
/// How much of a refused name an error shows.
const SHOWN_NAME_CHARS: usize = 80;

impl PluginOutput for PluginMetadata {
    fn check(&self) -> Result<(), Violation> {
        check_name(&self.name)?;
        TextRule::line(64).check("version", &self.version)?;
        if let Err(e) = semver::Version::parse(&self.version) {
            return Err(violation(
                "version",
                format!(
                    "is {:?}, not a semantic version like 1.4.2 ({e})",
                    text::loggable(&self.version)
                ),
            ));
        }
        TextRule::lines(MAX_DESCRIPTION_BYTES).check("description", &self.description)?;
        count("config-keys", &self.config_keys, MAX_CONFIG_KEYS)?;
        let mut seen = HashSet::new();
        for (i, key) in self.config_keys.iter().enumerate() {
            let at = move |name: &str| format!("config-keys[{i}].{name}");
            identifier(move || at("name"), &key.name, 64, &['-', '_', '.'])?;
            if !seen.insert(key.name.as_str()) {
                return Err(violation(
                    move || at("name"),
                    format!("`{}` is declared twice; each config key once", key.name),
                ));
            }
            TextRule::lines(1000).check(|| at("description"), &key.description)?;
            TextRule::lines(4096).check_opt(|| at("default-value"), key.default_value.as_ref())?;
        }
        count("permissions", &self.permissions, MAX_PERMISSIONS)?;
        for (i, p) in self.permissions.iter().enumerate() {
            if let Permission::OutboundHttp(hosts) = p {
                if hosts.len() > MAX_HOSTS {
                    return Err(violation(
                        move || format!("permissions[{i}].outbound-http"),
                        format!("has {} hosts; the limit is {MAX_HOSTS}", hosts.len()),
                    ));
                }
                for (j, h) in hosts.iter().enumerate() {
                    host_name(move || format!("permissions[{i}].outbound-http[{j}]"), h)?;
                }
            }
        }
        Ok(())
    }

    fn refusal(violation: Violation) -> PluginError {
        PluginError::InvalidMetadata(violation.to_string())
    }
}

/// A plugin's name: 1 to 64 characters of `a-z`, `0-9`, `-`, `_`, `.`.
/// Shown shortened and escaped when refused.
fn check_name(name: &str) -> Result<(), Violation> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if valid {
        return Ok(());
    }
    let shown: String = name.chars().take(SHOWN_NAME_CHARS).collect();
    let more = if name.chars().count() > SHOWN_NAME_CHARS {
        format!("… ({} bytes)", name.len())
    } else {
        String::new()
    };
    Err(violation(
        "name",
        format!(
            "is `{}{more}`; a name is 1–{MAX_NAME_BYTES} characters of a-z, 0-9, `-`, `_` or `.`",
            text::loggable(&shown)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PluginKind;
    use crate::metadata::ConfigKey;

    fn meta() -> PluginMetadata {
        PluginMetadata {
            name: "shouty".into(),
            version: "1.2.3".into(),
            kind: PluginKind::Classifier,
            description: "Tags shouting.\nSecond line.".into(),
            config_keys: vec![],
            permissions: vec![],
        }
    }

    #[test]
    fn versions_are_semantic_and_one_line() {
        assert!(meta().check().is_ok());
        for bad in ["not-a-semver", "1.0", "1.0.0\nERROR forged", ""] {
            let m = PluginMetadata {
                version: bad.into(),
                ..meta()
            };
            let e = m.check().unwrap_err();
            assert_eq!(e.field, "version", "{bad}: {e}");
            assert!(!e.to_string().contains('\n'), "{e}");
        }
    }

    #[test]
    fn config_keys_are_unique_and_bounded() {
        let key = ConfigKey {
            name: "mode".into(),
            description: "How".into(),
            required: false,
            default_value: None,
        };
        let m = PluginMetadata {
            config_keys: vec![key.clone(), key.clone()],
            ..meta()
        };
        assert_eq!(m.check().unwrap_err().field, "config-keys[1].name");
        let m = PluginMetadata {
            config_keys: vec![key; 5000],
            ..meta()
        };
        assert!(
            m.check()
                .unwrap_err()
                .to_string()
                .starts_with("`config-keys` has 5000 entries")
        );
        let m = PluginMetadata {
            description: "d".repeat(500_000),
            ..meta()
        };
        assert_eq!(m.check().unwrap_err().field, "description");
    }

    #[test]
    fn a_long_bad_name_is_shown_shortened() {
        let m = PluginMetadata {
            name: "N".repeat(10_000),
            ..meta()
        };
        let e = m.check().unwrap_err().to_string();
        assert!(e.len() < 300 && e.contains("10000 bytes"), "{e}");
    }
}
