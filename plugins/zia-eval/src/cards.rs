//! Signatures on the test part of the labelled set: line precision,
//! recall and F1 and the wrong-person rate as for the Enron set
//! ([`crate::signatures::score_lines`]), plus per-field accuracy: of the
//! fields the label gives, how many the card has right (compared on
//! letters and digits only, case-insensitive; phones on digits; a
//! labelled email or phone counts when the card lists it).

use crate::labelled::LabelledMail;
use crate::signatures::{SignatureScores, score_lines};
use classifier_keywords_core::Signature;

/// Correct out of labelled, for one field.
#[derive(Clone, Copy, Debug, Default)]
pub struct FieldScore {
    pub correct: usize,
    pub labelled: usize,
}

impl FieldScore {
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.labelled.max(1) as f64
    }
    fn add(&mut self, correct: bool) {
        self.labelled += 1;
        self.correct += usize::from(correct);
    }
}

pub const FIELDS: [&str; 7] = [
    "name", "title", "company", "email", "phone", "website", "address",
];

pub struct CardScores {
    pub lines: SignatureScores,
    /// One per [`FIELDS`] entry, in that order.
    pub fields: [FieldScore; 7],
}

impl CardScores {
    /// All fields together.
    pub fn field_accuracy(&self) -> f64 {
        let correct: usize = self.fields.iter().map(|f| f.correct).sum();
        let labelled: usize = self.fields.iter().map(|f| f.labelled).sum();
        correct as f64 / labelled.max(1) as f64
    }
}

fn norm(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

fn same(card: Option<&String>, label: &str) -> bool {
    card.is_some_and(|c| norm(c) == norm(label))
}

fn score_fields(mail: &LabelledMail, card: &Signature, fields: &mut [FieldScore; 7]) {
    let label = &mail.signature;
    let web = |w: &str| {
        norm(
            w.trim_start_matches("https://")
                .trim_start_matches("http://"),
        )
    };
    let singles = [
        (0, &label.name, card.name.as_ref()),
        (1, &label.title, card.job_title.as_ref()),
        (2, &label.company, card.company.as_ref()),
        (6, &label.address, card.postal_address.as_ref()),
    ];
    for (k, want, got) in singles {
        if let Some(want) = want {
            fields[k].add(same(got, want));
        }
    }
    if let Some(want) = &label.website {
        fields[5].add(card.website.as_deref().is_some_and(|w| web(w) == web(want)));
    }
    for want in &label.emails {
        fields[3].add(card.emails.iter().any(|e| norm(e) == norm(want)));
    }
    for want in &label.phones {
        fields[4].add(
            card.phones
                .iter()
                .any(|p| digits(p) == digits(&want.number)),
        );
    }
}

pub fn evaluate(test: &[LabelledMail]) -> CardScores {
    let mut scores = CardScores {
        lines: SignatureScores::default(),
        fields: [FieldScore::default(); 7],
    };
    for mail in test {
        let card = score_lines(&mail.signature.lines, &mail.text_body, &mut scores.lines);
        score_fields(mail, &card, &mut scores.fields);
    }
    scores
}
