//! VADER (Hutto & Gilbert, 2014), ported rule for rule from the
//! `vaderSentiment` 3.3.2 package (MIT): its full lexicon and emoji table
//! (`data/vader/`, embedded with `include_str!` and indexed at compile
//! time), negation, "no", "least", the contrastive "but", boosters and
//! dampeners, capitals, `!`/`?` emphasis, emoticons, emojis and its special
//! idioms. [`polarity_scores`] gives what the Python `polarity_scores` gives,
//! quirks included (the "but" rule rescales the first score equal to each
//! one, as the original's `list.index` does), so the evaluation can put
//! VADER itself next to Mailroom's sentiment ([`crate::sentiment`]), which
//! builds on it.

use crate::words::{WordTable, const_word_hash, word_hash};

/// The lexicon file: `word TAB mean TAB sd TAB ratings`, one per line.
const LEXICON_TEXT: &str = include_str!("../data/vader/vader_lexicon.txt");
/// Emoji (one code point) TAB description, one per line.
const EMOJI_TEXT: &str = include_str!("../data/vader/emoji_utf8_lexicon.txt");

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

const NEGATE: &[(&str, ())] = &[
    ("aint", ()),
    ("arent", ()),
    ("cannot", ()),
    ("cant", ()),
    ("couldnt", ()),
    ("darent", ()),
    ("didnt", ()),
    ("doesnt", ()),
    ("ain't", ()),
    ("aren't", ()),
    ("can't", ()),
    ("couldn't", ()),
    ("daren't", ()),
    ("didn't", ()),
    ("doesn't", ()),
    ("dont", ()),
    ("hadnt", ()),
    ("hasnt", ()),
    ("havent", ()),
    ("isnt", ()),
    ("mightnt", ()),
    ("mustnt", ()),
    ("neither", ()),
    ("don't", ()),
    ("hadn't", ()),
    ("hasn't", ()),
    ("haven't", ()),
    ("isn't", ()),
    ("mightn't", ()),
    ("mustn't", ()),
    ("neednt", ()),
    ("needn't", ()),
    ("never", ()),
    ("none", ()),
    ("nope", ()),
    ("nor", ()),
    ("not", ()),
    ("nothing", ()),
    ("nowhere", ()),
    ("oughtnt", ()),
    ("shant", ()),
    ("shouldnt", ()),
    ("uhuh", ()),
    ("wasnt", ()),
    ("werent", ()),
    ("oughtn't", ()),
    ("shan't", ()),
    ("shouldn't", ()),
    ("uh-uh", ()),
    ("wasn't", ()),
    ("weren't", ()),
    ("without", ()),
    ("wont", ()),
    ("wouldnt", ()),
    ("won't", ()),
    ("wouldn't", ()),
    ("rarely", ()),
    ("seldom", ()),
    ("despite", ()),
];

const SPECIAL_CASES: &[(&str, f64)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("bus stop", 0.0),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
    ("beating heart", 3.5),
];

/// VADER's scores: the share of negative, neutral and positive weight and
/// the normalised sum in -1..=1.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Polarity {
    pub neg: f64,
    pub neu: f64,
    pub pos: f64,
    pub compound: f64,
}

/// Negations, boosters and dampeners: looked up for most tokens, so by hash
/// rather than by comparing with each entry.
static NEGATIONS: WordTable<256> = index_entries(NEGATE);
static BOOSTER_WORDS: WordTable<256> = index_entries(BOOSTERS);

/// Word → byte offset of its line in [`LEXICON_TEXT`]. 7,520 lines in
/// 16,384 slots.
static LEXICON: WordTable<16384> = index_lines(LEXICON_TEXT.as_bytes());
/// Emoji → byte offset of its line in [`EMOJI_TEXT`].
static EMOJIS: WordTable<8192> = index_lines(EMOJI_TEXT.as_bytes());

