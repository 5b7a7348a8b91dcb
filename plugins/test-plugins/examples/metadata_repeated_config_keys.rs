//! Metadata declaring the config key `mode` 6,000 times.

use mailroom_plugin_sdk::prelude::*;

pub struct RepeatedConfigKeys;

impl Plugin for RepeatedConfigKeys {
    fn metadata() -> Metadata {
        let mut meta = test_plugins::metadata("metadata-repeated-config-keys");
        meta.config_keys = (0..6_000)
            .map(|_| ConfigKey::optional("mode", "How to behave", Some("fast")))
            .collect();
        meta
    }
}

impl Classifier for RepeatedConfigKeys {
    fn classify(_message: Message) -> Result<Classification, String> {
        Ok(Classification::default())
    }
}

mailroom_plugin_sdk::export_classifier!(RepeatedConfigKeys);
