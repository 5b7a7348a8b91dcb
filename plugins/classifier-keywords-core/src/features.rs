//! The features the learned request model reads from one sentence, hashed
//! into [`BUCKETS`] slots: lower-case words, word pairs (with a start
//! mark), the first one and two words, and cues (`?` at the end, "please",
//! "you", length). The trainer (`zia-eval`'s `train-intent`) and the plugin
//! call the same function, so training and use cannot drift apart.

use crate::words::{HashStream, word_hash_after};

/// Number of hash slots (a power of two).
pub const BUCKETS: usize = 1 << 15;

/// The slots the sentence's features fall in (with repeats: a feature
/// seen twice counts twice).
pub fn sentence_features(sentence: &str) -> Vec<u32> {
    let lower = lower_case(sentence);
    let words = words_of(&lower);
    let mut out = Vec::with_capacity(words.len() * 2 + 8);
    // A feature is the hash of its kind and its words joined by spaces.
    let push = |kind: &str, parts: &[&str], out: &mut Vec<u32>| {
        let mut hash = HashStream::new();
        hash.push(kind.as_bytes());
        for (k, p) in parts.iter().enumerate() {
            if k > 0 {
                hash.push(b" ");
            }
            hash.push(p.as_bytes());
        }
        out.push(hash.finish() % BUCKETS as u32);
    };
    push("bias", &[], &mut out);
    // "<s>" and the words joined by spaces, numbers as "<num>" (they differ
    // in every mail; their shape is what counts): a word and its pair with
    // the one before are both slices of it, hashed after their kind.
    let mut joined: Vec<u8> = Vec::with_capacity(lower.len() + 8);
    joined.extend_from_slice(b"<s>");
    let mut prev_start = 0;
    for w in &words {
        let w = if w.bytes().all(|b| b.is_ascii_digit()) {
            "<num>"
        } else {
            w
        };
        joined.push(b' ');
        let start = joined.len();
        joined.extend_from_slice(w.as_bytes());
        out.push(word_hash_after(b"w:", &joined[start..]) % BUCKETS as u32);
        out.push(word_hash_after(b"b:", &joined[prev_start..]) % BUCKETS as u32);
        prev_start = start;
    }
    if let Some(first) = words.first() {
        push("f:", &[first], &mut out);
        if let Some(second) = words.get(1) {
            push("f2:", &[first, second], &mut out);
        }
    }
    let trimmed = sentence.trim_end();
    if trimmed.ends_with('?') {
        push("cue:ends?", &[], &mut out);
    } else if trimmed.contains('?') {
        push("cue:has?", &[], &mut out);
    }
    if trimmed.ends_with('!') {
        push("cue:ends!", &[], &mut out);
    }
    if words
        .iter()
        .any(|w| *w == "please" || *w == "pls" || *w == "kindly")
    {
        push("cue:please", &[], &mut out);
    }
    if words.iter().any(|w| *w == "you" || *w == "your") {
        push("cue:you", &[], &mut out);
    }
    // Five words a step, capped at six: one digit, no number formatting.
    const LENGTHS: [&str; 7] = ["0", "1", "2", "3", "4", "5", "6"];
    push("len:", &[LENGTHS[(words.len() / 5).min(6)]], &mut out);
    out
}

/// `str::to_lowercase`, without the Unicode tables for ASCII text (most
/// sentences).
fn lower_case(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    }
}

/// The words: runs of letters, digits and apostrophes, apostrophes trimmed
/// from their ends, empty ones dropped.
fn words_of(lower: &str) -> Vec<&str> {
    fn trim(w: &str) -> &str {
        // Bytes: an apostrophe is one byte and never inside another
        // character.
        let bytes = w.as_bytes();
        let start = bytes
            .iter()
            .position(|&b| b != b'\'')
            .unwrap_or(bytes.len());
        let end = bytes
            .iter()
            .rposition(|&b| b != b'\'')
            .map_or(start, |k| k + 1);
        w.get(start..end).unwrap_or_default()
    }
    if !lower.is_ascii() {
        return lower
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .map(trim)
            .filter(|w| !w.is_empty())
            .collect();
    }
    // Byte tests find the same runs in ASCII text, without decoding.
    let mut words = Vec::with_capacity(lower.len() / 5);
    let mut start = None;
    for (i, &b) in lower.as_bytes().iter().enumerate() {
        let inside = b.is_ascii_alphanumeric() || b == b'\'';
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push(trim(&lower[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(trim(&lower[s..]));
    }
    words.retain(|w| !w.is_empty());
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_same_features_and_case_does_not_matter() {
        let a = sentence_features("Could you send the report?");
        assert_eq!(a, sentence_features("COULD YOU SEND THE REPORT?"));
        assert!(a.iter().all(|&b| (b as usize) < BUCKETS));
        // bias, 5 words and 5 pairs, first, first two, `?`, `you`, length.
        assert_eq!(a.len(), 1 + 5 + 5 + 2 + 1 + 1 + 1);
    }

    #[test]
    fn ascii_words_split_as_unicode_words_do() {
        for text in [
            "Don't 'quote' me -- it's 3.5 o'clock, ok?'",
            "''' a''b '' x' 'y",
            "plain words only",
            "",
            "  tabs\tand\nlines! 42 ",
        ] {
            let unicode: Vec<&str> = text
                .split(|c: char| !(c.is_alphanumeric() || c == '\''))
                .map(|w| w.trim_matches('\''))
                .filter(|w| !w.is_empty())
                .collect();
            assert_eq!(words_of(text), unicode, "{text:?}");
        }
    }
}
