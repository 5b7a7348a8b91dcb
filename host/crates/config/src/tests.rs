use crate::*;
use mailroom_core::plugin_limits::Limits;
use std::collections::HashMap;
use std::path::PathBuf;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn defaults_without_file_env_or_flags() {
    let s = Settings::load_with(&Overrides::default(), env(&[])).expect("defaults");
    assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(s.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
    assert_eq!(s.database_url, None);
    assert_eq!(s.limits.json_bytes, 1 << 20);
    assert_eq!(s.limits.plugin_upload_bytes, 64 << 20);
    assert_eq!(s.plugin_limits(), Limits::default());
}

#[test]
fn file_then_env_then_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailroom.toml");
    std::fs::write(
        &path,
        "listen = \"0.0.0.0:9000\"\ndata_dir = \"/from/file\"\ndatabase_url = \"sqlite:///file.db\"\n\
         [limits]\njson_bytes = 2048\n[plugins]\ndeadline_ms = 300\n",
    )
    .expect("write");
    let file_only = Overrides {
        config: Some(path.clone()),
        ..Default::default()
    };
    let s = Settings::load_with(&file_only, env(&[])).expect("file");
    assert_eq!(s.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(s.data_dir, PathBuf::from("/from/file"));
    assert_eq!(s.limits.json_bytes, 2048);
    assert_eq!(
        s.limits.plugin_upload_bytes,
        64 << 20,
        "unset keys keep their default"
    );
    assert_eq!(s.plugins.deadline_ms, 300);

    let e = env(&[
        ("MAILROOM_DATA_DIR", "/from/env"),
        ("MAILROOM_LISTEN", "127.0.0.1:9001"),
        ("MAILROOM_JSON_BODY_LIMIT", "4096"),
    ]);
    let s = Settings::load_with(&file_only, &e).expect("env");
    assert_eq!(s.data_dir, PathBuf::from("/from/env"));
    assert_eq!(s.listen.to_string(), "127.0.0.1:9001");
    assert_eq!(s.limits.json_bytes, 4096);
    assert_eq!(s.database_url.as_deref(), Some("sqlite:///file.db"));

    let flags = Overrides {
        data_dir: Some("/from/flag".into()),
        listen: None,
        ..file_only.clone()
    };
    let s = Settings::load_with(&flags, &e).expect("flags");
    assert_eq!(s.data_dir, PathBuf::from("/from/flag"));
    assert_eq!(
        s.listen.to_string(),
        "127.0.0.1:9001",
        "env still beats the file"
    );
}

#[test]
fn sync_settings_from_file_and_env() {
    let s = Settings::from_toml("[sync]\npush = false\npoll_seconds = 30\n").expect("toml");
    assert!(!s.sync.push);
    assert_eq!(s.sync.poll_seconds, 30);
    let e = env(&[
        ("MAILROOM_SYNC_PUSH", "yes"),
        ("MAILROOM_SYNC_POLL_SECONDS", "90"),
    ]);
    let s = Settings::load_with(&Overrides::default(), e).expect("env");
    assert!(s.sync.push);
    assert_eq!(s.sync.poll_seconds, 90);
    let err = Settings::load_with(
        &Overrides::default(),
        env(&[("MAILROOM_SYNC_POLL_SECONDS", "0")]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("sync.poll_seconds"), "{err}");
}

#[test]
fn config_file_from_env_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.toml");
    std::fs::write(&path, "log_json = true\n").expect("write");
    let path = path.to_string_lossy().into_owned();
    let s = Settings::load_with(&Overrides::default(), env(&[(CONFIG_ENV, &path)])).expect("load");
    assert!(s.log_json);
}

#[test]
fn unknown_keys_are_refused_with_their_name() {
    let err = Settings::from_toml("listen = \"127.0.0.1:1\"\nlisten_port = 3\n").unwrap_err();
    assert!(err.message.contains("listen_port"), "{err}");
    assert_eq!(err.line, Some(2), "{err}");
    let err = Settings::from_toml("[limits]\njson = 3\n").unwrap_err();
    assert!(err.message.contains("json"), "{err}");
    assert_eq!(err.line, Some(2), "{err}");
}

#[test]
fn bad_values_name_their_source() {
    let err = Settings::load_with(
        &Overrides::default(),
        env(&[("MAILROOM_LISTEN", "nowhere")]),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("MAILROOM_LISTEN:"), "{err}");
    let err = Settings::load_with(
        &Overrides::default(),
        env(&[("MAILROOM_PLUGIN_DEADLINE_MS", "0")]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("deadline_ms"), "{err}");
    let missing = Overrides {
        config: Some("/nonexistent/mailroom.toml".into()),
        ..Default::default()
    };
    let err = Settings::load_with(&missing, env(&[])).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/mailroom.toml"),
        "{err}"
    );
}

#[test]
fn numbers_out_of_range_are_refused_with_key_range_and_default() {
    let err = Settings::from_toml("[plugins]\nmemory_mib = 17592186044416\n")
        .expect("toml")
        .check()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugins.memory_mib: 17592186044416 is out of range: must be 1 to 1048576 (the default is 128)"
    );
    let err = Settings::from_toml("[http]\nheader_read_timeout_secs = 0\n")
        .expect("toml")
        .check()
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("http.header_read_timeout_secs: 0 is out of range"),
        "{err}"
    );
    let err = Settings::from_toml("[connection_test]\ncommand_secs = 9223372036854775807\n")
        .expect("toml")
        .check()
        .unwrap_err();
    assert!(
        err.to_string().starts_with("connection_test.command_secs:"),
        "{err}"
    );
}

#[test]
fn the_largest_accepted_plugin_limits_stay_exact_in_bytes() {
    let s = Settings::from_toml(
        "[plugins]\nmemory_mib = 1048576\ninput_mib = 1048576\noutput_kib = 1073741824\n",
    )
    .expect("toml");
    s.check().expect("in range");
    let l = s.plugin_limits();
    assert_eq!(l.memory_bytes >> 20, 1 << 20);
    assert_eq!(l.input_bytes >> 20, 1 << 20);
    assert_eq!(l.output_bytes >> 10, 1 << 30);
}

#[test]
fn accepted_settings_round_trip_through_toml() {
    let s = Settings::from_toml(
        "listen = \"[::1]:9\"\nmetrics_token = \"t\"\n[http]\nauth_failure_burst = 3\n",
    )
    .expect("toml");
    s.check().expect("valid");
    let text = toml::to_string(&s).expect("serialise");
    assert_eq!(Settings::from_toml(&text).expect("reparse"), s);
}