/// Indexes a tab-separated file by its first column, at compile time.
const fn index_lines<const SLOTS: usize>(text: &[u8]) -> WordTable<SLOTS> {
    let mut table = WordTable::new();
    let mut start = 0;
    while start < text.len() {
        let mut tab = start;
        while tab < text.len() && text[tab] != b'\t' && text[tab] != b'\n' {
            tab += 1;
        }
        let (_, rest) = text.split_at(start);
        let (word, _) = rest.split_at(tab - start);
        if !word.is_empty() {
            table.insert(const_word_hash(word), start as u32);
        }
        let mut end = tab;
        while end < text.len() && text[end] != b'\n' {
            end += 1;
        }
        start = end + 1;
    }
    table
}

/// Each entry's whole text → its index, at compile time.
const fn index_entries<T: Copy, const SLOTS: usize>(entries: &[(&str, T)]) -> WordTable<SLOTS> {
    let mut table = WordTable::new();
    let mut i = 0;
    while i < entries.len() {
        table.insert(const_word_hash(entries[i].0.as_bytes()), i as u32);
        i += 1;
    }
    table
}

/// The value of `word` in `entries` indexed by `table` ([`index_entries`]).
fn entry<T: Copy, const SLOTS: usize>(
    table: &WordTable<SLOTS>,
    entries: &[(&str, T)],
    word: &str,
) -> Option<T> {
    entry_hashed(table, entries, word, word_hash(word.as_bytes()))
}

/// [`entry`] of a word whose hash is known.
fn entry_hashed<T: Copy, const SLOTS: usize>(
    table: &WordTable<SLOTS>,
    entries: &[(&str, T)],
    word: &str,
    hash: u32,
) -> Option<T> {
    table
        .get(hash, |k| entries[k as usize].0 == word)
        .map(|k| entries[k as usize].1)
}

/// Whether the first column of the line at `offset` of `text` is `word`:
/// the key runs to the first tab or line end, as [`index_lines`] read it.
fn key_is(text: &str, offset: u32, word: &str) -> bool {
    let rest = &text.as_bytes()[offset as usize..];
    rest.starts_with(word.as_bytes())
        && rest
            .get(word.len())
            .is_none_or(|&b| b == b'\t' || b == b'\n')
}

/// The first column of the line at `offset`, and what follows its tab.
fn line_at(text: &str, offset: u32) -> (&str, &str) {
    let line = text[offset as usize..].split('\n').next().unwrap_or("");
    line.split_once('\t').unwrap_or((line, ""))
}

/// The lexicon valence of a lower-case word (as in the file: the last line
/// for a word wins, as in the original's dict).
pub fn valence(word: &str) -> Option<f64> {
    lexicon_valence(word, word_hash(word.as_bytes()))
}

/// [`valence`] of a word whose hash is known.
fn lexicon_valence(word: &str, hash: u32) -> Option<f64> {
    let offset = LEXICON.get_last(hash, |o| key_is(LEXICON_TEXT, o, word))?;
    // The mean follows the key's tab; only words found get this far.
    let after_key = &LEXICON_TEXT[offset as usize + word.len()..];
    let measure = after_key.strip_prefix('\t')?.split(['\t', '\n']).next()?;
    measure.trim().parse().ok()
}

/// The description VADER reads in place of an emoji.
fn emoji_description(c: char) -> Option<&'static str> {
    let mut buf = [0u8; 4];
    let key = c.encode_utf8(&mut buf);
    let offset = EMOJIS.get_last(word_hash(key.as_bytes()), |o| {
        line_at(EMOJI_TEXT, o).0 == key
    })?;
    Some(line_at(EMOJI_TEXT, offset).1.split('\t').next()?.trim())
}

