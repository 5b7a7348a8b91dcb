//! The importer over the Pigeonhole test scripts in the repository's
//! `tests/data/sieve/pigeonhole` (LGPL-2.1, see `tests/data/README.md`) and
//! hand-written scripts in `tests/data/sieve/mailroom`.

use super::*;
use mailroom_plugin_sdk::types::Rule;
use std::path::{Path, PathBuf};

/// This crate's folder, read at run time: a test binary that cargo reuses
/// from a checkout at another path (a target directory shared between
/// checkouts) must read this checkout's files, not the path it was built at.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

fn data(dir: &str) -> PathBuf {
    manifest_dir().join("../../tests/data/sieve").join(dir)
}

fn scripts(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            scripts(&path, out);
        } else if [".sieve", ".svtest", ".svtest.in"]
            .iter()
            .any(|e| path.to_string_lossy().ends_with(e))
        {
            out.push(path);
        }
    }
    out.sort();
}

fn tree(rule: &Rule) -> Cond {
    Cond::from_nodes(&rule.conditions).expect("a well-formed tree")
}

#[test]
fn every_pigeonhole_script_imports_or_is_refused_with_a_position() {
    let mut files = Vec::new();
    scripts(&data("pigeonhole"), &mut files);
    assert!(files.len() >= 40, "{} scripts", files.len());
    let (mut imported, mut refused) = (0, 0);
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.display();
        match import(&bytes) {
            Ok(out) => {
                imported += 1;
                for rule in &out.rules {
                    assert_eq!(filter_common::check_rule(rule), Ok(()), "{name}: {rule:?}");
                    tree(rule);
                    let source = rule.source.as_ref().expect("a source");
                    assert_eq!(source.format, FORMAT);
                    assert!(source.line.is_some() && source.column.is_some(), "{name}");
                }
                for w in &out.warnings {
                    assert!(w.line.is_some() && w.column.is_some(), "{name}: {w:?}");
                    assert!(w.rule_index.is_none_or(|i| (i as usize) < out.rules.len()));
                }
                println!(
                    "{name}: {} rules, {} warnings",
                    out.rules.len(),
                    out.warnings.len()
                );
            }
            Err(e) => {
                refused += 1;
                assert!(e.line.is_some() && e.column.is_some(), "{name}: {e:?}");
                println!(
                    "{name}: refused at {:?}:{:?}: {}",
                    e.line, e.column, e.message
                );
            }
        }
    }
    println!("{imported} imported, {refused} refused");
    assert!(imported > refused);
}

