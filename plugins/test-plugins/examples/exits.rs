//! Calls `std::process::exit(3)` in the middle of a call: WASI's `exit`
//! ends the instance from inside a WASI call (WASI 0.2 passes only failure,
//! so the host sees status 1). The host must say so, not call it invalid
//! output.

use mailroom_plugin_sdk::prelude::*;

pub struct Exits;

impl Plugin for Exits {
    fn metadata() -> Metadata {
        test_plugins::metadata("exits")
    }
}

impl Classifier for Exits {
    fn classify(_message: Message) -> Result<Classification, String> {
        std::process::exit(3)
    }
}

mailroom_plugin_sdk::export_classifier!(Exits);
