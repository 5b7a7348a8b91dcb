//! Classifies by waiting, inside `wasi:io/poll`, on timers that never fire:
//! no wasm runs while it waits, so only a deadline that cuts off host calls
//! stops it.

use mailroom_plugin_sdk::prelude::*;

#[path = "common/wait.rs"]
mod wait;

pub struct PollsForever;

impl Plugin for PollsForever {
    fn metadata() -> Metadata {
        test_plugins::metadata("polls-forever")
    }
}

impl Classifier for PollsForever {
    fn classify(_message: Message) -> Result<Classification, String> {
        wait::poll_timers_forever()
    }
}

mailroom_plugin_sdk::export_classifier!(PollsForever);
