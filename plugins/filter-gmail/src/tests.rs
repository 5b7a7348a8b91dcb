//! Tests against small inline exports and the gmailctl fixtures in the
//! repository's `tests/data/gmail-filters` (MIT, see `tests/data/README.md`).

use super::*;
use mailroom_plugin_sdk::types::ConditionNode;
use std::path::PathBuf;

/// This crate's folder, read at run time: a test binary that cargo reuses
/// from a checkout at another path (a target directory shared between
/// checkouts) must read this checkout's files, not the path it was built at.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

const HEAD: &str = "<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom' xmlns:apps='http://schemas.google.com/apps/2006'><title>Mail Filters</title>";

fn feed(entries: &[&[(&str, &str)]]) -> String {
    let mut xml = HEAD.to_string();
    for props in entries {
        xml.push_str("<entry><category term='filter'></category><title>Mail Filter</title><content></content>");
        for (k, v) in *props {
            xml.push_str(&format!("<apps:property name='{k}' value='{v}'/>"));
        }
        xml.push_str("</entry>");
    }
    xml + "</feed>"
}

#[test]
fn simple_filter() {
    let xml = feed(&[&[
        ("from", "alice@example.com"),
        ("label", "Alice"),
        ("shouldArchive", "true"),
        ("shouldStar", "false"),
    ]]);
    let out = import(xml.as_bytes()).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let rule = &out.rules[0];
    assert!(rule.enabled);
    assert_eq!(rule.name, "Gmail filter 1: from:alice@example.com");
    assert_eq!(
        rule.actions,
        vec![Action::AddLabel("Alice".into()), Action::Archive]
    );
    assert_eq!(
        rule.conditions,
        Cond::test(Field::From, MatchType::Contains, "alice@example.com").flatten()
    );
}

#[test]
fn entities_and_size() {
    let xml = feed(&[&[
        ("subject", "&quot;R&amp;D&quot; report"),
        ("size", "5"),
        ("sizeOperator", "s_sl"),
        ("sizeUnit", "s_smb"),
        ("shouldMarkAsRead", "true"),
    ]]);
    let out = import(xml.as_bytes()).unwrap();
    let tree = Cond::from_nodes(&out.rules[0].conditions).unwrap();
    assert_eq!(
        tree,
        Cond::All(vec![
            Cond::test(Field::Subject, MatchType::Contains, "R&D"),
            Cond::test(Field::Subject, MatchType::Contains, "report"),
            Cond::test(
                Field::Size,
                MatchType::GreaterThan,
                (5 * 1024 * 1024).to_string()
            ),
        ])
    );
}

#[test]
fn unsupported_parts_warn_and_disable() {
    let xml = feed(&[
        &[
            ("hasTheWord", "is:muted"),
            ("shouldAlwaysMarkAsImportant", "true"),
            ("label", "x"),
        ],
        &[
            ("from", "a@b.c"),
            ("smartLabelToApply", "^smartlabel_promo"),
        ],
        &[("from", "a@b.c"), ("mystery", "1"), ("shouldTrash", "true")],
    ]);
    let out = import(xml.as_bytes()).unwrap();
    assert_eq!(
        out.rules.len(),
        2,
        "the filter with no supported action is skipped"
    );
    assert!(!out.rules[0].enabled);
    assert!(out.rules[1].enabled);
    let at = |n: &str| {
        out.warnings
            .iter()
            .filter(|w| w.location.as_deref() == Some(n))
            .count()
    };
    assert_eq!((at("filter 1"), at("filter 2"), at("filter 3")), (2, 2, 1));
}

#[test]
fn malformed_xml_has_a_position() {
    let xml = format!("{HEAD}\n<entry>\n  <apps:property name='from' value='x'>\n</entry></feed>");
    let err = import(xml.as_bytes()).unwrap_err();
    assert_eq!(err.line, Some(4), "{err:?}");
    assert!(err.column.is_some());
    assert!(err.message.contains("malformed XML"), "{}", err.message);
}