fn read(dir: &str, file: &str) -> Vec<u8> {
    let path = data(dir).join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn from_is(v: &str) -> Cond {
    Cond::test(Field::From, MatchType::Is, v)
}

fn warnings_at(out: &ImportedRules, line: u32) -> Vec<&str> {
    out.warnings
        .iter()
        .filter(|w| w.line == Some(line))
        .map(|w| w.message.as_str())
        .collect()
}

#[test]
fn pigeonhole_trivial_reads_commands_tags_and_numbers_in_any_case() {
    let out = import(&read("pigeonhole", "compile/trivial.sieve")).unwrap();
    // keep; Keep; KEEP; discard; DisCaRD; — then three `if`s with empty blocks.
    assert_eq!(out.rules.len(), 1);
    assert_eq!(out.rules[0].actions, vec![Action::Trash]);
    assert!(out.rules[0].conditions.is_empty());
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

#[test]
fn pigeonhole_redirect_forwards_addresses_and_reports_the_rest() {
    let out = import(&read("pigeonhole", "compile/redirect.sieve")).unwrap();
    assert_eq!(
        out.rules[0].actions,
        vec![
            Action::Forward("stephan@example.org".into()),
            Action::Forward("Stephan.Bosch@eXamPle.oRg".into()),
            Action::Forward("Stephan.Bosch@example.org".into()),
        ]
    );
    let not_addresses = out
        .warnings
        .iter()
        .filter(|w| w.message.contains("not an address"))
        .count();
    assert_eq!(not_addresses, 7);
    assert_eq!(
        warnings_at(&out, 4),
        ["`stephan @example.org` is not an address to forward to; left out"]
    );
    assert!(warnings_at(&out, 2)[0].contains("keeps it"));
}

#[test]
fn pigeonhole_invalid_headers_become_disabled_rules_with_warnings() {
    let out = import(&read(
        "pigeonhole",
        "compile/warnings/invalid-headers.sieve",
    ))
    .unwrap();
    assert_eq!(out.rules.len(), 3);
    for rule in &out.rules {
        assert!(!rule.enabled);
        assert_eq!(rule.actions, vec![Action::Stop]);
    }
    assert!(warnings_at(&out, 2)[0].contains("`from:` is not a header name"));
    assert_eq!(
        (out.warnings[0].line, out.warnings[0].column),
        (Some(2), Some(11))
    );
}

#[test]
fn pigeonhole_error_scripts_are_refused_at_the_first_error() {
    let e = import(&read("pigeonhole", "compile/errors/lexer.sieve")).unwrap_err();
    assert_eq!((e.line, e.column), (Some(12), Some(16)));
    assert!(e.message.contains("too large"), "{}", e.message);
    let e = import(&read("pigeonhole", "compile/errors/parser.sieve")).unwrap_err();
    assert_eq!((e.line, e.column), (Some(15), Some(7)));
    assert!(
        e.message.contains("unexpected character `$`"),
        "{}",
        e.message
    );
    let e = import(&read("pigeonhole", "compile/errors/stop.sieve")).unwrap_err();
    assert_eq!(e.line, Some(8));
}

#[test]
fn pigeonhole_test_suites_report_the_testsuite_commands() {
    let out = import(&read("pigeonhole", "control-if.svtest")).unwrap();
    assert!(out.rules.is_empty());
    assert!(
        out.warnings[0]
            .message
            .contains("`vnd.dovecot.testsuite` is not supported")
    );
    assert_eq!(
        warnings_at(&out, 44),
        ["command `test` is not supported; left out, with its block"]
    );
}

#[test]
fn every_hand_written_script_imports() {
    let mut files = Vec::new();
    scripts(&data("mailroom"), &mut files);
    assert!(files.len() >= 4);
    for path in files {
        let out = import(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        assert!(!out.rules.is_empty(), "{}", path.display());
    }
}

#[test]
fn spam_goes_to_junk_and_a_score_threshold_is_reported() {
    let out = import(&read("mailroom", "spam-to-junk.sieve")).unwrap();
    let spam = &out.rules[0];
    assert!(spam.enabled);
    assert_eq!(
        tree(spam),
        Cond::Any(vec![
            Cond::header("X-Spam-Flag", MatchType::Contains, "YES"),
            Cond::header("X-Spam-Status", MatchType::Matches, "Yes,*"),
        ])
    );
    assert_eq!(
        spam.actions,
        vec![
            Action::MarkRead,
            Action::MoveTo("Junk".into()),
            Action::Stop
        ]
    );
    assert_eq!(spam.source.as_ref().unwrap().line, Some(6));
    let score = &out.rules[1];
    assert!(
        !score.enabled,
        "a rule that lost part of its test is disabled"
    );
    assert_eq!(score.actions, vec![Action::MoveTo("Junk".into())]);
    let at_11 = warnings_at(&out, 11);
    assert!(
        at_11.iter().any(|m| m.contains("`:value \"ge\"`")),
        "{at_11:?}"
    );
    assert!(
        at_11.iter().any(|m| m.contains("i;ascii-numeric")),
        "{at_11:?}"
    );
    assert!(
        out.warnings
            .iter()
            .any(|w| w.rule_index == Some(1) && w.message.contains("imported disabled"))
    );
}

#[test]
fn mailing_lists_go_to_folders_with_variables_substituted() {
    let out = import(&read("mailroom", "mailing-lists.sieve")).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let dev = Cond::header("List-Id", MatchType::Contains, "<dev.lists.example.org>");
    let announce = Cond::header("List-Id", MatchType::Contains, "announce.example.org");
    let any = Cond::header("List-Id", MatchType::Exists, "");
    let rules: Vec<(Cond, Vec<Action>)> = out
        .rules
        .iter()
        .map(|r| (tree(r), r.actions.clone()))
        .collect();
    assert_eq!(
        rules,
        vec![
            (dev.clone(), vec![Action::MoveTo("Lists/dev".into())]),
            (
                Cond::All(vec![dev.clone().not(), announce.clone()]),
                vec![Action::MoveTo("Lists/announce".into()), Action::MarkRead]
            ),
            (
                Cond::All(vec![dev.not(), announce.not(), any]),
                vec![Action::MoveTo("Lists/other".into())]
            ),
        ]
    );
    assert_eq!(
        out.rules[1].name,
        "Sieve line 8: elsif header :contains \"List-Id\" \"announce.example.org\""
    );
}

#[test]
fn vacation_is_a_warning_and_the_rest_imports() {
    let out = import(&read("mailroom", "vacation.sieve")).unwrap();
    assert_eq!(out.rules.len(), 1);
    assert_eq!(
        tree(&out.rules[0]),
        Cond::test(Field::From, MatchType::EndsWith, "@example.com")
    );
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert_eq!(
        (out.warnings[0].line, out.warnings[0].column),
        (Some(7), Some(1))
    );
    assert!(out.warnings[0].message.contains("`vacation`"));
}

#[test]
fn nested_if_elsif_else_become_ordered_rules() {
    let out = import(&read("mailroom", "nested.sieve")).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let boss = from_is("boss@example.com");
    let urgent = Cond::test(Field::Subject, MatchType::Contains, "urgent");
    let large = Cond::test(Field::Size, MatchType::GreaterThan, "1048576");
    let news = Cond::test(Field::From, MatchType::EndsWith, "@newsletter.example.net");
    let rules: Vec<(Cond, Vec<Action>)> = out
        .rules
        .iter()
        .map(|r| (tree(r), r.actions.clone()))
        .collect();
    assert_eq!(
        rules,
        vec![
            (boss.clone(), vec![Action::Star]),
            (
                Cond::All(vec![boss.clone(), urgent.clone()]),
                vec![Action::AddLabel("Urgent".into()), Action::Stop]
            ),
            (
                Cond::All(vec![boss.clone(), urgent.clone().not(), large.clone()]),
                vec![Action::MoveTo("Boss/Large".into())]
            ),
            (
                Cond::All(vec![boss.clone(), urgent.not(), large.not()]),
                vec![Action::MoveTo("Boss".into())]
            ),
            (
                Cond::All(vec![boss.clone().not(), news.clone()]),
                vec![Action::Trash, Action::Stop]
            ),
            (
                Cond::All(vec![boss.not(), news.not()]),
                vec![Action::Forward("archive@example.org".into())]
            ),
        ]
    );
    let sources: Vec<_> = out
        .rules
        .iter()
        .map(|r| r.source.as_ref().unwrap().line.unwrap())
        .collect();
    assert_eq!(sources, [4, 6, 9, 11, 14, 17]);
    assert!(out.rules.iter().all(|r| r.enabled));
}

#[test]
fn address_parts_match_types_and_comparators() {
    let script = br#"require ["fileinto", "regex", "envelope", "body", "relational"];
if address :localpart :is "from" "joe" { fileinto "a"; }
if address :domain :matches ["to", "cc"] "*.example.org" { fileinto "b"; }
if address :comparator "i;octet" :contains "from" "Joe" { fileinto "c"; }
if envelope :domain :is "to" "example.net" { fileinto "d"; }
if header :regex "subject" "^\\[(ticket|case) #[0-9]+\\]" { fileinto "e"; }
if not header :value "ne" "x-mailer" "Outlook" { fileinto "f"; }
if body :contains ["invoice", "receipt"] { fileinto "g"; }
if address :localpart :contains "from" "a.b" { fileinto "h"; }
"#;
    let out = import(script).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let trees: Vec<Cond> = out.rules.iter().map(tree).collect();
    let octet = Cond::Test(mailroom_plugin_sdk::types::Condition {
        field: Field::From,
        header_name: None,
        match_type: MatchType::Contains,
        value: "Joe".into(),
        case_sensitive: true,
    });
    assert_eq!(
        trees,
        vec![
            Cond::test(Field::From, MatchType::BeginsWith, "joe@"),
            Cond::Any(vec![
                Cond::test(Field::To, MatchType::Regex, "(?s)@.*\\.example\\.org$"),
                Cond::test(Field::Cc, MatchType::Regex, "(?s)@.*\\.example\\.org$"),
            ]),
            octet,
            Cond::test(Field::EnvelopeTo, MatchType::EndsWith, "@example.net"),
            Cond::test(
                Field::Subject,
                MatchType::Regex,
                "^\\[(ticket|case) #[0-9]+\\]"
            ),
            Cond::header("x-mailer", MatchType::Is, "Outlook"),
            Cond::Any(vec![
                Cond::test(Field::Body, MatchType::Contains, "invoice"),
                Cond::test(Field::Body, MatchType::Contains, "receipt"),
            ]),
            Cond::test(Field::From, MatchType::Regex, "^[^@]*a\\.b[^@]*@"),
        ]
    );
}

#[test]
fn what_cannot_be_represented_is_warned_with_line_and_column() {
    let script = br#"require ["fileinto", "relational", "regex", "variables", "subaddress"];
if header :count "gt" "received" "5" { fileinto "hops"; }
if address :detail "to" "lists" { fileinto "lists"; }
if header :regex "subject" "(unclosed" { fileinto "bad"; }
if header :matches "subject" "*" { set "s" "${1}"; fileinto "x-${s}"; }
reject "go away";
if hasflag "\Seen" { keep; }
"#;
    let out = import(script).unwrap();
    let at = |line: u32| warnings_at(&out, line).join(" | ");
    assert!(at(1).contains("`subaddress` is not supported"), "{}", at(1));
    assert!(at(2).contains(":count"), "{}", at(2));
    assert!(at(3).contains(":detail"), "{}", at(3));
    assert!(at(4).contains("not valid"), "{}", at(4));
    assert!(
        at(5).contains("`${s}` is only known when the script runs"),
        "{}",
        at(5)
    );
    assert!(at(6).contains("`reject`"), "{}", at(6));
    assert!(
        at(7).contains("test `hasflag` is not supported"),
        "{}",
        at(7)
    );
    let col = out
        .warnings
        .iter()
        .find(|w| w.line == Some(2))
        .unwrap()
        .column;
    assert_eq!(col, Some(11));
    assert!(
        out.rules
            .iter()
            .all(|r| !r.enabled || r.conditions.is_empty())
    );
}

#[test]
fn constants_fold_and_dead_branches_are_reported() {
    let out =
        import(b"if false { discard; } elsif true { keep; stop; } else { discard; }").unwrap();
    // `if false` never runs; `elsif true` always does; the `else` never does.
    assert_eq!(out.rules.len(), 1);
    assert_eq!(out.rules[0].actions, vec![Action::Stop]);
    assert!(out.rules[0].conditions.is_empty());
    assert_eq!(
        out.warnings
            .iter()
            .filter(|w| w.message.contains("never runs"))
            .count(),
        2
    );
    let out = import(
        b"require \"variables\"; set \"a\" \"x\"; if string :is \"${a}\" \"x\" { discard; }",
    )
    .unwrap();
    assert!(out.rules[0].conditions.is_empty());
}

#[test]
fn hostile_scripts_are_refused_with_a_position() {
    let big = vec![b'#'; MAX_SCRIPT_BYTES + 1];
    assert!(import(&big).unwrap_err().message.contains("may be at most"));
    let deep = "if true {".repeat(10_000) + &"}".repeat(10_000);
    let e = import(deep.as_bytes()).unwrap_err();
    assert!(e.message.contains("nested") && e.line == Some(1), "{e:?}");
    let nots = format!("if {}true {{ stop; }}", "not ".repeat(200_000));
    assert!(
        import(nots.as_bytes())
            .unwrap_err()
            .message
            .contains("nested")
    );
    for garbage in [
        &b"\x00\xff\xfe binary"[..],
        b"{\"filters\": []}",
        b"<feed/>",
        b"hello world",
        b"   ",
    ] {
        let e = import(garbage).unwrap_err();
        assert!(!e.message.is_empty());
    }
    let e = import(b"fileinto \"a\";\nelse { stop; }").unwrap_err();
    assert_eq!((e.line, e.column), (Some(2), Some(1)));
    // Many elsif branches grow each negation; rules past the engine's node
    // limit are left out with a warning instead of failing the import.
    let chain: String = (0..300)
        .map(|i| format!("elsif header :is \"x\" \"{i}\" {{ discard; }}\n"))
        .collect();
    let out = import(format!("if false {{ stop; }}\n{chain}").as_bytes()).unwrap();
    assert!(out.rules.len() < 300);
    assert!(out.warnings.iter().any(|w| w.message.contains("nodes")));
}

#[test]
fn a_file_of_another_format_is_named() {
    let e = import(&read("../zoho-filters", "advanced-pattern.json")).unwrap_err();
    assert!(
        e.message.contains("import it as `zoho-json`"),
        "{}",
        e.message
    );
    // The first thing Sieve cannot read: the `:` after `"format"`.
    assert_eq!((e.line, e.column), (Some(2), Some(11)));
}

#[test]
fn hostile_scripts_finish_in_linear_time() {
    let started = std::time::Instant::now();
    // A 1 MiB `elsif` chain: each branch would negate all earlier ones.
    let mut chain = String::from("if header :is \"x\" \"0\" { discard; }\n");
    let mut i = 1;
    while chain.len() < MAX_SCRIPT_BYTES - 100 {
        chain.push_str(&format!("elsif header :is \"x\" \"{i}\" {{ discard; }}\n"));
        i += 1;
    }
    chain.push_str("else { stop; }\n");
    let out = import(chain.as_bytes()).unwrap();
    assert!(out.rules.len() < 300, "{}", out.rules.len());
    assert!(
        out.warnings
            .iter()
            .any(|w| w.message.contains("left out with its block"))
    );
    // 50,000 different folders in one rule.
    let floods: String = (0..50_000).map(|i| format!("fileinto \"f{i}\";")).collect();
    let out = import(floods.as_bytes()).unwrap();
    assert!(out.rules.is_empty());
    assert!(out.warnings.iter().any(|w| w.message.contains("actions")));
    // 2,000 headers times 2,000 keys.
    let list = |n: usize| {
        format!(
            "[{}]",
            (0..n)
                .map(|i| format!("\"h{i}\""))
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let product = format!("if header {} {} {{ discard; }}", list(2000), list(2000));
    let out = import(product.as_bytes()).unwrap();
    assert!(!out.rules[0].enabled);
    assert!(
        out.warnings[0]
            .message
            .contains("2000 headers with 2000 keys")
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
