//! Building rules: conditions as trees, flattened into the contract's list.
//!
//! WIT has no recursive types, so a [`Rule`]'s conditions are a flat list of
//! [`ConditionNode`]s whose `all`/`any`/`not` refer to their children by
//! index; node 0 is the root and an empty list matches every message. Write
//! the tree as a [`Cond`] (or with [`RuleBuilder`]) and let this module do the
//! numbering.
//!
//! [`RuleBuilder`] works like a little stack machine: [`when`](RuleBuilder::when)
//! pushes a test; [`any`](RuleBuilder::any) and [`all`](RuleBuilder::all)
//! replace every pending condition by one group; [`not`](RuleBuilder::not)
//! negates the last one; [`any_of`](RuleBuilder::any_of)/[`all_of`](RuleBuilder::all_of)
//! group only the last `n`. Whatever is left pending at the end is AND-ed.
//!
//! ```text
//! // from contains "@news." OR List-Id exists, and NOT subject begins with "[urgent]"
//! let rule = RuleBuilder::new("Newsletters")
//!     .when(Field::From, MatchType::Contains, "@news.")
//!     .when(Field::ListId, MatchType::Exists, "")
//!     .any()
//!     .when(Field::Subject, MatchType::BeginsWith, "[urgent]")
//!     .not()
//!     .then(Action::AddLabel("news".into()))
//!     .then(Action::Archive)
//!     .build();
//! ```

use crate::types::{Action, Condition, ConditionNode, Field, MatchType, Rule, RuleSource};

/// A condition tree, the readable form of a rule's `conditions`.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Test(Condition),
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    /// A case-insensitive test.
    pub fn test(field: Field, match_type: MatchType, value: impl Into<String>) -> Self {
        Cond::Test(Condition {
            field,
            header_name: None,
            match_type,
            value: value.into(),
            case_sensitive: false,
        })
    }

    /// A case-insensitive test on the header `name`.
    pub fn header(name: &str, match_type: MatchType, value: impl Into<String>) -> Self {
        Cond::Test(Condition {
            field: Field::Header,
            header_name: Some(name.to_string()),
            match_type,
            value: value.into(),
            case_sensitive: false,
        })
    }

    /// All of `children`. Nested `All`s are merged into this one and a single
    /// child is returned as is, so trees stay as flat as their meaning.
    pub fn all(children: Vec<Cond>) -> Self {
        let mut flat = Vec::with_capacity(children.len());
        for child in children {
            match child {
                Cond::All(grandchildren) => flat.extend(grandchildren),
                other => flat.push(other),
            }
        }
        if flat.len() == 1 {
            flat.pop().unwrap_or(Cond::All(Vec::new()))
        } else {
            Cond::All(flat)
        }
    }

    /// Any of `children`, merged and simplified like [`Cond::all`].
    pub fn any(children: Vec<Cond>) -> Self {
        let mut flat = Vec::with_capacity(children.len());
        for child in children {
            match child {
                Cond::Any(grandchildren) => flat.extend(grandchildren),
                other => flat.push(other),
            }
        }
        if flat.len() == 1 {
            flat.pop().unwrap_or(Cond::Any(Vec::new()))
        } else {
            Cond::Any(flat)
        }
    }

    /// The negation; `not(not(x))` is `x`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        match self {
            Cond::Not(inner) => *inner,
            other => Cond::Not(Box::new(other)),
        }
    }

    /// The flat node list: this node at index 0, children after their parent.
    pub fn flatten(&self) -> Vec<ConditionNode> {
        let mut nodes = Vec::new();
        self.push_into(&mut nodes);
        nodes
    }

    fn push_into(&self, nodes: &mut Vec<ConditionNode>) -> u32 {
        let index = nodes.len();
        match self {
            Cond::Test(condition) => nodes.push(ConditionNode::Test(condition.clone())),
            Cond::Not(inner) => {
                // Reserve the slot so the parent precedes its child (node 0 is the root).
                nodes.push(ConditionNode::Not(0));
                let child = inner.push_into(nodes);
                nodes[index] = ConditionNode::Not(child);
            }
            Cond::All(children) | Cond::Any(children) => {
                nodes.push(ConditionNode::All(Vec::new()));
                let ids = children.iter().map(|c| c.push_into(nodes)).collect();
                nodes[index] = match self {
                    Cond::Any(_) => ConditionNode::Any(ids),
                    _ => ConditionNode::All(ids),
                };
            }
        }
        // Rule lists are tiny; u32 is the contract's index type.
        index as u32
    }

    /// Rebuilds the tree from a flat list (node 0 is the root). `None` if an
    /// index is out of range or the nodes form a cycle. An empty list gives
    /// an empty `All`, which matches everything.
    pub fn from_nodes(nodes: &[ConditionNode]) -> Option<Cond> {
        fn build(nodes: &[ConditionNode], index: u32, depth: usize) -> Option<Cond> {
            // A tree never nests deeper than it has nodes; deeper means a cycle.
            if depth > nodes.len() {
                return None;
            }
            let children = |ids: &[u32]| {
                ids.iter()
                    .map(|&i| build(nodes, i, depth + 1))
                    .collect::<Option<Vec<_>>>()
            };
            Some(match nodes.get(index as usize)? {
                ConditionNode::Test(c) => Cond::Test(c.clone()),
                ConditionNode::Not(i) => Cond::Not(Box::new(build(nodes, *i, depth + 1)?)),
                ConditionNode::All(ids) => Cond::All(children(ids)?),
                ConditionNode::Any(ids) => Cond::Any(children(ids)?),
            })
        }
        if nodes.is_empty() {
            return Some(Cond::All(Vec::new()));
        }
        build(nodes, 0, 0)
    }
}

