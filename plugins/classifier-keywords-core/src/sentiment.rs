//! Lexicon sentiment in the manner of VADER (Hutto & Gilbert, 2014): word
//! valences summed with rules for negation, intensifiers, capitals and
//! exclamation marks, then squashed into -1..1.
//!
//! The word list is Mailroom's own, written for business mail (orders,
//! support, meetings), not copied from a published lexicon.

use crate::text::Tokens;
use crate::words::{WordTable, word_hash};

/// Positive, negative or neutral, with the compound score in -1.0..=1.0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sentiment {
    pub label: &'static str,
    /// Confidence in the label, 0.0..=1.0.
    pub score: f32,
    /// Signed strength, -1.0..=1.0.
    pub compound: f32,
}

/// How far past a negator its effect reaches ("not at all happy").
const NEGATION_WINDOW: usize = 3;
/// VADER's empirically fitted constants: negation flips and dampens, a
/// booster adds a fixed amount, capitals emphasise, `!` adds in the
/// direction of the text.
const NEGATION_FACTOR: f32 = -0.74;
const BOOSTER: f32 = 0.293;
const CAPS_BOOST: f32 = 0.733;
const EXCLAMATION: f32 = 0.292;
/// Normalisation constant of the compound score.
const ALPHA: f32 = 15.0;
/// |compound| below this is neutral.
const NEUTRAL_BAND: f32 = 0.05;

pub fn analyze(tokens: &Tokens) -> Sentiment {
    let mut sum = 0.0f32;
    let mut words = 0usize;
    for i in 0..tokens.len() {
        let Some(token) = tokens.get(i) else { continue };
        let Some(mut valence) = lookup_hashed(token.word, token.hash) else {
            continue;
        };
        words += 1;
        if token.shouted {
            valence += CAPS_BOOST * valence.signum();
        }
        // Look back within the sentence for boosters and negators.
        let mut negated = false;
        for back in 1..=NEGATION_WINDOW {
            let Some(prev) = i.checked_sub(back).and_then(|j| tokens.get(j)) else {
                break;
            };
            if prev.sentence != token.sentence {
                break;
            }
            if back == 1 && is_booster(prev.word) {
                valence += BOOSTER * valence.signum();
            }
            if is_negator(prev.word) {
                negated = true;
            }
        }
        // "no problem", "not bad": a negated negative is mildly positive.
        if negated {
            valence *= NEGATION_FACTOR;
        }
        sum += valence;
    }
    if words > 0 && sum != 0.0 {
        sum += EXCLAMATION * tokens.exclamations.min(4) as f32 * sum.signum();
    }
    let compound = sum / (sum * sum + ALPHA).sqrt();
    let (label, score) = if compound >= NEUTRAL_BAND {
        ("positive", compound)
    } else if compound <= -NEUTRAL_BAND {
        ("negative", -compound)
    } else {
        ("neutral", 1.0 - compound.abs())
    };
    Sentiment {
        label,
        score: score.clamp(0.0, 1.0),
        compound,
    }
}

fn is_negator(word: &str) -> bool {
    matches!(
        word,
        "not"
            | "no"
            | "never"
            | "none"
            | "nobody"
            | "nothing"
            | "neither"
            | "nor"
            | "without"
            | "hardly"
            | "barely"
            | "cannot"
            | "cant"
            | "dont"
            | "doesnt"
            | "didnt"
            | "isnt"
            | "wasnt"
            | "wont"
            | "wouldnt"
            | "shouldnt"
            | "havent"
            | "hasnt"
            | "arent"
    ) || word.ends_with("n't")
}

fn is_booster(word: &str) -> bool {
    matches!(
        word,
        "very"
            | "really"
            | "extremely"
            | "so"
            | "incredibly"
            | "totally"
            | "absolutely"
            | "highly"
            | "truly"
            | "completely"
            | "utterly"
            | "super"
            | "most"
            | "deeply"
            | "especially"
            | "exceptionally"
            | "particularly"
            | "terribly"
            | "awfully"
    )
}

