//! Returns an 8 MiB summary: more than the host accepts from a plugin.

use mailroom_plugin_sdk::prelude::*;

pub struct OversizedOutput;

impl Plugin for OversizedOutput {
    fn metadata() -> Metadata {
        test_plugins::metadata("oversized-output")
    }
}

impl Classifier for OversizedOutput {
    fn classify(_message: Message) -> Result<Classification, String> {
        Ok(Classification {
            summary: Some("x".repeat(8 << 20)),
            ..Default::default()
        })
    }
}

mailroom_plugin_sdk::export_classifier!(OversizedOutput);
