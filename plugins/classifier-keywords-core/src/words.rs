//! The analyses' word tables: a hash of a word's bytes and a hash table
//! from words to numbers, both usable at compile time so the tables cost
//! nothing to set up in a fresh plugin instance.

/// The key of the analyses' word tables: the word's bytes mixed in eight at
/// a time (little-endian, zero-padded), then its length. Computed once per
/// token and per model feature; [`const_word_hash`] is the same function for
/// the tables built at compile time.
pub fn word_hash(bytes: &[u8]) -> u32 {
    // Whole eight-byte loads: the byte-at-a-time loop a `const fn` needs
    // costs several times more, and features hash three strings per word.
    let mut chunks = bytes.chunks_exact(8);
    let mut hash = HASH_SEED;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = mix(hash, u64::from_le_bytes(word));
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        hash = mix(hash, load_short(tail));
    }
    finish(hash, bytes.len())
}

/// [`word_hash`] of `prefix` followed by `bytes` (a feature's kind and its
/// words), without joining them: after the first chunk, every chunk is a
/// plain load from `bytes`.
pub fn word_hash_after(prefix: &[u8], bytes: &[u8]) -> u32 {
    let p = prefix.len();
    if p == 0 || p >= 8 {
        let mut stream = HashStream::new();
        stream.push(prefix);
        stream.push(bytes);
        return stream.finish();
    }
    let head = (8 - p).min(bytes.len());
    let (first, mut rest) = bytes.split_at(head);
    let mut hash = mix(HASH_SEED, load_upto(prefix) | load_upto(first) << (8 * p));
    while let Some((chunk, after)) = rest.split_first_chunk::<8>() {
        hash = mix(hash, u64::from_le_bytes(*chunk));
        rest = after;
    }
    if !rest.is_empty() {
        hash = mix(hash, load_short(rest));
    }
    finish(hash, p + bytes.len())
}

/// Up to eight bytes as a little-endian `u64`, zero-padded.
fn load_upto(bytes: &[u8]) -> u64 {
    match <[u8; 8]>::try_from(bytes) {
        Ok(whole) => u64::from_le_bytes(whole),
        Err(_) => load_short(bytes),
    }
}

/// [`word_hash`] of bytes given in pieces (a feature's kind and words),
/// without copying them into one string first.
pub struct HashStream {
    hash: u64,
    /// Bytes not yet mixed in, little-endian: `fill` of them.
    chunk: u64,
    fill: usize,
    len: usize,
}

impl HashStream {
    pub fn new() -> Self {
        HashStream {
            hash: HASH_SEED,
            chunk: 0,
            fill: 0,
            len: 0,
        }
    }

    /// Appends `bytes`.
    pub fn push(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len();
        while !bytes.is_empty() {
            let take = bytes.len().min(8 - self.fill);
            let (piece, rest) = bytes.split_at(take);
            let value = load_upto(piece);
            // `fill` is below eight here, so the shift is too.
            self.chunk |= value << (8 * self.fill);
            self.fill += take;
            if self.fill == 8 {
                self.hash = mix(self.hash, self.chunk);
                self.chunk = 0;
                self.fill = 0;
            }
            bytes = rest;
        }
    }

    /// The hash of everything pushed: what [`word_hash`] gives for it.
    pub fn finish(self) -> u32 {
        let hash = if self.fill > 0 {
            mix(self.hash, self.chunk)
        } else {
            self.hash
        };
        finish(hash, self.len)
    }
}

impl Default for HashStream {
    fn default() -> Self {
        Self::new()
    }
}

/// One to seven bytes as a little-endian `u64`, zero-padded: two
/// overlapping loads (the overlap ORs a byte with itself) instead of a
/// copy of variable length.
fn load_short(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    let byte = |i: usize| u64::from(bytes[i]);
    let four = |i: usize| {
        u64::from(u32::from_le_bytes([
            bytes[i],
            bytes[i + 1],
            bytes[i + 2],
            bytes[i + 3],
        ]))
    };
    match n {
        4..=7 => four(0) | four(n - 4) << (8 * (n - 4)),
        1..=3 => byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1)),
        _ => 0,
    }
}