/// Builds a [`Rule`]; see the [module docs](self) for how conditions combine.
#[derive(Clone, Debug)]
pub struct RuleBuilder {
    name: String,
    enabled: bool,
    pending: Vec<Cond>,
    actions: Vec<Action>,
    source: Option<RuleSource>,
}

impl RuleBuilder {
    pub fn new(name: impl Into<String>) -> Self {
        RuleBuilder {
            name: name.into(),
            enabled: true,
            pending: Vec::new(),
            actions: Vec::new(),
            source: None,
        }
    }

    /// Where an imported rule came from (format, the original filter's id
    /// and position); the host adds the file's hash.
    pub fn source(mut self, source: RuleSource) -> Self {
        self.source = Some(source);
        self
    }

    /// Adds a case-insensitive test.
    pub fn when(self, field: Field, match_type: MatchType, value: impl Into<String>) -> Self {
        self.condition(Cond::test(field, match_type, value))
    }

    /// Adds a case-insensitive test on the header `name`.
    pub fn when_header(self, name: &str, match_type: MatchType, value: impl Into<String>) -> Self {
        self.condition(Cond::header(name, match_type, value))
    }

    /// Adds a whole condition tree.
    pub fn condition(mut self, cond: Cond) -> Self {
        self.pending.push(cond);
        self
    }

    /// Makes the last added test case-sensitive.
    pub fn case_sensitive(mut self) -> Self {
        if let Some(Cond::Test(condition)) = self.pending.last_mut() {
            condition.case_sensitive = true;
        }
        self
    }

    /// Replaces every pending condition by "any of them".
    pub fn any(self) -> Self {
        let n = self.pending.len();
        self.any_of(n)
    }

    /// Replaces every pending condition by "all of them".
    pub fn all(self) -> Self {
        let n = self.pending.len();
        self.all_of(n)
    }

    /// Replaces the last `n` pending conditions by "any of them".
    pub fn any_of(mut self, n: usize) -> Self {
        let group = self.take_last(n);
        self.pending.push(Cond::any(group));
        self
    }

    /// Replaces the last `n` pending conditions by "all of them".
    pub fn all_of(mut self, n: usize) -> Self {
        let group = self.take_last(n);
        self.pending.push(Cond::all(group));
        self
    }

    /// Negates the last pending condition (no-op when there is none).
    #[allow(clippy::should_implement_trait)]
    pub fn not(mut self) -> Self {
        if let Some(last) = self.pending.pop() {
            self.pending.push(last.not());
        }
        self
    }

    /// Appends an action; actions run in order.
    pub fn then(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }

    /// Appends [`Action::Stop`]: no later rule runs on a matching message.
    pub fn stop(self) -> Self {
        self.then(Action::Stop)
    }

    /// Builds the rule disabled (imported but not yet switched on).
    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }

    /// The tree the pending conditions make (AND-ed), if any.
    pub fn tree(&self) -> Option<Cond> {
        match self.pending.len() {
            0 => None,
            _ => Some(Cond::all(self.pending.clone())),
        }
    }

    pub fn has_conditions(&self) -> bool {
        !self.pending.is_empty()
    }

    pub fn has_actions(&self) -> bool {
        !self.actions.is_empty()
    }

    pub fn build(self) -> Rule {
        let conditions = self.tree().map(|t| t.flatten()).unwrap_or_default();
        Rule {
            name: self.name,
            enabled: self.enabled,
            conditions,
            actions: self.actions,
            source: self.source,
        }
    }

    fn take_last(&mut self, n: usize) -> Vec<Cond> {
        let start = self.pending.len().saturating_sub(n);
        self.pending.split_off(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &str) -> Cond {
        Cond::test(Field::Subject, MatchType::Contains, v)
    }

    #[test]
    fn root_is_node_zero_and_indices_point_forward() {
        let rule = RuleBuilder::new("r")
            .when(Field::From, MatchType::Contains, "a")
            .when(Field::From, MatchType::Contains, "b")
            .any()
            .when(Field::Subject, MatchType::Is, "x")
            .not()
            .then(Action::Star)
            .build();
        assert!(matches!(&rule.conditions[0], ConditionNode::All(ids) if ids == &[1, 4]));
        assert!(matches!(&rule.conditions[1], ConditionNode::Any(ids) if ids == &[2, 3]));
        assert!(matches!(&rule.conditions[4], ConditionNode::Not(5)));
        assert_eq!(rule.conditions.len(), 6);
        assert_eq!(rule.actions, vec![Action::Star]);
    }

    #[test]
    fn round_trips_through_nodes() {
        let tree = Cond::all(vec![t("a"), Cond::any(vec![t("b"), t("c").not()])]);
        assert_eq!(Cond::from_nodes(&tree.flatten()), Some(tree));
    }

    #[test]
    fn single_condition_is_the_root_itself() {
        let rule = RuleBuilder::new("r").condition(t("a")).build();
        assert_eq!(rule.conditions.len(), 1);
        assert!(matches!(rule.conditions[0], ConditionNode::Test(_)));
    }

    #[test]
    fn no_condition_matches_all() {
        assert!(RuleBuilder::new("r").build().conditions.is_empty());
    }

    #[test]
    fn groups_of_the_last_n() {
        let tree = RuleBuilder::new("r")
            .condition(t("a"))
            .condition(t("b"))
            .condition(t("c"))
            .any_of(2)
            .tree();
        assert_eq!(
            tree,
            Some(Cond::All(vec![t("a"), Cond::Any(vec![t("b"), t("c")])]))
        );
    }

    #[test]
    fn cycles_are_rejected() {
        assert_eq!(Cond::from_nodes(&[ConditionNode::Not(0)]), None);
        assert_eq!(Cond::from_nodes(&[ConditionNode::All(vec![7])]), None);
    }
}
