//! The keyword classifier's logic, in plain Rust with no dependencies.
//!
//! The `classifier-keywords` plugin wraps [`classify`] for the WebAssembly
//! contract; the host's native benchmark calls the very same function, so the
//! two can be compared like for like. Everything here is deterministic
//! (`benches/classify.rs` measures the cost).
//!
//! - sentiment: a lexicon with negation and emphasis rules ([`sentiment`]);
//! - intent (`request`, `question`, `complaint`, `meeting`, `thanks`,
//!   `other`) from a learned model over the whole message
//!   ([`intent_model`], fed by [`reading`]), tags from weighted phrases
//!   ([`intent`]);
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
pub mod intent_model;
pub mod meeting;
pub mod model;
pub mod reading;
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

/// Longest evidence excerpt, in characters: a "sentence" of a log or a
/// pasted table can be a whole 256 KiB body, and the contract takes at
/// most 1,000 bytes of evidence (240 characters are at most 960 bytes).
pub const EVIDENCE_CHARS: usize = 240;

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
    /// The most probable of [`intent_model::LABELS`]: `request`,
    /// `question`, `complaint`, `meeting`, `thanks` or `other`.
    pub intent: Label,
    /// Every label's score (its head's share of the six heads'
    /// probabilities: they add up to one), in [`intent_model::LABELS`]
    /// order.
    pub intent_scores: Vec<Label>,
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
    let own = reading::SenderText::read(email.text_body);
    let (mood, mood_in_subject) = reading::mood(email, &own);
    let mut reasons: Vec<Reason> = mood
        .evidence
        .iter()
        .map(|cue| Reason {
            part: Part::Sentiment,
            label: mood.label.to_string(),
            feature: cue.feature.clone(),
            text: excerpt(&cue.sentence),
            in_subject: mood_in_subject,
            weight: cue.weight.abs() / 4.0,
        })
        .collect();
    let inputs = reading::intent_inputs(email, &own, &mood);
    let intent = reading::decide(&inputs);
    reasons.extend(intent.evidence.iter().map(|e| Reason {
        part: Part::Intent,
        label: intent.label.to_string(),
        feature: e.feature.clone(),
        text: excerpt(&e.text),
        in_subject: e.in_subject,
        weight: e.weight,
    }));
    // The summary reads the text after the greeting.
    let summary = own.content_from.and_then(|_| summary_of(own.content()));
    Analysis {
        sentiment: Label::new(mood.label, mood.score),
        intent: Label::new(intent.label, intent.score),
        intent_scores: intent_model::LABELS
            .iter()
            .zip(intent.scores)
            .map(|(label, score)| Label::new(label, score))
            .collect(),
        summary,
        signature: own.signature,
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

/// A meeting's length and place as the subject or the sender's own text
/// gives them.
pub fn meeting_details(email: &Email<'_>) -> meeting::Details {
    let own = reply::own_text(email.text_body).lines.join("\n");
    meeting::details(&format!("{}\n{own}", email.subject))
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
pub(crate) fn summary_start(lines: &[&str]) -> Option<usize> {
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

/// What a reason quotes: the sentence, or its start when it is too long.
fn excerpt(sentence: &str) -> String {
    if sentence.chars().nth(EVIDENCE_CHARS).is_none() {
        return sentence.to_owned();
    }
    let mut cut = truncate_words(sentence, EVIDENCE_CHARS - 1);
    cut.push('…');
    cut
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
