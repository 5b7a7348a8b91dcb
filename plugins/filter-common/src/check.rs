//! The host rule engine's limits (`host/crates/rules`, `compile.rs`) and the
//! contract's valid values (`wit/README.md`, "Valid values"), checked on the
//! importer's side: a rule an importer returns must compile in the engine and
//! pass the host's output check, or the whole import fails there. A rule that
//! would not is left out with a warning instead ([`crate::Output`]).
//!
//! The limits and the translation of `matches` patterns are the engine's
//! own (`rule-limits`, which both sides build on), and every pattern is
//! compiled with the engine's size limits, so a pattern the engine would
//! refuse as too big (`(a{1000}){1000}`, thousands of `?`) is caught here.

use mailroom_plugin_sdk::types::{Action, Condition, ConditionNode, Field, MatchType, Rule};
use regex::RegexBuilder;

pub use rule_limits::{
    MAX_ACTIONS, MAX_NODES, MAX_VALUE_BYTES, PATTERN_DFA_LIMIT, PATTERN_SIZE_LIMIT, glob_body,
    wildcards,
};

/// The longest rule name in bytes (the engine counts characters, the
/// contract bytes: the stricter of the two).
pub const MAX_NAME_BYTES: usize = rule_limits::MAX_NAME_CHARS;
/// Bytes in a label or folder name.
pub const MAX_LABEL_BYTES: usize = 100;
/// Rules and warnings per import (the contract's bounds on `imported-rules`).
pub const MAX_RULES: usize = 10_000;
pub const MAX_WARNINGS: usize = 10_000;

/// Why `rule` would be refused by the engine or the host's output check.
pub fn check_rule(rule: &Rule) -> Result<(), String> {
    let name = rule.name.trim();
    if name.is_empty() || rule.name.len() > MAX_NAME_BYTES || !one_line(&rule.name) {
        return Err(format!(
            "the rule name must be one line of 1 to {MAX_NAME_BYTES} bytes"
        ));
    }
    if rule.conditions.len() > MAX_NODES {
        return Err(format!(
            "its conditions need {} nodes; a rule may have at most {MAX_NODES}: split it into simpler rules",
            rule.conditions.len()
        ));
    }
    if rule.actions.len() > MAX_ACTIONS {
        return Err(format!(
            "it has {} actions; a rule may have at most {MAX_ACTIONS}",
            rule.actions.len()
        ));
    }
    for action in &rule.actions {
        check_action(action)?;
    }
    for node in &rule.conditions {
        if let ConditionNode::Test(condition) = node {
            check_condition(condition)?;
        }
    }
    Ok(())
}

fn check_action(action: &Action) -> Result<(), String> {
    match action {
        Action::MoveTo(name) | Action::AddLabel(name) | Action::RemoveLabel(name) => {
            let what = if matches!(action, Action::MoveTo(_)) {
                "folder"
            } else {
                "label"
            };
            if name.trim().is_empty() || name.trim().len() > MAX_LABEL_BYTES || !one_line(name) {
                return Err(format!(
                    "the {what} `{}` must be one line of 1 to {MAX_LABEL_BYTES} bytes",
                    shorten(name)
                ));
            }
        }
        Action::Forward(address) if !is_email(address) => {
            return Err(format!(
                "`{}` is not an email address (local@domain) to forward to",
                shorten(address)
            ));
        }
        Action::CreateTask(task) => {
            let title = task.title.trim();
            if title.is_empty() || task.title.len() > 200 || !one_line(&task.title) {
                return Err("a task title must be one line of 1 to 200 bytes".into());
            }
            if task
                .notes
                .as_ref()
                .is_some_and(|n| n.len() > 10_000 || !text(n))
            {
                return Err("task notes may be at most 10,000 bytes of text".into());
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_condition(c: &Condition) -> Result<(), String> {
    if c.value.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "a condition's value is {} bytes; at most {MAX_VALUE_BYTES} are allowed",
            c.value.len()
        ));
    }
    if !text(&c.value) {
        return Err(format!(
            "the value `{}` holds control characters",
            shorten(&c.value)
        ));
    }
    if c.field == Field::Header && c.header_name.as_deref().is_none_or(|h| h.trim().is_empty()) {
        return Err("a header condition needs a header name".into());
    }
    match (c.field, c.match_type) {
        (Field::HasAttachment, _) | (_, MatchType::Exists) => Ok(()),
        (Field::Size, MatchType::GreaterThan | MatchType::LessThan | MatchType::Is) => {
            match c.value.trim().parse::<u64>() {
                Ok(_) => Ok(()),
                Err(_) => Err(format!("`{}` is not a size in bytes", shorten(&c.value))),
            }
        }
        (Field::Size, _) | (_, MatchType::GreaterThan | MatchType::LessThan) => {
            Err("sizes compare with greater-than, less-than or is, and only sizes do".into())
        }
        (_, MatchType::Regex) => check_pattern(&c.value, c.case_sensitive),
        (_, MatchType::Matches) => check_pattern(&wildcards(&c.value), c.case_sensitive),
        _ => Ok(()),
    }
}

/// Whether `pattern` compiles in the engine: valid syntax for the `regex`
/// crate and within its size limits.
pub fn check_pattern(pattern: &str, case_sensitive: bool) -> Result<(), String> {
    RegexBuilder::new(pattern)
        .case_insensitive(!case_sensitive)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_DFA_LIMIT)
        .build()
        .map(drop)
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => format!(
                "the pattern `{}` compiles to more than {limit} bytes, the rule engine's limit",
                shorten(pattern)
            ),
            other => format!("the pattern `{}` is not valid: {other}", shorten(pattern)),
        })
}