/// The valence of `word`, -4.0..=4.0, if it carries sentiment.
pub fn lookup(word: &str) -> Option<f32> {
    lookup_hashed(word, word_hash(word.as_bytes()))
}

/// [`lookup`] with the word's hash already known (tokens carry it).
fn lookup_hashed(word: &str, hash: u32) -> Option<f32> {
    LEXICON_TABLE
        .get(hash, |i| LEXICON[i as usize].0 == word)
        .map(|i| LEXICON[i as usize].1)
}

/// Word → index in [`LEXICON`].
static LEXICON_TABLE: WordTable = {
    let mut table = WordTable::new();
    let mut i = 0;
    while i < LEXICON.len() {
        table.insert(word_hash(LEXICON[i].0.as_bytes()), i as u32);
        i += 1;
    }
    table
};

/// Sorted by word (a test checks it), one entry per word.
static LEXICON: &[(&str, f32)] = &[
    ("abandon", -1.9),
    ("able", 0.8),
    ("accept", 1.2),
    ("accepted", 1.3),
    ("accurate", 1.3),
    ("amazing", 2.8),
    ("angry", -2.3),
    ("annoyed", -1.8),
    ("annoying", -2.0),
    ("apologies", -0.6),
    ("apologize", -0.5),
    ("appalled", -2.9),
    ("appreciate", 2.0),
    ("appreciated", 2.0),
    ("approved", 1.5),
    ("awesome", 3.1),
    ("awful", -2.8),
    ("bad", -2.5),
    ("benefit", 1.5),
    ("best", 3.0),
    ("better", 1.9),
    ("blocked", -1.4),
    ("bother", -1.5),
    ("bothered", -1.7),
    ("breach", -2.2),
    ("broke", -1.8),
    ("broken", -2.0),
    ("bug", -1.2),
    ("bugs", -1.2),
    ("cancel", -0.8),
    ("cancelled", -1.0),
    ("careless", -1.7),
    ("charged", -0.6),
    ("cheerful", 2.4),
    ("clean", 1.5),
    ("clear", 1.2),
    ("complain", -1.8),
    ("complaint", -2.0),
    ("complaints", -2.0),
    ("complicated", -1.0),
    ("concern", -1.2),
    ("concerned", -1.3),
    ("confused", -1.3),
    ("confusing", -1.5),
    ("congrats", 2.6),
    ("congratulations", 2.9),
    ("convenient", 1.5),
    ("cool", 1.3),
    ("correct", 1.3),
    ("crash", -2.0),
    ("crashed", -2.1),
    ("crashes", -2.0),
    ("damage", -2.0),
    ("damaged", -2.2),
    ("dead", -2.6),
    ("defect", -1.8),
    ("defective", -2.1),
    ("delay", -1.3),
    ("delayed", -1.4),
    ("delays", -1.3),
    ("delight", 2.9),
    ("delighted", 3.0),
    ("delightful", 2.9),
    ("disappointed", -2.2),
    ("disappointing", -2.2),
    ("disappointment", -2.3),
    ("disaster", -3.1),
    ("disgusted", -2.9),
    ("dislike", -1.6),
    ("dissatisfied", -2.2),
    ("easy", 1.9),
    ("effective", 1.9),
    ("efficient", 1.8),
    ("enjoy", 2.2),
    ("enjoyed", 2.3),
    ("error", -1.6),
    ("errors", -1.6),
    ("excellent", 3.2),
    ("excited", 2.2),
    ("exciting", 2.2),
    ("fail", -2.1),
    ("failed", -2.2),
    ("failing", -2.2),
    ("failure", -2.4),
    ("fair", 1.3),
    ("fantastic", 3.0),
    ("fast", 1.3),
    ("fault", -1.7),
    ("faulty", -2.0),
    ("fine", 0.8),
    ("fix", 0.6),
    ("fixed", 1.3),
    ("fortunately", 1.6),
    ("frustrated", -2.3),
    ("frustrating", -2.4),
    ("furious", -3.1),
    ("glad", 2.0),
    ("good", 1.9),
    ("grateful", 2.3),
    ("great", 3.1),
    ("happy", 2.7),
    ("hate", -2.7),
    ("helpful", 1.9),
    ("hope", 1.3),
    ("hopefully", 1.0),
    ("horrible", -2.9),
    ("ignored", -1.6),
    ("impressed", 2.4),
    ("impressive", 2.5),
    ("improve", 1.3),
    ("improved", 1.6),
    ("inconvenience", -1.5),
    ("incorrect", -1.5),
    ("interested", 1.2),
    ("invalid", -1.3),
    ("issue", -1.0),
    ("issues", -1.0),
    ("joy", 2.8),
    ("late", -1.0),
    ("liked", 1.8),
    ("love", 3.2),
    ("loved", 2.9),
    ("lovely", 2.8),
    ("mess", -1.9),
    ("missing", -1.2),
    ("mistake", -1.6),
    ("mistakes", -1.6),
    ("nice", 1.8),
    ("outage", -2.0),
    ("outrageous", -2.8),
    ("overcharged", -2.4),
    ("pain", -2.2),
    ("perfect", 2.7),
    ("pleasant", 2.3),
    ("pleased", 2.4),
    ("pleasure", 2.6),
    ("poor", -2.1),
    ("poorly", -2.1),
    ("positive", 2.2),
    ("problem", -1.7),
    ("problems", -1.8),
    ("promising", 1.8),
    ("quick", 1.0),
    ("recommend", 1.6),
    ("refund", -0.9),
    ("regret", -1.8),
    ("reliable", 1.8),
    ("resolved", 1.7),
    ("rude", -2.1),
    ("sad", -2.1),
    ("satisfied", 1.8),
    ("slow", -1.3),
    ("smooth", 1.7),
    ("solved", 1.8),
    ("sorry", -0.6),
    ("success", 2.6),
    ("successful", 2.7),
    ("superb", 3.0),
    ("terrible", -3.0),
    ("thank", 1.5),
    ("thankful", 2.2),
    ("thanks", 1.9),
    ("thx", 1.5),
    ("trouble", -1.7),
    ("ugly", -2.3),
    ("unable", -1.2),
    ("unacceptable", -2.7),
    ("unfortunately", -1.5),
    ("unhappy", -2.2),
    ("unreliable", -2.0),
    ("upset", -2.2),
    ("urgent", -0.5),
    ("useful", 1.7),
    ("useless", -2.3),
    ("valuable", 2.1),
    ("waste", -1.8),
    ("wasted", -1.9),
    ("welcome", 2.0),
    ("win", 2.8),
    ("wonderful", 2.7),
    ("worried", -1.9),
    ("worse", -2.1),
    ("worst", -3.1),
    ("worthless", -2.7),
    ("wow", 2.8),
    ("wrong", -2.1),
    ("yay", 2.4),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str) -> &'static str {
        analyze(&Tokens::new(text)).label
    }

    #[test]
    fn lexicon_is_sorted_and_unique() {
        for pair in LEXICON.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
    }

    #[test]
    fn every_word_is_found() {
        for &(word, valence) in LEXICON {
            assert_eq!(lookup(word), Some(valence), "{word}");
        }
        assert_eq!(lookup("meeting"), None);
        assert_eq!(lookup(""), None);
    }

    #[test]
    fn labels() {
        assert_eq!(label("Thanks so much, this is great news!"), "positive");
        assert_eq!(
            label("The delivery was late and the box was damaged."),
            "negative"
        );
        assert_eq!(label("The meeting is on Tuesday at 10."), "neutral");
    }

    #[test]
    fn negation_flips() {
        assert_eq!(label("I am not happy with the service"), "negative");
        assert_eq!(label("No problem at all"), "positive");
    }

    #[test]
    fn boosters_and_caps_strengthen() {
        let plain = analyze(&Tokens::new("good")).compound;
        let boosted = analyze(&Tokens::new("very good")).compound;
        let shouted = analyze(&Tokens::new("very GOOD")).compound;
        assert!(plain < boosted && boosted < shouted);
    }
}
