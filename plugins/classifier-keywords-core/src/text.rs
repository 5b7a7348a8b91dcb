//! Text clean-up shared by the analyses: greetings, tokens and sentences.
//!
//! Everything works on borrowed slices of the input; the only allocation is
//! the lower-cased copy of the words that tokens point into.

use crate::words::{HASH_SEED, finish, mix, word_hash};

/// Whether a line is a salutation such as `Hi John,` or `Dear Sir or Madam,`.
pub fn is_greeting(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    if lower.is_empty() || lower.len() > 60 {
        return false;
    }
    const OPENERS: &[&str] = &[
        "hi",
        "hello",
        "hey",
        "dear",
        "good morning",
        "good afternoon",
        "good evening",
        "greetings",
        "hallo",
        "liebe",
        "lieber",
        "sehr geehrte",
        "bonjour",
        "hola",
        "ciao",
        "beste",
        "geachte",
        "guten tag",
        "guten morgen",
        "moin",
        "salut",
        "buenos días",
        "buenas tardes",
        "estimado",
        "estimada",
        "olá",
        "bom dia",
        "boa tarde",
        "prezado",
        "prezada",
        "goedemorgen",
        "goedemiddag",
        "buongiorno",
        "gentile",
        "egregio",
        "добрый день",
        "доброе утро",
        "добрый вечер",
        "здравствуйте",
        "привет",
        "уважаемый",
        "уважаемая",
    ];
    let starts = OPENERS.iter().any(|o| {
        lower.starts_with(o)
            && lower[o.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
    });
    // "Team," or "Realtime group-": a short address line ending the salutation.
    let addressed = lower.split_whitespace().count() <= 3
        && (lower.ends_with(',') || lower.ends_with('-') || lower.ends_with(':'));
    starts || addressed
}

/// Whether `word` lower-cased (`str::to_lowercase`) is one of `list`
/// (lower-case ASCII words), without a lower-cased copy for ASCII words.
/// A non-ASCII word is copied: the Kelvin sign lower-cases to `k`.
pub fn lower_is_any(word: &str, list: &[&str]) -> bool {
    debug_assert!(
        list.iter()
            .all(|e| e.is_ascii() && !e.bytes().any(|b| b.is_ascii_uppercase())),
        "{list:?}"
    );
    if word.is_ascii() {
        return list.iter().any(|entry| entry.eq_ignore_ascii_case(word));
    }
    let lower = word.to_lowercase();
    list.contains(&lower.as_str())
}

/// Whether `text` lower-cased (`str::to_lowercase`) starts with one of the
/// lower-case `prefixes`, lower-casing no more of it than they need. An
/// ASCII start is compared ignoring ASCII case, without a copy: its
/// characters lower-case to ASCII, so no prefix with other characters
/// there could match anyway.
pub fn lower_starts_with_any(text: &str, prefixes: &[&str]) -> bool {
    let longest = prefixes.iter().map(|p| p.len()).max().unwrap_or(0);
    let head = &text.as_bytes()[..text.len().min(longest)];
    if head.is_ascii() {
        // The first byte rules out most prefixes before a full comparison.
        let first = head.first().map(u8::to_ascii_lowercase);
        return prefixes.iter().any(|p| {
            (p.is_empty() || p.as_bytes().first() == first.as_ref())
                && head
                    .get(..p.len())
                    .is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes()))
        });
    }
    // A prefix's length in bytes bounds its length in characters.
    let start = lowercase_start(text, longest);
    prefixes.iter().any(|p| start.starts_with(p))
}

/// `str::to_lowercase` of the first `chars` characters of `text`: enough
/// to tell whether the whole text lower-cased starts with a phrase of at
/// most `chars` characters (every character lower-cases to one or more,
/// and only a Greek sigma depends on what follows it: both its forms are
/// two bytes, and the phrases asked about have neither).
pub fn lowercase_start(text: &str, chars: usize) -> String {
    let end = text
        .char_indices()
        .nth(chars)
        .map_or(text.len(), |(at, _)| at);
    text[..end].to_lowercase()
}