/// An address the host accepts for `forward`: `local@domain`, the domain
/// with a dot, no spaces, brackets, `,` `;` `"`, at most 254 bytes.
pub fn is_email(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    address.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';' | '"')
        })
        && !local.contains('@')
}

/// No control characters and none of the marks that reorder or hide text.
pub fn one_line(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || hidden(c))
}

/// Like [`one_line`], but newlines and tabs are allowed.
pub fn text(s: &str) -> bool {
    !s.chars()
        .any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || hidden(c))
}

fn hidden(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// `s` cut to 60 characters for a message.
pub fn shorten(s: &str) -> String {
    if s.chars().count() <= 60 {
        s.to_string()
    } else {
        s.chars().take(59).collect::<String>() + "…"
    }
}

/// `name` cut to `max` characters (with `…`) and without line breaks, for a
/// rule name built from what the admin wrote.
pub fn rule_name(name: &str, max: usize) -> String {
    let flat: String = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|&c| one_line(c.encode_utf8(&mut [0; 4])))
        .collect();
    if flat.chars().count() > max {
        flat.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_plugin_sdk::rules::{Cond, RuleBuilder};

    fn rule(cond: Cond, action: Action) -> Rule {
        RuleBuilder::new("r").condition(cond).then(action).build()
    }

    #[test]
    fn rules_the_engine_takes_pass() {
        let ok = rule(
            Cond::all(vec![
                Cond::test(Field::From, MatchType::Matches, "*@example.com"),
                Cond::test(Field::Subject, MatchType::Regex, r"^\[(spam|junk)\]"),
                Cond::test(Field::Size, MatchType::GreaterThan, "1024"),
            ]),
            Action::MoveTo("Junk".into()),
        );
        assert_eq!(check_rule(&ok), Ok(()));
    }

    #[test]
    fn what_the_engine_refuses_is_caught_with_why() {
        let catastrophic = rule(
            Cond::test(Field::Body, MatchType::Regex, "((a{100}){100}){100}"),
            Action::Star,
        );
        let e = check_rule(&catastrophic).unwrap_err();
        assert!(e.contains("compiles to more than"), "{e}");
        let many_wildcards = rule(
            Cond::test(Field::Body, MatchType::Matches, "?".repeat(4000)),
            Action::Star,
        );
        assert!(check_rule(&many_wildcards).is_err());
        let bad = rule(
            Cond::test(Field::Body, MatchType::Regex, "(a"),
            Action::Star,
        );
        assert!(check_rule(&bad).unwrap_err().contains("not valid"));
        let label = rule(
            Cond::test(Field::Body, MatchType::Contains, "x"),
            Action::AddLabel("a\nb".into()),
        );
        assert!(check_rule(&label).unwrap_err().contains("one line"));
        let forward = rule(
            Cond::test(Field::Body, MatchType::Contains, "x"),
            Action::Forward("Bob <b@c.d>".into()),
        );
        assert!(
            check_rule(&forward)
                .unwrap_err()
                .contains("not an email address")
        );
        let size = rule(
            Cond::test(Field::Size, MatchType::Contains, "1"),
            Action::Star,
        );
        assert!(check_rule(&size).is_err());
        let big = Cond::any(
            (0..300)
                .map(|i| Cond::test(Field::From, MatchType::Is, i.to_string()))
                .collect(),
        );
        assert!(
            check_rule(&rule(big, Action::Star))
                .unwrap_err()
                .contains("nodes")
        );
    }

    #[test]
    fn addresses() {
        assert!(is_email("a.b+c@example.org"));
        for bad in [
            "", "a", "a@b", "a b@c.d", "<a@b.c>", "a@.c", "@b.c", "a@b.c.",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn names_are_one_line_and_bounded() {
        assert_eq!(rule_name("a\n  b\tc", 100), "a b c");
        assert_eq!(rule_name(&"x".repeat(300), 10).chars().count(), 10);
    }
}
