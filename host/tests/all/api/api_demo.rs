//! The built binary as people run it: `mailroom demo` starts, answers
//! `/healthz`, serves the sample mail and bundled plugins with the token it
//! printed, and stops cleanly on SIGTERM, removing its temporary data;
//! `mailroom org create` prints a token that `mailroom serve` accepts, across
//! restarts, and installs the bundled plugins unless told not to; a config file with an unknown key is refused by name.

use crate::binary::{
    bound_port, get, lines_of, printed_token, request, serving_port, stop, url_port, wait_healthy,
};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn demo_starts_answers_healthz_and_serves_sample_data() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mailroom demo");
    let rx = lines_of(child.stdout.take().expect("stdout"));
    let (port, mut printed) = bound_port(&mut child, &rx, url_port);

    let started = Instant::now();
    let mut healthy = false;
    while started.elapsed() < Duration::from_secs(240) {
        printed.extend(rx.try_iter());
        if let Ok((200, body)) = get(port, "/healthz", None) {
            assert!(body.contains("ok"), "{body}");
            healthy = true;
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the demo exited with {status}: {printed:#?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        healthy,
        "the demo did not answer /healthz in time: {printed:#?}"
    );
    // The instructions are printed before serving starts.
    printed.extend(rx.try_iter());
    let token = printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("export TOKEN="))
        .unwrap_or_else(|| panic!("no token in the demo's output: {printed:#?}"))
        .to_owned();
    assert!(printed.iter().any(|l| l.contains("curl")), "{printed:#?}");
    let data_dir = printed
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("data:")
                .map(|d| d.trim().split(" (").next().unwrap_or("").to_owned())
        })
        .expect("data dir line");

    let (status, body) = get(port, "/v1/messages?limit=100", Some(&token)).expect("messages");
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(15), "{body}");
    let (status, body) = get(port, "/v1/plugins", Some(&token)).expect("plugins");
    assert_eq!(status, 200, "{body}");
    let plugins: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        plugins.as_array().map(Vec::len),
        Some(mailroom_plugin_artifacts::BUNDLED.len()),
        "{body}"
    );
    let (status, body) = get(port, "/v1/contacts?text=maria", Some(&token)).expect("contacts");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("maria.garcia@acme-logistics.example"),
        "{body}"
    );

    // SIGTERM: a graceful stop that removes the temporary data directory.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(30),
            "the demo did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "the demo exited with {status}");
    assert!(
        !std::path::Path::new(&data_dir).exists(),
        "{data_dir} was not removed"
    );
}

#[test]
fn org_create_prints_a_token_that_serve_accepts_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8");
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args([
            "org",
            "create",
            "Acme Corp",
            "--admin",
            "boss@acme.example",
            "--data-dir",
            data,
        ])
        .output()
        .expect("org create");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = printed_token(&stdout);
    assert!(stdout.contains("bundled plugins: "), "{stdout}");
    // An org that starts without them.
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args([
            "org",
            "create",
            "Bare Corp",
            "--admin",
            "boss@bare.example",
            "--no-bundled-plugins",
            "--data-dir",
            data,
        ])
        .output()
        .expect("org create --no-bundled-plugins");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(!stdout.contains("bundled plugins: "), "{stdout}");
    let bare_token = printed_token(&stdout);
    // The same name twice is refused.
    let again = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args([
            "org",
            "create",
            "Acme Corp",
            "--admin",
            "x@acme.example",
            "--data-dir",
            data,
        ])
        .output()
        .expect("org create again");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // A config file supplies the data directory; the flag gives the address.
    let config = dir.path().join("mailroom.toml");
    std::fs::write(
        &config,
        format!("data_dir = {data:?}\nlisten = \"127.0.0.1:1\"\n"),
    )
    .expect("config");
    for restart in 0..2 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mailroom"))
            .args([
                "--log-json",
                "serve",
                "--config",
                config.to_str().expect("utf-8"),
                "--listen",
                "127.0.0.1:0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve");
        let log = lines_of(child.stderr.take().expect("stderr"));
        let (port, _) = bound_port(&mut child, &log, serving_port);
        wait_healthy(&mut child, port);
        let (status, body) = get(port, "/v1/me", Some(&token)).expect("me");
        assert_eq!(status, 200, "{body}");
        assert!(
            body.contains("boss@acme.example") && body.contains("Acme Corp"),
            "{body}"
        );
        bundled_plugins_work_out_of_the_box(port, &token, &bare_token, restart == 0);
        stop(child);
    }

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "listen = \"127.0.0.1:0\"\ndata_directory = \"/tmp/x\"\n",
    )
    .expect("config");
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(["serve", "--config", bad.to_str().expect("utf-8")])
        .output()
        .expect("serve with a bad config");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("data_directory") && stderr.contains("bad.toml"),
        "{stderr}"
    );
}

