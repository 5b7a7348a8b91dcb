//! The engine per field, match type and combinator, `stop`, and the
//! refusals at compile time.

use super::*;
use crate::model::ConditionNode::{All, Any, Not, Test};

fn message() -> MessageView<'static> {
    MessageView {
        from: vec![Address {
            name: Some("Carol Client"),
            email: "Carol@Client.example",
        }],
        to: vec![Address {
            name: None,
            email: "sales@ours.example",
        }],
        cc: vec![Address {
            name: Some("Dan"),
            email: "dan@ours.example",
        }],
        bcc: vec![Address {
            name: None,
            email: "archive@ours.example",
        }],
        reply_to: vec![Address {
            name: None,
            email: "replies@client.example",
        }],
        subject: "Invoice 2024-117 is overdue",
        body: "Hello,\nplease find the invoice attached.\nRegards",
        headers: vec![
            ("X-Mailer", "Thunderbird 115"),
            ("List-Id", "Client news <news.client.example>"),
            ("X-Priority", "1 (Highest)"),
            ("Return-Path", "<bounce@client.example>"),
            ("Delivered-To", "sales@ours.example"),
            ("X-Tag", "first"),
            ("X-Tag", "second"),
        ],
        attachments: vec![Attachment {
            filename: Some("Invoice-117.PDF"),
            inline: false,
        }],
        size: 48_000,
    }
}

fn cond(field: Field, match_type: MatchType, value: &str) -> Condition {
    Condition {
        field,
        header_name: None,
        match_type,
        value: value.into(),
        case_sensitive: false,
    }
}

fn rule(name: &str, conditions: Vec<ConditionNode>, actions: Vec<Action>) -> Rule {
    Rule {
        name: name.into(),
        enabled: true,
        conditions,
        actions,
        source: None,
    }
}

/// Whether one condition matches the test message.
fn hit(c: Condition) -> bool {
    hit_tree(vec![Test(c)])
}

fn hit_tree(conditions: Vec<ConditionNode>) -> bool {
    let set =
        RuleSet::compile([((), rule("r", conditions, vec![Action::Star]))]).expect("compiles");
    !set.evaluate(&message()).is_empty()
}

fn refused(c: Condition) -> Problem {
    RuleSet::compile([((), rule("r", vec![Test(c)], vec![Action::Star]))])
        .expect_err("refused")
        .problem
}

#[test]
fn address_fields_match_email_or_name_any_address() {
    use Field::*;
    use MatchType::*;
    assert!(hit(cond(From, Contains, "client.example")));
    assert!(hit(cond(From, Is, "carol@client.example")), "case ignored");
    assert!(hit(cond(From, Is, "Carol Client")), "display name");
    assert!(!hit(cond(From, Is, "carol")));
    assert!(hit(cond(To, Is, "sales@ours.example")));
    assert!(!hit(cond(To, Is, "dan@ours.example")));
    assert!(hit(cond(Cc, BeginsWith, "dan@")));
    assert!(hit(cond(Bcc, EndsWith, "@ours.example")));
    assert!(
        hit(cond(Recipients, Is, "archive@ours.example")),
        "bcc is a recipient"
    );
    assert!(
        !hit(cond(ToOrCc, Is, "archive@ours.example")),
        "but not to-or-cc"
    );
    assert!(hit(cond(ToOrCc, Is, "dan@ours.example")));
    assert!(hit(cond(ReplyTo, Is, "replies@client.example")));
    let mut exact = cond(From, Is, "carol@client.example");
    exact.case_sensitive = true;
    assert!(!hit(exact), "case-sensitive");
}

#[test]
fn text_fields_and_match_types() {
    use Field::*;
    use MatchType::*;
    assert!(hit(cond(Subject, Contains, "OVERDUE")));
    assert!(hit(cond(Subject, BeginsWith, "invoice")));
    assert!(hit(cond(Subject, EndsWith, "overdue")));
    assert!(hit(cond(Subject, Is, "invoice 2024-117 is overdue")));
    assert!(!hit(cond(Subject, Is, "invoice")));
    assert!(hit(cond(Subject, Matches, "Invoice *-1?7 is*")));
    assert!(
        !hit(cond(Subject, Matches, "Invoice")),
        "wildcards cover the whole field"
    );
    assert!(
        !hit(cond(Subject, Matches, "*\\?*")),
        "an escaped ? is a literal ?"
    );
    assert!(hit(cond(Subject, Regex, r"\d{4}-\d+")));
    assert!(
        hit(cond(Subject, Regex, "^invoice")),
        "regex ignores case by default"
    );
    let mut strict = cond(Subject, Regex, "^invoice");
    strict.case_sensitive = true;
    assert!(!hit(strict));
    assert!(hit(cond(Body, Contains, "find the invoice")));
    assert!(hit(cond(Body, Regex, "(?m)^Regards$")));
    assert!(hit(cond(Subject, Exists, "")));
}

