//! Version 2.0.0 of the plugin `swap` (see `swap_v1.rs` for the other):
//! for upgrade and rollback tests. Busy-waits config key `ms` milliseconds so
//! calls can be in flight during an upgrade, then returns the tag `v2`.

use mailroom_plugin_sdk::prelude::*;

pub struct Swap;

impl Plugin for Swap {
    fn metadata() -> Metadata {
        Metadata {
            version: "2.0.0".into(),
            ..test_plugins::metadata("swap")
        }
        .config_key(test_plugins::ms_config_key())
    }
}

impl Classifier for Swap {
    fn classify(_message: Message) -> Result<Classification, String> {
        test_plugins::busy_wait_config_ms();
        Ok(test_plugins::tagged(["v2"]))
    }
}

mailroom_plugin_sdk::export_classifier!(Swap);