/// [`word_hash`] at compile time (a `const fn` cannot load a slice as a
/// `u64`).
pub const fn const_word_hash(bytes: &[u8]) -> u32 {
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

/// The phrase's bytes up to its first space.
pub const fn first_word(phrase: &[u8]) -> &[u8] {
    let mut n = 0;
    while n < phrase.len() && phrase[n] != b' ' {
        n += 1;
    }
    phrase.split_at(n).0
}

/// The first words of a phrase table (`(phrase, value)` pairs), each
/// mapped to the index of a phrase it starts: a token that is not in it
/// starts no phrase.
pub const fn first_words<T: Copy>(phrases: &[(&str, T)]) -> WordTable {
    let mut table = WordTable::new();
    let mut i = 0;
    while i < phrases.len() {
        table.insert(
            const_word_hash(first_word(phrases[i].0.as_bytes())),
            i as u32,
        );
        i += 1;
    }
    table
}

pub(crate) const HASH_SEED: u64 = 0x243f_6a88_85a3_08d3;

pub(crate) const fn mix(hash: u64, chunk: u64) -> u64 {
    let m = (hash ^ chunk).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    m ^ (m >> 32)
}

pub(crate) const fn finish(hash: u64, len: usize) -> u32 {
    mix(hash, len as u64) as u32
}

/// Slots of a [`WordTable`] unless it says otherwise: a power of two, at
/// most a third full for the phrase tables so a miss (most words) usually
/// ends at the first empty slot.
const DEFAULT_SLOTS: usize = 1024;

/// A hash table from words to `u32` values, built at compile time (no set-up
/// in a fresh plugin instance) by linear probing. Lookups take the word's
/// [`word_hash`] and a check that the entry found really is the word.
pub struct WordTable<const SLOTS: usize = DEFAULT_SLOTS> {
    hashes: [u32; SLOTS],
    values: [u32; SLOTS],
}

impl<const SLOTS: usize> WordTable<SLOTS> {
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

    /// Like [`WordTable::get`], but of several entries for the same word the
    /// one inserted last (a word list where a later line overrides an
    /// earlier one).
    pub fn get_last(&self, hash: u32, is_word: impl Fn(u32) -> bool) -> Option<u32> {
        let mut slot = hash as usize % SLOTS;
        let mut found = None;
        loop {
            let value = self.values[slot];
            if value == Self::EMPTY {
                return found;
            }
            if self.hashes[slot] == hash && is_word(value) {
                found = Some(value);
            }
            slot = (slot + 1) % SLOTS;
        }
    }
}

impl<const SLOTS: usize> Default for WordTable<SLOTS> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_and_compile_time_hashes_agree() {
        let bytes: Vec<u8> = (0..64u32).map(|i| (i * 37 + 11) as u8).collect();
        for start in 0..8 {
            for end in start..bytes.len() {
                let slice = &bytes[start..end];
                assert_eq!(word_hash(slice), const_word_hash(slice), "{start}..{end}");
                for p in 0..=slice.len().min(9) {
                    let (prefix, rest) = slice.split_at(p);
                    assert_eq!(
                        word_hash_after(prefix, rest),
                        word_hash(slice),
                        "{start}..{end} {p}"
                    );
                }
                // The same bytes in two and three pieces.
                for cut in 0..=slice.len() {
                    let mut stream = HashStream::new();
                    stream.push(&slice[..cut]);
                    stream.push(&slice[cut..cut + (slice.len() - cut) / 2]);
                    stream.push(&slice[cut + (slice.len() - cut) / 2..]);
                    assert_eq!(stream.finish(), word_hash(slice), "{start}..{end} at {cut}");
                }
            }
        }
    }
}
