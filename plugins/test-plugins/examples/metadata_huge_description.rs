//! Metadata with a 600 KB description: more than an admin page shows or
//! the plugin list should carry.

use mailroom_plugin_sdk::prelude::*;

pub struct HugeDescription;

impl Plugin for HugeDescription {
    fn metadata() -> Metadata {
        test_plugins::metadata("metadata-huge-description").description(&"spam ".repeat(120_000))
    }
}

impl Classifier for HugeDescription {
    fn classify(_message: Message) -> Result<Classification, String> {
        Ok(Classification::default())
    }
}

mailroom_plugin_sdk::export_classifier!(HugeDescription);
