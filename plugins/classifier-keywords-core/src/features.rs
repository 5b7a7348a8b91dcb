//! The features the learned request model reads from one sentence, hashed
//! into [`BUCKETS`] slots: lower-case words, word pairs (with a start
//! mark), the first one and two words, and cues (`?` at the end, "please",
//! "you", length). The trainer (`zia-eval`'s `train-intent`) and the plugin
//! call the same function, so training and use cannot drift apart.

use crate::words::word_hash;

/// Number of hash slots (a power of two).
pub const BUCKETS: usize = 1 << 15;

/// The slots the sentence's features fall in (with repeats: a feature
/// seen twice counts twice).
pub fn sentence_features(sentence: &str) -> Vec<u32> {
    let lower = sentence.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::with_capacity(words.len() * 2 + 8);
    let mut buf = String::with_capacity(64);
    let mut push = |kind: &str, parts: &[&str], out: &mut Vec<u32>| {
        buf.clear();
        buf.push_str(kind);
        for (k, p) in parts.iter().enumerate() {
            if k > 0 {
                buf.push(' ');
            }
            buf.push_str(p);
        }
        out.push(word_hash(buf.as_bytes()) % BUCKETS as u32);
    };
    push("bias", &[], &mut out);
    let mut prev = "<s>";
    for w in &words {
        // Numbers differ in every mail; their shape is what counts.
        let w = if w.bytes().all(|b| b.is_ascii_digit()) {
            "<num>"
        } else {
            w
        };
        push("w:", &[w], &mut out);
        push("b:", &[prev, w], &mut out);
        prev = w;
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
    let length = (words.len() / 5).min(6).to_string();
    push("len:", &[&length], &mut out);
    out
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
}