/// The statuses `GET /v1/bundled-plugins` gives, by plugin name.
fn bundled_statuses(port: u16, token: &str) -> std::collections::BTreeMap<String, String> {
    let (status, body) = get(port, "/v1/bundled-plugins", Some(token)).expect("bundled");
    assert_eq!(status, 200, "{body}");
    let offers: serde_json::Value = serde_json::from_str(&body).expect("json");
    offers
        .as_array()
        .expect("a list")
        .iter()
        .map(|o| {
            let field = |k: &str| o[k].as_str().unwrap_or_default().to_owned();
            assert!(o["kind"].is_string(), "{o}");
            if field("status") == "current" {
                // The version offered (the package's) is the one the
                // plugin's own metadata reported at install.
                assert_eq!(o["installed_version"], o["version"], "{o}");
            }
            (field("name"), field("status"))
        })
        .collect()
}

/// A new org can add a Gmail account at once (the providers are there);
/// one created without the bundled plugins sees them offered, and an admin
/// installs one with a call (`first` run; the later run sees it kept).
fn bundled_plugins_work_out_of_the_box(port: u16, token: &str, bare: &str, first: bool) {
    let (status, body) = get(port, "/v1/providers", Some(token)).expect("providers");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"gmail\""), "{body}");
    let statuses = bundled_statuses(port, token);
    assert!(statuses.len() >= 10, "{statuses:?}");
    assert!(statuses.values().all(|s| s == "current"), "{statuses:?}");
    assert!(statuses.contains_key("classifier-keywords"), "{statuses:?}");

    let bare_statuses = bundled_statuses(port, bare);
    let gmail = "provider-gmail";
    if first {
        assert_eq!(
            get(port, "/v1/plugins", Some(bare)).expect("plugins").1,
            "[]"
        );
        assert!(
            bare_statuses.values().all(|s| s == "not-installed"),
            "{bare_statuses:?}"
        );
        let path = format!("/v1/bundled-plugins/{gmail}/install");
        let (status, body) = request(port, "POST", &path, Some(bare)).expect("install");
        assert_eq!(status, 201, "{body}");
        let (status, body) = request(port, "POST", &path, Some(bare)).expect("again");
        assert_eq!(
            status, 200,
            "the running version again changes nothing: {body}"
        );
        let (status, body) =
            request(port, "POST", "/v1/bundled-plugins/nope/install", Some(bare)).expect("nope");
        assert_eq!(status, 404, "{body}");
        assert!(
            body.contains("bundled-plugins"),
            "says where to look: {body}"
        );
    }
    let bare_statuses = bundled_statuses(port, bare);
    assert_eq!(
        bare_statuses.get(gmail).map(String::as_str),
        Some("current")
    );
    assert_eq!(
        bare_statuses.values().filter(|s| *s == "current").count(),
        1,
        "{bare_statuses:?}"
    );
    let (_, providers) = get(port, "/v1/providers", Some(bare)).expect("providers");
    assert!(providers.contains("\"gmail\""), "{providers}");
}
