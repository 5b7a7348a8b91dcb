//! Sieve variables (RFC 5229) and encoded characters (RFC 5228, 2.4.2.4) as
//! far as an import can know them: a `set` that always runs, before the
//! use, with a constant value, is substituted into later strings. A variable
//! set only in some branches, a match variable (`${1}`) or a value built
//! from those is known only when the script runs: using it is reported.

use std::collections::HashMap;

/// What an import knows of a variable's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Known(String),
    /// Set conditionally, or from something known only at delivery.
    Unknown,
}

/// The variables set so far, and which expansions the script asked for.
#[derive(Debug, Default)]
pub struct Variables {
    /// `require "variables"`.
    pub enabled: bool,
    /// `require "encoded-character"`.
    pub encoded: bool,
    values: HashMap<String, Value>,
}

impl Variables {
    pub fn set(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_ascii_lowercase(), value);
    }

    /// `s` with `${name}` and encoded characters replaced; the name of the
    /// first variable whose value cannot be known otherwise.
    pub fn expand(&self, s: &str) -> Result<String, String> {
        if (!self.enabled && !self.encoded) || !s.contains("${") {
            return Ok(s.to_string());
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let name = &after[..end];
            match self.substitute(name)? {
                Some(value) => out.push_str(&value),
                None => out.push_str(&rest[start..start + 2 + end + 1]),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The value for `${name}`, `None` to keep it as written.
    fn substitute(&self, name: &str) -> Result<Option<String>, String> {
        let trimmed = name.trim();
        if self.encoded {
            let lower = trimmed.to_ascii_lowercase();
            if let Some(hex) = lower.strip_prefix("hex:") {
                return Ok(decode_hex(hex));
            }
            if let Some(points) = lower.strip_prefix("unicode:") {
                return Ok(decode_unicode(points));
            }
        }
        if !self.enabled {
            return Ok(None);
        }
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("${{{name}}}"));
        }
        let valid = name.split('.').all(|part| {
            part.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        if !valid {
            return Ok(None);
        }
        match self.values.get(&name.to_ascii_lowercase()) {
            Some(Value::Known(v)) => Ok(Some(v.clone())),
            Some(Value::Unknown) => Err(format!("${{{name}}}")),
            // RFC 5229: a variable never set is the empty string.
            None if !name.contains('.') => Ok(Some(String::new())),
            None => Err(format!("${{{name}}}")),
        }
    }
}

/// `${hex:41 42}` → `AB`; `None` (kept as written) if malformed.
fn decode_hex(hex: &str) -> Option<String> {
    let mut bytes = Vec::new();
    for pair in hex.split_whitespace() {
        if pair.len() % 2 != 0 {
            return None;
        }
        for i in (0..pair.len()).step_by(2) {
            bytes.push(u8::from_str_radix(pair.get(i..i + 2)?, 16).ok()?);
        }
    }
    String::from_utf8(bytes).ok()
}

/// `${unicode:263A}` → `☺`; `None` if malformed.
fn decode_unicode(points: &str) -> Option<String> {
    points
        .split_whitespace()
        .map(|p| u32::from_str_radix(p, 16).ok().and_then(char::from_u32))
        .collect()
}

/// `set`'s modifiers (RFC 5229, 4.1), applied in its order of precedence;
/// `None` for one an import does not apply.
pub fn modify(value: &str, modifiers: &[String]) -> Option<String> {
    let has = |m: &str| modifiers.iter().any(|x| x == m);
    let mut v = value.to_string();
    if has("lower") {
        v = v.to_lowercase();
    }
    if has("upper") {
        v = v.to_uppercase();
    }
    if has("lowerfirst") || has("upperfirst") {
        let mut chars = v.chars();
        if let Some(first) = chars.next() {
            let head: String = if has("upperfirst") {
                first.to_uppercase().collect()
            } else {
                first.to_lowercase().collect()
            };
            v = head + chars.as_str();
        }
    }
    if has("quotewildcard") {
        v = v
            .chars()
            .flat_map(|c| match c {
                '*' | '?' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
    }
    if has("quoteregex") {
        v = regex::escape(&v);
    }
    if has("length") {
        v = v.chars().count().to_string();
    }
    if modifiers.iter().any(|m| {
        !matches!(
            m.as_str(),
            "lower"
                | "upper"
                | "lowerfirst"
                | "upperfirst"
                | "quotewildcard"
                | "quoteregex"
                | "length"
        )
    }) {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_unknown_and_unset() {
        let mut vars = Variables {
            enabled: true,
            ..Default::default()
        };
        vars.set("Folder", Value::Known("Lists".into()));
        vars.set("maybe", Value::Unknown);
        assert_eq!(vars.expand("INBOX.${folder}.x").unwrap(), "INBOX.Lists.x");
        assert_eq!(vars.expand("a${never}b").unwrap(), "ab");
        assert_eq!(vars.expand("${maybe}").unwrap_err(), "${maybe}");
        assert_eq!(vars.expand("${1}").unwrap_err(), "${1}");
        assert_eq!(vars.expand("${not valid} ${").unwrap(), "${not valid} ${");
        let off = Variables::default();
        assert_eq!(off.expand("${folder}").unwrap(), "${folder}");
    }

    #[test]
    fn encoded_characters() {
        let vars = Variables {
            encoded: true,
            ..Default::default()
        };
        assert_eq!(vars.expand("${hex:41 42}-${unicode:263a}").unwrap(), "AB-☺");
        assert_eq!(vars.expand("${hex:4}").unwrap(), "${hex:4}");
    }

    #[test]
    fn modifiers() {
        let m =
            |v: &str, ms: &[&str]| modify(v, &ms.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(m("Hello", &["upper"]).unwrap(), "HELLO");
        assert_eq!(m("hello", &["upperfirst"]).unwrap(), "Hello");
        assert_eq!(m("a*b", &["quotewildcard"]).unwrap(), "a\\*b");
        assert_eq!(m("abc", &["length"]).unwrap(), "3");
        assert_eq!(m("x", &["encodeurl"]), None);
    }
}
