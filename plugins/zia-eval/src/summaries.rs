//! Summaries on the test part of the labelled set: ROUGE-1 and ROUGE-L F
//! of the classifier's summary against the reference, next to a
//! lead-sentence baseline (the body's first sentences, as many as fit the
//! classifier's own limits, greeting, quotes and all), averaged over mails.

use crate::labelled::LabelledMail;
use crate::rouge::{rouge_1, rouge_l};
use classifier_keywords_core::{Email, SUMMARY_CHARS, SUMMARY_SENTENCES, classify, text};

#[derive(Clone, Copy, Debug, Default)]
pub struct Rouge {
    pub rouge_1: f64,
    pub rouge_l: f64,
}

pub struct SummaryScores {
    pub mails: usize,
    pub mailroom: Rouge,
    pub lead: Rouge,
}

/// The lead baseline: the body's first sentences within the classifier's
/// limits.
pub fn lead(body: &str) -> String {
    let mut out = String::new();
    for sentence in text::Sentences::new(body).take(SUMMARY_SENTENCES) {
        let sentence = text::squash_spaces(sentence);
        if !out.is_empty() && out.chars().count() + 1 + sentence.chars().count() > SUMMARY_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&sentence);
    }
    out
}

pub fn evaluate(test: &[LabelledMail]) -> SummaryScores {
    let mut mailroom = Rouge::default();
    let mut baseline = Rouge::default();
    for mail in test {
        let ours = classify(&Email {
            subject: &mail.subject,
            text_body: &mail.text_body,
        })
        .summary
        .unwrap_or_default();
        let theirs = lead(&mail.text_body);
        mailroom.rouge_1 += rouge_1(&ours, &mail.summary);
        mailroom.rouge_l += rouge_l(&ours, &mail.summary);
        baseline.rouge_1 += rouge_1(&theirs, &mail.summary);
        baseline.rouge_l += rouge_l(&theirs, &mail.summary);
    }
    let n = test.len().max(1) as f64;
    let mean = |r: Rouge| Rouge {
        rouge_1: r.rouge_1 / n,
        rouge_l: r.rouge_l / n,
    };
    SummaryScores {
        mails: test.len(),
        mailroom: mean(mailroom),
        lead: mean(baseline),
    }
}
