//! Intent and tags: the learned request model ([`crate::model`]) per
//! sentence, and weighted phrases for the more specific intents and tags.
//!
//! Each phrase votes for an intent (or a tag) with a weight; the subject
//! counts double because people state their purpose there. A specific
//! intent (complaint, meeting, purchase, unsubscribe) with enough evidence
//! wins; otherwise a sentence the model reads as asking for something makes
//! the message a `request` (a `question` when that sentence is a plain
//! question); otherwise `?`s make it a `question`, else it is `other`.

use crate::text::Tokens;
use crate::words::{WordTable, const_word_hash, first_word};

/// What the sender wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    Request,
    Question,
    Complaint,
    Meeting,
    Purchase,
    Unsubscribe,
    Other,
}

impl Intent {
    const SCORED: [Intent; 6] = [
        Intent::Request,
        Intent::Question,
        Intent::Complaint,
        Intent::Meeting,
        Intent::Purchase,
        Intent::Unsubscribe,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Intent::Request => "request",
            Intent::Question => "question",
            Intent::Complaint => "complaint",
            Intent::Meeting => "meeting",
            Intent::Purchase => "purchase",
            Intent::Unsubscribe => "unsubscribe",
            Intent::Other => "other",
        }
    }
}

/// What a phrase votes for.
#[derive(Clone, Copy, Debug)]
enum Vote {
    Intent(Intent),
    Tag(&'static str),
}

use Intent::*;
use Vote::Tag;

const fn i(intent: Intent) -> Vote {
    Vote::Intent(intent)
}

/// The best intent needs at least this much evidence.
const MIN_INTENT: f32 = 1.0;
/// A tag needs at least this much evidence.
const MIN_TAG: f32 = 1.0;
/// Weight of each `?` for `question` (at most three count).
const QUESTION_MARK: f32 = 0.7;
/// A phrase repeated many times is one topic, not many votes.
const MAX_HITS_PER_PHRASE: u32 = 2;
const SUBJECT_WEIGHT: f32 = 2.0;

#[derive(Clone, Debug, PartialEq)]
pub struct IntentResult {
    pub intent: Intent,
    /// Confidence, 0.0..=1.0.
    pub score: f32,
    /// Tags with confidence, strongest first.
    pub tags: Vec<(&'static str, f32)>,
    /// What decided the intent, strongest first.
    pub evidence: Vec<Evidence>,
}

/// One thing that decided the intent: `model:request` on a sentence or
/// `cue:PHRASE`.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub feature: String,
    pub text: String,
    pub in_subject: bool,
    pub weight: f32,
}

/// A sentence and the model's probability that it asks for something.
#[derive(Clone, Copy, Debug)]
pub struct Ask<'a> {
    pub sentence: &'a str,
    pub probability: f32,
    pub in_subject: bool,
}

/// The model's verdict needs at least this probability.
const ASKS: f32 = 0.5;

