//! The native rule engine: the contract's rule model ([`model`]), checked
//! and compiled once per rule set ([`RuleSet::compile`]: indices, loops,
//! values, every pattern compiled with a size limit), then evaluated over a
//! parsed message ([`RuleSet::evaluate`]) without a plugin call: rules in
//! order, disabled ones skipped, and `stop` ending the set.
//!
//! It depends on nothing of the host but the rule model, so it is unit
//! tested, benchmarked and fuzzable without wasmtime or a database; the
//! pipeline and the API hand it a [`MessageView`] of the message they hold.

mod compile;
pub mod error;
mod eval;
pub mod message;
pub mod model;

#[cfg(test)]
mod tests;

pub use compile::{MAX_ACTIONS, MAX_NAME_CHARS, MAX_NODES, MAX_VALUE_BYTES, PATTERN_SIZE_LIMIT};
pub use error::{Problem, RuleError};
pub use message::{Address, Attachment, MessageView};
pub use model::{Action, Condition, ConditionNode, Field, MatchType, Rule, RuleSource};

/// Rules compiled for evaluation, in order, each with the caller's key
/// (a stored rule's id; `()` for a rule set that is not stored).
#[derive(Debug)]
pub struct RuleSet<K> {
    rules: Vec<Compiled<K>>,
}

#[derive(Debug)]
struct Compiled<K> {
    key: K,
    rule: Rule,
    nodes: Vec<compile::Node>,
}

/// A rule that matched a message.
#[derive(Clone, Copy, Debug)]
pub struct Matched<'s, K> {
    /// The caller's key of the rule.
    pub key: &'s K,
    /// The rule.
    pub rule: &'s Rule,
}

impl<K> RuleSet<K> {
    /// Checks and compiles `rules` (disabled ones too, so a rule is refused
    /// when it is saved, not when it is enabled). The first bad rule is the
    /// error, with its place in the set.
    pub fn compile(rules: impl IntoIterator<Item = (K, Rule)>) -> Result<Self, RuleError> {
        let (set, mut refused) = Self::compile_lenient(rules);
        match refused.is_empty() {
            true => Ok(set),
            false => Err(refused.swap_remove(0).1),
        }
    }

    /// Compiles the rules that compile and returns the others' errors
    /// beside the set: for rules already stored, where one bad rule (saved
    /// under older limits) must not stop the rest.
    pub fn compile_lenient(
        rules: impl IntoIterator<Item = (K, Rule)>,
    ) -> (Self, Vec<(K, RuleError)>) {
        let mut compiled = Vec::new();
        let mut refused = Vec::new();
        for (index, (key, rule)) in rules.into_iter().enumerate() {
            match compile::compile_rule(index, &rule) {
                Ok(nodes) => compiled.push(Compiled { key, rule, nodes }),
                Err(e) => refused.push((key, e)),
            }
        }
        (Self { rules: compiled }, refused)
    }

    /// How many rules the set holds (enabled or not).
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the set holds no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The enabled rules that match `message`, in order, up to and
    /// including the first matching one that asks to `stop`.
    pub fn evaluate(&self, message: &MessageView<'_>) -> Vec<Matched<'_, K>> {
        let prepared = message::Prepared::new(message);
        let mut matched = Vec::new();
        for compiled in &self.rules {
            if !compiled.rule.enabled || !eval::matches(&compiled.nodes, &prepared) {
                continue;
            }
            matched.push(Matched {
                key: &compiled.key,
                rule: &compiled.rule,
            });
            if compiled.rule.actions.contains(&Action::Stop) {
                break;
            }
        }
        matched
    }
}

/// Checks one rule alone (its place in the set given as `index`, for the
/// error): what the store's callers run before saving it.
pub fn check(index: usize, rule: &Rule) -> Result<(), RuleError> {
    compile::compile_rule(index, rule).map(drop)
}
