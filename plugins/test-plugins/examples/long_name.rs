//! Calls itself by a 10,000-character name: upload and `mailroom plugin
//! check` must both refuse it by the same rule, without echoing it whole.

use mailroom_plugin_sdk::prelude::*;

pub struct LongName;

impl Plugin for LongName {
    fn metadata() -> Metadata {
        test_plugins::metadata(&"long-name".repeat(1_112))
    }
}

impl Classifier for LongName {
    fn classify(_message: Message) -> Result<Classification, String> {
        Ok(test_plugins::tagged(["unreachable"]))
    }
}

mailroom_plugin_sdk::export_classifier!(LongName);