/// VADER's booster (+) and dampener (-) words and phrases.
const BOOSTERS: &[(&str, f64)] = &[
    ("absolutely", B_INCR),
    ("amazingly", B_INCR),
    ("awfully", B_INCR),
    ("completely", B_INCR),
    ("considerable", B_INCR),
    ("considerably", B_INCR),
    ("decidedly", B_INCR),
    ("deeply", B_INCR),
    ("effing", B_INCR),
    ("enormous", B_INCR),
    ("enormously", B_INCR),
    ("entirely", B_INCR),
    ("especially", B_INCR),
    ("exceptional", B_INCR),
    ("exceptionally", B_INCR),
    ("extreme", B_INCR),
    ("extremely", B_INCR),
    ("fabulously", B_INCR),
    ("flipping", B_INCR),
    ("flippin", B_INCR),
    ("frackin", B_INCR),
    ("fracking", B_INCR),
    ("fricking", B_INCR),
    ("frickin", B_INCR),
    ("frigging", B_INCR),
    ("friggin", B_INCR),
    ("fully", B_INCR),
    ("fuckin", B_INCR),
    ("fucking", B_INCR),
    ("fuggin", B_INCR),
    ("fugging", B_INCR),
    ("greatly", B_INCR),
    ("hella", B_INCR),
    ("highly", B_INCR),
    ("hugely", B_INCR),
    ("incredible", B_INCR),
    ("incredibly", B_INCR),
    ("intensely", B_INCR),
    ("major", B_INCR),
    ("majorly", B_INCR),
    ("more", B_INCR),
    ("most", B_INCR),
    ("particularly", B_INCR),
    ("purely", B_INCR),
    ("quite", B_INCR),
    ("really", B_INCR),
    ("remarkably", B_INCR),
    ("so", B_INCR),
    ("substantially", B_INCR),
    ("thoroughly", B_INCR),
    ("total", B_INCR),
    ("totally", B_INCR),
    ("tremendous", B_INCR),
    ("tremendously", B_INCR),
    ("uber", B_INCR),
    ("unbelievably", B_INCR),
    ("unusually", B_INCR),
    ("utter", B_INCR),
    ("utterly", B_INCR),
    ("very", B_INCR),
    ("almost", B_DECR),
    ("barely", B_DECR),
    ("hardly", B_DECR),
    ("just enough", B_DECR),
    ("kind of", B_DECR),
    ("kinda", B_DECR),
    ("kindof", B_DECR),
    ("kind-of", B_DECR),
    ("less", B_DECR),
    ("little", B_DECR),
    ("marginal", B_DECR),
    ("marginally", B_DECR),
    ("occasional", B_DECR),
    ("occasionally", B_DECR),
    ("partly", B_DECR),
    ("scarce", B_DECR),
    ("scarcely", B_DECR),
    ("slight", B_DECR),
    ("slightly", B_DECR),
    ("somewhat", B_DECR),
    ("sort of", B_DECR),
    ("sorta", B_DECR),
    ("sortof", B_DECR),
    ("sort-of", B_DECR),
];

/// The booster that is the words joined by spaces (the rules' n-grams), without
/// joining them.
fn booster_phrase(words: &[&str]) -> Option<f64> {
    BOOSTERS
        .iter()
        .find(|(p, _)| is_joined(p, words))
        .map(|(_, v)| *v)
}

/// Whether `phrase` is `words` joined by single spaces.
fn is_joined(phrase: &str, words: &[&str]) -> bool {
    let mut rest = phrase.as_bytes();
    for (k, w) in words.iter().enumerate() {
        if k > 0 {
            let Some(after) = rest.strip_prefix(b" ") else {
                return false;
            };
            rest = after;
        }
        let Some(after) = rest.strip_prefix(w.as_bytes()) else {
            return false;
        };
        rest = after;
    }
    rest.is_empty()
}

/// The special case that is `words` joined by spaces.
fn special_case(words: &[&str]) -> Option<f64> {
    SPECIAL_CASES
        .iter()
        .find(|(p, _)| is_joined(p, words))
        .map(|(_, v)| *v)
}

/// Python's `str.isupper`: some cased character, and no lower-case one.
fn is_upper(word: &str) -> bool {
    if word.is_ascii() {
        // Most words: byte tests instead of the Unicode tables.
        let bytes = word.as_bytes();
        return bytes.iter().any(u8::is_ascii_uppercase)
            && !bytes.iter().any(u8::is_ascii_lowercase);
    }
    word.chars().any(char::is_uppercase) && !word.chars().any(char::is_lowercase)
}