#[test]
fn truncated_and_foreign_files() {
    let err = import(format!("{HEAD}<entry>").as_bytes()).unwrap_err();
    assert!(err.message.contains("truncated"), "{}", err.message);
    let err = import(b"<rules><rule/></rules>").unwrap_err();
    assert!(
        err.message.contains("root element is <rules>"),
        "{}",
        err.message
    );
    assert_eq!((err.line, err.column), (Some(1), Some(1)));
    assert!(import(b"").is_err());
    assert!(import(b"\xff\xfe<feed/>").is_err());
}

/// The gmailctl fixtures, in the repository (never skipped: a missing folder
/// fails the tests that read it).
fn fixtures() -> PathBuf {
    manifest_dir().join("../../tests/data/gmail-filters")
}

#[test]
fn every_fixture_imports() {
    let dir = fixtures();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files = 0;
    for entry in entries.flatten() {
        let data = std::fs::read(entry.path()).unwrap();
        let out = import(&data).unwrap_or_else(|e| panic!("{:?}: {e:?}", entry.path()));
        let entries = String::from_utf8_lossy(&data).matches("<entry").count();
        assert!(out.rules.len() <= entries);
        for rule in &out.rules {
            assert!(!rule.actions.is_empty());
            assert!(Cond::from_nodes(&rule.conditions).is_some(), "{rule:?}");
            if let Some(ConditionNode::Test(c)) = rule.conditions.first() {
                assert!(!c.value.is_empty() || c.match_type == MatchType::Exists);
            }
        }
        files += 1;
    }
    assert!(files > 0);
}

#[test]
fn bigdiff_fixture_details() {
    let path = fixtures().join("05-bigdiff.xml");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let out = import(&data).unwrap();
    let first = &out.rules[0];
    assert_eq!(
        Cond::from_nodes(&first.conditions).unwrap(),
        Cond::All(vec![
            Cond::Any(
                ["list3", "list1", "list4", "list6"]
                    .iter()
                    .map(|l| Cond::test(Field::ListId, MatchType::Contains, *l))
                    .collect()
            ),
            Cond::test(Field::Recipients, MatchType::Contains, "none@gmail.com").not(),
        ])
    );
    assert_eq!(
        first.actions,
        vec![Action::Archive, Action::AddLabel("maillist".into())]
    );
    assert!(
        out.warnings
            .iter()
            .any(|w| w.location.as_deref() == Some("filter 1")
                && w.message.contains("smartLabelToApply"))
    );
}

#[test]
fn rules_and_warnings_carry_their_source() {
    let xml = format!(
        "{HEAD}\n<entry>\n <id>tag:mail.google.com,2008:filter:1001</id>\n \
         <apps:property name='from' value='a@b.c'/><apps:property name='mystery' value='1'/>\n \
         <apps:property name='shouldStar' value='true'/></entry>\n  <entry>\
         <apps:property name='smartLabelToApply' value='^smartlabel_promo'/></entry></feed>"
    );
    let out = import(xml.as_bytes()).unwrap();
    assert_eq!(out.rules.len(), 1);
    let source = out.rules[0].source.as_ref().expect("a source");
    assert_eq!(source.format, FORMAT);
    assert_eq!(source.file_sha256, "", "the host fills in the hash");
    assert_eq!(
        source.filter_id.as_deref(),
        Some("tag:mail.google.com,2008:filter:1001")
    );
    assert_eq!((source.line, source.column), (Some(2), Some(1)));

    let mystery = out
        .warnings
        .iter()
        .find(|w| w.message.contains("mystery"))
        .expect("a warning for the unknown property");
    assert_eq!((mystery.line, mystery.column), (Some(2), Some(1)));
    assert_eq!(mystery.filter_id, source.filter_id);
    assert_eq!(mystery.rule_index, Some(0));

    // The second entry has no id, no supported action and so no rule.
    let skipped = out
        .warnings
        .iter()
        .filter(|w| w.location.as_deref() == Some("filter 2"))
        .collect::<Vec<_>>();
    assert!(!skipped.is_empty());
    for w in skipped {
        assert_eq!((w.line, w.column, w.rule_index), (Some(6), Some(3), None));
        assert_eq!(w.filter_id, None);
    }
}