#[test]
fn headers_every_occurrence_and_exists() {
    let header = |name: &str, match_type, value: &str| Condition {
        header_name: Some(name.into()),
        ..cond(Field::Header, match_type, value)
    };
    assert!(hit(header("x-mailer", MatchType::Contains, "thunderbird")));
    assert!(
        hit(header("X-Tag", MatchType::Is, "second")),
        "any occurrence"
    );
    assert!(hit(header("X-Tag", MatchType::Exists, "")));
    assert!(!hit(header("X-Spam", MatchType::Exists, "")));
    assert_eq!(
        refused(cond(Field::Header, MatchType::Contains, "x")),
        Problem::MissingHeaderName
    );
}

#[test]
fn size_attachments_list_priority_envelope() {
    use Field::*;
    use MatchType::*;
    assert!(hit(cond(Size, GreaterThan, "40K")));
    assert!(!hit(cond(Size, GreaterThan, "1M")));
    assert!(hit(cond(Size, LessThan, "1MB")));
    assert!(hit(cond(Size, Is, "48000")));
    assert!(matches!(
        refused(cond(Size, GreaterThan, "big")),
        Problem::NotASize { .. }
    ));
    assert!(matches!(
        refused(cond(Size, Contains, "1")),
        Problem::MatchTypeNotForField { .. }
    ));
    assert!(matches!(
        refused(cond(Subject, LessThan, "1")),
        Problem::MatchTypeNotForField { .. }
    ));
    assert!(hit(cond(HasAttachment, Exists, "")));
    assert!(hit(cond(AttachmentName, EndsWith, ".pdf")));
    assert!(hit(cond(AttachmentName, Matches, "*.pdf")));
    assert!(
        hit(cond(ListId, Is, "news.client.example")),
        "the id inside <…>"
    );
    assert!(
        hit(cond(ListId, Contains, "client news")),
        "or the whole value"
    );
    assert!(hit(cond(Priority, Is, "high")));
    assert!(!hit(cond(Priority, Is, "normal")));
    assert!(hit(cond(EnvelopeFrom, Is, "bounce@client.example")));
    assert!(hit(cond(EnvelopeTo, Is, "sales@ours.example")));

    let mut plain = message();
    plain.attachments.clear();
    plain.headers.clear();
    let set = RuleSet::compile([
        (
            (),
            rule(
                "att",
                vec![Test(cond(HasAttachment, Exists, ""))],
                vec![Action::Star],
            ),
        ),
        (
            (),
            rule(
                "prio",
                vec![Test(cond(Priority, Is, "normal"))],
                vec![Action::Star],
            ),
        ),
        (
            (),
            rule(
                "list",
                vec![Test(cond(ListId, Exists, ""))],
                vec![Action::Star],
            ),
        ),
    ])
    .expect("compiles");
    let names: Vec<&str> = set
        .evaluate(&plain)
        .iter()
        .map(|m| m.rule.name.as_str())
        .collect();
    assert_eq!(names, ["prio"], "no attachment, no list, normal priority");
}

#[test]
fn combinators_all_any_not_and_empty() {
    use Field::*;
    use MatchType::*;
    let yes = || Test(cond(Subject, Contains, "invoice"));
    let no = || Test(cond(Subject, Contains, "meeting"));
    assert!(hit_tree(vec![]), "no conditions: every message");
    assert!(hit_tree(vec![All(vec![1, 2]), yes(), yes()]));
    assert!(!hit_tree(vec![All(vec![1, 2]), yes(), no()]));
    assert!(hit_tree(vec![Any(vec![1, 2]), no(), yes()]));
    assert!(!hit_tree(vec![Any(vec![1, 2]), no(), no()]));
    assert!(hit_tree(vec![Not(1), no()]));
    assert!(!hit_tree(vec![Not(1), yes()]));
    assert!(hit_tree(vec![All(vec![])]), "all of nothing holds");
    assert!(!hit_tree(vec![Any(vec![])]), "any of nothing does not");
    // (subject has invoice) AND NOT (from ours OR size > 1M); children may
    // come before their parent and be shared.
    assert!(hit_tree(vec![
        All(vec![3, 1]),
        Not(2),
        Any(vec![4, 5]),
        yes(),
        Test(cond(From, EndsWith, "@ours.example")),
        Test(cond(Size, GreaterThan, "1M")),
    ]));
}

