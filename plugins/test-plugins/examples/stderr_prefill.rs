//! Writes 64 KiB of noise to stderr, then panics: the panic message comes
//! last, so the host must keep the tail of stderr to report it.

use mailroom_plugin_sdk::prelude::*;
use std::io::Write;

pub struct StderrPrefill;

impl Plugin for StderrPrefill {
    fn metadata() -> Metadata {
        test_plugins::metadata("stderr-prefill")
    }
}

impl Classifier for StderrPrefill {
    fn classify(_message: Message) -> Result<Classification, String> {
        let noise = "nothing to see here ".repeat(64);
        let mut stderr = std::io::stderr();
        for _ in 0..(64 << 10) / noise.len() {
            let _ = writeln!(stderr, "{noise}");
        }
        panic!("the real reason: prefilled stderr to hide this");
    }
}

mailroom_plugin_sdk::export_classifier!(StderrPrefill);
