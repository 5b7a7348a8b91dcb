//! Rules for text that crosses a trust boundary: which characters hide or
//! forge text (control characters, bidirectional overrides, zero-width
//! marks), how such text is written to a log so it cannot forge a line, and
//! the names the mailbox state holds (labels and custom folders). The store
//! enforces the name rules on every write and the plugin host checks plugin
//! output against the same functions, so nothing a plugin returns can make
//! the store refuse a batch.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Longest label, in bytes (after trimming).
pub const MAX_LABEL_BYTES: usize = 100;
/// Most labels on one message.
pub const MAX_LABELS: usize = 100;
/// Longest custom folder name, in bytes (after trimming).
pub const MAX_FOLDER_NAME_BYTES: usize = 100;

/// Characters that are not shown as themselves: C0/C1 controls (newline,
/// NUL, ESC…) and the Unicode format characters that reorder or hide text
/// (bidirectional embeddings, overrides and isolates, zero-width joiners and
/// spaces, the byte-order mark).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}')
}

/// The first hidden character of `s` other than those `allowed` (e.g. a
/// newline in a multi-line text), as `U+XXXX`.
pub fn first_hidden(s: &str, allowed: &[char]) -> Option<String> {
    s.chars()
        .find(|c| is_hidden(*c) && !allowed.contains(c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
}

/// `s` as one log line: hidden characters written as escapes (`\n`, `\t`,
/// `\u{1b}`…), so text from a plugin or a server can neither start a new
/// line nor reorder or hide what surrounds it. Borrowed when there is
/// nothing to escape.
pub fn loggable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| is_hidden(c) || c == '\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if is_hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// What is wrong with `label` as a message label, if anything: 1 to
/// [`MAX_LABEL_BYTES`] bytes once trimmed, no hidden characters.
pub fn label_problem(label: &str) -> Option<String> {
    name_problem(label, MAX_LABEL_BYTES)
}

/// What is wrong with `name` as a custom folder's name, if anything: 1 to
/// [`MAX_FOLDER_NAME_BYTES`] bytes once trimmed, no hidden characters.
pub fn folder_name_problem(name: &str) -> Option<String> {
    name_problem(name, MAX_FOLDER_NAME_BYTES)
}

fn name_problem(name: &str, max: usize) -> Option<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Some("is empty".into());
    }
    if trimmed.len() > max {
        return Some(format!(
            "is {} bytes long; the limit is {max}",
            trimmed.len()
        ));
    }
    first_hidden(trimmed, &[]).map(|c| format!("contains the control or invisible character {c}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_cannot_be_forged_or_reordered() {
        assert_eq!(loggable("plain text"), "plain text");
        assert_eq!(loggable("1.0\nERROR forged"), "1.0\\nERROR forged");
        assert_eq!(loggable("a\u{202E}b\u{1b}[2J"), "a\\u{202e}b\\u{1b}[2J");
        // An escape in the input stays distinguishable from one we wrote.
        assert_eq!(loggable("a\\nb"), "a\\\\nb");
    }

    #[test]
    fn labels_are_short_printable_and_not_empty() {
        assert_eq!(label_problem("complaint"), None);
        assert_eq!(label_problem(" émoji 📎 "), None);
        assert!(label_problem("  ").is_some_and(|p| p.contains("empty")));
        assert!(label_problem("line\nbreak").is_some_and(|p| p.contains("U+000A")));
        assert!(label_problem("rtl\u{202E}").is_some_and(|p| p.contains("U+202E")));
        assert!(label_problem(&"x".repeat(101)).is_some_and(|p| p.contains("101")));
        assert_eq!(label_problem(&"x".repeat(100)), None);
    }
}
