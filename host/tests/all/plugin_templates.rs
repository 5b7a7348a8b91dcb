//! `mailroom plugin new` as an author uses it: every template (Rust,
//! JavaScript, Python × classifier, workflow, provider, filter importer) is
//! written by the built binary, built with its real toolchain (cargo,
//! componentize-js from npm, componentize-py from PyPI) by the command the
//! binary prints, then passes `mailroom plugin check` and gives the same
//! answers from `mailroom plugin run` in all three languages. And
//! `docs/plugin-guide.md` is followed literally: its command blocks run as
//! written, up to the upload to a running server.

use crate::binary::{bound_port, get, lines_of, printed_token, serving_port, stop, wait_healthy};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const SAMPLE_SUBJECT: &str = "Urgent: renewal quote needed by Friday";

/// A shell as the author's: `mailroom` on `PATH`, none of the variables
/// cargo set for this test's own build (a project is not part of it).
fn shell(dir: &Path, script: &str, extra_env: &[(&str, &str)]) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_mailroom"))
        .parent()
        .expect("binary directory");
    let path = std::env::var("PATH").unwrap_or_default();
    let mut command = Command::new("bash");
    command
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", format!("{}:{path}", bin.display()))
        .stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        let from_cargo = key.starts_with("CARGO_") && key != "CARGO_HOME";
        if from_cargo
            || matches!(
                key.as_str(),
                "CARGO" | "RUSTFLAGS" | "RUSTC" | "RUSTC_WRAPPER" | "RUSTDOC" | "RUSTUP_TOOLCHAIN"
            )
        {
            command.env_remove(key);
        }
    }
    for (key, value) in extra_env {
        command.env(key, value);
    }
    command.output().expect("bash")
}