fn negated(word: &str) -> bool {
    // A byte window, not `str::contains`: its searcher costs more to set up
    // than these words take to scan.
    entry(&NEGATIONS, NEGATE, word).is_some() || word.as_bytes().windows(3).any(|w| w == b"n't")
}

/// Python's `string.punctuation`.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
}

/// The text with each emoji replaced by its description, as the original
/// does before anything else.
pub(crate) fn replace_emojis(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() || !text.chars().any(|c| emoji_description(c).is_some()) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 32);
    let mut prev_space = true;
    for c in text.chars() {
        match emoji_description(c) {
            Some(description) => {
                if !prev_space {
                    out.push(' ');
                }
                out.push_str(description);
                prev_space = false;
            }
            None => {
                out.push(c);
                prev_space = c == ' ';
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// VADER's tokens: white-space separated, leading and trailing punctuation
/// removed unless that leaves two characters or fewer (an emoticon).
pub(crate) fn words_and_emoticons(text: &str) -> Vec<&str> {
    let mut out = Vec::with_capacity(text.len() / 5);
    words_and_emoticons_into(text, &mut out);
    out
}

/// [`words_and_emoticons`] appended to `out`.
pub(crate) fn words_and_emoticons_into<'t>(text: &'t str, out: &mut Vec<&'t str>) {
    if text.is_ascii() {
        return ascii_words_and_emoticons(text, out);
    }
    out.extend(text.split_whitespace().map(|token| {
        let stripped = token.trim_matches(is_punctuation);
        if stripped.chars().count() <= 2 {
            token
        } else {
            stripped
        }
    }));
}

/// The tokens of `text` ([`words_and_emoticons`]) lower-cased as
/// `str::to_lowercase` does, in `buf`, which the result borrows: one buffer
/// for the sentence instead of a string per word.
pub(crate) fn lower_case<'b>(text: &str, words: &[&str], buf: &'b mut String) -> Vec<&'b str> {
    buf.clear();
    if text.is_ascii() {
        // Lower-casing ASCII keeps every byte in place: lower the text
        // once and read each word at its own offset.
        buf.push_str(text);
        buf.make_ascii_lowercase();
        let base = text.as_ptr() as usize;
        let buf: &'b str = buf;
        return words
            .iter()
            .map(|w| {
                let at = (w.as_ptr() as usize).wrapping_sub(base);
                buf.get(at..at + w.len()).unwrap_or_default()
            })
            .collect();
    }
    buf.reserve(words.iter().map(|w| w.len()).sum());
    let mut ends = Vec::with_capacity(words.len());
    for word in words {
        buf.push_str(&word.to_lowercase());
        ends.push(buf.len());
    }
    let buf: &'b str = buf;
    let mut start = 0;
    ends.into_iter()
        .map(|end| {
            let word = &buf[start..end];
            start = end;
            word
        })
        .collect()
}

/// [`word_hash`] of each word: the lexicon, the boosters and the phrase
/// tables all look words up by it.
pub(crate) fn hashes(lower: &[&str]) -> Vec<u32> {
    lower.iter().map(|w| word_hash(w.as_bytes())).collect()
}

/// [`words_and_emoticons`] of ASCII text by byte tests: the same white
/// space (`char::is_whitespace` in ASCII: space and `\t` to `\r`) and
/// punctuation, and a character is a byte.
fn ascii_words_and_emoticons<'t>(text: &'t str, out: &mut Vec<&'t str>) {
    let is_space = |b: u8| matches!(b, b' ' | b'\t'..=b'\r');
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if is_space(bytes[i]) {
            i += 1;
            continue;
        }
        let mut start = i;
        while i < bytes.len() && !is_space(bytes[i]) {
            i += 1;
        }
        let token = &text[start..i];
        let mut end = i;
        while start < end && bytes[start].is_ascii_punctuation() {
            start += 1;
        }
        while end > start && bytes[end - 1].is_ascii_punctuation() {
            end -= 1;
        }
        out.push(if end - start <= 2 {
            token
        } else {
            &text[start..end]
        });
    }
}

