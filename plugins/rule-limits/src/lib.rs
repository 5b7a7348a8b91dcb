//! The rule engine's limits and how it reads a `matches` pattern, in one
//! place for the two sides that must agree on them: the host's engine
//! (`host/crates/rules`), which refuses a rule over a limit, and the
//! importers' pre-check (`filter-common`), which leaves such a rule out
//! with a warning instead of failing the whole import. A limit changed
//! here changes on both sides at the next build.

/// The longest rule name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Condition nodes per rule.
pub const MAX_NODES: usize = 256;
/// Actions per rule.
pub const MAX_ACTIONS: usize = 64;
/// Bytes in one condition value or action argument.
pub const MAX_VALUE_BYTES: usize = 4096;
/// Compiled size of one pattern (the `regex` crate's `size_limit`).
pub const PATTERN_SIZE_LIMIT: usize = 256 * 1024;
/// The lazy DFA's cache per pattern (`dfa_size_limit`).
pub const PATTERN_DFA_LIMIT: usize = 512 * 1024;

/// A shell-style pattern as an anchored regular expression: `*` any run of
/// characters, `?` one, `\` takes the next character literally; it matches
/// the whole value, across lines.
pub fn wildcards(glob: &str) -> String {
    format!("(?s)^{}$", glob_body(glob))
}

/// The regular expression for `glob` without the anchors, to embed in a
/// larger pattern (`(?s)` is the caller's).
pub fn glob_body(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len() + 8);
    let mut chars = glob.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push_str(&regex_syntax::escape(next.encode_utf8(&mut [0; 4])));
                }
            }
            other => out.push_str(&regex_syntax::escape(other.encode_utf8(&mut [0; 4]))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_the_whole_value_and_escape_the_rest() {
        assert_eq!(wildcards("*.pdf"), r"(?s)^.*\.pdf$");
        assert_eq!(wildcards("a?c"), "(?s)^a.c$");
        assert_eq!(wildcards(r"\*x"), r"(?s)^\*x$");
        assert_eq!(wildcards("(x)"), r"(?s)^\(x\)$");
        // A trailing backslash escapes nothing.
        assert_eq!(wildcards("a\\"), "(?s)^a$");
    }
}
