//! One `<entry>`'s `<apps:property>` elements as one rule: criteria
//! (`from`, `to`, `subject`, `hasTheWord`, `doesNotHaveTheWord`,
//! `hasAttachment`, `size`…) as conditions through [`crate::query`], actions
//! (`label`, `shouldArchive`, `shouldMarkAsRead`, `shouldStar`,
//! `shouldTrash`, `shouldNeverSpam`, `forwardTo`) as actions.
//!
//! What cannot be represented is a warning at `filter N` naming the
//! property or search operator. A filter whose criteria lost a part would
//! match more mail than in Gmail, so it is imported *disabled* for the admin
//! to review; a filter left with no action is skipped; a rule the engine
//! would refuse (a pattern too big, too many nodes) is left out with a
//! warning ([`filter_common::Output`]).

use crate::query::{self, Scope};
use filter_common::output::{Output, Place};
use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::types::RuleSource;

/// Turns entry `n`'s properties into a rule (or warnings).
pub fn finish(n: u32, props: Vec<(String, String)>, source: RuleSource, out: &mut Output) {
    let at = source
        .line
        .zip(source.column)
        .map(|(line, column)| filter_common::Position { line, column });
    let place = Place::new(format!("filter {n}"), at).id(source.filter_id.clone());
    let first_warning = out.warning_count();
    let get = |key: &str| {
        props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let mut conds = Vec::new();
    let mut lost = Vec::new();
    let mut criteria = Vec::new();
    let mut actions = Vec::new();

    for (key, value) in &props {
        let value = value.as_str();
        match key.as_str() {
            "from" | "to" | "subject" | "hasTheWord" | "doesNotHaveTheWord" => {
                let (scope, shown) = match key.as_str() {
                    "from" => (Scope::Field(Field::From), format!("from:{value}")),
                    // Gmail's `to` also finds the address in Cc.
                    "to" => (Scope::Field(Field::Recipients), format!("to:{value}")),
                    "subject" => (Scope::Field(Field::Subject), format!("subject:{value}")),
                    "hasTheWord" => (Scope::Anywhere, value.to_string()),
                    _ => (Scope::Anywhere, format!("-({value})")),
                };
                criteria.push(shown);
                let parsed = query::parse(value, scope);
                let cond = match key.as_str() {
                    "doesNotHaveTheWord" => parsed.cond.map(Cond::not),
                    _ => parsed.cond,
                };
                conds.extend(cond);
                lost.extend(parsed.unsupported);
            }
            "hasAttachment" if value == "true" => {
                criteria.push("has:attachment".into());
                conds.push(Cond::test(Field::HasAttachment, MatchType::Exists, ""));
            }
            "size" => match value.parse::<u64>() {
                Ok(amount) => {
                    let factor: u64 = match get("sizeUnit") {
                        Some("s_smb") => 1024 * 1024,
                        Some("s_skb") => 1024,
                        _ => 1,
                    };
                    let (mt, word) = match get("sizeOperator") {
                        Some("s_ss") => (MatchType::LessThan, "smaller"),
                        _ => (MatchType::GreaterThan, "larger"),
                    };
                    let bytes = amount.saturating_mul(factor);
                    criteria.push(format!("{word}:{bytes}"));
                    conds.push(Cond::test(Field::Size, mt, bytes.to_string()));
                }
                Err(_) => lost.push(format!("size `{value}`")),
            },
            // Read with `size`; newer exports add them to every entry. Chats
            // are not mail, so there is nothing to exclude.
            "sizeOperator" | "sizeUnit" | "excludeChats" | "hasAttachment" => {}
            "label" => actions.push(Action::AddLabel(value.to_string())),
            "forwardTo" => actions.push(Action::Forward(value.to_string())),
            "shouldArchive" | "shouldMarkAsRead" | "shouldStar" | "shouldTrash"
            | "shouldNeverSpam" => {
                if value == "true" {
                    actions.push(match key.as_str() {
                        "shouldArchive" => Action::Archive,
                        "shouldMarkAsRead" => Action::MarkRead,
                        "shouldStar" => Action::Star,
                        "shouldTrash" => Action::Trash,
                        _ => Action::NeverSpam,
                    });
                }
            }
            "shouldAlwaysMarkAsImportant" | "shouldNeverMarkAsImportant" => out.warn(
                &place,
                format!("`{key}`: Gmail's importance markers have no Mailroom equivalent; left out"),
            ),
            "smartLabelToApply" => out.warn(
                &place,
                format!(
                    "`smartLabelToApply` ({value}): Gmail categories have no Mailroom equivalent; left out"
                ),
            ),
            other => out.warn(&place, format!("property `{other}` is not supported; left out")),
        }
    }

    if actions.is_empty() {
        out.warn(&place, "no action Mailroom supports; filter skipped");
        return;
    }
    let mut rule = RuleBuilder::new(rule_name(n, &criteria)).source(source);
    for cond in conds.iter().cloned() {
        rule = rule.condition(cond);
    }
    for action in actions {
        rule = rule.then(action);
    }
    if !lost.is_empty() {
        out.warn(
            &place,
            format!(
                "search operators not supported: {}; without them the rule would match more mail than in Gmail, so it is imported disabled",
                lost.join(", ")
            ),
        );
        rule = rule.disabled();
    } else if conds.is_empty() {
        out.warn(
            &place,
            "no criteria: the rule would match every message, so it is imported disabled",
        );
        rule = rule.disabled();
    }
    let index = out.push_rule(rule.build(), &place);
    out.assign_warnings(first_warning, index);
}

/// `Gmail filter 3: from:alice@example.com subject:"hi"`, at most 100 characters.
fn rule_name(n: u32, criteria: &[String]) -> String {
    let mut name = format!("Gmail filter {n}");
    if !criteria.is_empty() {
        name.push_str(": ");
        name.push_str(&criteria.join(" "));
    }
    filter_common::check::rule_name(&name, 100)
}
