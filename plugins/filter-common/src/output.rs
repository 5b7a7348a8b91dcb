//! The rules and warnings of one import. Every rule is checked against the
//! engine's limits as it is added ([`crate::check_rule`]); one that would be
//! refused is left out with a warning saying why, so the rest of the file
//! still imports. Counts stay inside the contract's bounds.

use crate::check::{MAX_RULES, MAX_WARNINGS, check_rule};
use crate::input::Position;
use mailroom_plugin_sdk::filter_importer::{ImportWarning, ImportedRules};
use mailroom_plugin_sdk::types::Rule;

/// The longest warning message (the contract allows 2,000 bytes).
const MAX_MESSAGE_BYTES: usize = 1_900;

/// Where in the input a filter is: in words (`filter 3`, `line 12`), its
/// position and its id in the source system.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Place {
    pub location: Option<String>,
    pub at: Option<Position>,
    pub filter_id: Option<String>,
}

impl Place {
    /// A place described as `location`, at `at`.
    pub fn new(location: impl Into<String>, at: Option<Position>) -> Self {
        Place {
            location: Some(location.into()),
            at,
            filter_id: None,
        }
    }

    /// The same place with the filter's id in its system.
    pub fn id(mut self, filter_id: Option<String>) -> Self {
        self.filter_id = filter_id;
        self
    }
}

/// The import being built.
#[derive(Debug, Default)]
pub struct Output {
    rules: Vec<Rule>,
    warnings: Vec<ImportWarning>,
    too_many_rules: bool,
}

impl Output {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `rule` if the engine would accept it; otherwise warns at `place`
    /// with the reason. The rule's index when it was added.
    pub fn push_rule(&mut self, rule: Rule, place: &Place) -> Option<u32> {
        if self.rules.len() >= MAX_RULES {
            if !self.too_many_rules {
                self.too_many_rules = true;
                self.warn(
                    place,
                    format!("more than {MAX_RULES} rules; this one and the rest are left out"),
                );
            }
            return None;
        }
        if let Err(why) = check_rule(&rule) {
            self.warn(
                place,
                format!("left out: the rule engine would refuse it: {why}"),
            );
            return None;
        }
        self.rules.push(rule);
        u32::try_from(self.rules.len() - 1).ok()
    }

    /// A warning at `place` about no rule in particular.
    pub fn warn(&mut self, place: &Place, message: impl Into<String>) {
        self.warn_rule(None, place, message);
    }

    /// A warning at `place` about the rule `rule_index`.
    pub fn warn_rule(
        &mut self,
        rule_index: Option<u32>,
        place: &Place,
        message: impl Into<String>,
    ) {
        let mut message = message.into();
        if message.len() > MAX_MESSAGE_BYTES {
            let mut cut = MAX_MESSAGE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        self.warnings.push(ImportWarning {
            location: place.location.clone(),
            message,
            line: place.at.map(|a| a.line),
            column: place.at.map(|a| a.column),
            filter_id: place.filter_id.clone(),
            rule_index,
        });
    }

    /// Points the warnings from `first` on at the rule `rule_index` (for
    /// warnings made while the rule was being built).
    pub fn assign_warnings(&mut self, first: usize, rule_index: Option<u32>) {
        for warning in self.warnings.iter_mut().skip(first) {
            warning.rule_index = rule_index;
        }
    }

    /// How many warnings there are so far.
    pub fn warning_count(&self) -> usize {
        self.warnings.len()
    }

    /// The rules so far.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The import, with at most the contract's number of warnings (the last
    /// one then says how many more there were).
    pub fn finish(mut self) -> ImportedRules {
        if self.warnings.len() > MAX_WARNINGS {
            let more = self.warnings.len() - (MAX_WARNINGS - 1);
            self.warnings.truncate(MAX_WARNINGS - 1);
            self.warnings.push(ImportWarning {
                location: None,
                message: format!("{more} more warnings left out"),
                line: None,
                column: None,
                filter_id: None,
                rule_index: None,
            });
        }
        ImportedRules {
            rules: self.rules,
            warnings: self.warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_plugin_sdk::rules::{Cond, RuleBuilder};
    use mailroom_plugin_sdk::types::{Action, Field, MatchType};

    #[test]
    fn a_rule_the_engine_refuses_becomes_a_warning() {
        let mut out = Output::new();
        let place = Place::new("line 3", Some(Position { line: 3, column: 1 }));
        let good = RuleBuilder::new("ok").then(Action::Star).build();
        let bad = RuleBuilder::new("bad")
            .when(Field::Body, MatchType::Regex, "(")
            .then(Action::Star)
            .build();
        assert_eq!(out.push_rule(good, &place), Some(0));
        assert_eq!(out.push_rule(bad, &place), None);
        let done = out.finish();
        assert_eq!(done.rules.len(), 1);
        assert_eq!(done.warnings.len(), 1);
        assert_eq!(done.warnings[0].line, Some(3));
        assert!(done.warnings[0].message.contains("would refuse"));
        let _ = Cond::test(Field::Body, MatchType::Contains, "x");
    }

    #[test]
    fn warnings_are_capped() {
        let mut out = Output::new();
        for _ in 0..MAX_WARNINGS + 5 {
            out.warn(&Place::default(), "x");
        }
        let done = out.finish();
        assert_eq!(done.warnings.len(), MAX_WARNINGS);
        assert!(
            done.warnings[MAX_WARNINGS - 1]
                .message
                .starts_with("6 more")
        );
    }
}
