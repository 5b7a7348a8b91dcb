//! Checking a rule and compiling it for evaluation: every index in range,
//! no loops, values that make sense for their field, and every pattern
//! (regular expressions and wildcards alike) compiled once, with a size
//! limit, so evaluating never parses and never blows up.

use crate::error::{Problem, RuleError};
use crate::model::{Action, Condition, ConditionNode, Field, MatchType, Rule, RuleSource};
use regex::{Regex, RegexBuilder};

pub use rule_limits::{
    MAX_ACTIONS, MAX_NAME_CHARS, MAX_NODES, MAX_VALUE_BYTES, PATTERN_SIZE_LIMIT,
};
use rule_limits::{PATTERN_DFA_LIMIT, wildcards};

/// A test ready to run.
#[derive(Debug)]
pub(crate) enum Matcher {
    /// `contains`, `is`, `begins-with`, `ends-with`; the needle is
    /// lower-cased when case is ignored.
    Text {
        op: TextOp,
        needle: String,
        case_sensitive: bool,
    },
    /// `matches` (anchored wildcards) and `regex`.
    Pattern(Regex),
    Exists,
    /// `size` compared with a number of bytes.
    Size(SizeOp, u64),
}

#[derive(Clone, Debug)]
pub(crate) enum TextOp {
    /// The needle's searcher, built once (SIMD; `str::contains` rebuilds
    /// its searcher on every call and scans far slower on long bodies).
    Contains(Box<memchr::memmem::Finder<'static>>),
    Is,
    BeginsWith,
    EndsWith,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum SizeOp {
    Greater,
    Less,
    Equal,
}

/// A compiled condition node; indices as in the rule.
#[derive(Debug)]
pub(crate) enum Node {
    All(Vec<usize>),
    Any(Vec<usize>),
    Not(usize),
    Test {
        field: Field,
        /// Lower-case, for `field: header`.
        header: Option<String>,
        matcher: Matcher,
    },
}

/// Checks `rule` (its place in the set is `index`) and compiles its conditions.
pub(crate) fn compile_rule(index: usize, rule: &Rule) -> Result<Vec<Node>, RuleError> {
    let fail = |node: Option<usize>, action: Option<usize>, problem: Problem| RuleError {
        rule: index,
        name: rule.name.clone(),
        node,
        action,
        problem,
    };
    let name_chars = rule.name.trim().chars().count();
    if name_chars == 0 || name_chars > MAX_NAME_CHARS || rule.name.chars().any(char::is_control) {
        return Err(fail(
            None,
            None,
            Problem::Name {
                max: MAX_NAME_CHARS,
            },
        ));
    }
    if let Some(source) = &rule.source {
        check_source(source).map_err(|p| fail(None, None, p))?;
    }
    if rule.conditions.len() > MAX_NODES {
        return Err(fail(
            None,
            None,
            Problem::TooManyNodes {
                count: rule.conditions.len(),
                max: MAX_NODES,
            },
        ));
    }
    if rule.actions.len() > MAX_ACTIONS {
        return Err(fail(
            None,
            None,
            Problem::TooManyActions {
                count: rule.actions.len(),
                max: MAX_ACTIONS,
            },
        ));
    }
    for (i, action) in rule.actions.iter().enumerate() {
        check_action(action).map_err(|p| fail(None, Some(i), p))?;
    }
    let len = rule.conditions.len();
    let child = |c: u32| -> Result<usize, Problem> {
        let i = c as usize;
        if i < len {
            Ok(i)
        } else {
            Err(Problem::NoSuchNode { child: c, len })
        }
    };
    let mut nodes = Vec::with_capacity(len);
    for (i, node) in rule.conditions.iter().enumerate() {
        let compiled = match node {
            ConditionNode::All(children) => children
                .iter()
                .map(|c| child(*c))
                .collect::<Result<_, _>>()
                .map(Node::All),
            ConditionNode::Any(children) => children
                .iter()
                .map(|c| child(*c))
                .collect::<Result<_, _>>()
                .map(Node::Any),
            ConditionNode::Not(c) => child(*c).map(Node::Not),
            ConditionNode::Test(condition) => compile_condition(condition),
        };
        nodes.push(compiled.map_err(|p| fail(Some(i), None, p))?);
    }
    if let Some((node, child)) = find_cycle(&nodes) {
        return Err(fail(Some(node), None, Problem::Cycle { child }));
    }
    Ok(nodes)
}

fn check_source(source: &RuleSource) -> Result<(), Problem> {
    let plain = |s: &str| s.len() <= 200 && !s.chars().any(char::is_control);
    if source.format.trim().is_empty() || !plain(&source.format) {
        return Err(Problem::Source {
            what: "`format` must be an importer's format id, e.g. `gmail-xml`",
        });
    }
    let sha = &source.file_sha256;
    if !sha.is_empty() && (sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(Problem::Source {
            what: "`file_sha256` must be 64 hex digits (or empty)",
        });
    }
    if source.filter_id.as_deref().is_some_and(|id| !plain(id)) {
        return Err(Problem::Source {
            what: "`filter_id` must be at most 200 characters, without control characters",
        });
    }
    Ok(())
}

fn check_action(action: &Action) -> Result<(), Problem> {
    let (what, text) = match action {
        Action::MoveTo(f) => ("folder", f.as_str()),
        Action::AddLabel(l) | Action::RemoveLabel(l) => ("label", l.as_str()),
        Action::Forward(a) => ("address", a.as_str()),
        Action::CreateTask(t) => ("task title", t.title.as_str()),
        Action::UpdateCrmField(u) => ("field name", u.field.as_str()),
        Action::Notify(n) => ("notification text", n.text.as_str()),
        Action::Webhook(w) => ("URL", w.url.as_str()),
        Action::MarkRead
        | Action::MarkUnread
        | Action::Star
        | Action::Archive
        | Action::Trash
        | Action::NeverSpam
        | Action::Stop => return Ok(()),
    };
    if text.trim().is_empty() {
        return Err(Problem::EmptyArgument { what });
    }
    if text.len() > MAX_VALUE_BYTES {
        return Err(Problem::ValueTooLong {
            len: text.len(),
            max: MAX_VALUE_BYTES,
        });
    }
    Ok(())
}

fn compile_condition(c: &Condition) -> Result<Node, Problem> {
    if c.value.len() > MAX_VALUE_BYTES {
        return Err(Problem::ValueTooLong {
            len: c.value.len(),
            max: MAX_VALUE_BYTES,
        });
    }
    let header = match c.field {
        Field::Header => {
            let name = c.header_name.as_deref().map(str::trim).unwrap_or_default();
            if name.is_empty() {
                return Err(Problem::MissingHeaderName);
            }
            Some(name.to_ascii_lowercase())
        }
        _ => None,
    };
    let not_for = |hint| Problem::MatchTypeNotForField {
        field: c.field,
        match_type: c.match_type,
        hint,
    };
    let matcher = match (c.field, c.match_type) {
        (Field::HasAttachment, _) | (_, MatchType::Exists) => Matcher::Exists,
        (Field::Size, MatchType::GreaterThan) => Matcher::Size(SizeOp::Greater, size(&c.value)?),
        (Field::Size, MatchType::LessThan) => Matcher::Size(SizeOp::Less, size(&c.value)?),
        (Field::Size, MatchType::Is) => Matcher::Size(SizeOp::Equal, size(&c.value)?),
        (Field::Size, _) => {
            return Err(not_for(
                "; compare a size with `greater-than`, `less-than` or `is`",
            ));
        }
        (_, MatchType::GreaterThan | MatchType::LessThan) => {
            return Err(not_for("; numeric comparisons are for `size`"));
        }
        (_, MatchType::Regex) => Matcher::Pattern(pattern(&c.value, c.case_sensitive)?),
        (_, MatchType::Matches) => {
            Matcher::Pattern(pattern(&wildcards(&c.value), c.case_sensitive).map_err(
                |p| match p {
                    // The position is in the translated pattern; the
                    // wildcard text itself has no syntax errors.
                    Problem::InvalidPattern { message, .. } => Problem::InvalidPattern {
                        message,
                        line: 1,
                        column: 1,
                    },
                    other => other,
                },
            )?)
        }
        (_, op) => {
            let needle = if c.case_sensitive {
                c.value.clone()
            } else {
                c.value.to_lowercase()
            };
            Matcher::Text {
                op: match op {
                    MatchType::Is => TextOp::Is,
                    MatchType::BeginsWith => TextOp::BeginsWith,
                    MatchType::EndsWith => TextOp::EndsWith,
                    _ => TextOp::Contains(Box::new(
                        memchr::memmem::Finder::new(needle.as_bytes()).into_owned(),
                    )),
                },
                needle,
                case_sensitive: c.case_sensitive,
            }
        }
    };
    Ok(Node::Test {
        field: c.field,
        header,
        matcher,
    })
}

/// `10`, `10K`, `2M`, `1G` (1024-based; `KB`, `MB`, `GB` too).
fn size(value: &str) -> Result<u64, Problem> {
    let bad = || Problem::NotASize {
        value: value.to_owned(),
    };
    let v = value.trim().to_ascii_uppercase();
    let v = v.strip_suffix('B').filter(|s| !s.is_empty()).unwrap_or(&v);
    let (digits, factor) = match v.chars().last() {
        Some('K') => (&v[..v.len() - 1], 1u64 << 10),
        Some('M') => (&v[..v.len() - 1], 1 << 20),
        Some('G') => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    let n: u64 = digits.trim().parse().map_err(|_| bad())?;
    n.checked_mul(factor).ok_or_else(bad)
}

/// Parses first (for the position of a syntax error), then compiles within
/// the size limits.
fn pattern(source: &str, case_sensitive: bool) -> Result<Regex, Problem> {
    if let Err(e) = regex_syntax::ParserBuilder::new()
        .case_insensitive(!case_sensitive)
        .build()
        .parse(source)
    {
        let (message, span) = match &e {
            regex_syntax::Error::Parse(e) => (e.kind().to_string(), *e.span()),
            regex_syntax::Error::Translate(e) => (e.kind().to_string(), *e.span()),
            _ => (
                e.to_string(),
                regex_syntax::ast::Span::splat(regex_syntax::ast::Position::new(0, 1, 1)),
            ),
        };
        return Err(Problem::InvalidPattern {
            message,
            line: span.start.line.max(1),
            column: span.start.column.max(1),
        });
    }
    RegexBuilder::new(source)
        .case_insensitive(!case_sensitive)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_DFA_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => Problem::PatternTooBig { limit },
            other => Problem::InvalidPattern {
                message: other.to_string(),
                line: 1,
                column: 1,
            },
        })
}

/// A node reachable from itself, if any: (the node whose child closes the
/// loop, that child).
fn find_cycle(nodes: &[Node]) -> Option<(usize, u32)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; nodes.len()];
    for start in 0..nodes.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative depth-first search: (node, next child to visit).
        let mut stack = vec![(start, 0usize)];
        marks[start] = Mark::Open;
        while let Some((node, next)) = stack.last_mut() {
            let children: &[usize] = match &nodes[*node] {
                Node::All(c) | Node::Any(c) => c,
                Node::Not(c) => std::slice::from_ref(c),
                Node::Test { .. } => &[],
            };
            if let Some(&child) = children.get(*next) {
                *next += 1;
                match marks[child] {
                    Mark::Open => return Some((*node, child as u32)),
                    Mark::New => {
                        marks[child] = Mark::Open;
                        stack.push((child, 0));
                    }
                    Mark::Done => {}
                }
            } else {
                marks[*node] = Mark::Done;
                stack.pop();
            }
        }
    }
    None
}
