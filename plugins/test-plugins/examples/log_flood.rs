//! A plugin that succeeds and logs 150 lines of 4 KiB on every call, more
//! than the host lets through per call and per minute.

use mailroom_plugin_sdk::prelude::*;

pub struct LogFlood;

impl Plugin for LogFlood {
    fn metadata() -> Metadata {
        test_plugins::metadata("log-flood")
    }
}

impl Classifier for LogFlood {
    fn classify(_message: Message) -> Result<Classification, String> {
        let line = "x".repeat(4096 - 16);
        for i in 0..150 {
            log::info(&format!("flood line {i:05} {line}"));
        }
        Ok(test_plugins::tagged(["flooded"]))
    }
}

mailroom_plugin_sdk::export_classifier!(LogFlood);
