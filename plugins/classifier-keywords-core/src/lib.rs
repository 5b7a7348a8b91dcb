//! The keyword classifier's logic, in plain Rust with no dependencies.
//!
//! The `classifier-keywords` plugin wraps [`classify`] for the WebAssembly
//! contract; the host's native benchmark calls the very same function, so the
//! two can be compared like for like. Everything here is deterministic and
//! allocation-light: a 2 KB message takes about 10 µs natively
//! (`benches/classify.rs`).
//!
//! - sentiment: a lexicon with negation and emphasis rules ([`sentiment`]);
//! - intent (`request`, `question`, `complaint`, `meeting`, `purchase`,
//!   `unsubscribe`, `other`) and tags from weighted phrases ([`intent`]);
//! - an extractive summary: the first sentences of the sender's own text, up
//!   to [`SUMMARY_CHARS`];
//! - the signature block, read into a contact card ([`signature`]).
//!
//! Every analysis reads the sender's own text only ([`reply`]: no quoted or
//! forwarded message, footer or disclaimer), and sentiment, intent and
//! summary read it without the signature, so a reply is judged by what its
//! sender wrote and the card describes its sender.

#![forbid(unsafe_code)]

pub mod features;
pub mod intent;
pub mod model;
pub mod reply;
pub mod sentiment;
pub mod signature;
pub mod text;
pub mod vader;
pub mod when;
pub mod words;

pub use intent::Intent;
pub use signature::Signature;

/// Longest summary, in characters.
pub const SUMMARY_CHARS: usize = 200;
/// Most sentences in a summary.
pub const SUMMARY_SENTENCES: usize = 3;

/// What the classifier reads: a subject and a plain-text body.
#[derive(Clone, Copy, Debug)]
pub struct Email<'a> {
    pub subject: &'a str,
    pub text_body: &'a str,
}

/// A label with a confidence in 0.0..=1.0.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub label: String,
    pub score: f32,
}

impl Label {
    fn new(label: &str, score: f32) -> Self {
        Label {
            label: label.to_string(),
            score: score.clamp(0.0, 1.0),
        }
    }
}

/// Everything [`classify`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    /// `positive`, `negative` or `neutral`.
    pub sentiment: Label,
    /// `request`, `question`, `complaint`, `meeting`, `purchase`,
    /// `unsubscribe` or `other`.
    pub intent: Label,
    pub summary: Option<String>,
    pub signature: Option<Signature>,
    /// E.g. `urgent`, `follow-up`, `billing`, `attachment`, `out-of-office`,
    /// `thanks`, `newsletter`; strongest first.
    pub tags: Vec<Label>,
    /// Why: the features behind the labels, strongest first per part.
    pub reasons: Vec<Reason>,
}

/// What a [`Reason`] explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Sentiment,
    Intent,
}

/// One feature behind a label: its name (`lexicon:late`, `cue:still
/// waiting`, `model:request`), the text it fired on and its weight (for,
/// positive; against, negative).
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    pub part: Part,
    pub label: String,
    pub feature: String,
    /// The sentence the feature fired in.
    pub text: String,
    /// Found in the subject rather than the body.
    pub in_subject: bool,
    pub weight: f32,
}