/// VADER's scores of `text`.
pub fn polarity_scores(text: &str) -> Polarity {
    let text = replace_emojis(text);
    let text = text.trim();
    let words = words_and_emoticons(text);
    let mut buf = String::new();
    let lower = lower_case(text, &words, &mut buf);
    let mut sentiments = valences(&words, &lower, &hashes(&lower));
    but_check(&lower, &mut sentiments);
    score_valence(&sentiments, text)
}

/// What the rules ask about each token (often about its neighbours), found
/// once.
#[derive(Clone, Copy)]
pub(crate) struct Facts {
    upper: bool,
    lexicon: Option<f64>,
    booster: Option<f64>,
}

impl Facts {
    fn of(word: &str, lower: &str, hash: u32) -> Self {
        Facts {
            upper: is_upper(word),
            lexicon: lexicon_valence(lower, hash),
            booster: entry_hashed(&BOOSTER_WORDS, BOOSTERS, lower, hash),
        }
    }
}

/// One valence per token, before the "but" rule; `hashes` are the lower
/// case words' ([`hashes`]).
pub(crate) fn valences(words: &[&str], lower: &[&str], hashes: &[u32]) -> Vec<f64> {
    let facts = facts(words, lower, hashes);
    let mut sentiments = Vec::with_capacity(words.len());
    valences_into(lower, &facts, &mut sentiments);
    sentiments
}

/// Each token's [`Facts`]: computed once for a whole text, read per
/// sentence.
pub(crate) fn facts(words: &[&str], lower: &[&str], hashes: &[u32]) -> Vec<Facts> {
    (0..words.len())
        .map(|k| Facts::of(words[k], lower[k], hashes[k]))
        .collect()
}

/// [`valences`] of one sentence whose tokens' facts are known, into
/// `sentiments` (cleared first).
pub(crate) fn valences_into(lower: &[&str], facts: &[Facts], sentiments: &mut Vec<f64>) {
    sentiments.clear();
    let capitals = facts.iter().filter(|f| f.upper).count();
    let is_cap_diff = capitals > 0 && capitals < lower.len();
    for i in 0..lower.len() {
        let item = lower[i];
        let kind_of = item == "kind" && lower.get(i + 1).is_some_and(|n| *n == "of");
        if facts[i].booster.is_some() || kind_of {
            sentiments.push(0.0);
            continue;
        }
        sentiments.push(sentiment_valence(lower, facts, i, is_cap_diff));
    }
}

fn sentiment_valence(lower: &[&str], facts: &[Facts], i: usize, is_cap_diff: bool) -> f64 {
    let item = lower[i];
    let Some(lexicon_valence) = facts[i].lexicon else {
        return 0.0;
    };
    let in_lexicon = |k: usize| facts[k].lexicon.is_some();
    let mut valence = lexicon_valence;
    let w = |k: usize| lower[k];
    // "no" before a lexicon word negates it rather than counting itself.
    if item == "no" && i + 1 < lower.len() && in_lexicon(i + 1) {
        valence = 0.0;
    }
    if (i > 0 && w(i - 1) == "no")
        || (i > 1 && w(i - 2) == "no")
        || (i > 2 && w(i - 3) == "no" && matches!(w(i - 1), "or" | "nor"))
    {
        valence = lexicon_valence * N_SCALAR;
    }
    if facts[i].upper && is_cap_diff {
        valence += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    for start_i in 0..3 {
        if i > start_i && !in_lexicon(i - (start_i + 1)) {
            let mut s = scalar_inc_dec(facts[i - (start_i + 1)], valence, is_cap_diff);
            if start_i == 1 && s != 0.0 {
                s *= 0.95;
            }
            if start_i == 2 && s != 0.0 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, lower, start_i, i);
            if start_i == 2 {
                valence = special_idioms_check(valence, lower, i);
            }
        }
    }
    least_check(valence, lower, facts, i)
}

