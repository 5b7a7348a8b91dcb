//! Attacks the key-value store in one call, in the way config key `mode`
//! says; every mode ignores the errors the host returns and keeps going:
//!
//! - `huge-keys`: deletes 2,000 distinct keys of 1 MiB each;
//! - `distinct-deletes`: deletes a million distinct 256-byte keys;
//! - `distinct-sets`: sets 100,000 distinct 256-byte keys to 4 KiB values;
//! - `many-ops`: reads and rewrites one key a million times;
//! - `largest-batch` (well-behaved): sets 1,000 distinct keys to 900-byte
//!   values, the most one call may change, and succeeds.
//!
//! Tags: `done:<mode>` when the call got to its end.

use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::types::Permission;

pub struct KvFlood;

impl Plugin for KvFlood {
    fn metadata() -> Metadata {
        test_plugins::metadata("kv-flood")
            .config_key(ConfigKey::optional(
                "mode",
                "Which attack to run",
                Some("many-ops"),
            ))
            .permission(Permission::KeyValue)
    }
}

/// A distinct key of `len` bytes for each `i`.
fn key(i: u32, len: usize) -> String {
    let mut key = format!("{i:010}-");
    key.extend(std::iter::repeat_n('k', len - key.len()));
    key
}

impl Classifier for KvFlood {
    fn classify(_message: Message) -> Result<Classification, String> {
        let mode = config::get_or("mode", "many-ops");
        match mode.as_str() {
            "huge-keys" => (0..2_000).for_each(|i| kv::delete(&key(i, 1 << 20))),
            "distinct-deletes" => (0..1_000_000).for_each(|i| kv::delete(&key(i, 256))),
            "distinct-sets" => {
                let value = vec![7u8; 4096];
                for i in 0..100_000 {
                    let _ = kv::set(&key(i, 256), &value);
                }
            }
            "many-ops" => {
                for i in 0..1_000_000u64 {
                    let _ = kv::get("counter");
                    let _ = kv::set_u64("counter", i);
                }
            }
            "largest-batch" => {
                let value = vec![1u8; 900];
                for i in 0..1_000 {
                    kv::set(&key(i, 16), &value).map_err(|e| format!("set {i}: {e:?}"))?;
                }
            }
            other => return Err(format!("unknown mode {other}")),
        }
        Ok(test_plugins::tagged([format!("done:{mode}")]))
    }
}

mailroom_plugin_sdk::export_classifier!(KvFlood);
