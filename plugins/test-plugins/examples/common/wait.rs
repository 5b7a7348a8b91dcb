//! Waiting inside WASI host calls rather than in wasm code: what a plugin
//! stuck on a timer or an event looks like to the host. Shared by the
//! examples that wait (`#[path]` module, so no other test plugin imports
//! these interfaces). The bindings are generated from the `wasi:clocks` and
//! `wasi:io` WIT the host links (`wit/wait`).

// Each example uses one of the functions below.
#![allow(dead_code)]

wit_bindgen::generate!({
    path: "wit/wait",
    world: "test:wait/wait",
    generate_all,
});

use wasi::clocks::monotonic_clock;
use wasi::io::poll;

/// Polls, forever, two timers that never fire: one at the last instant
/// the clock can name, one that long from now. Each `poll` call waits in
/// the host.
pub fn poll_timers_forever() -> ! {
    let far_instant = monotonic_clock::subscribe_instant(u64::MAX);
    let far_duration = monotonic_clock::subscribe_duration(u64::MAX);
    loop {
        poll::poll(&[&far_instant, &far_duration]);
    }
}

/// Blocks on one pollable at the last instant the clock can name.
pub fn block_until_the_end_of_time() {
    monotonic_clock::subscribe_instant(u64::MAX).block();
}
