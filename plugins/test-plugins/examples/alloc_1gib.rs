//! Allocates 1 GiB and touches every page: the host's memory cap must stop it
//! (a failed `memory.grow` traps or the allocation aborts).

use mailroom_plugin_sdk::prelude::*;
use std::hint::black_box;

pub struct Alloc1Gib;

const GIB: usize = 1 << 30;
const PAGE: usize = 64 * 1024;

impl Plugin for Alloc1Gib {
    fn metadata() -> Metadata {
        test_plugins::metadata("alloc-1gib")
    }
}

impl Classifier for Alloc1Gib {
    fn classify(_message: Message) -> Result<Classification, String> {
        let mut block: Vec<u8> = Vec::with_capacity(black_box(GIB));
        // Writing through the spare capacity touches each wasm page without
        // the cost of zeroing the whole GiB first.
        let spare = block.spare_capacity_mut();
        for offset in (0..GIB).step_by(PAGE) {
            spare[offset].write(1);
        }
        // Keep the allocation observable so none of it is optimised away.
        black_box(&mut block);
        Ok(test_plugins::tagged([format!(
            "allocated:{}",
            block.capacity()
        )]))
    }
}

mailroom_plugin_sdk::export_classifier!(Alloc1Gib);
