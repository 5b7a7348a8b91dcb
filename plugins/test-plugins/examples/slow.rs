//! Busy-waits for config key `ms` milliseconds (default 0) on the host's
//! clock, then returns the tag `slept:<ms>`: for deadline tests right at the
//! boundary.

use mailroom_plugin_sdk::prelude::*;

pub struct Slow;

impl Plugin for Slow {
    fn metadata() -> Metadata {
        test_plugins::metadata("slow").config_key(test_plugins::ms_config_key())
    }
}

impl Classifier for Slow {
    fn classify(_message: Message) -> Result<Classification, String> {
        let ms = test_plugins::busy_wait_config_ms();
        Ok(test_plugins::tagged([format!("slept:{ms}")]))
    }
}

mailroom_plugin_sdk::export_classifier!(Slow);
