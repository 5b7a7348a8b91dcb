//! Mailroom's sentiment: VADER ([`crate::vader`], full lexicon and rules)
//! sentence by sentence over the sender's own text, as VADER's authors
//! advise for longer text, with what business mail needs on top:
//! - politeness is not positivity: "please", "kindly", "dear", "thanks in
//!   advance", "thank you for your email", "kind regards", "hope you are
//!   well" carry no sentiment (VADER scores "please" +1.3 and "kind" +2.4,
//!   which makes every polite request positive);
//! - complaint cues VADER's lexicon has no word for ("still waiting",
//!   "never arrived", "charged twice", "not working") count as negative.
//!
//! Each result carries the words that weighed most, for `reasons`.

use crate::text::Sentences;
use crate::vader;
use crate::words::{WordTable, first_word, first_words, word_hash};

/// Positive, negative or neutral, with the compound score in -1.0..=1.0.
#[derive(Clone, Debug, PartialEq)]
pub struct Sentiment {
    pub label: &'static str,
    /// Confidence in the label, 0.0..=1.0.
    pub score: f32,
    /// Signed strength, -1.0..=1.0.
    pub compound: f32,
    /// What weighed most for the label, strongest first (at most three).
    pub evidence: Vec<Cue>,
}

/// One feature that moved the score: `lexicon:WORD` or `cue:PHRASE`, the
/// sentence it is in and its valence (VADER's scale, about -4..=4).
#[derive(Clone, Debug, PartialEq)]
pub struct Cue {
    pub feature: String,
    pub sentence: String,
    pub weight: f32,
}

/// |compound| below this is neutral (VADER's own threshold).
const NEUTRAL_BAND: f64 = 0.05;
/// The valence of a complaint cue: as strong as "disappointed" (-2.2).
const COMPLAINT_CUE: f64 = -2.2;

/// Phrases VADER's lexicon has no negative word for, but which say
/// something went wrong. Lower case, VADER's tokens; the number is that of
/// [`PhraseWords::hits`] (all the phrase's words).
const COMPLAINT_CUES: &[(&str, usize)] = &[
    ("still waiting", usize::MAX),
    ("still not", usize::MAX),
    ("still haven't", usize::MAX),
    ("still hasn't", usize::MAX),
    ("never arrived", usize::MAX),
    ("never received", usize::MAX),
    ("never got", usize::MAX),
    ("not received", usize::MAX),
    ("haven't received", usize::MAX),
    ("hasn't arrived", usize::MAX),
    ("has not arrived", usize::MAX),
    ("not arrived", usize::MAX),
    ("not yet arrived", usize::MAX),
    ("charged twice", usize::MAX),
    ("double charged", usize::MAX),
    ("no response", usize::MAX),
    ("no reply", usize::MAX),
    ("no answer", usize::MAX),
    ("not working", usize::MAX),
    ("doesn't work", usize::MAX),
    ("does not work", usize::MAX),
    ("stopped working", usize::MAX),
    ("keeps crashing", usize::MAX),
    ("wrong item", usize::MAX),
    ("money back", usize::MAX),
    ("cancel my", usize::MAX),
    ("on hold for", usize::MAX),
    ("third time", usize::MAX),
    ("once again", usize::MAX),
    ("not been resolved", usize::MAX),
    ("not resolved", usize::MAX),
    ("nobody answered", usize::MAX),
    ("no one answered", usize::MAX),
    ("overcharged", usize::MAX),
    ("out of pocket", usize::MAX),
];

/// Politeness formulas: `(phrase, how many of its first words are
/// neutralised)`; the rest of the phrase only identifies it.
const POLITENESS: &[(&str, usize)] = &[
    ("please", 1),
    ("pls", 1),
    ("plz", 1),
    ("kindly", 1),
    ("dear", 1),
    ("kind regards", 2),
    ("best regards", 2),
    ("warm regards", 2),
    ("warmest regards", 2),
    ("kindest regards", 2),
    ("best wishes", 2),
    ("all the best", 3),
    ("regards", 1),
    ("thanks in advance", 3),
    ("thank you in advance", 4),
    ("thanks for your email", 2),
    ("thanks for your message", 2),
    ("thanks for your reply", 2),
    ("thanks for your note", 2),
    ("thanks for your patience", 2),
    ("thanks for your understanding", 2),
    ("thank you for your email", 3),
    ("thank you for your message", 3),
    ("thank you for your reply", 3),
    ("thank you for your patience", 3),
    ("thank you for your understanding", 3),
    ("thank you for contacting", 3),
    ("thanks for reaching out", 2),
    ("thank you for reaching out", 3),
    ("hope you are well", 4),
    ("hope you're well", 3),
    ("hope you are doing well", 5),
    ("hope you're doing well", 4),
    ("hope all is well", 4),
    ("hope this helps", 3),
    ("hope this finds you well", 5),
    ("i hope you are well", 5),
    ("feel free", 2),
    ("happy to help", 2),
    ("looking forward to hearing", 3),
];