/// Found by fuzz/gmail_filters: a file starting with two byte-order marks
/// panicked (a position inside the second one). It reads like the same file
/// with one.
#[test]
fn two_byte_order_marks_read_like_one() {
    for body in [
        "m".to_owned(),
        feed(&[&[("from", "a@b.c"), ("label", "x")]]),
    ] {
        let once = import(format!("\u{feff}{body}").as_bytes()).map(|r| r.rules.len());
        let twice = import(format!("\u{feff}\u{feff}{body}").as_bytes()).map(|r| r.rules.len());
        assert_eq!(once.is_ok(), twice.is_ok(), "{body}");
        if let (Ok(a), Ok(b)) = (once, twice) {
            assert_eq!(a, b);
        }
    }
}

fn refused(input: &[u8]) -> ImportError {
    match import(input) {
        Ok(out) => panic!(
            "{:?} imported: {out:?}",
            String::from_utf8_lossy(&input[..input.len().min(80)])
        ),
        Err(e) => e,
    }
}

#[test]
fn files_that_are_not_gmail_exports_say_what_was_expected() {
    let trailing = format!("{HEAD}</feed>\ntrailing words");
    let second = format!("{HEAD}</feed><feed/>");
    type Case<'a> = (&'a [u8], &'a str, Option<(u32, u32)>);
    let cases: &[Case<'_>] = &[
        (b"", "the file is empty", None),
        (b"from:alice@example.com\nlabel: work\n", "text before the root element", Some((1, 1))),
        (b"{\"filters\": [{\"from\": \"a@b.c\"}]}", "text before the root element", Some((1, 1))),
        (b"<!-- nothing but a comment -->", "has no XML element", None),
        (b"<feed><entry/></feed>", "not in the Atom namespace", Some((1, 1))),
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>A blog post</title></entry></feed>",
            "none of its 1 entries has an <apps:property>",
            None,
        ),
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom' xmlns:x='urn:other'>\n<entry><x:property name='from' value='a'/></entry></feed>",
            "<x:property> is not Gmail's apps:property",
            Some((2, 8)),
        ),
        (trailing.as_bytes(), "text after the root element", Some((2, 1))),
        (second.as_bytes(), "a second root element", None),
    ];
    for (input, expected, at) in cases {
        let e = refused(input);
        assert!(
            e.message.contains(expected),
            "{}: {}",
            String::from_utf8_lossy(input),
            e.message
        );
        if let Some(at) = at {
            assert_eq!(
                (e.line, e.column),
                (Some(at.0), Some(at.1)),
                "{}",
                e.message
            );
        }
        if !expected.contains("empty") && !expected.contains("second") {
            assert!(
                e.message.contains("Settings → Filters"),
                "names what is expected: {}",
                e.message
            );
        }
    }
    // A Gmail export with no filters is still one: nothing to import.
    let out = import(format!("{HEAD}</feed>").as_bytes()).unwrap();
    assert!(out.rules.is_empty() && out.warnings.is_empty());
}

#[test]
fn entities_are_never_expanded() {
    let laughs = format!(
        "<?xml version='1.0'?>\n<!DOCTYPE feed [\n <!ENTITY lol 'lol'>\n{}]>\n{HEAD}<entry><apps:property name='from' value='&lol9;'/><apps:property name='label' value='x'/></entry></feed>",
        (1..10)
            .map(|i| format!(
                " <!ENTITY lol{i} '{}'>\n",
                format!(
                    "&lol{};",
                    if i == 1 {
                        String::new()
                    } else {
                        (i - 1).to_string()
                    }
                )
                .repeat(10)
            ))
            .collect::<String>()
    );
    let e = refused(laughs.as_bytes());
    assert!(e.message.contains("DOCTYPE is refused"), "{}", e.message);
    assert_eq!((e.line, e.column), (Some(2), Some(1)));

    let external = format!(
        "<?xml version='1.0'?>\n<!DOCTYPE feed [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>\n{HEAD}<entry><apps:property name='from' value='&xxe;'/></entry></feed>"
    );
    assert!(
        refused(external.as_bytes())
            .message
            .contains("DOCTYPE is refused")
    );

    // An entity used without being declared is an error at its element, not text.
    let undeclared = format!(
        "{HEAD}\n<entry><apps:property name='from' value='&xxe;'/><apps:property name='label' value='x'/></entry></feed>"
    );
    let e = refused(undeclared.as_bytes());
    assert!(
        e.message.contains("malformed attribute value"),
        "{}",
        e.message
    );
    assert_eq!(e.line, Some(2));
}

