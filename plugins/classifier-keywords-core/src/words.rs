//! The analyses' word tables: a hash of a word's bytes and a hash table
//! from words to numbers, both usable at compile time so the tables cost
//! nothing to set up in a fresh plugin instance.

/// The key of the analyses' word tables: the word's bytes mixed in eight at
/// a time (little-endian, zero-padded), then its length. Computed once per
/// token, and at compile time for the tables.
pub const fn word_hash(bytes: &[u8]) -> u32 {
    let mut hash = HASH_SEED;
    let mut i = 0;
    while i < bytes.len() {
        let mut chunk = 0u64;
        let mut k = 0;
        while k < 8 && i + k < bytes.len() {
            chunk |= (bytes[i + k] as u64) << (8 * k);
            k += 1;
        }
        hash = mix(hash, chunk);
        i += 8;
    }
    finish(hash, bytes.len())
}

pub(crate) const HASH_SEED: u64 = 0x243f_6a88_85a3_08d3;

pub(crate) const fn mix(hash: u64, chunk: u64) -> u64 {
    let m = (hash ^ chunk).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    m ^ (m >> 32)
}

pub(crate) const fn finish(hash: u64, len: usize) -> u32 {
    mix(hash, len as u64) as u32
}

/// Slots of a [`WordTable`]: a power of two, at most a third full for the
/// tables here so a miss (most words) usually ends at the first empty slot.
const SLOTS: usize = 1024;

/// A hash table from words to `u32` values, built at compile time (no set-up
/// in a fresh plugin instance) by linear probing. Lookups take the word's
/// [`word_hash`] and a check that the entry found really is the word.
pub struct WordTable {
    hashes: [u32; SLOTS],
    values: [u32; SLOTS],
}

impl WordTable {
    const EMPTY: u32 = u32::MAX;

    pub const fn new() -> Self {
        WordTable {
            hashes: [0; SLOTS],
            values: [Self::EMPTY; SLOTS],
        }
    }

    /// Adds `value` under `hash`; the caller adds each word once.
    pub const fn insert(&mut self, hash: u32, value: u32) {
        let mut slot = hash as usize % SLOTS;
        while self.values[slot] != Self::EMPTY {
            slot = (slot + 1) % SLOTS;
        }
        self.hashes[slot] = hash;
        self.values[slot] = value;
    }

    /// The value stored for the word with `hash` that `is_word` accepts.
    pub fn get(&self, hash: u32, is_word: impl Fn(u32) -> bool) -> Option<u32> {
        let mut slot = hash as usize % SLOTS;
        loop {
            let value = self.values[slot];
            if value == Self::EMPTY {
                return None;
            }
            if self.hashes[slot] == hash && is_word(value) {
                return Some(value);
            }
            slot = (slot + 1) % SLOTS;
        }
    }
}

impl Default for WordTable {
    fn default() -> Self {
        Self::new()
    }
}
