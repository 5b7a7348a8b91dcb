//! Recurses without bound until the engine's call stack overflows (wasmtime:
//! "call stack exhausted").
//!
//! The frames hold only scalars, which live in wasm locals: the recursion
//! exhausts the engine's stack, not Rust's shadow stack in linear memory
//! (which would end in an out-of-bounds access instead).

use mailroom_plugin_sdk::prelude::*;

pub struct DeepRecursion;

impl Plugin for DeepRecursion {
    fn metadata() -> Metadata {
        test_plugins::metadata("deep-recursion")
    }
}

/// Never equal to a depth reached in practice; read with a volatile load so
/// the optimiser can neither fold the exit away nor prove it unreachable.
static LIMIT: u64 = u64::MAX;

/// Not a tail call: the result is combined with the arguments afterwards, so
/// the optimiser cannot turn the recursion into a loop.
#[inline(never)]
fn recurse(depth: u64, a: u64, b: u64) -> u64 {
    // SAFETY: `LIMIT` is a valid, aligned, immutable static.
    if depth == unsafe { std::ptr::read_volatile(&LIMIT) } {
        return a;
    }
    let below = recurse(depth + 1, a.wrapping_mul(31) ^ depth, b.rotate_left(7) ^ a);
    below ^ a.wrapping_add(b) ^ depth
}

impl Classifier for DeepRecursion {
    fn classify(message: Message) -> Result<Classification, String> {
        let n = recurse(0, message.size, message.subject.len() as u64);
        Ok(test_plugins::tagged([format!("depth:{n}")]))
    }
}

mailroom_plugin_sdk::export_classifier!(DeepRecursion);
