//! Signature lines on the Enron set (`tests/data/signatures`, mailgun/forge,
//! CC BY 3.0): lines marked `#sig#` are the sender's signature. The
//! classifier's signature lines are those of the block it reads the card
//! from, found in the sender's own text only. Line F1 is over non-blank
//! lines (trimmed text), summed over messages. A card is "of the wrong
//! person" when none of its name, addresses and phone numbers occurs in the
//! message's marked signature: it was read from someone else's text (or, in
//! a message without a signature, from no signature at all).

use crate::EvalError;
use crate::data::{data_dir, files, read};
use crate::metrics::Confusion;
use classifier_keywords_core::{Signature, reply, signature};

const MARK: &str = "#sig#";

#[derive(Debug, Default)]
pub struct SignatureScores {
    pub messages: usize,
    pub lines: Confusion,
    pub cards: usize,
    pub wrong_person: usize,
}

impl SignatureScores {
    pub fn wrong_person_rate(&self) -> f64 {
        if self.cards == 0 {
            0.0
        } else {
            self.wrong_person as f64 / self.cards as f64
        }
    }
}

pub fn evaluate() -> Result<SignatureScores, EvalError> {
    let mut scores = SignatureScores::default();
    for set in ["P", "N"] {
        for path in files(&data_dir().join("signatures").join(set), "_body")? {
            let raw = read(&path)?;
            score_message(&raw, &mut scores);
        }
    }
    Ok(scores)
}

fn score_message(raw: &str, scores: &mut SignatureScores) {
    let truth: Vec<String> = raw
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix(MARK))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    score_lines(&truth, &raw.replace(MARK, ""), scores);
}

/// Scores the signature the classifier finds in `body` against the true
/// signature lines; returns its card.
pub fn score_lines(truth: &[String], body: &str, scores: &mut SignatureScores) -> Signature {
    scores.messages += 1;
    let own = reply::own_text(body).lines;
    let block: Vec<String> = signature::split(&own)
        .map(|(_, block)| block)
        .unwrap_or_default();
    let mut unmatched = truth.to_vec();
    for line in &block {
        match unmatched.iter().position(|t| t == line.trim()) {
            Some(k) => {
                unmatched.swap_remove(k);
                scores.lines.add(true, true);
            }
            None => scores.lines.add(true, false),
        }
    }
    for _ in &unmatched {
        scores.lines.add(false, true);
    }
    let card = signature::parse(&block);
    if card.is_empty() {
        return card;
    }
    scores.cards += 1;
    // Spacing differs between a line and the card's field ("Barry  Lee").
    let squash = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let truth_text = squash(&truth.join("\n"));
    let facts: Vec<&str> = card
        .name
        .iter()
        .map(String::as_str)
        .chain(card.emails.iter().map(String::as_str))
        .chain(card.phones.iter().map(String::as_str))
        .collect();
    if !facts.iter().any(|f| truth_text.contains(&squash(f))) {
        scores.wrong_person += 1;
    }
    card
}
