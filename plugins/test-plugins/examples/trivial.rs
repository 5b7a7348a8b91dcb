//! Returns an empty classification at once: the cost of a bare invocation.

use mailroom_plugin_sdk::prelude::*;

pub struct Trivial;

impl Plugin for Trivial {
    fn metadata() -> Metadata {
        test_plugins::metadata("trivial")
    }
}

impl Classifier for Trivial {
    fn classify(_message: Message) -> Result<Classification, String> {
        Ok(Classification::default())
    }
}

mailroom_plugin_sdk::export_classifier!(Trivial);