#[test]
fn large_truncated_and_binary_files_are_refused_without_a_trap() {
    let mut big = HEAD.as_bytes().to_vec();
    big.resize(50 * 1024 * 1024, b' ');
    let e = refused(&big);
    assert!(
        e.message.contains("52428800 bytes") && e.message.contains("may be at most"),
        "{}",
        e.message
    );

    let whole = feed(&[&[("from", "a@b.c"), ("label", "x")]]);
    for cut in [whole.len() / 3, whole.len() / 2, whole.len() - 8] {
        let e = refused(&whole.as_bytes()[..cut]);
        assert!(e.line.is_some(), "cut at {cut}: {e:?}");
    }

    // Binary garbage, from a fixed seed: never a trap, always an error.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let garbage: Vec<u8> = (0..65_536)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    assert!(refused(&garbage).message.contains("not UTF-8"));
    let ascii: Vec<u8> = garbage.iter().map(|b| b % 95 + 32).collect();
    let _ = import(&ascii).unwrap_err();
}

#[test]
fn patterns_the_engine_would_refuse_are_left_out_with_a_warning() {
    let xml = feed(&[
        &[("hasTheWord", &"?".repeat(3000)), ("label", "wild")],
        &[("hasTheWord", "a AROUND 100000 b"), ("label", "far")],
        &[("from", "fine@example.com"), ("label", "ok")],
    ]);
    let out = import(xml.as_bytes()).unwrap();
    assert_eq!(out.rules.len(), 1, "{:?}", out.rules);
    assert_eq!(out.rules[0].actions, vec![Action::AddLabel("ok".into())]);
    for filter in ["filter 1", "filter 2"] {
        let w = out
            .warnings
            .iter()
            .find(|w| w.location.as_deref() == Some(filter))
            .unwrap_or_else(|| panic!("a warning for {filter}: {:?}", out.warnings));
        assert!(w.message.contains("would refuse"), "{}", w.message);
        assert_eq!(w.rule_index, None);
    }
}

#[test]
fn operators_that_cannot_be_expressed_name_the_filter_and_the_operator() {
    let xml = feed(&[&[
        ("hasTheWord", "is:unread label:work older_than:2d from:boss"),
        ("label", "later"),
    ]]);
    let out = import(xml.as_bytes()).unwrap();
    assert!(!out.rules[0].enabled);
    assert_eq!(
        Cond::from_nodes(&out.rules[0].conditions).unwrap(),
        Cond::test(Field::From, MatchType::Contains, "boss")
    );
    let w = &out.warnings[0];
    assert_eq!(w.location.as_deref(), Some("filter 1"));
    assert_eq!(w.rule_index, Some(0));
    for op in ["is:unread", "label:work", "older_than:2d"] {
        assert!(w.message.contains(op), "{}", w.message);
    }
}

#[test]
fn a_file_of_another_format_is_named() {
    let e = refused(
        b"require \"fileinto\";\nif header :contains \"subject\" \"x\" { fileinto \"X\"; }",
    );
    assert!(
        e.message
            .ends_with("(this looks like a Sieve script: import it as `sieve`)"),
        "{}",
        e.message
    );
    let e = refused(b"{\"format\": \"zoho-mail-filters\", \"version\": 1, \"filters\": []}");
    assert!(
        e.message.contains("import it as `zoho-json`"),
        "{}",
        e.message
    );
}

#[test]
fn a_large_export_imports_in_linear_time_up_to_the_rule_limit() {
    let started = std::time::Instant::now();
    let entries: Vec<[(&str, &str); 2]> = (0..12_000)
        .map(|_| [("from", "a@b.c"), ("label", "x")])
        .collect();
    let refs: Vec<&[(&str, &str)]> = entries.iter().map(|e| &e[..]).collect();
    let xml = feed(&refs);
    let out = import(xml.as_bytes()).unwrap();
    assert_eq!(out.rules.len(), 10_000);
    let w = out.warnings.last().unwrap();
    assert!(w.message.contains("more than 10000 rules"), "{}", w.message);
    assert_eq!(w.location.as_deref(), Some("filter 10001"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