/// One word of the text: its lower-cased form and whether the original was
/// written in capitals (for emphasis).
#[derive(Clone, Copy, Debug)]
pub struct Token<'a> {
    pub word: &'a str,
    pub shouted: bool,
    /// Index of the sentence the token belongs to.
    pub sentence: u32,
    /// [`word_hash`] of `word`, for the analyses' word tables.
    pub hash: u32,
}

/// Where a token's word lies in [`Tokens`]' lower-cased copy.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    end: u32,
    sentence: u32,
    hash: u32,
    shouted: bool,
}

/// Lower-cased copy of the words of `text`, which tokens borrow from.
/// Lower-casing is done per character so byte offsets may differ from the
/// original; tokens are found in the copy, and capitals are checked while
/// copying.
pub struct Tokens {
    lower: String,
    spans: Vec<Span>,
    pub exclamations: u32,
    pub questions: u32,
}

/// A word [`Tokens::new`] has started but not finished: it goes on with an
/// apostrophe or a non-ASCII letter, so it is closed by the general path.
struct OpenWord {
    /// Where it starts in the lower-cased copy.
    start: usize,
    upper: usize,
    letters: usize,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
const BIT_5: u64 = ONES * 0x20;
const BIT_6: u64 = ONES * 0x40;

/// A run of ASCII letters and digits, as [`copy_ascii_run`] read it.
#[derive(Debug, PartialEq)]
struct AsciiRun {
    len: usize,
    letters: usize,
    upper: usize,
    /// [`word_hash`] of the run lower-cased.
    hash: u32,
}

/// Copies the run of ASCII letters and digits that `bytes` starts with to
/// `lower`, lower-cased, counting its letters and capitals and hashing it,
/// eight bytes at a time: no branch per byte, so the end of a word costs no
/// mispredicted jump. In such a run bit 0x20 is clear only in capitals
/// (setting it lower-cases them; digits have it) and bit 0x40 is set only in
/// letters.
fn copy_ascii_run(bytes: &[u8], lower: &mut Vec<u8>) -> AsciiRun {
    let (mut len, mut letters, mut upper, mut hash) = (0, 0, 0, HASH_SEED);
    loop {
        let rest = &bytes[len..];
        let x = match rest.get(..8).and_then(|c| <[u8; 8]>::try_from(c).ok()) {
            Some(chunk) => u64::from_le_bytes(chunk),
            None => {
                // Zero is not a word byte, so the padding ends the run.
                let mut chunk = [0u8; 8];
                chunk[..rest.len()].copy_from_slice(rest);
                u64::from_le_bytes(chunk)
            }
        };
        let n = ((!ascii_word_bytes(x) & HIGH_BITS).trailing_zeros() / 8) as usize;
        if n == 0 {
            break;
        }
        let keep = u64::MAX >> (64 - 8 * n);
        let chunk = (x | BIT_5) & keep;
        // Eight bytes at once (one store, where a shorter copy is a call),
        // then cut back to the run.
        let end = lower.len() + n;
        lower.extend_from_slice(&chunk.to_le_bytes());
        lower.truncate(end);
        letters += (x & keep & BIT_6).count_ones() as usize;
        upper += n - (x & keep & BIT_5).count_ones() as usize;
        hash = mix(hash, chunk);
        len += n;
        if n < 8 {
            break;
        }
    }
    AsciiRun {
        len,
        letters,
        upper,
        hash: finish(hash, len),
    }
}

/// Bit 0x80 set in each byte of `x` that is an ASCII letter or digit.
fn ascii_word_bytes(x: u64) -> u64 {
    // Seven-bit values, so the additions below never carry into the next
    // byte; `v + (0x80 - lo)` has the high bit iff `v >= lo`, and
    // `v + (0x7f - hi)` iff `v > hi`.
    let v = x & !HIGH_BITS;
    let digit = (v + ONES * (0x80 - 0x30)) & !(v + ONES * (0x7f - 0x39));
    let folded = v | BIT_5;
    let letter = (folded + ONES * (0x80 - 0x61)) & !(folded + ONES * (0x7f - 0x7a));
    (digit | letter) & !x & HIGH_BITS
}

/// Shouting needs at least two letters: "I" and "A" are not emphasis.
fn shouted(letters: usize, upper: usize) -> bool {
    letters >= 2 && upper == letters
}

/// Ends the open word, if any.
fn close(lower: &[u8], spans: &mut Vec<Span>, open: &mut Option<OpenWord>, sentence: u32) {
    if let Some(word) = open.take() {
        // A trailing apostrophe ("students'") is not part of the word.
        let mut end = lower.len();
        while end > word.start && lower[end - 1] == b'\'' {
            end -= 1;
        }
        spans.push(Span {
            start: word.start as u32,
            end: end as u32,
            sentence,
            hash: word_hash(&lower[word.start..end]),
            shouted: shouted(word.letters, word.upper),
        });
    }
}

impl Tokens {
    pub fn new(text: &str) -> Self {
        // Bytes, so ASCII runs are copied in bulk; only whole characters are
        // written, so it is UTF-8 at the end.
        let mut lower: Vec<u8> = Vec::with_capacity(text.len());
        let mut spans: Vec<Span> = Vec::with_capacity(text.len() / 5);
        let mut open: Option<OpenWord> = None;
        let (mut sentence, mut exclamations, mut questions) = (0u32, 0u32, 0u32);
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            // ASCII first: it is most of any mail, needs no decoding and its
            // classes are byte tests (the Unicode tables are slow).
            if b.is_ascii_alphanumeric() {
                let from = lower.len();
                let run = copy_ascii_run(&bytes[i..], &mut lower);
                i += run.len;
                let AsciiRun { letters, upper, .. } = run;
                // Most words are just this run, ended by ASCII punctuation or
                // space: finish them here.
                let ends_here = bytes.get(i).is_none_or(|&n| n.is_ascii() && n != b'\'');
                match open.as_mut() {
                    None if ends_here => spans.push(Span {
                        start: from as u32,
                        end: lower.len() as u32,
                        sentence,
                        hash: run.hash,
                        shouted: shouted(letters, upper),
                    }),
                    None => {
                        open = Some(OpenWord {
                            start: from,
                            upper,
                            letters,
                        })
                    }
                    Some(word) => {
                        word.letters += letters;
                        word.upper += upper;
                    }
                }
                continue;
            }
            if b.is_ascii() {
                i += 1;
                if b == b'\'' && open.is_some() {
                    lower.push(b);
                    continue;
                }
                // ASCII punctuation or space: no decoding or Unicode tables.
                if open.is_some() {
                    close(&lower, &mut spans, &mut open, sentence);
                }
                match b {
                    b'!' => {
                        exclamations += 1;
                        sentence += 1;
                    }
                    b'?' => {
                        questions += 1;
                        sentence += 1;
                    }
                    b'.' | b'\n' | b';' => sentence += 1,
                    _ => {}
                }
                continue;
            }
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            // Typographic apostrophes ("don’t") tokenise like ASCII ones.
            let c = if c == '\u{2019}' { '\'' } else { c };
            if c.is_alphanumeric() || (c == '\'' && open.is_some()) {
                let word = open.get_or_insert(OpenWord {
                    start: lower.len(),
                    upper: 0,
                    letters: 0,
                });
                if c.is_alphabetic() {
                    word.letters += 1;
                    word.upper += usize::from(c.is_uppercase());
                }
                let mut buf = [0u8; 4];
                for l in c.to_lowercase() {
                    lower.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
                }
                continue;
            }
            if open.is_some() {
                close(&lower, &mut spans, &mut open, sentence);
            }
            // A non-ASCII separator ('—', a no-break space …) ends no
            // sentence. Nothing reads between the words, so separators are
            // not copied.
        }
        close(&lower, &mut spans, &mut open, sentence);
        // Cannot fail (see above); were it to, the lossy copy would still
        // hold every word.
        let lower = String::from_utf8(lower)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Tokens {
            lower,
            spans,
            exclamations,
            questions,
        }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<Token<'_>> {
        let span = self.spans.get(i)?;
        Some(Token {
            word: self.text(span),
            shouted: span.shouted,
            sentence: span.sentence,
            hash: span.hash,
        })
    }