fn succeeded(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Where `mailroom plugin check|run` keep precompiled components: one
/// folder per test (the CLI keeps its last 8), under the test's scratch root.
fn cache_env(root: &Path) -> [(&'static str, String); 1] {
    [(
        "MAILROOM_PLUGIN_CACHE_DIR",
        root.join("plugin-cache").display().to_string(),
    )]
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// `mailroom plugin run …` in `dir`: the `result` of its JSON.
fn run(dir: &Path, wasm: &str, args: &str) -> Value {
    let root = dir.parent().expect("scratch root");
    let env = cache_env(root);
    let out = shell(
        dir,
        &format!("mailroom plugin run {wasm} {args}"),
        &env_refs(&env),
    );
    let stdout = succeeded(&format!("plugin run {args}"), &out);
    let printed: Value = serde_json::from_str(&stdout).expect("plugin run prints JSON");
    printed["result"].clone()
}

/// Writes, builds, checks and runs one template; `target` is a cargo target
/// directory the Rust projects share (a cold build of the bindings
/// generator per project would add a minute each).
fn build_and_try(root: &Path, language: &str, kind: &str, target: &Path) {
    let name = format!("t-{language}-{kind}");
    let out = shell(
        root,
        &format!("mailroom plugin new --lang {language} --kind {kind} {name}"),
        &[],
    );
    let printed = succeeded("plugin new", &out);
    // The instructions it prints are what this test follows.
    let step = |prefix: &str| {
        printed
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("`{prefix}` not printed: {printed}"))
            .to_owned()
    };
    let build = {
        let cd = step("cd ");
        let check = step("mailroom plugin check ");
        printed
            .lines()
            .map(str::trim)
            .skip_while(|l| *l != cd)
            .nth(1)
            .filter(|l| *l != check)
            .unwrap_or_else(|| panic!("no build command printed: {printed}"))
            .to_owned()
    };
    let mut wasm = step("mailroom plugin check ")["mailroom plugin check ".len()..].to_owned();
    let dir = root.join(&name);
    let target_dir = target.display().to_string();
    let out = shell(&dir, &build, &[("CARGO_TARGET_DIR", &target_dir)]);
    succeeded(&format!("{language} {kind}: {build}"), &out);
    if let Some(rest) = wasm.strip_prefix("target/") {
        wasm = target.join(rest).display().to_string();
    }

    let env = cache_env(root);
    let out = shell(
        &dir,
        &format!("mailroom plugin check {wasm}"),
        &env_refs(&env),
    );
    let checked = succeeded(&format!("{language} {kind}: plugin check"), &out);
    // The check kept the compiled component: the runs below load it.
    let cached = walk_count(&root.join("plugin-cache"), "cwasm");
    assert!(
        cached >= 1,
        "{language} {kind}: nothing in the plugin cache"
    );
    assert!(
        checked.contains("OK: the host would accept this component."),
        "{checked}"
    );
    assert!(
        checked.contains(&format!("\"name\": \"{name}\"")),
        "{checked}"
    );

    let label = format!("{language} {kind}");
    match kind {
        "classifier" => classifier_answers(&dir, &wasm, &label),
        "workflow" => workflow_answers(&dir, &wasm, &label),
        "provider" => provider_answers(&dir, &wasm, &name, &label),
        "filter-importer" => importer_answers(&dir, &wasm, &label),
        other => panic!("unknown kind {other}"),
    }
}

fn classifier_answers(dir: &Path, wasm: &str, label: &str) {
    let result = run(dir, wasm, "--eml samples/message.eml");
    assert_eq!(
        result["tags"],
        json!([{"label": "urgent", "score": 1.0}]),
        "{label}"
    );
    let reasons: Vec<(Value, Value)> = result["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| (r["feature"].clone(), r["evidence"]["source"].clone()))
        .collect();
    assert_eq!(
        reasons,
        [
            (json!("keyword:urgent"), json!("Subject")),
            (json!("keyword:asap"), json!("TextBody"))
        ],
        "{label}: {result}"
    );
    // The org's setting replaces the default keywords.
    let result = run(
        dir,
        wasm,
        "--eml samples/message.eml --config keywords=Renewal,,missing",
    );
    assert_eq!(
        result["reasons"][0]["feature"], "keyword:renewal",
        "{label}"
    );
    assert_eq!(
        result["reasons"].as_array().map(Vec::len),
        Some(1),
        "{label}"
    );
}

fn workflow_answers(dir: &Path, wasm: &str, label: &str) {
    let result = run(dir, wasm, "--eml samples/message.eml");
    assert_eq!(
        result,
        json!([
            {"AddLabel": "vip"},
            {"Notify": {"target": "AccountOwner", "title": "VIP mail from dana.lee@example.com",
                        "text": SAMPLE_SUBJECT}}
        ]),
        "{label}"
    );
    let result = run(
        dir,
        wasm,
        "--eml samples/message.eml --trigger reply-received",
    );
    let task = &result[0]["CreateTask"];
    assert_eq!(
        task["title"],
        format!("Reply to Dana Lee: {SAMPLE_SUBJECT}"),
        "{label}: {result}"
    );
    assert_eq!(task["due_in_days"], 1, "{label}");
    assert_eq!(task["assignee"], "AccountOwner", "{label}");
    let result = run(
        dir,
        wasm,
        "--eml samples/message.eml --config vip-domains=other.example",
    );
    assert_eq!(result, json!([]), "{label}");
}

fn provider_answers(dir: &Path, wasm: &str, name: &str, label: &str) {
    let info = run(dir, wasm, "");
    assert_eq!(info["id"], name, "{label}");
    assert_eq!(
        info["imap"],
        json!({"host": "imap.example.com", "port": 993, "security": "Tls"}),
        "{label}"
    );
    assert_eq!(
        info["auth_methods"],
        json!(["Password", "AppPassword"]),
        "{label}"
    );
    assert_eq!(info["quirks"]["max_connections"], 10, "{label}");
    assert_eq!(
        run(dir, wasm, "--mailbox 'INBOX/Sent Items'"),
        "Sent",
        "{label}"
    );
    assert_eq!(
        run(dir, wasm, "--mailbox Deleted\\ Messages"),
        "Trash",
        "{label}"
    );
    assert_eq!(run(dir, wasm, "--mailbox Projects"), Value::Null, "{label}");
    let diagnosis = run(
        dir,
        wasm,
        "--error 'NO [AUTHENTICATIONFAILED] Invalid credentials'",
    );
    assert_eq!(
        diagnosis["summary"],
        format!("{name} refused the password"),
        "{label}"
    );
    assert_eq!(
        run(dir, wasm, "--error 'connection reset'"),
        Value::Null,
        "{label}"
    );
    let sample = std::fs::read_to_string(dir.join("../common-message.eml")).expect("sample");
    std::fs::write(
        dir.join("external.eml"),
        sample.replace("Subject: ", "Subject: [External] "),
    )
    .expect("write");
    let normalized = run(dir, wasm, "--eml external.eml");
    assert_eq!(normalized["subject"], SAMPLE_SUBJECT, "{label}");
}

fn importer_answers(dir: &Path, wasm: &str, label: &str) {
    let result = run(dir, wasm, "--filter samples/filters.txt");
    let imported = &result["Ok"];
    assert_eq!(imported["warnings"], json!([]), "{label}: {result}");
    let rules = imported["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 4, "{label}");
    assert_eq!(
        rules[0]["conditions"],
        json!([{"Test": {"field": "From", "header_name": null, "match_type": "EndsWith",
                         "value": "@example.com", "case_sensitive": false}}]),
        "{label}"
    );
    assert_eq!(
        rules[0]["actions"],
        json!([{"AddLabel": "customers"}]),
        "{label}"
    );
    assert_eq!(
        rules[1]["actions"],
        json!([{"MoveTo": "Finance"}]),
        "{label}"
    );
    assert_eq!(rules[0]["source"]["format"], "simple-lines", "{label}");
    assert_eq!(rules[0]["source"]["line"], 6, "{label}");

    std::fs::write(
        dir.join("broken.txt"),
        "from | contains | x\nfoo | is | y | star\nsubject | is | z | label\n\
         to | is | a@b | star | extra\n# fine\ncc | contains | q | mark-read\n",
    )
    .expect("write");
    let result = run(dir, wasm, "--filter broken.txt");
    let imported = &result["Ok"];
    assert_eq!(
        imported["rules"].as_array().map(Vec::len),
        Some(1),
        "{label}"
    );
    assert_eq!(imported["rules"][0]["source"]["line"], 6, "{label}");
    let lines: Vec<&Value> = imported["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| &w["line"])
        .collect();
    assert_eq!(lines, [1, 2, 3, 4], "{label}: {result}");

    // A byte order mark is not part of the first line.
    std::fs::write(dir.join("bom.txt"), "\u{feff}subject | is | z | star\n").expect("write");
    let result = run(dir, wasm, "--filter bom.txt");
    assert_eq!(
        result["Ok"]["rules"].as_array().map(Vec::len),
        Some(1),
        "{label}: {result}"
    );

    let refused = run(dir, wasm, "--filter broken.txt --format other");
    let message = refused["Err"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("unknown format `other`"),
        "{label}: {refused}"
    );
    std::fs::write(dir.join("latin1.txt"), b"subject | is | caf\xe9 | star\n").expect("write");
    let refused = run(dir, wasm, "--filter latin1.txt");
    assert_eq!(
        refused["Err"]["message"], "the file is not UTF-8 text",
        "{label}"
    );
}

/// Files named `*.{extension}` under `dir`, at any depth.
fn walk_count(dir: &Path, extension: &str) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map_while(Result::ok)
            .map(|e| e.path())
            .map(|p| {
                if p.is_dir() {
                    walk_count(&p, extension)
                } else {
                    usize::from(p.extension().is_some_and(|e| e == extension))
                }
            })
            .sum()
    })
}

/// One language's builds at a time: each runs a compiler on both cores
/// (cargo, componentize-js, componentize-py), and side by side they starved
/// the suite's time-bound tests (a golden case's 2 s deadline).
fn one_language_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Every kind in one language, in one scratch folder.
fn every_kind_in(language: &str) {
    let _turn = one_language_at_a_time();
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        root.path().join("common-message.eml"),
        include_str!("../../templates/plugin/common/samples/message.eml"),
    )
    .expect("write");
    let target = root.path().join("cargo-target");
    for kind in ["classifier", "workflow", "provider", "filter-importer"] {
        build_and_try(root.path(), language, kind, &target);
    }
}

#[test]
fn rust_templates_build_pass_check_and_answer() {
    every_kind_in("rust");
}

#[test]
fn javascript_templates_build_pass_check_and_answer() {
    every_kind_in("js");
}

#[test]
fn python_templates_build_pass_check_and_answer() {
    every_kind_in("python");
}

#[test]
fn plugin_new_refuses_a_bad_name_and_a_used_folder() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = shell(
        root.path(),
        "mailroom plugin new --lang rust --kind classifier My_Plugin",
        &[],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`My_Plugin` cannot name a plugin project"),
        "{stderr}"
    );
    assert!(
        std::fs::read_dir(root.path())
            .expect("dir")
            .next()
            .is_none()
    );

    std::fs::create_dir(root.path().join("taken")).expect("mkdir");
    std::fs::write(root.path().join("taken/notes.txt"), "mine").expect("write");
    let out = shell(
        root.path(),
        "mailroom plugin new --lang js --kind workflow taken",
        &[],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already exists and is not empty"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(root.path().join("taken"))
            .expect("dir")
            .count(),
        1,
        "nothing was written next to the author's file"
    );
}

