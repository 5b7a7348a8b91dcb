//! Text clean-up shared by the analyses: reply cut-off, quoted lines,
//! greetings, tokens and sentences.
//!
//! Everything works on borrowed slices of the input; the only allocation is
//! the lower-cased copy the tokens point into.

/// The part of a body written by the sender: everything before the quoted
/// message a reply carries (`On … wrote:`, `-----Original Message-----`, an
/// Outlook `From:` block), without `>`-quoted lines.
pub fn own_lines(body: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    for line in body.lines() {
        let trimmed = line.trim();
        if is_reply_header(trimmed) && lines.iter().any(|l: &&str| !l.trim().is_empty()) {
            break;
        }
        if trimmed.starts_with('>') {
            continue;
        }
        lines.push(line.trim_end());
    }
    lines
}

fn is_reply_header(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.starts_with("-----original message")
        || lower.starts_with("----- original message")
        || lower.starts_with("-----ursprüngliche nachricht")
        || lower.starts_with("________________________________")
        || lower.starts_with("----- forwarded by")
        || (lower.starts_with("on ") && lower.ends_with("wrote:"))
        || (lower.starts_with("am ") && lower.ends_with("schrieb:"))
        || (lower.starts_with("le ")
            && (lower.ends_with("a écrit :") || lower.ends_with("a écrit:")))
        || (lower.starts_with("el ") && lower.ends_with("escribió:"))
        || (lower.starts_with("from:") && lower.contains('@'))
}

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

/// One word of the text: its lower-cased form and whether the original was
/// written in capitals (for emphasis).
#[derive(Clone, Copy, Debug)]
pub struct Token<'a> {
    pub word: &'a str,
    pub shouted: bool,
    /// Index of the sentence the token belongs to.
    pub sentence: u32,
}

/// Lower-cased copy of `text` that tokens borrow from. Lower-casing is done
/// per character so byte offsets may differ from the original; tokens are
/// found in the copy, and capitals are checked while copying.
pub struct Tokens {
    lower: String,
    spans: Vec<(u32, u32, bool, u32)>,
    pub exclamations: u32,
    pub questions: u32,
}

impl Tokens {
    pub fn new(text: &str) -> Self {
        let mut lower = String::with_capacity(text.len());
        let mut spans = Vec::with_capacity(text.len() / 5);
        let (mut start, mut upper, mut letters) = (None::<usize>, 0usize, 0usize);
        let (mut sentence, mut exclamations, mut questions) = (0u32, 0u32, 0u32);
        let mut close = |lower: &str,
                         start: &mut Option<usize>,
                         upper: &mut usize,
                         letters: &mut usize,
                         sentence: u32| {
            if let Some(s) = start.take() {
                // Shouting needs at least two letters: "I" and "A" are not emphasis.
                let shouted = *letters >= 2 && *upper == *letters;
                // A trailing apostrophe ("students'") is not part of the word.
                let end = s + lower[s..].trim_end_matches('\'').len();
                spans.push((s as u32, end as u32, shouted, sentence));
            }
            *upper = 0;
            *letters = 0;
        };
        for c in text.chars() {
            // Typographic apostrophes ("don’t") tokenise like ASCII ones.
            let c = if c == '\u{2019}' { '\'' } else { c };
            // ASCII first: it is most of any mail and the Unicode tables are slow.
            let (alphanumeric, alphabetic, uppercase) = if c.is_ascii() {
                (
                    c.is_ascii_alphanumeric(),
                    c.is_ascii_alphabetic(),
                    c.is_ascii_uppercase(),
                )
            } else {
                (c.is_alphanumeric(), c.is_alphabetic(), c.is_uppercase())
            };
            if alphanumeric || (c == '\'' && start.is_some()) {
                if start.is_none() {
                    start = Some(lower.len());
                }
                if alphabetic {
                    letters += 1;
                    upper += usize::from(uppercase);
                }
                if c.is_ascii() {
                    lower.push(c.to_ascii_lowercase());
                } else {
                    lower.extend(c.to_lowercase());
                }
                continue;
            }
            close(&lower, &mut start, &mut upper, &mut letters, sentence);
            match c {
                '!' => {
                    exclamations += 1;
                    sentence += 1;
                }
                '?' => {
                    questions += 1;
                    sentence += 1;
                }
                '.' | '\n' | ';' => sentence += 1,
                _ => {}
            }
            lower.push(' ');
        }
        close(&lower, &mut start, &mut upper, &mut letters, sentence);
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
        let &(s, e, shouted, sentence) = self.spans.get(i)?;
        let word = &self.lower[s as usize..e as usize];
        Some(Token {
            word,
            shouted,
            sentence,
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = Token<'_>> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Whether the words of `phrase` (space-separated, lower case) occur at
    /// position `i`.
    pub fn phrase_at(&self, i: usize, phrase: &str) -> bool {
        let mut at = i;
        for word in phrase.split(' ') {
            match self.spans.get(at) {
                Some(&(s, e, _, _)) if &self.lower[s as usize..e as usize] == word => at += 1,
                _ => return false,
            }
        }
        true
    }

    /// The lower-case word at `i` (empty past the end).
    pub fn word(&self, i: usize) -> &str {
        self.spans
            .get(i)
            .map_or("", |&(s, e, _, _)| &self.lower[s as usize..e as usize])
    }
}

/// Splits `text` into sentences at `.`, `!`, `?` followed by white space, and
/// at blank lines. Abbreviations are not special-cased: a summary split after
/// "e.g." is still readable.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let end_mark = matches!(b, b'.' | b'!' | b'?')
            && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace());
        let paragraph = b == b'\n' && bytes.get(i + 1) == Some(&b'\n');
        if end_mark || paragraph {
            let end = if end_mark { i + 1 } else { i };
            let s = text[start..end].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = i + 1;
        }
        i += 1;
    }
    let rest = text[start.min(text.len())..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// For a table sorted by its `.0` string: `index[b]..index[b + 1]` are the
/// entries whose first byte is `b`. Computed at compile time, so lookups in a
/// fresh plugin instance cost no set-up.
#[macro_export]
#[doc(hidden)]
macro_rules! first_byte_index {
    ($table:expr) => {{
        let table = $table;
        let mut index = [0u16; 257];
        let (mut byte, mut i) = (0usize, 0usize);
        while byte < 257 {
            while i < table.len() && (table[i].0.as_bytes()[0] as usize) < byte {
                i += 1;
            }
            index[byte] = i as u16;
            byte += 1;
        }
        index
    }};
}

/// The entries of a [`first_byte_index!`]-indexed table that start like `word`.
pub fn bucket(index: &[u16; 257], word: &str) -> std::ops::Range<usize> {
    match word.as_bytes().first() {
        Some(&b) => index[b as usize] as usize..index[b as usize + 1] as usize,
        None => 0..0,
    }
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
    fn cuts_quoted_reply() {
        let body = "Sounds good.\n\nOn Mon, 3 Jun 2024, Ann <a@x.org> wrote:\n> old text\n";
        assert_eq!(own_lines(body), vec!["Sounds good.", ""]);
    }

    #[test]
    fn drops_quote_marks_inline() {
        assert_eq!(own_lines("> a\nb\n> c"), vec!["b"]);
    }

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

    #[test]
    fn splits_sentences() {
        assert_eq!(
            sentences("One. Two!  Three?\n\nFour 3.5 five"),
            ["One.", "Two!", "Three?", "Four 3.5 five"]
        );
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