static POLITENESS_STARTS: WordTable = first_words(POLITENESS);
static COMPLAINT_STARTS: WordTable = first_words(COMPLAINT_CUES);

/// A feature that fired, named only if it is kept as evidence (most are
/// not): the words it names borrow from the text.
#[derive(Clone, Copy)]
enum Fired<'s> {
    /// A lexicon word, as written (its name is lower case).
    Lexicon(&'s str),
    /// A complaint cue.
    Cue(&'static str),
}

impl Fired<'_> {
    fn name(self) -> String {
        match self {
            Fired::Lexicon(word) => format!("lexicon:{}", word.to_lowercase()),
            Fired::Cue(phrase) => format!("cue:{phrase}"),
        }
    }
}

/// A [`Fired`] feature, its valence and the sentence it is in.
type Found<'s> = (Fired<'s>, f32, &'s str);

/// The sentiment of `text` (the sender's own text, or a subject).
pub fn analyze(text: &str) -> Sentiment {
    let text = vader::replace_emojis(text);
    // Every sentence's tokens at once, so the text is lower-cased, hashed
    // and looked up in one go and nothing is allocated per sentence.
    let mut words: Vec<&str> = Vec::with_capacity(text.len() / 5);
    let mut spans: Vec<(&str, std::ops::Range<usize>)> = Vec::new();
    for sentence in Sentences::new(&text) {
        let from = words.len();
        vader::words_and_emoticons_into(sentence, &mut words);
        spans.push((sentence, from..words.len()));
    }
    let mut lower_buf = String::new();
    let lower = vader::lower_case(&text, &words, &mut lower_buf);
    let hashes = vader::hashes(&lower);
    let facts = vader::facts(&words, &lower, &hashes);
    let phrase_words = PhraseWords::new(&lower, &hashes);
    let mut compounds = Vec::new();
    let mut found: Vec<Found<'_>> = Vec::new();
    let mut scratch = Scratch::default();
    for (sentence, range) in spans {
        // Sentences without sentiment do not dilute those with it: a long
        // factual message with one angry sentence is an angry message.
        if range.is_empty() {
            continue;
        }
        let tokens = Tokens {
            words: &words[range.clone()],
            lower: &lower[range.clone()],
            facts: &facts[range.clone()],
            phrase: phrase_words.part(range),
        };
        let compound = sentence_compound(sentence, &tokens, &mut scratch, &mut found);
        if compound != 0.0 {
            compounds.push(compound);
        }
    }
    let compound = if compounds.is_empty() {
        0.0
    } else {
        compounds.iter().sum::<f64>() / compounds.len() as f64
    };
    let (label, score) = if compound >= NEUTRAL_BAND {
        ("positive", compound)
    } else if compound <= -NEUTRAL_BAND {
        ("negative", -compound)
    } else {
        ("neutral", 1.0 - compound.abs())
    };
    // Evidence for the label: the cues pointing its way, strongest first.
    let sign = compound.signum() as f32;
    found.retain(|&(_, weight, _)| label != "neutral" && weight * sign > 0.0);
    found.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    found.truncate(3);
    let cues = found
        .into_iter()
        .map(|(fired, weight, sentence)| Cue {
            feature: fired.name(),
            sentence: sentence.to_string(),
            weight,
        })
        .collect();
    Sentiment {
        label,
        score: score.clamp(0.0, 1.0) as f32,
        compound: compound as f32,
        evidence: cues,
    }
}

/// One sentence's tokens, as slices of the whole text's.
struct Tokens<'t, 'a> {
    words: &'a [&'t str],
    lower: &'a [&'a str],
    facts: &'a [vader::Facts],
    phrase: PhraseSlice<'a>,
}

/// Buffers reused from sentence to sentence.
#[derive(Default)]
struct Scratch {
    sentiments: Vec<f64>,
    hits: Vec<(usize, usize, &'static str)>,
}

/// The compound score of one sentence (it has words); adds the features
/// that fired to `found`.
fn sentence_compound<'s>(
    sentence: &'s str,
    tokens: &Tokens<'s, '_>,
    scratch: &mut Scratch,
    found: &mut Vec<Found<'s>>,
) -> f64 {
    let Scratch { sentiments, hits } = scratch;
    vader::valences_into(tokens.lower, tokens.facts, sentiments);
    tokens.phrase.hits(POLITENESS, &POLITENESS_STARTS, hits);
    for &(at, len, _) in hits.iter() {
        sentiments[at..at + len].fill(0.0);
    }
    vader::but_check(tokens.lower, sentiments);
    for (k, &v) in sentiments.iter().enumerate() {
        if v != 0.0 {
            found.push((Fired::Lexicon(tokens.words[k]), v as f32, sentence));
        }
    }
    tokens.phrase.hits(COMPLAINT_CUES, &COMPLAINT_STARTS, hits);
    for &(_, _, phrase) in hits.iter() {
        found.push((Fired::Cue(phrase), COMPLAINT_CUE as f32, sentence));
        sentiments.push(COMPLAINT_CUE);
    }
    vader::score_valence(sentiments, sentence).compound
}