    fn text(&self, span: &Span) -> &str {
        &self.lower[span.start as usize..span.end as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = Token<'_>> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Whether the words of `phrase` (space-separated, lower case) occur at
    /// position `i`.
    pub fn phrase_at(&self, i: usize, phrase: &str) -> bool {
        // Word by word along the phrase's bytes: no splitting.
        let mut rest = phrase.as_bytes();
        for span in self.spans.get(i..).unwrap_or_default() {
            let word = &self.lower.as_bytes()[span.start as usize..span.end as usize];
            let Some(after) = rest.strip_prefix(word) else {
                return false;
            };
            match after.split_first() {
                None => return true,
                Some((b' ', next)) => rest = next,
                Some(_) => return false,
            }
        }
        false
    }

    /// The lower-case word at `i` (empty past the end).
    pub fn word(&self, i: usize) -> &str {
        self.spans.get(i).map_or("", |span| self.text(span))
    }
}

/// Splits `text` into sentences at `.`, `!`, `?` followed by white space, and
/// at blank lines. Abbreviations are not special-cased: a summary split after
/// "e.g." is still readable.
pub fn sentences(text: &str) -> Vec<&str> {
    Sentences { text, start: 0 }.collect()
}

/// [`sentences`] one at a time, for readers that stop early (the summary).
pub struct Sentences<'a> {
    text: &'a str,
    /// Where the next sentence starts; past the end when done.
    start: usize,
}

impl<'a> Sentences<'a> {
    pub fn new(text: &'a str) -> Self {
        Sentences { text, start: 0 }
    }
}

impl<'a> Iterator for Sentences<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.text.as_bytes();
        while self.start <= bytes.len() {
            let from = self.start;
            let mut i = from;
            let end = loop {
                let Some(at) = next_mark(bytes, i) else {
                    break None;
                };
                i = at;
                if bytes[i] != b'\n' {
                    if bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()) {
                        break Some(i + 1);
                    }
                } else if bytes.get(i + 1) == Some(&b'\n') {
                    break Some(i);
                }
                i += 1;
            };
            // The last piece runs to the end of the text.
            let (piece, next) = match end {
                Some(end) => (&self.text[from..end], i + 1),
                None => (&self.text[from..], bytes.len() + 1),
            };
            self.start = next;
            let piece = piece.trim();
            if !piece.is_empty() {
                return Some(piece);
            }
        }
        None
    }
}

