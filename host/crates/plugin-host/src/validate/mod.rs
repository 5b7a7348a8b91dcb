//! The valid range of every value a plugin hands the host: each export's
//! output and the metadata record, checked when the call returns and before
//! anything reaches the store, a log or another plugin. A value outside its
//! range fails the call with the field named (`actions[2].add-label`), so
//! it is the plugin's failure — counted, evented, auto-disable applies —
//! and the message's other results still commit.
//!
//! Names the mailbox state holds (labels, folders) are checked with the
//! store's own functions (`mailroom_core::text`), so an output that passes
//! here is one the store accepts. The table of ranges is in
//! `wit/README.md` ("Valid values"); the limits are the constants below and
//! in the submodules.

mod actions;
mod classification;
mod importer;
mod metadata;
mod provider;

use crate::error::PluginError;
use mailroom_core::text;
use std::fmt;

/// Earliest and latest timestamp a plugin may name (ms since the Unix
/// epoch): 1970-01-01 to 9999-12-31, the range every date type we store
/// into and every client shows.
pub const TIMESTAMPS_MS: std::ops::RangeInclusive<i64> = 0..=253_402_300_799_999;
/// Longest URL a plugin may return.
pub const MAX_URL_BYTES: usize = 2048;
/// Longest email address (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// A value outside its range: which field, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The field's path in the output, e.g. `tags[3].score`.
    pub field: String,
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.field, self.problem)
    }
}

/// A value a plugin export returns, with its range.
pub trait PluginOutput {
    /// Whether every field is within its range; the first one that is not.
    fn check(&self) -> Result<(), Violation>;

    /// The error a call returning a value outside its range fails with.
    fn refusal(violation: Violation) -> PluginError {
        PluginError::InvalidOutput(violation.to_string())
    }
}

/// The field path, built only when a check fails.
pub(crate) trait FieldName {
    fn name(self) -> String;
}

impl FieldName for &str {
    fn name(self) -> String {
        self.to_owned()
    }
}

impl<F: FnOnce() -> String> FieldName for F {
    fn name(self) -> String {
        self()
    }
}

pub(crate) fn violation(field: impl FieldName, problem: impl Into<String>) -> Violation {
    Violation {
        field: field.name(),
        problem: problem.into(),
    }
}

/// What a text field may hold: its length in bytes and whether it is one
/// line or several (newlines and tabs allowed). No field may hold other
/// control characters or text-reordering marks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TextRule {
    pub min: usize,
    pub max: usize,
    pub multiline: bool,
}

impl TextRule {
    /// One line of 1 to `max` bytes.
    pub const fn line(max: usize) -> Self {
        Self {
            min: 1,
            max,
            multiline: false,
        }
    }

    /// Several lines, up to `max` bytes, possibly empty.
    pub const fn lines(max: usize) -> Self {
        Self {
            min: 0,
            max,
            multiline: true,
        }
    }

    pub const fn may_be_empty(self) -> Self {
        Self { min: 0, ..self }
    }

    pub fn check(self, field: impl FieldName, value: &str) -> Result<(), Violation> {
        let problem = if value.len() < self.min {
            Some("is empty".to_owned())
        } else if value.len() > self.max {
            Some(format!(
                "is {} bytes long; the limit is {}",
                value.len(),
                self.max
            ))
        } else {
            let allowed: &[char] = if self.multiline {
                &['\n', '\r', '\t']
            } else {
                &[]
            };
            text::first_hidden(value, allowed)
                .map(|c| format!("contains the control or invisible character {c}"))
        };
        match problem {
            Some(problem) => Err(violation(field, problem)),
            None => Ok(()),
        }
    }

    pub fn check_opt(self, field: impl FieldName, value: Option<&String>) -> Result<(), Violation> {
        value.map_or(Ok(()), |v| self.check(field, v))
    }
}

/// At most `max` entries.
pub(crate) fn count<T>(field: &str, list: &[T], max: usize) -> Result<(), Violation> {
    if list.len() > max {
        return Err(violation(
            field,
            format!("has {} entries; the limit is {max}", list.len()),
        ));
    }
    Ok(())
}

/// A label as the store holds it (`mailroom_core::text::label_problem`).
pub(crate) fn label(field: impl FieldName, value: &str) -> Result<(), Violation> {
    match text::label_problem(value) {
        Some(problem) => Err(violation(field, problem)),
        None => Ok(()),
    }
}

