//! Never returns: the host's deadline (epoch interruption) must stop it.

use mailroom_plugin_sdk::prelude::*;
use std::hint::black_box;

pub struct InfiniteLoop;

impl Plugin for InfiniteLoop {
    fn metadata() -> Metadata {
        test_plugins::metadata("infinite-loop")
    }
}

impl Classifier for InfiniteLoop {
    fn classify(_message: Message) -> Result<Classification, String> {
        // `black_box` keeps the counter observable, so the loop is not
        // optimised into a trap or removed.
        let mut n: u64 = 0;
        loop {
            n = black_box(n.wrapping_add(1));
        }
    }
}

mailroom_plugin_sdk::export_classifier!(InfiniteLoop);
