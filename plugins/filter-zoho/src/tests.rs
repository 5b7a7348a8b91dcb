//! The importer over the examples in `tests/data/zoho-filters` (written for
//! Mailroom) and bad inputs.

use super::*;
use std::path::PathBuf;

/// This crate's folder, read at run time: a test binary that cargo reuses
/// from a checkout at another path (a target directory shared between
/// checkouts) must read this checkout's files, not the path it was built at.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

fn example(file: &str) -> Vec<u8> {
    let path = manifest_dir()
        .join("../../tests/data/zoho-filters")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn tree(rule: &Rule) -> Cond {
    Cond::from_nodes(&rule.conditions).expect("a well-formed tree")
}

fn file(filters: &str) -> String {
    format!("{{\"format\": \"zoho-mail-filters\", \"version\": 1, \"filters\": [{filters}]}}")
}

#[test]
fn every_condition_and_action() {
    let out = import(&example("every-condition-and-action.json")).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(out.rules.len(), 4);

    let invoices = &out.rules[0];
    assert_eq!(invoices.name, "Invoices");
    assert!(invoices.enabled);
    assert_eq!(
        tree(invoices),
        Cond::All(vec![
            Cond::test(Field::From, MatchType::EndsWith, "@billing.example.com"),
            Cond::test(Field::Subject, MatchType::BeginsWith, "Invoice"),
            Cond::test(Field::HasAttachment, MatchType::Exists, ""),
        ])
    );
    let mut task = TaskSpec::new("Pay the invoice");
    task.notes = Some("Check the amount first".into());
    task.due_in_days = Some(7);
    task.priority = TaskPriority::High;
    assert_eq!(
        invoices.actions,
        vec![
            Action::MoveTo("Finance/Invoices".into()),
            Action::AddLabel("invoice".into()),
            Action::CreateTask(task),
            Action::Stop,
        ]
    );
    let source = invoices.source.as_ref().unwrap();
    assert_eq!(source.format, FORMAT);
    assert_eq!(source.filter_id.as_deref(), Some("6000000012001"));
    assert_eq!((source.line, source.column), (Some(5), Some(5)));

    let news = &out.rules[1];
    assert_eq!(
        tree(news),
        Cond::Any(vec![
            Cond::test(Field::To, MatchType::Contains, "news@"),
            Cond::test(Field::Cc, MatchType::Is, "lists@example.com"),
            Cond::test(Field::Subject, MatchType::Contains, "[action]").not(),
            Cond::test(Field::ToOrCc, MatchType::Is, "me@example.com").not(),
        ])
    );
    assert_eq!(
        news.actions,
        vec![Action::MarkRead, Action::MoveTo("archive".into())]
    );

    let urgent = &out.rules[2];
    assert!(!urgent.enabled, "a disabled Zoho filter stays disabled");
    assert_eq!(urgent.source.as_ref().unwrap().filter_id, None);
    assert_eq!(
        tree(urgent),
        Cond::All(vec![
            Cond::test(Field::Priority, MatchType::Is, "high"),
            Cond::test(Field::HasAttachment, MatchType::Exists, "").not(),
        ])
    );
    assert_eq!(
        urgent.actions,
        vec![
            Action::Star,
            Action::MarkUnread,
            Action::Forward("support@example.com".into())
        ]
    );
    assert_eq!(out.rules[3].actions, vec![Action::Trash]);
    assert_eq!(
        tree(&out.rules[3]),
        Cond::test(Field::Subject, MatchType::Contains, "lottery")
    );
}

#[test]
fn advanced_pattern_and_unused_conditions() {
    let out = import(&example("advanced-pattern.json")).unwrap();
    let rule = &out.rules[0];
    let t = |f, v: &str| Cond::test(f, MatchType::Contains, v);
    assert_eq!(
        tree(rule),
        Cond::All(vec![
            Cond::test(Field::To, MatchType::Is, "sales@example.com"),
            Cond::Any(vec![
                t(Field::Subject, "quote"),
                t(Field::Subject, "pricing")
            ]),
            Cond::test(Field::From, MatchType::EndsWith, "@example.com").not(),
        ])
    );
    assert_eq!(out.warnings.len(), 1);
    let w = &out.warnings[0];
    assert!(
        w.message.contains("condition 5 is not in the pattern"),
        "{}",
        w.message
    );
    assert_eq!(w.rule_index, Some(0));
    assert_eq!(w.filter_id.as_deref(), Some("6000000012010"));
    assert_eq!(w.location.as_deref(), Some("filter 1 (\"Sales leads\")"));
    assert_eq!((w.line, w.column), (Some(5), Some(5)));
}

#[test]
fn bad_input_says_what_and_where() {
    type Case<'a> = (&'a str, &'a str, Option<(u32, u32)>);
    let cases: &[Case<'_>] = &[
        ("", "empty", None),
        (
            "<feed/>",
            "not a Zoho Mail filter file: expected value",
            Some((1, 1)),
        ),
        (
            "{\"format\": \"zoho-mail-filters\",\n \"version\": 1,\n \"filters\": [\n",
            "EOF",
            Some((4, 1)),
        ),
        (
            "{\"format\": \"gmail\", \"version\": 1, \"filters\": []}",
            "`format` is `gmail`",
            None,
        ),
        (
            "{\"format\": \"zoho-mail-filters\", \"version\": 2, \"filters\": []}",
            "version 2",
            None,
        ),
        (
            "{\"format\": \"zoho-mail-filters\", \"version\": 1}",
            "missing field `filters`",
            Some((1, 45)),
        ),
    ];
    for (input, expected, at) in cases {
        let e = import(input.as_bytes()).unwrap_err();
        assert!(e.message.contains(expected), "{input}: {}", e.message);
        assert_eq!(e.line.zip(e.column), *at, "{input}: {}", e.message);
    }

    let filter = |body: &str| file(&format!("\n  {{\"name\": \"F\", {body}}}"));
    let conditions = "\"match\": \"all\", \"conditions\": [{\"field\": \"subject\", \"operator\": \"contains\", \"value\": \"x\"}]";
    let actions = "\"actions\": [{\"action\": \"delete\"}]";
    // serde's errors point just after the token at fault (the unknown
    // value or key; for an action, the end of its object); the others at
    // the filter.
    let cases: Vec<(String, &str, (u32, u32))> = vec![
        (
            filter(&format!(
                "{conditions}, \"actions\": [{{\"action\": \"archive\"}}]"
            )),
            "filter 1: unknown variant `archive`, expected one of `move-to-folder`",
            (2, 140),
        ),
        (
            filter(&format!(
                "\"match\": \"all\", \"conditions\": [{{\"field\": \"sendr\", \"operator\": \"is\", \"value\": \"a\"}}], {actions}"
            )),
            "unknown variant `sendr`",
            (2, 64),
        ),
        (
            filter(&format!("{conditions}, {actions}, \"colour\": \"red\"")),
            "unknown field `colour`",
            (2, 151),
        ),
        (
            filter(&format!(
                "\"match\": \"advanced\", \"pattern\": \"1 AND (2 OR\", \"conditions\": [{{\"field\": \"subject\", \"operator\": \"contains\", \"value\": \"x\"}}], {actions}"
            )),
            "filter 1 (\"F\"): pattern `1 AND (2 OR`, column 8: there is no condition 2",
            (2, 3),
        ),
        (
            filter(&format!(
                "\"match\": \"advanced\", \"conditions\": [{{\"field\": \"subject\", \"operator\": \"contains\", \"value\": \"x\"}}], {actions}"
            )),
            "needs a `pattern`",
            (2, 3),
        ),
        (
            filter(&format!(
                "\"match\": \"all\", \"conditions\": [{{\"field\": \"subject\", \"value\": \"x\"}}], {actions}"
            )),
            "condition 1: needs an `operator`",
            (2, 3),
        ),
        (
            filter(&format!(
                "\"match\": \"all\", \"conditions\": [{{\"field\": \"to\", \"operator\": \"is\", \"value\": \" \"}}], {actions}"
            )),
            "condition 1: needs a `value`",
            (2, 3),
        ),
        (
            filter(&format!(
                "\"match\": \"all\", \"conditions\": [{{\"field\": \"priority\", \"operator\": \"is\", \"value\": \"urgent\"}}], {actions}"
            )),
            "`high`, `normal` or `low`",
            (2, 3),
        ),
        (
            filter(&format!(
                "{conditions}, \"actions\": [{{\"action\": \"forward\", \"to\": \"Bob <bob@example.com>\"}}]"
            )),
            "action 1: `Bob <bob@example.com>` is not an email address",
            (2, 3),
        ),
        (
            filter(&format!("{conditions}, \"actions\": []")),
            "no actions",
            (2, 3),
        ),
        (
            filter(&format!(
                "{conditions}, \"actions\": [{{\"action\": \"tag\", \"tag\": \"\"}}]"
            )),
            "the tag is empty",
            (2, 3),
        ),
    ];
    for (input, expected, at) in cases {
        let e = import(input.as_bytes()).unwrap_err();
        assert!(e.message.contains(expected), "{input}\n{}", e.message);
        assert_eq!(
            (e.line, e.column),
            (Some(at.0), Some(at.1)),
            "{input}\n{}",
            e.message
        );
    }
}

#[test]
fn hostile_input_is_refused_or_bounded() {
    let big = vec![b' '; MAX_FILE_BYTES + 1];
    assert!(import(&big).unwrap_err().message.contains("may be at most"));
    assert!(
        import(b"\x00\xff\x00garbage")
            .unwrap_err()
            .message
            .contains("not UTF-8")
    );
    let deep = "[".repeat(100_000);
    let e = import(deep.as_bytes()).unwrap_err();
    assert!(e.line.is_some(), "{e:?}");
    // A huge pattern: refused with the filter named, not parsed recursively.
    let pattern = "NOT ".repeat(1000) + "1";
    let input = file(&format!(
        "{{\"name\": \"F\", \"match\": \"advanced\", \"pattern\": \"{pattern}\", \"conditions\": [{{\"field\": \"subject\", \"operator\": \"contains\", \"value\": \"x\"}}], \"actions\": [{{\"action\": \"delete\"}}]}}"
    ));
    assert!(
        import(input.as_bytes())
            .unwrap_err()
            .message
            .contains("pattern")
    );
    // A value past the engine's limit: the rule is left out with a warning.
    let long = "x".repeat(5000);
    let input = file(&format!(
        "{{\"name\": \"F\", \"match\": \"all\", \"conditions\": [{{\"field\": \"subject\", \"operator\": \"contains\", \"value\": \"{long}\"}}], \"actions\": [{{\"action\": \"delete\"}}]}}"
    ));
    let out = import(input.as_bytes()).unwrap();
    assert!(out.rules.is_empty());
    assert!(
        out.warnings[0].message.contains("would refuse"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn a_file_of_another_format_is_named() {
    let gmail =
        std::fs::read(manifest_dir().join("../../tests/data/gmail-filters/00-simple.xml")).unwrap();
    let e = import(&gmail).unwrap_err();
    assert!(
        e.message.contains("import it as `gmail-xml`"),
        "{}",
        e.message
    );
    assert_eq!((e.line, e.column), (Some(1), Some(1)));
}