/// A timestamp in [`TIMESTAMPS_MS`].
pub(crate) fn timestamp(field: impl FieldName, value: Option<i64>) -> Result<(), Violation> {
    match value {
        Some(ms) if !TIMESTAMPS_MS.contains(&ms) => Err(violation(
            field,
            format!(
                "is {ms}, outside 1970-01-01 to 9999-12-31 ({} to {} ms since the Unix epoch)",
                TIMESTAMPS_MS.start(),
                TIMESTAMPS_MS.end()
            ),
        )),
        _ => Ok(()),
    }
}

/// A finite number in `range`.
pub(crate) fn number(
    field: impl FieldName,
    value: f32,
    range: std::ops::RangeInclusive<f32>,
) -> Result<(), Violation> {
    if value.is_finite() && range.contains(&value) {
        return Ok(());
    }
    Err(violation(
        field,
        format!(
            "is {value}; it must be a finite number from {} to {}",
            range.start(),
            range.end()
        ),
    ))
}

/// An absolute `http` or `https` URL with a host, up to [`MAX_URL_BYTES`].
pub(crate) fn web_url(field: impl FieldName + Copy, value: &str) -> Result<(), Violation> {
    TextRule::line(MAX_URL_BYTES).check(field, value)?;
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(u) => Err(violation(
            field,
            format!(
                "has the scheme `{}`; only http and https URLs with a host are accepted",
                text::loggable(u.scheme())
            ),
        )),
        Err(e) => Err(violation(field, format!("is not a URL ({e})"))),
    }
}

/// An email address: `local@domain`, no spaces, brackets or separators, up
/// to [`MAX_EMAIL_BYTES`] (a mailbox, not a display form like `Ann <a@b>`).
pub(crate) fn email(field: impl FieldName + Copy, value: &str) -> Result<(), Violation> {
    TextRule::line(MAX_EMAIL_BYTES).check(field, value)?;
    let forbidden = |c: char| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"' | '\\');
    let valid = match value.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !value.chars().any(forbidden)
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(violation(
            field,
            "is not an email address (local-part@domain, no spaces or brackets)",
        ))
    }
}

/// A name of ASCII letters, digits and `extra`, 1 to `max` bytes.
pub(crate) fn identifier(
    field: impl FieldName + Copy,
    value: &str,
    max: usize,
    extra: &[char],
) -> Result<(), Violation> {
    TextRule::line(max).check(field, value)?;
    if let Some(c) = value
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !extra.contains(c))
    {
        let allowed: String = extra.iter().map(|c| format!(" `{c}`")).collect();
        return Err(violation(
            field,
            format!(
                "contains {:?}; it may hold ASCII letters, digits and{allowed}",
                text::loggable(&c.to_string())
            ),
        ));
    }
    Ok(())
}

/// A host name: letters, digits, `-` and `.` (a leading `*.` for a
/// wildcard), up to 253 bytes.
pub(crate) fn host_name(field: impl FieldName + Copy, value: &str) -> Result<(), Violation> {
    let bare = value.strip_prefix("*.").unwrap_or(value);
    identifier(field, bare, 253, &['-', '.'])
}

impl<T: PluginOutput> PluginOutput for Option<T> {
    fn check(&self) -> Result<(), Violation> {
        self.as_ref().map_or(Ok(()), PluginOutput::check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules_name_the_field_and_the_problem() {
        let err = TextRule::line(10).check("title", "a\nb").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`title` contains the control or invisible character U+000A"
        );
        assert!(TextRule::lines(10).check("notes", "a\nb\tc").is_ok());
        let err = TextRule::line(3)
            .check(|| format!("x[{}]", 2), "abcd")
            .unwrap_err();
        assert_eq!(err.field, "x[2]");
        assert!(TextRule::line(3).check("t", "").is_err());
        assert!(TextRule::line(3).may_be_empty().check("t", "").is_ok());
    }

    #[test]
    fn urls_are_web_urls_only() {
        assert!(web_url("u", "https://example.com/x?y").is_ok());
        assert!(web_url("u", "http://example.com").is_ok());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "ftp://h/x",
            "/relative",
            "",
        ] {
            assert!(web_url("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_and_numbers() {
        assert!(email("e", "ann@example.com").is_ok());
        for bad in [
            "ann",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "Ann <a@b.c>",
            "a@b.c,d@e.f",
        ] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
        assert!(number("s", 0.5, 0.0..=1.0).is_ok());
        for bad in [f32::NAN, f32::INFINITY, 7.0, -1e30] {
            assert!(number("s", bad, 0.0..=1.0).is_err(), "{bad}");
        }
        assert!(timestamp("t", Some(i64::MIN)).is_err());
        assert!(timestamp("t", Some(1_700_000_000_000)).is_ok());
    }
}