fn scalar_inc_dec(word: Facts, valence: f64, is_cap_diff: bool) -> f64 {
    let Some(mut scalar) = word.booster else {
        return 0.0;
    };
    if valence < 0.0 {
        scalar = -scalar;
    }
    if word.upper && is_cap_diff {
        scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    scalar
}
fn negation_check(valence: f64, lower: &[&str], start_i: usize, i: usize) -> f64 {
    let w = |k: usize| lower[k];
    match start_i {
        0 if negated(w(i - 1)) => valence * N_SCALAR,
        1 => {
            if w(i - 2) == "never" && matches!(w(i - 1), "so" | "this") {
                valence * 1.25
            } else if w(i - 2) == "without" && w(i - 1) == "doubt" {
                valence
            } else if negated(w(i - 2)) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        2 => {
            if (w(i - 3) == "never" && matches!(w(i - 2), "so" | "this"))
                || matches!(w(i - 1), "so" | "this")
            {
                valence * 1.25
            } else if w(i - 3) == "without" && (w(i - 2) == "doubt" || w(i - 1) == "doubt") {
                valence
            } else if negated(w(i - 3)) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        _ => valence,
    }
}

fn special_idioms_check(mut valence: f64, lower: &[&str], i: usize) -> f64 {
    // Every special case and booster phrase has one of these words: most
    // positions need no phrase built.
    const IDIOM_WORDS: &[&str] = &[
        "the", "bad", "badass", "bus", "yeah", "kiss", "to", "beating", "just", "kind", "sort",
    ];
    let window = &lower[i - 3..(i + 3).min(lower.len())];
    if !window.iter().any(|x| IDIOM_WORDS.contains(x)) {
        return valence;
    }
    // The n-grams as word slices: "two one zero" is `lower[i - 2..=i]`.
    let onezero = &lower[i - 1..=i];
    let twoonezero = &lower[i - 2..=i];
    let twoone = &lower[i - 2..i];
    let threetwoone = &lower[i - 3..i];
    let threetwo = &lower[i - 3..i - 1];
    for seq in [onezero, twoonezero, twoone, threetwoone, threetwo] {
        if let Some(v) = special_case(seq) {
            valence = v;
            break;
        }
    }
    if lower.len() - 1 > i
        && let Some(v) = special_case(&lower[i..i + 2])
    {
        valence = v;
    }
    if lower.len() - 1 > i + 1
        && let Some(v) = special_case(&lower[i..i + 3])
    {
        valence = v;
    }
    for n_gram in [threetwoone, threetwo, twoone] {
        if let Some(b) = booster_phrase(n_gram) {
            valence += b;
        }
    }
    valence
}

fn least_check(valence: f64, lower: &[&str], facts: &[Facts], i: usize) -> f64 {
    let w = |k: usize| lower[k];
    let in_lexicon = |k: usize| facts[k].lexicon.is_some();
    if i > 1 && !in_lexicon(i - 1) && w(i - 1) == "least" {
        if w(i - 2) != "at" && w(i - 2) != "very" {
            return valence * N_SCALAR;
        }
    } else if i > 0 && !in_lexicon(i - 1) && w(i - 1) == "least" {
        return valence * N_SCALAR;
    }
    valence
}

/// The first "but" halves what comes before it and strengthens what comes
/// after by half — applied, as in the original, to the first score equal to
/// each score in turn.
pub(crate) fn but_check(lower: &[&str], sentiments: &mut [f64]) {
    let Some(bi) = lower.iter().position(|w| *w == "but") else {
        return;
    };
    for k in 0..sentiments.len() {
        let v = sentiments[k];
        let si = sentiments.iter().position(|&s| s == v).unwrap_or(k);
        if si < bi {
            sentiments[si] = v * 0.5;
        } else if si > bi {
            sentiments[si] = v * 1.5;
        }
    }
}

/// `!` (up to four) and `?` (two or more) strengthen whatever the text says.
pub(crate) fn punctuation_emphasis(text: &str) -> f64 {
    // Byte counts: both marks are ASCII, so each is one byte.
    let count = |mark: u8| text.bytes().filter(|&b| b == mark).count();
    let ep = count(b'!').min(4) as f64 * 0.292;
    let qm = match count(b'?') {
        0 | 1 => 0.0,
        n @ 2..=3 => n as f64 * 0.18,
        _ => 0.96,
    };
    ep + qm
}

pub(crate) fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

pub(crate) fn score_valence(sentiments: &[f64], text: &str) -> Polarity {
    if sentiments.is_empty() {
        return Polarity::default();
    }
    let mut sum: f64 = sentiments.iter().sum();
    let amplifier = punctuation_emphasis(text);
    if sum > 0.0 {
        sum += amplifier;
    } else if sum < 0.0 {
        sum -= amplifier;
    }
    let compound = normalize(sum);
    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0, 0.0, 0.0);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1.0;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += amplifier;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= amplifier;
    }
    let total = pos_sum + neg_sum.abs() + neu_count;
    Polarity {
        neg: (neg_sum / total).abs(),
        neu: (neu_count / total).abs(),
        pos: (pos_sum / total).abs(),
        compound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_lexicon_is_indexed() {
        let mut lines = 0;
        for line in LEXICON_TEXT.lines().filter(|l| !l.is_empty()) {
            let (word, rest) = line.split_once('\t').unwrap();
            assert!(valence(word).is_some(), "{word}");
            let _ = rest;
            lines += 1;
        }
        assert_eq!(lines, 7520);
        // Duplicates: the last line wins, as in the original's dict.
        assert_eq!(valence("ok"), Some(1.2));
        assert_eq!(valence("beautiful"), Some(2.9));
        assert_eq!(valence("meeting"), None);
        assert_eq!(
            emoji_description('😁'),
            Some("beaming face with smiling eyes")
        );
    }

    #[test]
    fn word_lists_are_indexed_whole() {
        for (k, (word, _)) in NEGATE.iter().enumerate() {
            assert!(negated(word), "{word}");
            assert!(NEGATE[..k].iter().all(|(w, _)| w != word), "{word} twice");
        }
        for (k, (word, value)) in BOOSTERS.iter().enumerate() {
            assert_eq!(
                entry(&BOOSTER_WORDS, BOOSTERS, word),
                Some(*value),
                "{word}"
            );
            assert!(BOOSTERS[..k].iter().all(|(w, _)| w != word), "{word} twice");
        }
        assert_eq!(entry(&BOOSTER_WORDS, BOOSTERS, "kind"), None);
        assert_eq!(booster_phrase(&["kind", "of"]), Some(B_DECR));
        assert_eq!(booster_phrase(&["very"]), Some(B_INCR));
        assert_eq!(booster_phrase(&["very", "good"]), None);
        assert_eq!(special_case(&["the", "bomb"]), Some(3.0));
        assert_eq!(special_case(&["the", "bomb", "x"]), None);
    }

    /// The port gives what the Python original gives (to its rounding) on
    /// sentences that exercise every rule; `tests/data/sentiment/
    /// make_vader_parity.py` wrote the expected values.
    #[test]
    fn same_scores_as_the_original() {
        // At run time: see `manifest_dir` in tests.rs.
        let path = std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("../../tests/data/sentiment/vader-parity.tsv");
        let tsv =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut checked = 0;
        let mut wrong = Vec::new();
        for line in tsv.lines() {
            let cols: Vec<&str> = line.splitn(5, '\t').collect();
            let expected: Vec<f64> = cols[..4].iter().map(|c| c.parse().unwrap()).collect();
            let got = polarity_scores(cols[4]);
            let got = [got.compound, got.neg, got.neu, got.pos];
            let tolerance = [5e-5, 5e-4, 5e-4, 5e-4];
            if (0..4).any(|k| (got[k] - expected[k]).abs() > tolerance[k]) {
                wrong.push(format!("{:?}: got {got:?}, expected {expected:?}", cols[4]));
            }
            checked += 1;
        }
        assert_eq!(checked, 40);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
