//! Why a rule cannot be saved or compiled, with where the problem is: the
//! rule (its place in the set and its name), the condition node or action,
//! and for a pattern the position inside it.

use crate::model::{Field, MatchType};

/// A rule that cannot run, and where it goes wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rule {} (\"{name}\"){}: {problem}", .rule + 1, place(.node, .action))]
pub struct RuleError {
    /// The rule's place in the set, 0-based (shown 1-based).
    pub rule: usize,
    /// The rule's name.
    pub name: String,
    /// The condition node at fault, 0-based index into `conditions`.
    pub node: Option<usize>,
    /// The action at fault, 0-based index into `actions`.
    pub action: Option<usize>,
    /// What is wrong.
    pub problem: Problem,
}

fn place(node: &Option<usize>, action: &Option<usize>) -> String {
    match (node, action) {
        (Some(n), _) => format!(", condition node {n}"),
        (None, Some(a)) => format!(", action {a}"),
        (None, None) => String::new(),
    }
}

/// What is wrong with a rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The name is empty or too long.
    #[error("a rule needs a name of 1 to {max} characters, without control characters")]
    Name {
        /// The longest name allowed.
        max: usize,
    },
    /// Too many condition nodes.
    #[error("{count} condition nodes; a rule may have at most {max}")]
    TooManyNodes {
        /// How many the rule has.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Too many actions.
    #[error("{count} actions; a rule may have at most {max}")]
    TooManyActions {
        /// How many the rule has.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A combinator names a node that does not exist.
    #[error("refers to node {child}, but the rule has only {len} nodes (0 to {})", .len.saturating_sub(1))]
    NoSuchNode {
        /// The index named.
        child: u32,
        /// How many nodes there are.
        len: usize,
    },
    /// The tree loops back on itself.
    #[error("node {child} is its own ancestor: a condition tree may not loop")]
    Cycle {
        /// The node reached twice.
        child: u32,
    },
    /// `field: header` without a header name.
    #[error("field `header` needs `header_name` (e.g. \"X-Mailer\")")]
    MissingHeaderName,
    /// A value or name that is too long.
    #[error("the value is {len} bytes; at most {max} are allowed")]
    ValueTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A match type that makes no sense for the field.
    #[error("match type `{}` does not apply to field `{}`{hint}", kebab(.match_type), kebab(.field))]
    MatchTypeNotForField {
        /// The field.
        field: Field,
        /// The match type.
        match_type: MatchType,
        /// What would.
        hint: &'static str,
    },
    /// A size that is not a whole number of bytes.
    #[error(
        "`{value}` is not a size: give a whole number of bytes, optionally with K, M or G (1024-based)"
    )]
    NotASize {
        /// The value as written.
        value: String,
    },
    /// A regular expression or wildcard pattern that does not parse.
    #[error("invalid pattern at line {line}, column {column}: {message}")]
    InvalidPattern {
        /// What the parser said.
        message: String,
        /// 1-based line inside the pattern.
        line: usize,
        /// 1-based column (in characters) inside the pattern.
        column: usize,
    },
    /// A pattern whose compiled form is over the limit.
    #[error(
        "the pattern compiles to more than {limit} bytes; simplify it (fewer repetitions, smaller counted repeats like {{1000}})"
    )]
    PatternTooBig {
        /// The limit in bytes.
        limit: usize,
    },
    /// A source that does not describe an import.
    #[error("bad source: {what}")]
    Source {
        /// What is wrong with it.
        what: &'static str,
    },
    /// An action with an empty argument.
    #[error("the action's {what} is empty")]
    EmptyArgument {
        /// What is empty (label, folder, address…).
        what: &'static str,
    },
}

/// A field or match type as the JSON spells it.
fn kebab<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