/// Classifies one message.
pub fn classify(email: &Email<'_>) -> Analysis {
    let lines = reply::own_text(email.text_body).lines;
    let (own_end, signature) = match signature::split(&lines) {
        Some((start, block)) => {
            let card = signature::parse(&block);
            (start, (!card.is_empty()).then_some(card))
        }
        None => (lines.len(), None),
    };
    let own = &lines[..own_end];
    let own_text = own.join("\n");

    let subject_tokens = text::Tokens::new(email.subject);
    let body_tokens = text::Tokens::new(&own_text);

    // Sentiment of the body; the subject joins in only when the body is silent
    // (subjects are terse and often just a topic).
    let mut mood = sentiment::analyze(&own_text);
    let mut mood_in_subject = false;
    if mood.label == "neutral" {
        let from_subject = sentiment::analyze(email.subject);
        if from_subject.label != "neutral" {
            mood = from_subject;
            mood_in_subject = true;
        }
    }
    let mut reasons: Vec<Reason> = mood
        .evidence
        .iter()
        .map(|cue| Reason {
            part: Part::Sentiment,
            label: mood.label.to_string(),
            feature: cue.feature.clone(),
            text: cue.sentence.clone(),
            in_subject: mood_in_subject,
            weight: cue.weight.abs() / 4.0,
        })
        .collect();
    // The model reads the body from after the greeting: "Hi Ann," asks
    // nothing.
    let body_from = summary_start(own).map_or(own_text.len(), |skip| {
        own[..skip].iter().map(|l| l.len() + 1).sum::<usize>()
    });
    let subject_sentences = text::sentences(email.subject);
    let body_sentences = text::sentences(own_text.get(body_from..).unwrap_or(""));
    let asks: Vec<intent::Ask> = subject_sentences
        .iter()
        .map(|s| (*s, true))
        .chain(body_sentences.iter().map(|s| (*s, false)))
        .map(|(sentence, in_subject)| intent::Ask {
            sentence,
            probability: model::request_probability(sentence),
            in_subject,
        })
        .collect();
    let intent = intent::analyze(&subject_tokens, &body_tokens, &asks);
    reasons.extend(intent.evidence.iter().map(|e| Reason {
        part: Part::Intent,
        label: intent.intent.label().to_string(),
        feature: e.feature.clone(),
        text: e.text.clone(),
        in_subject: e.in_subject,
        weight: e.weight,
    }));

    // The summary reads the same text from the first line after the greeting:
    // a suffix of `own_text`, so it needs no second copy.
    let summary = summary_start(own).and_then(|skip| {
        let offset: usize = own[..skip].iter().map(|l| l.len() + 1).sum();
        summary_of(own_text.get(offset..).unwrap_or(""))
    });

    Analysis {
        sentiment: Label::new(mood.label, mood.score),
        intent: Label::new(intent.intent.label(), intent.score),
        summary,
        signature,
        tags: intent.tags.iter().map(|(t, s)| Label::new(t, *s)).collect(),
        reasons,
    }
}

/// A meeting's start written in the subject, else in the sender's own text
/// (quotes and forwards left out), resolved against the message's Date
/// header; `true` when it was found in the subject. The plugin and the
/// evaluation both call this, so what is measured is what runs.
pub fn meeting_start(email: &Email<'_>, sent: when::Reference) -> Option<(when::When, bool)> {
    if let Some(w) = when::resolve(email.subject, sent) {
        return Some((w, true));
    }
    let own = reply::own_text(email.text_body).lines.join("\n");
    when::resolve(&own, sent).map(|w| (w, false))
}

/// The first sentences of the sender's text (greeting skipped), up to
/// [`SUMMARY_CHARS`]; a longer first sentence is cut at a word boundary
/// with `…`.
pub fn summarize(lines: &[&str]) -> Option<String> {
    let skip = summary_start(lines)?;
    summary_of(&lines[skip..].join("\n"))
}

/// The first line a summary reads: the first non-blank one, or the one after
/// it when that is a greeting; `None` when all are blank.
fn summary_start(lines: &[&str]) -> Option<usize> {
    let first = lines.iter().position(|l| !l.trim().is_empty())?;
    Some(if text::is_greeting(lines[first]) {
        first + 1
    } else {
        first
    })
}

/// The summary of `body` (greeting already skipped): up to
/// [`SUMMARY_SENTENCES`] sentences, reading only until it is full.
fn summary_of(body: &str) -> Option<String> {
    let mut summary = String::new();
    for sentence in text::Sentences::new(body).take(SUMMARY_SENTENCES) {
        let sentence = text::squash_spaces(sentence);
        let needed = sentence.chars().count() + usize::from(!summary.is_empty());
        if summary.chars().count() + needed <= SUMMARY_CHARS {
            if !summary.is_empty() {
                summary.push(' ');
            }
            summary.push_str(&sentence);
            continue;
        }
        if summary.is_empty() {
            summary = truncate_words(&sentence, SUMMARY_CHARS - 1);
            summary.push('…');
        }
        break;
    }
    (!summary.is_empty()).then_some(summary)
}

/// `text` cut to at most `max` characters, at the last space when there is one.
fn truncate_words(text: &str, max: usize) -> String {
    let cut: String = text.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(space) if space > max / 2 => {
            cut[..space].trim_end_matches([',', ';', ':']).to_string()
        }
        _ => cut,
    }
}

#[cfg(test)]
mod tests;
