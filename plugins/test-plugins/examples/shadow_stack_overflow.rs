//! Recurses with a 16 KiB buffer in every frame: the buffers live on Rust's
//! shadow stack in linear memory, which runs out long before the engine's
//! own stack. Wasm reports that as an out-of-bounds memory access (the
//! stack pointer wraps below address 0); the host must say stack overflow.

use mailroom_plugin_sdk::prelude::*;

pub struct ShadowStackOverflow;

impl Plugin for ShadowStackOverflow {
    fn metadata() -> Metadata {
        test_plugins::metadata("shadow-stack-overflow")
    }
}

/// Not a tail call, and the buffer escapes through `black_box`, so neither
/// the recursion nor the buffer can be optimised away.
#[inline(never)]
#[allow(
    unconditional_recursion,
    reason = "it recurses until the shadow stack overflows, which is the test"
)]
fn recurse(depth: u64) -> u64 {
    let mut buffer = [0u8; 16 << 10];
    buffer[depth as usize % buffer.len()] = depth as u8;
    std::hint::black_box(&mut buffer);
    let below = recurse(depth + 1);
    below ^ u64::from(buffer[(depth as usize * 7) % buffer.len()])
}

impl Classifier for ShadowStackOverflow {
    fn classify(message: Message) -> Result<Classification, String> {
        let n = recurse(message.size);
        Ok(test_plugins::tagged([format!("depth:{n}")]))
    }
}

mailroom_plugin_sdk::export_classifier!(ShadowStackOverflow);