/// Scores the subject and the sender's own text, given the model's verdict
/// on each of their sentences.
pub fn analyze(subject: &Tokens, body: &Tokens, asks: &[Ask<'_>]) -> IntentResult {
    let mut intents = [0.0f32; 6];
    let mut tags: Vec<(&'static str, f32)> = Vec::new();
    // (phrase index, in subject, weight) of each intent vote.
    let mut fired: Vec<(usize, bool, f32)> = Vec::new();
    for (tokens, weight) in [(subject, SUBJECT_WEIGHT), (body, 1.0)] {
        let mut hits = vec![0u32; PHRASES.len()];
        for pos in 0..tokens.len() {
            let Some(token) = tokens.get(pos) else {
                continue;
            };
            for index in phrases_starting(token.word, token.hash) {
                if hits[index] >= MAX_HITS_PER_PHRASE {
                    continue;
                }
                let (phrase, vote, w) = PHRASES[index];
                // The first word is the token itself.
                let rest_follows = match phrase.split_once(' ') {
                    Some((_, rest)) => tokens.phrase_at(pos + 1, rest),
                    None => true,
                };
                if !rest_follows {
                    continue;
                }
                hits[index] += 1;
                match vote {
                    Vote::Intent(intent) => {
                        intents[slot(intent)] += w * weight;
                        fired.push((index, weight == SUBJECT_WEIGHT, w * weight));
                    }
                    Vote::Tag(tag) => match tags.iter_mut().find(|(t, _)| *t == tag) {
                        Some(entry) => entry.1 += w * weight,
                        None => tags.push((tag, w * weight)),
                    },
                }
            }
        }
        intents[slot(Question)] += QUESTION_MARK * tokens.questions.min(3) as f32 * weight;
    }

    let total: f32 = intents.iter().sum();
    let share = |intent: Intent| {
        let score = intents[slot(intent)];
        score / total * (1.0 - (-score / 2.0).exp())
    };
    let specific = [Complaint, Meeting, Purchase, Unsubscribe]
        .into_iter()
        .map(|intent| (intent, intents[slot(intent)]))
        .filter(|&(_, score)| score >= MIN_INTENT)
        .fold(None, |best: Option<(Intent, f32)>, x| match best {
            Some(b) if b.1 >= x.1 => Some(b),
            _ => Some(x),
        });
    let best_ask = asks
        .iter()
        .copied()
        .max_by(|a, b| a.probability.total_cmp(&b.probability));
    let question_score = intents[slot(Question)];
    let mut evidence = Vec::new();
    let (intent, score) = match (specific, best_ask) {
        (Some((intent, score)), _) if score >= question_score => (intent, share(intent)),
        (_, Some(ask)) if ask.probability >= ASKS => {
            for a in asks.iter().filter(|a| a.probability >= ASKS).take(3) {
                evidence.push(Evidence {
                    feature: "model:request".to_string(),
                    text: a.sentence.to_string(),
                    in_subject: a.in_subject,
                    weight: a.probability,
                });
            }
            let intent = if is_plain_question(ask.sentence) {
                Question
            } else {
                Request
            };
            (intent, ask.probability)
        }
        _ if question_score >= MIN_INTENT => (Question, share(Question)),
        (Some((intent, _)), _) => (intent, share(intent)),
        _ => {
            let p = best_ask.map_or(0.0, |a| a.probability);
            (Other, 1.0 - p)
        }
    };
    if evidence.is_empty() && intent != Other {
        for &(index, in_subject, w) in &fired {
            let (phrase, vote, _) = PHRASES[index];
            if matches!(vote, Vote::Intent(i) if i == intent) {
                evidence.push(Evidence {
                    feature: format!("cue:{phrase}"),
                    text: phrase.to_string(),
                    in_subject,
                    weight: w,
                });
            }
        }
        evidence.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        evidence.dedup_by(|a, b| a.feature == b.feature);
        evidence.truncate(3);
    }

    tags.retain(|(_, s)| *s >= MIN_TAG);
    let mut tags: Vec<_> = tags
        .into_iter()
        .map(|(t, s)| (t, (s / (2.0 * MIN_TAG + s) + 0.33).min(1.0)))
        .collect();
    tags.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    IntentResult {
        intent,
        score: score.clamp(0.0, 1.0),
        tags,
        evidence,
    }
}

/// A question asking for information ("When is the deadline?") rather than
/// for an action ("Could you send it?").
fn is_plain_question(sentence: &str) -> bool {
    let trimmed = sentence.trim();
    let first = trimmed
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .find(|w| !w.is_empty())
        .unwrap_or("")
        .to_lowercase();
    trimmed.ends_with('?')
        && matches!(
            first.as_str(),
            "what"
                | "when"
                | "where"
                | "why"
                | "how"
                | "who"
                | "which"
                | "whose"
                | "is"
                | "are"
                | "was"
                | "were"
                | "does"
                | "do"
                | "did"
                | "has"
                | "have"
                | "any"
                | "anyone"
        )
        && !trimmed.to_lowercase().contains("please")
}

fn slot(intent: Intent) -> usize {
    Intent::SCORED
        .iter()
        .position(|&x| x == intent)
        .unwrap_or(0)
}

/// Indices of the phrases whose first word is `word` (the tests check the table with it).
#[cfg(test)]
fn candidates(word: &str) -> std::ops::Range<usize> {
    phrases_starting(word, crate::words::word_hash(word.as_bytes()))
}

/// [`candidates`] with the word's hash already known (tokens carry it): one
/// table lookup per token instead of a scan of the phrases.
fn phrases_starting(word: &str, hash: u32) -> std::ops::Range<usize> {
    let range = |v: u32| (v & 0xffff) as usize..(v >> 16) as usize;
    FIRST_WORDS
        .get(hash, |v| {
            first_word(PHRASES[range(v).start].0.as_bytes()) == word.as_bytes()
        })
        .map_or(0..0, range)
}

const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// First word → the run of [`PHRASES`] that start with it, as
/// `start | end << 16`. Sorting keeps such phrases together: `w` sorts right
/// before `w …` because a space sorts before every letter.
static FIRST_WORDS: WordTable = {
    let mut table = WordTable::new();
    let mut start = 0;
    while start < PHRASES.len() {
        let word = first_word(PHRASES[start].0.as_bytes());
        let mut end = start + 1;
        while end < PHRASES.len() && same_bytes(first_word(PHRASES[end].0.as_bytes()), word) {
            end += 1;
        }
        table.insert(const_word_hash(word), (start | end << 16) as u32);
        start = end;
    }
    table
};

/// `(phrase, vote, weight)`, sorted by phrase (a test checks it).
/// Phrases are lower case, words separated by one space, apostrophes kept.
static PHRASES: &[(&str, Vote, f32)] = &[
    ("absence", Tag("out-of-office"), 0.6),
    ("abwesenheitsnotiz", Tag("out-of-office"), 2.0),
    ("agenda", i(Meeting), 1.2),
    ("amount due", Tag("billing"), 1.2),
    ("any idea", i(Question), 1.2),
    ("any update", Tag("follow-up"), 1.2),
    ("any updates", Tag("follow-up"), 1.2),
    ("appointment", i(Meeting), 1.3),
    ("as soon as possible", Tag("urgent"), 1.2),
    ("asap", Tag("urgent"), 1.2),
    ("at your earliest convenience", i(Request), 1.2),
    ("attached", Tag("attachment"), 1.0),
    ("attachment", Tag("attachment"), 1.0),
    ("attachments", Tag("attachment"), 1.0),
    ("auto reply", Tag("out-of-office"), 1.5),
    ("automatic reply", Tag("out-of-office"), 2.0),
    ("availability", i(Meeting), 1.2),
    ("available", i(Meeting), 0.7),
    ("awful", i(Complaint), 1.0),
    ("bank transfer", Tag("billing"), 1.0),
    ("billing", Tag("billing"), 1.2),
    ("broken", i(Complaint), 1.2),
    ("budget", i(Purchase), 0.6),
    ("buy", i(Purchase), 1.2),
    ("calendar", i(Meeting), 1.0),
    ("call", i(Meeting), 0.6),
    ("can you", i(Request), 1.3),
    ("cancel my", i(Complaint), 1.2),
    ("catch up", i(Meeting), 0.9),
    ("charged twice", i(Complaint), 1.8),
    ("circling back", Tag("follow-up"), 1.5),
    ("clarification", i(Question), 1.0),
    ("clarify", i(Question), 0.8),
    ("complain", i(Complaint), 1.8),
    ("complaint", i(Complaint), 2.0),
    ("conference call", i(Meeting), 1.2),
    ("contract", i(Purchase), 0.6),
    ("cost", i(Purchase), 0.6),
    ("could you", i(Request), 1.5),
    ("could you please", i(Request), 1.0),
    ("curious", i(Question), 0.8),
    ("damaged", i(Complaint), 1.3),
    ("deadline", Tag("urgent"), 0.6),
    ("defective", i(Complaint), 1.4),
    ("demo", i(Meeting), 0.7),
    ("disappointed", i(Complaint), 1.8),
    ("discount", i(Purchase), 1.0),
    ("do not contact", i(Unsubscribe), 2.0),
    ("do you have", i(Question), 0.8),
    ("do you know", i(Question), 1.2),
    ("does anyone", i(Question), 1.0),
    ("does friday work", i(Meeting), 1.2),
    ("does monday work", i(Meeting), 1.2),
    ("does not work", i(Complaint), 1.6),
    ("does thursday work", i(Meeting), 1.2),
    ("does tuesday work", i(Meeting), 1.2),
    ("does wednesday work", i(Meeting), 1.2),
    ("doesn't work", i(Complaint), 1.6),
    ("don't contact", i(Unsubscribe), 2.0),
    ("email preferences", Tag("newsletter"), 1.2),
    ("emergency", Tag("urgent"), 1.5),
    ("enclosed", Tag("attachment"), 0.8),
    ("escalate", i(Complaint), 1.4),
    ("fed up", i(Complaint), 1.6),
    ("follow up", Tag("follow-up"), 1.2),
    ("following up", Tag("follow-up"), 1.5),
    ("free on", i(Meeting), 1.0),
    ("frustrated", i(Complaint), 1.3),
    ("frustrating", i(Complaint), 1.3),
    ("gentle reminder", Tag("follow-up"), 1.5),
    ("get back to me", i(Request), 1.0),
    ("grateful", Tag("thanks"), 0.8),
    ("how can", i(Question), 1.0),
    ("how do", i(Question), 1.2),
    ("how does", i(Question), 1.0),
    ("how much", i(Question), 0.6),
    ("how much does", i(Purchase), 1.2),
    ("i need", i(Request), 1.0),
    ("i would like you to", i(Request), 1.5),
    ("i'd appreciate", i(Request), 1.2),
    ("immediately", Tag("urgent"), 1.0),
    ("interested in buying", i(Purchase), 1.8),
    ("invitation", i(Meeting), 0.9),
    ("invite", i(Meeting), 1.0),
    ("invoice", Tag("billing"), 1.2),
    ("invoices", Tag("billing"), 1.2),
    ("is it possible", i(Question), 1.0),
    ("is there", i(Question), 0.8),
    ("issue with", i(Complaint), 0.8),
    ("just checking", Tag("follow-up"), 1.2),
    ("kindly", i(Request), 1.2),
    ("let me know", i(Request), 0.8),
    ("licences", i(Purchase), 1.0),
    ("licenses", i(Purchase), 1.0),
    ("limited access to email", Tag("out-of-office"), 1.5),
    ("mailing list", i(Unsubscribe), 0.9),
    ("make sure", i(Request), 0.7),
    ("manage preferences", Tag("newsletter"), 1.2),
    ("meet", i(Meeting), 1.0),
    ("meeting", i(Meeting), 1.4),
    ("money back", i(Complaint), 1.6),
    ("much appreciated", Tag("thanks"), 1.0),
    ("need you to", i(Request), 1.4),
    ("never arrived", i(Complaint), 1.6),
    ("never received", i(Complaint), 1.6),
    ("newsletter", Tag("newsletter"), 1.5),
    ("no longer want", i(Unsubscribe), 1.6),
    ("no longer wish", i(Unsubscribe), 2.0),
    ("no response", i(Complaint), 1.4),
    ("not working", i(Complaint), 1.6),
    ("on leave", Tag("out-of-office"), 1.0),
    ("on vacation", Tag("out-of-office"), 1.2),
    ("opt out", i(Unsubscribe), 2.2),
    ("order", i(Purchase), 0.9),
    ("out of office", Tag("out-of-office"), 2.0),
    ("out of the office", Tag("out-of-office"), 2.0),
    ("overcharged", i(Complaint), 1.8),
    ("overdue", Tag("billing"), 1.0),
    ("payment", Tag("billing"), 0.9),
    ("place an order", i(Purchase), 1.8),
    ("please", i(Request), 0.8),
    ("please check", i(Request), 1.1),
    ("please confirm", i(Request), 1.2),
    ("please find attached", Tag("attachment"), 1.0),
    ("please forward", i(Request), 1.2),
    ("please let me know", i(Request), 1.0),
    ("please provide", i(Request), 1.3),
    ("please review", i(Request), 1.3),
    ("please send", i(Request), 1.2),
    ("poor service", i(Complaint), 1.8),
    ("price list", i(Purchase), 1.4),
    ("pricing", i(Purchase), 1.4),
    ("problem with", i(Complaint), 1.0),
    ("proposal", i(Purchase), 0.9),
    ("purchase", i(Purchase), 1.4),
    ("purchase order", i(Purchase), 1.8),
    ("question", i(Question), 1.0),
    ("questions", i(Question), 0.8),
    ("quick call", i(Meeting), 1.2),
    ("quick question", i(Question), 1.5),
    ("quotation", i(Purchase), 1.6),
    ("quote", i(Purchase), 1.4),
    ("receipt", Tag("billing"), 0.9),
    ("refund", i(Complaint), 1.5),
    ("reminder", Tag("follow-up"), 1.0),
    ("remove me", i(Unsubscribe), 2.2),
    ("request", i(Request), 0.8),
    ("requesting", i(Request), 1.3),
    ("reschedule", i(Meeting), 1.4),
    ("ridiculous", i(Complaint), 1.2),
    ("schedule", i(Meeting), 0.9),
    ("see attached", Tag("attachment"), 1.0),
    ("send me", i(Request), 1.2),
    ("send us", i(Request), 1.2),
    ("still not", i(Complaint), 1.0),
    ("still waiting", i(Complaint), 1.6),
    ("stop sending", i(Unsubscribe), 2.2),
    ("stopped working", i(Complaint), 1.6),
    ("subscription", i(Purchase), 0.7),
    ("take me off", i(Unsubscribe), 2.2),
    ("teams", i(Meeting), 0.6),
    ("terrible", i(Complaint), 1.2),
    ("thank you", Tag("thanks"), 0.8),
    ("thanks", Tag("thanks"), 0.6),
    ("time sensitive", Tag("urgent"), 1.5),
    ("time slot", i(Meeting), 1.2),
    ("trial", i(Purchase), 0.6),
    ("unacceptable", i(Complaint), 2.0),
    ("unsubscribe", i(Unsubscribe), 2.5),
    ("upgrade", i(Purchase), 0.6),
    ("urgent", Tag("urgent"), 1.5),
    ("urgently", Tag("urgent"), 1.5),
    ("view in browser", Tag("newsletter"), 1.5),
    ("view this email in your browser", Tag("newsletter"), 1.0),
    ("volume pricing", i(Purchase), 1.2),
    ("we need", i(Request), 1.0),
    ("what is", i(Question), 0.8),
    ("what's", i(Question), 0.7),
    ("when is", i(Question), 0.8),
    ("when will", i(Question), 1.0),
    ("where can", i(Question), 1.0),
    ("where is", i(Question), 0.8),
    ("why", i(Question), 0.8),
    ("wondering", i(Question), 1.2),
    ("worst", i(Complaint), 1.2),
    ("would appreciate", i(Request), 1.2),
    ("would you", i(Request), 1.0),
    ("would you mind", i(Request), 1.0),
    ("wrong item", i(Complaint), 1.6),
    ("zoom", i(Meeting), 1.0),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(subject: &str, body: &str) -> Intent {
        let asks: Vec<Ask> = [(subject, true), (body, false)]
            .into_iter()
            .flat_map(|(text, in_subject)| {
                crate::text::sentences(text)
                    .into_iter()
                    .map(move |sentence| Ask {
                        sentence,
                        probability: crate::model::request_probability(sentence),
                        in_subject,
                    })
            })
            .collect();
        analyze(&Tokens::new(subject), &Tokens::new(body), &asks).intent
    }

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in PHRASES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
    }

    #[test]
    fn intents() {
        assert_eq!(
            intent(
                "Report",
                "Could you please send me the Q3 report by Friday?"
            ),
            Request
        );
        assert_eq!(
            intent("", "How do I reset my password? Where is the setting?"),
            Question
        );
        assert_eq!(
            intent(
                "Still waiting",
                "I am very disappointed. The product arrived broken and I want a refund."
            ),
            Complaint
        );
        assert_eq!(
            intent(
                "Meeting next week",
                "Are you available for a call on Tuesday? I'll send an invite."
            ),
            Meeting
        );
        assert_eq!(
            intent(
                "Quote request",
                "We would like a quote for 50 licenses and your volume pricing."
            ),
            Purchase
        );
        assert_eq!(
            intent(
                "",
                "Please unsubscribe me and remove me from your mailing list."
            ),
            Unsubscribe
        );
        assert_eq!(intent("Lunch", "The weather was nice today."), Other);
    }

    #[test]
    fn tags() {
        let r = analyze(
            &Tokens::new("URGENT: invoice overdue"),
            &Tokens::new("Please see the attached invoice."),
            &[],
        );
        let names: Vec<_> = r.tags.iter().map(|t| t.0).collect();
        assert!(names.contains(&"urgent"), "{names:?}");
        assert!(names.contains(&"billing"), "{names:?}");
        assert!(names.contains(&"attachment"), "{names:?}");
    }

    #[test]
    fn candidates_are_exactly_the_phrases_with_that_first_word() {
        for (phrase, _, _) in PHRASES {
            let word = phrase.split(' ').next().unwrap();
            let expected: Vec<usize> = (0..PHRASES.len())
                .filter(|&i| PHRASES[i].0.split(' ').next() == Some(word))
                .collect();
            assert_eq!(candidates(word).collect::<Vec<_>>(), expected, "{word}");
        }
        assert_eq!(candidates("coul"), 0..0);
        assert_eq!(candidates("the"), 0..0);
    }

    #[test]
    fn candidates_cover_multiword_runs() {
        let found: Vec<_> = candidates("could").map(|i| PHRASES[i].0).collect();
        assert!(found.contains(&"could you"), "{found:?}");
        assert!(found.iter().all(|p| p.split(' ').next() == Some("could")));
    }
}
