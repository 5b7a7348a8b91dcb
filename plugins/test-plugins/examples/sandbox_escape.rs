//! Tries to reach outside the sandbox through WASI and reports each outcome
//! as a tag, so the host test can assert that every attempt failed:
//!
//! - `fs:err:<msg>` / `fs:ok:<bytes>` — `std::fs::read("/etc/passwd")`
//! - `fs-dir:err:<msg>` / `fs-dir:ok:<entries>` — `std::fs::read_dir("/")`
//! - `env:empty` / `env:ok:<names>` — `std::env::vars()`
//! - `args:empty` / `args:ok:<args>` — `std::env::args()`
//! - `net:err:<msg>` / `net:ok` / `net:skipped` — `TcpStream::connect` to the
//!   address in config key `target` (e.g. `127.0.0.1:PORT`)
//!
//! A tag containing `:ok` means an escape worked.

use mailroom_plugin_sdk::prelude::*;

pub struct SandboxEscape;

impl Plugin for SandboxEscape {
    fn metadata() -> Metadata {
        test_plugins::metadata("sandbox-escape").config_key(ConfigKey::optional(
            "target",
            "host:port to try to connect to",
            None,
        ))
    }
}

impl Classifier for SandboxEscape {
    fn classify(_message: Message) -> Result<Classification, String> {
        let mut tags = Vec::new();
        tags.push(match std::fs::read("/etc/passwd") {
            Ok(bytes) => format!("fs:ok:{}", bytes.len()),
            Err(e) => format!("fs:err:{e}"),
        });
        tags.push(match std::fs::read_dir("/") {
            Ok(entries) => format!("fs-dir:ok:{}", entries.count()),
            Err(e) => format!("fs-dir:err:{e}"),
        });
        let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
        tags.push(match vars.is_empty() {
            true => "env:empty".to_string(),
            false => format!("env:ok:{}", vars.join(",")),
        });
        let args: Vec<String> = std::env::args().collect();
        tags.push(match args.is_empty() {
            true => "args:empty".to_string(),
            false => format!("args:ok:{}", args.join(" ")),
        });
        tags.push(match config::get("target") {
            None => "net:skipped".to_string(),
            Some(target) => match std::net::TcpStream::connect(target.as_str()) {
                Ok(_) => "net:ok".to_string(),
                Err(e) => format!("net:err:{e}"),
            },
        });
        Ok(test_plugins::tagged(tags))
    }
}

mailroom_plugin_sdk::export_classifier!(SandboxEscape);