/// The `sh` blocks of one `## ` section of the guide, in order.
fn guide_section(guide: &str, heading: &str) -> String {
    let start = guide
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/plugin-guide.md has no section `## {heading}`"));
    let section = &guide[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut script = String::new();
    let mut in_block = false;
    for line in section.lines() {
        match (in_block, line.trim_end()) {
            (false, "```sh") => in_block = true,
            (true, "```") => in_block = false,
            (true, line) => {
                script.push_str(line);
                script.push('\n');
            }
            _ => {}
        }
    }
    assert!(!script.is_empty(), "`## {heading}` has no sh block");
    script
}

#[test]
fn plugin_guide_followed_literally() {
    let _turn = one_language_at_a_time();
    let guide = include_str!("../../../docs/plugin-guide.md");
    let root = tempfile::tempdir().expect("tempdir");
    let data = root.path().join("data");
    let data = data.to_str().expect("utf-8");

    // The server and token the guide's "Before you start" asks for.
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args([
            "org",
            "create",
            "Guide Readers",
            "--admin",
            "author@example.com",
        ])
        .args(["--no-bundled-plugins", "--data-dir", data])
        .output()
        .expect("org create");
    let token = printed_token(&succeeded("org create", &out));
    let mut server = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args([
            "--log-json",
            "serve",
            "--data-dir",
            data,
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let log = lines_of(server.stderr.take().expect("stderr"));
    let (port, _) = bound_port(&mut server, &log, serving_port);
    wait_healthy(&mut server, port);
    let url = format!("http://127.0.0.1:{port}");
    let cache = cache_env(root.path());
    let env = [
        ("MAILROOM_URL", url.as_str()),
        ("MAILROOM_TOKEN", token.as_str()),
        (cache[0].0, cache[0].1.as_str()),
    ];

    let sections: [(&str, &str); 4] = [
        ("Rust", "urgent-tagger"),
        ("After the upload", "urgent-tagger"),
        ("JavaScript", "urgent-tagger-js"),
        ("Python", "urgent-tagger-py"),
    ];
    for (heading, name) in sections {
        let script = guide_section(guide, heading);
        let out = shell(root.path(), &script, &env);
        let stdout = succeeded(&format!("the guide's `## {heading}`"), &out);
        if heading != "After the upload" {
            // check, run and upload each said what the guide says they say.
            assert!(
                stdout.contains("OK: the host would accept this component."),
                "{heading}: {stdout}"
            );
            assert!(stdout.contains("\"keyword:asap\""), "{heading}: {stdout}");
            assert!(
                stdout.contains(&format!("\"name\":\"{name}\"")),
                "{heading}: the upload's answer: {stdout}"
            );
        }
    }

    // All three run in the org, enabled; the setting the guide changed holds.
    let (status, body) = get(port, "/v1/plugins", Some(&token)).expect("list");
    assert_eq!(status, 200, "{body}");
    let plugins: Value = serde_json::from_str(&body).expect("json");
    for (_, name) in sections {
        let plugin = plugins
            .as_array()
            .expect("a list")
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not installed: {body}"));
        assert_eq!(plugin["enabled"], true, "{plugin}");
        assert_eq!(plugin["kind"], "classifier", "{plugin}");
    }
    let (_, body) = get(port, "/v1/plugins/urgent-tagger", Some(&token)).expect("get");
    let plugin: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        plugin["config"]["keywords"], "urgent,asap,renewal",
        "{plugin}"
    );
    stop(server);
}
