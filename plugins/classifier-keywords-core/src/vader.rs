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

const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
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

/// The first column of the line at `offset`, and what follows its tab.
fn line_at(text: &str, offset: u32) -> (&str, &str) {
    let line = text[offset as usize..].split('\n').next().unwrap_or("");
    line.split_once('\t').unwrap_or((line, ""))
}

/// The lexicon valence of a lower-case word (as in the file: the last line
/// for a word wins, as in the original's dict).
pub fn valence(word: &str) -> Option<f64> {
    let offset = LEXICON.get_last(word_hash(word.as_bytes()), |o| {
        line_at(LEXICON_TEXT, o).0 == word
    })?;
    let measure = line_at(LEXICON_TEXT, offset).1.split('\t').next()?;
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
fn booster(word: &str) -> Option<f64> {
    match word {
        "absolutely" | "amazingly" | "awfully" | "completely" | "considerable" | "considerably"
        | "decidedly" | "deeply" | "effing" | "enormous" | "enormously" | "entirely"
        | "especially" | "exceptional" | "exceptionally" | "extreme" | "extremely"
        | "fabulously" | "flipping" | "flippin" | "frackin" | "fracking" | "fricking"
        | "frickin" | "frigging" | "friggin" | "fully" | "fuckin" | "fucking" | "fuggin"
        | "fugging" | "greatly" | "hella" | "highly" | "hugely" | "incredible" | "incredibly"
        | "intensely" | "major" | "majorly" | "more" | "most" | "particularly" | "purely"
        | "quite" | "really" | "remarkably" | "so" | "substantially" | "thoroughly" | "total"
        | "totally" | "tremendous" | "tremendously" | "uber" | "unbelievably" | "unusually"
        | "utter" | "utterly" | "very" => Some(B_INCR),
        "almost" | "barely" | "hardly" | "just enough" | "kind of" | "kinda" | "kindof"
        | "kind-of" | "less" | "little" | "marginal" | "marginally" | "occasional"
        | "occasionally" | "partly" | "scarce" | "scarcely" | "slight" | "slightly"
        | "somewhat" | "sort of" | "sorta" | "sortof" | "sort-of" => Some(B_DECR),
        _ => None,
    }
}

fn special_case(phrase: &str) -> Option<f64> {
    SPECIAL_CASES
        .iter()
        .find(|(p, _)| *p == phrase)
        .map(|(_, v)| *v)
}

/// Python's `str.isupper`: some cased character, and no lower-case one.
fn is_upper(word: &str) -> bool {
    word.chars().any(char::is_uppercase) && !word.chars().any(char::is_lowercase)
}

fn negated(word: &str) -> bool {
    NEGATE.contains(&word) || word.contains("n't")
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
    text.split_whitespace()
        .map(|token| {
            let stripped = token.trim_matches(is_punctuation);
            if stripped.chars().count() <= 2 {
                token
            } else {
                stripped
            }
        })
        .collect()
}

/// VADER's scores of `text`.
pub fn polarity_scores(text: &str) -> Polarity {
    let text = replace_emojis(text);
    let text = text.trim();
    let words = words_and_emoticons(text);
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let sentiments = valences(&words, &lower);
    let sentiments = but_check(&lower, sentiments);
    score_valence(&sentiments, text)
}

/// One valence per token, before the "but" rule.
pub(crate) fn valences(words: &[&str], lower: &[String]) -> Vec<f64> {
    let capitals = words.iter().filter(|w| is_upper(w)).count();
    let is_cap_diff = capitals > 0 && capitals < words.len();
    // Each word is looked up once; the rules ask about neighbours often.
    let lexicon: Vec<Option<f64>> = lower.iter().map(|w| valence(w)).collect();
    let mut sentiments = Vec::with_capacity(words.len());
    for i in 0..words.len() {
        let item = lower[i].as_str();
        let kind_of = item == "kind" && lower.get(i + 1).is_some_and(|n| n == "of");
        if booster(item).is_some() || kind_of {
            sentiments.push(0.0);
            continue;
        }
        sentiments.push(sentiment_valence(words, lower, &lexicon, i, is_cap_diff));
    }
    sentiments
}

fn sentiment_valence(
    words: &[&str],
    lower: &[String],
    lexicon: &[Option<f64>],
    i: usize,
    is_cap_diff: bool,
) -> f64 {
    let item = lower[i].as_str();
    let Some(lexicon_valence) = lexicon[i] else {
        return 0.0;
    };
    let in_lexicon = |k: usize| lexicon[k].is_some();
    let mut valence = lexicon_valence;
    let w = |k: usize| lower[k].as_str();
    // "no" before a lexicon word negates it rather than counting itself.
    if item == "no" && i + 1 < words.len() && in_lexicon(i + 1) {
        valence = 0.0;
    }
    if (i > 0 && w(i - 1) == "no")
        || (i > 1 && w(i - 2) == "no")
        || (i > 2 && w(i - 3) == "no" && matches!(w(i - 1), "or" | "nor"))
    {
        valence = lexicon_valence * N_SCALAR;
    }
    if is_upper(words[i]) && is_cap_diff {
        valence += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    for start_i in 0..3 {
        if i > start_i && !in_lexicon(i - (start_i + 1)) {
            let mut s = scalar_inc_dec(
                words[i - (start_i + 1)],
                w(i - (start_i + 1)),
                valence,
                is_cap_diff,
            );
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
    least_check(valence, lower, lexicon, i)
}

fn scalar_inc_dec(word: &str, lower: &str, valence: f64, is_cap_diff: bool) -> f64 {
    let Some(mut scalar) = booster(lower) else {
        return 0.0;
    };
    if valence < 0.0 {
        scalar = -scalar;
    }
    if is_upper(word) && is_cap_diff {
        scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    scalar
}

fn negation_check(valence: f64, lower: &[String], start_i: usize, i: usize) -> f64 {
    let w = |k: usize| lower[k].as_str();
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

fn special_idioms_check(mut valence: f64, lower: &[String], i: usize) -> f64 {
    let w = |k: usize| lower[k].as_str();
    // Every special case and booster phrase has one of these words: most
    // positions need no phrase built.
    const IDIOM_WORDS: &[&str] = &[
        "the", "bad", "badass", "bus", "yeah", "kiss", "to", "beating", "just", "kind", "sort",
    ];
    let window = &lower[i - 3..(i + 3).min(lower.len())];
    if !window.iter().any(|x| IDIOM_WORDS.contains(&x.as_str())) {
        return valence;
    }
    let onezero = format!("{} {}", w(i - 1), w(i));
    let twoonezero = format!("{} {} {}", w(i - 2), w(i - 1), w(i));
    let twoone = format!("{} {}", w(i - 2), w(i - 1));
    let threetwoone = format!("{} {} {}", w(i - 3), w(i - 2), w(i - 1));
    let threetwo = format!("{} {}", w(i - 3), w(i - 2));
    for seq in [&onezero, &twoonezero, &twoone, &threetwoone, &threetwo] {
        if let Some(v) = special_case(seq) {
            valence = v;
            break;
        }
    }
    if lower.len() - 1 > i
        && let Some(v) = special_case(&format!("{} {}", w(i), w(i + 1)))
    {
        valence = v;
    }
    if lower.len() - 1 > i + 1
        && let Some(v) = special_case(&format!("{} {} {}", w(i), w(i + 1), w(i + 2)))
    {
        valence = v;
    }
    for n_gram in [&threetwoone, &threetwo, &twoone] {
        if let Some(b) = booster(n_gram) {
            valence += b;
        }
    }
    valence
}

fn least_check(valence: f64, lower: &[String], lexicon: &[Option<f64>], i: usize) -> f64 {
    let w = |k: usize| lower[k].as_str();
    let in_lexicon = |k: usize| lexicon[k].is_some();
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
pub(crate) fn but_check(lower: &[String], mut sentiments: Vec<f64>) -> Vec<f64> {
    let Some(bi) = lower.iter().position(|w| w == "but") else {
        return sentiments;
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
    sentiments
}

/// `!` (up to four) and `?` (two or more) strengthen whatever the text says.
pub(crate) fn punctuation_emphasis(text: &str) -> f64 {
    let ep = text.matches('!').count().min(4) as f64 * 0.292;
    let qm = match text.matches('?').count() {
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

    /// The port gives what the Python original gives (to its rounding) on
    /// sentences that exercise every rule; `tests/data/sentiment/
    /// make_vader_parity.py` wrote the expected values.
    #[test]
    fn same_scores_as_the_original() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/sentiment/vader-parity.tsv"
        );
        let tsv = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
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