#[test]
fn rules_run_in_order_disabled_skipped_and_stop_ends_the_set() {
    let any = || vec![];
    let mut disabled = rule("off", any(), vec![Action::AddLabel("never".into())]);
    disabled.enabled = false;
    let set = RuleSet::compile([
        (
            "a",
            rule("first", any(), vec![Action::AddLabel("one".into())]),
        ),
        ("b", disabled),
        (
            "c",
            rule(
                "no match",
                vec![Test(cond(Field::Subject, MatchType::Is, "x"))],
                vec![Action::Stop],
            ),
        ),
        (
            "d",
            rule("stops", any(), vec![Action::MarkRead, Action::Stop]),
        ),
        ("e", rule("after stop", any(), vec![Action::Trash])),
    ])
    .expect("compiles");
    let keys: Vec<&str> = set.evaluate(&message()).iter().map(|m| *m.key).collect();
    assert_eq!(keys, ["a", "d"]);
}

#[test]
fn bad_trees_and_actions_are_refused_with_their_place() {
    let err = RuleSet::compile([
        ((), rule("fine", vec![], vec![Action::Star])),
        (
            (),
            rule("Loops", vec![All(vec![1]), Not(0)], vec![Action::Star]),
        ),
    ])
    .expect_err("a loop");
    assert_eq!((err.rule, err.node), (1, Some(1)));
    assert_eq!(err.problem, Problem::Cycle { child: 0 });
    assert!(
        err.to_string()
            .starts_with("rule 2 (\"Loops\"), condition node 1:"),
        "{err}"
    );

    let err = RuleSet::compile([((), rule("r", vec![Any(vec![0, 7])], vec![Action::Star]))])
        .expect_err("out of range");
    assert_eq!(err.problem, Problem::NoSuchNode { child: 7, len: 1 });

    let err = RuleSet::compile([(
        (),
        rule(
            "r",
            vec![],
            vec![Action::Star, Action::AddLabel(" ".into())],
        ),
    )])
    .expect_err("empty label");
    assert_eq!(
        (err.action, err.problem),
        (Some(1), Problem::EmptyArgument { what: "label" })
    );

    let err = RuleSet::compile([((), rule("  ", vec![], vec![]))]).expect_err("no name");
    assert!(matches!(err.problem, Problem::Name { .. }));
}

#[test]
fn invalid_and_oversized_patterns_are_refused_with_their_position() {
    match refused(cond(Field::Subject, MatchType::Regex, "ab(cd")) {
        Problem::InvalidPattern { line, column, .. } => assert_eq!((line, column), (1, 3)),
        other => panic!("{other:?}"),
    }
    match refused(cond(Field::Subject, MatchType::Regex, "abc\nx{2,1}")) {
        Problem::InvalidPattern { line, message, .. } => {
            assert_eq!(line, 2, "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Counted repetition that compiles to far more than the limit.
    assert!(matches!(
        refused(cond(Field::Body, MatchType::Regex, r"(\w{100}){100}")),
        Problem::PatternTooBig { .. }
    ));
    // A catastrophic pattern for backtracking engines is linear here.
    let set = RuleSet::compile([(
        (),
        rule(
            "evil",
            vec![Test(cond(Field::Body, MatchType::Regex, "(a+)+$"))],
            vec![Action::Star],
        ),
    )])
    .expect("compiles");
    let body = format!("{}!", "a".repeat(50_000));
    let mut m = message();
    m.body = &body;
    let started = std::time::Instant::now();
    assert!(set.evaluate(&m).is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn the_json_form_uses_the_contracts_names() {
    let json = serde_json::json!({
        "name": "Invoices",
        "conditions": [
            {"all": [1, 2]},
            {"test": {"field": "to-or-cc", "match_type": "ends-with", "value": "@ours.example"}},
            {"test": {"field": "attachment-name", "match_type": "matches", "value": "*.pdf"}}
        ],
        "actions": [{"add-label": "invoice"}, "mark-read", {"move-to": "Finance"}, "stop"]
    });
    let parsed: Rule = serde_json::from_value(json).expect("parses");
    assert!(parsed.enabled, "enabled by default");
    assert_eq!(parsed.actions[1], Action::MarkRead);
    let set = RuleSet::compile([((), parsed)]).expect("compiles");
    assert_eq!(set.evaluate(&message()).len(), 1);
}
