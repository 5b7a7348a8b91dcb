//! Panics, which traps the instance; the host must record the failure and
//! keep going.

use mailroom_plugin_sdk::prelude::*;

pub struct Trap;

impl Plugin for Trap {
    fn metadata() -> Metadata {
        test_plugins::metadata("trap")
    }
}

impl Classifier for Trap {
    fn classify(_message: Message) -> Result<Classification, String> {
        panic!("deliberate panic in test plugin");
    }
}

mailroom_plugin_sdk::export_classifier!(Trap);