/// Words as the phrase tables read them (trailing punctuation such as
/// "regards," dropped), each with its [`word_hash`]: computed once for the
/// whole text and both tables, read a sentence at a time.
struct PhraseWords<'w> {
    words: Vec<&'w str>,
    hashes: Vec<u32>,
}

/// The [`PhraseWords`] of one sentence: a phrase never runs into the next.
struct PhraseSlice<'a> {
    words: &'a [&'a str],
    hashes: &'a [u32],
}

impl<'w> PhraseWords<'w> {
    /// `hashes` are those of the words of `lower`, reused where nothing
    /// was trimmed (most words).
    fn new(lower: &[&'w str], hashes: &[u32]) -> Self {
        let words: Vec<&str> = lower
            .iter()
            .map(|w| w.trim_end_matches(|c: char| c.is_ascii_punctuation()))
            .collect();
        let hashes: Vec<u32> = words
            .iter()
            .zip(lower.iter().zip(hashes))
            .map(|(w, (l, &h))| {
                if w.len() == l.len() {
                    h
                } else {
                    word_hash(w.as_bytes())
                }
            })
            .collect();
        PhraseWords { words, hashes }
    }

    fn part(&self, range: std::ops::Range<usize>) -> PhraseSlice<'_> {
        PhraseSlice {
            words: &self.words[range.clone()],
            hashes: &self.hashes[range],
        }
    }
}

impl PhraseSlice<'_> {
    /// Where each phrase of `table` starts (the first that matches at a
    /// position wins), with its number capped at the phrase's length, and
    /// the phrase, into `hits` (cleared first).
    fn hits(
        &self,
        table: &[(&'static str, usize)],
        starts: &WordTable,
        hits: &mut Vec<(usize, usize, &'static str)>,
    ) {
        hits.clear();
        let words = self.words;
        let mut i = 0;
        while i < words.len() {
            // Most words start no phrase: one table lookup rules them out.
            let word = words[i].as_bytes();
            let starts_one = starts
                .get(self.hashes[i], |k| {
                    first_word(table[k as usize].0.as_bytes()) == word
                })
                .is_some();
            if !starts_one {
                i += 1;
                continue;
            }
            let found = table
                .iter()
                .find_map(|(p, n)| phrase_len_at(words, i, p).map(|len| (len, *n, *p)));
            match found {
                Some((len, n, phrase)) => {
                    hits.push((i, n.min(len), phrase));
                    i += len;
                }
                None => i += 1,
            }
        }
    }
}

/// The number of words of `phrase` if they follow at `i`.
fn phrase_len_at(words: &[&str], i: usize, phrase: &str) -> Option<usize> {
    let mut n = 0;
    for part in phrase.split(' ') {
        if words.get(i + n) != Some(&part) {
            return None;
        }
        n += 1;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str) -> &'static str {
        analyze(text).label
    }

    #[test]
    fn labels() {
        assert_eq!(label("Thanks so much, this is great news!"), "positive");
        assert_eq!(
            label("The delivery was late and the box was damaged."),
            "negative"
        );
        assert_eq!(label("The meeting is on Tuesday at 10."), "neutral");
        // Words VADER knows that a hand list missed.
        assert_eq!(label("The new office is beautiful."), "positive");
        assert_eq!(label("Works like a charm :)"), "positive");
    }

    #[test]
    fn negation_and_but() {
        assert_eq!(label("I am not happy with the service"), "negative");
        assert_eq!(label("No problem at all"), "positive");
        assert_eq!(
            label("The demo was good, but the pricing is awful."),
            "negative"
        );
    }

    #[test]
    fn politeness_is_not_positivity() {
        assert_eq!(
            label("Please send the report by Friday. Kind regards"),
            "neutral"
        );
        assert_eq!(
            label("Dear Ann, thanks in advance for the figures."),
            "neutral"
        );
        // Real thanks still count.
        assert_eq!(label("Thanks, the fix works perfectly."), "positive");
    }

    #[test]
    fn complaint_cues_are_negative() {
        let s = analyze("We are still waiting for the parcel, it never arrived.");
        assert_eq!(s.label, "negative");
        assert!(
            s.evidence.iter().any(|c| c.feature == "cue:still waiting"),
            "{:?}",
            s.evidence
        );
    }

    #[test]
    fn boosters_and_caps_strengthen() {
        let plain = analyze("The result is good and the plan is set").compound;
        let boosted = analyze("The result is very good and the plan is set").compound;
        let shouted = analyze("The result is very GOOD and the plan is set").compound;
        assert!(
            plain < boosted && boosted < shouted,
            "{plain} {boosted} {shouted}"
        );
    }
}
