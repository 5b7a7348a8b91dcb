//! The mixed rule set of the rules benchmark: ten shapes of rule (every
//! field, every match type, all/any/not trees, a fifth of them regular
//! expressions or wildcards), each with its own values, so almost none
//! matches a message. Shared with the sync benchmark (`#[path]`), which
//! stores them to measure the pipeline with rules on.

use mailroom_rules::model::ConditionNode::{All, Any, Not, Test};
use mailroom_rules::{Action, Condition, ConditionNode, Field, MatchType, Rule};

fn cond(field: Field, match_type: MatchType, value: String) -> ConditionNode {
    Test(Condition {
        field,
        header_name: (field == Field::Header).then(|| "X-Mailer".to_owned()),
        match_type,
        value,
        case_sensitive: false,
    })
}

/// Rule `i` of the mixed set: one of ten shapes, each with its own values.
pub fn mixed_rule(i: usize) -> Rule {
    use Field::*;
    use MatchType::*;
    let conditions = match i % 10 {
        0 => vec![cond(From, Contains, format!("@vendor{i}.example"))],
        1 => vec![cond(Subject, Contains, format!("project {i}"))],
        2 => vec![
            All(vec![1, 2]),
            cond(ToOrCc, Is, format!("team{i}@ours.example")),
            cond(HasAttachment, Exists, String::new()),
        ],
        3 => vec![cond(Body, Contains, format!("order number {i}"))],
        4 => vec![cond(
            Subject,
            Regex,
            format!(r"^(re|fwd?):\s*ticket #{i}\d+"),
        )],
        5 => vec![cond(AttachmentName, Matches, format!("report-{i}-*.xlsx"))],
        6 => vec![
            Any(vec![1, 2, 3]),
            cond(From, EndsWith, format!("@client{i}.example")),
            cond(ListId, Is, format!("list{i}.example")),
            cond(Header, BeginsWith, format!("Mailer {i}")),
        ],
        7 => vec![
            All(vec![1, 2]),
            cond(Size, GreaterThan, format!("{}K", 200 + i)),
            Not(3),
            cond(Priority, Is, "low".to_owned()),
        ],
        8 => vec![cond(Body, Regex, format!(r"\binvoice\s+INV-{i}-\d{{4}}\b"))],
        _ => vec![cond(Recipients, Matches, format!("*+{i}@ours.example"))],
    };
    Rule {
        name: format!("rule {i}"),
        enabled: true,
        conditions,
        actions: vec![Action::AddLabel(format!("label-{i}")), Action::MarkRead],
        source: None,
    }
}