/// The first `.`, `!`, `?` or line break at or after `from`: where a
/// sentence may end. Eight bytes at a time (most bytes are none of them).
fn next_mark(bytes: &[u8], from: usize) -> Option<usize> {
    // Bit 0x80 of each zero byte of `v`; a false hit can only follow a true
    // one, so the lowest bit set is exact.
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v & HIGH_BITS;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        let x = u64::from_le_bytes(*chunk);
        let marks = zero_bytes(x ^ (ONES * u64::from(b'.')))
            | zero_bytes(x ^ (ONES * u64::from(b'!')))
            | zero_bytes(x ^ (ONES * u64::from(b'?')))
            | zero_bytes(x ^ (ONES * u64::from(b'\n')));
        if marks != 0 {
            return Some(i + (marks.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let tail = bytes.get(i..)?;
    tail.iter()
        .position(|b| matches!(b, b'.' | b'!' | b'?' | b'\n'))
        .map(|k| i + k)
}

/// Collapses runs of white space to single spaces.
pub fn squash_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_lower_case_and_emphasis() {
        let t = Tokens::new("This is GREAT! Isn't it?");
        let words: Vec<_> = t.iter().map(|t| t.word).collect();
        assert_eq!(words, ["this", "is", "great", "isn't", "it"]);
        assert!(t.get(2).unwrap().shouted);
        assert!(!t.get(0).unwrap().shouted);
        assert_eq!((t.exclamations, t.questions), (1, 1));
        assert_eq!(t.get(3).unwrap().sentence, 1);
        assert!(t.phrase_at(3, "isn't it"));
    }

    fn run_of(bytes: &[u8]) -> (AsciiRun, Vec<u8>) {
        let mut lower = Vec::new();
        (copy_ascii_run(bytes, &mut lower), lower)
    }

    #[test]
    fn ascii_runs_end_at_the_first_other_byte() {
        // Every byte value, at every position of a chunk and of the tail.
        for b in 0..=255u8 {
            for at in 0..20 {
                let mut bytes = vec![b'a'; 20];
                bytes[at] = b;
                let expected = if b.is_ascii_alphanumeric() { 20 } else { at };
                assert_eq!(run_of(&bytes).0.len, expected, "byte {b:#x} at {at}");
            }
        }
        assert_eq!(run_of(b"").0.len, 0);
    }

    #[test]
    fn ascii_runs_are_lower_cased_counted_and_hashed_like_words() {
        let text = "Hello2World, HELLO hi I x12 ABCDEFGH abcdefgh ABCDEFGHIJKLMNOPQRSTUVWXYZ \
                    0123456789012345 Mixed9Case8And7Digits";
        for word in text.split([' ', ',']).filter(|w| !w.is_empty()) {
            let (run, lower) = run_of(format!("{word}.").as_bytes());
            let expected = word.to_ascii_lowercase();
            assert_eq!(lower, expected.as_bytes());
            assert_eq!(
                run,
                AsciiRun {
                    len: word.len(),
                    letters: word.chars().filter(char::is_ascii_alphabetic).count(),
                    upper: word.chars().filter(char::is_ascii_uppercase).count(),
                    hash: word_hash(expected.as_bytes()),
                },
                "{word}"
            );
        }
    }

    #[test]
    fn splits_sentences() {
        assert_eq!(
            sentences("One. Two!  Three?\n\nFour 3.5 five"),
            ["One.", "Two!", "Three?", "Four 3.5 five"]
        );
    }

    #[test]
    fn lower_case_helpers_agree_with_to_lowercase() {
        let list = ["tel", "e-mail", "k"];
        for word in [
            "TEL", "Tel", "tel", "E-Mail", "\u{212a}", "K", "İX", "telefon", "",
        ] {
            let expected = list.contains(&word.to_lowercase().as_str());
            assert_eq!(lower_is_any(word, &list), expected, "{word}");
        }
        let prefixes = ["hello w", "istanbul", "i̇stanbul ο", "ab", "данное", "ça"];
        for text in [
            "Hello World",
            "İSTANBUL ΟΔΟΣ x",
            "ISTANBUL",
            "ab",
            "",
            "ДАННОЕ сообщение",
            "ÇA va",
            "Ça",
        ] {
            let full = text.to_lowercase();
            for p in prefixes {
                assert_eq!(
                    lower_starts_with_any(text, &[p]),
                    full.starts_with(p),
                    "{text:?} {p:?}"
                );
            }
        }
        for text in ["Hello World", "İSTANBUL ΟΔΟΣ x", "ab", ""] {
            let full = text.to_lowercase();
            for chars in 0..12 {
                let start = lowercase_start(text, chars);
                let n = start.chars().count().min(chars);
                let cut: String = full.chars().take(n).collect();
                assert!(start.starts_with(&cut), "{text:?} {chars}");
            }
        }
    }

    #[test]
    fn greetings() {
        assert!(is_greeting("Hi John,"));
        assert!(is_greeting("Dear Sir or Madam,"));
        assert!(is_greeting("Realtime group-"));
        assert!(!is_greeting("History of the project is long."));
        assert!(!is_greeting("Hint: use the form"));
    }
}
