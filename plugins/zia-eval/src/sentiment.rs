//! Sentiment on `tests/data/sentiment/business-mail.tsv`: 90 business-mail
//! sentences (30 positive, 30 negative, 30 neutral), labelled by hand when
//! written and never used to set a rule or weight. Mailroom's label (the
//! whole classifier, sentence as body) next to VADER's own method (the
//! port in `classifier-keywords-core::vader`, compound ≥ 0.05 positive,
//! ≤ -0.05 negative), in the same harness.

use crate::EvalError;
use crate::data::{data_dir, read};
use crate::labelled::{LabelledMail, SENTIMENTS};
use crate::metrics::macro_f1;
use classifier_keywords_core::{Email, classify, reply, signature, vader};

const LABELS: [&str; 3] = ["positive", "negative", "neutral"];

pub struct SentimentScores {
    pub sentences: usize,
    pub mailroom: f64,
    pub vader: f64,
}

pub fn vader_label(text: &str) -> &'static str {
    let compound = vader::polarity_scores(text).compound;
    if compound >= 0.05 {
        "positive"
    } else if compound <= -0.05 {
        "negative"
    } else {
        "neutral"
    }
}

pub fn evaluate() -> Result<SentimentScores, EvalError> {
    let path = data_dir().join("sentiment/business-mail.tsv");
    let tsv = read(&path)?;
    let mut rows = Vec::new();
    for (n, line) in tsv.lines().enumerate() {
        let (label, text) = line
            .split_once('\t')
            .filter(|(l, _)| LABELS.contains(l))
            .ok_or_else(|| EvalError::Format {
                path: path.clone(),
                what: format!(
                    "line {}: expected `positive|negative|neutral TAB text`",
                    n + 1
                ),
            })?;
        rows.push((label, text));
    }
    let mailroom: Vec<(String, &str)> = rows
        .iter()
        .map(|(truth, text)| {
            let label = classify(&Email {
                subject: "",
                text_body: text,
            })
            .sentiment
            .label;
            (label, *truth)
        })
        .collect();
    let mailroom: Vec<(&str, &str)> = mailroom.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let baseline: Vec<(&str, &str)> = rows
        .iter()
        .map(|(truth, text)| (vader_label(text), *truth))
        .collect();
    Ok(SentimentScores {
        sentences: rows.len(),
        mailroom: macro_f1(&mailroom, &LABELS),
        vader: macro_f1(&baseline, &LABELS),
    })
}

/// Sentiment of whole mails, the test part of the labelled set: the
/// classifier's label against VADER's on the same text the classifier
/// reads (the sender's own text without signature).
pub fn evaluate_mail(test: &[LabelledMail]) -> SentimentScores {
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for mail in test {
        let label = classify(&Email {
            subject: &mail.subject,
            text_body: &mail.text_body,
        })
        .sentiment
        .label;
        ours.push((label, mail.sentiment.as_str()));
        let lines = reply::own_text(&mail.text_body).lines;
        let end = signature::split(&lines).map_or(lines.len(), |(at, _)| at);
        theirs.push((
            vader_label(&lines[..end].join("\n")),
            mail.sentiment.as_str(),
        ));
    }
    let ours: Vec<(&str, &str)> = ours.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    SentimentScores {
        sentences: test.len(),
        mailroom: macro_f1(&ours, &SENTIMENTS),
        vader: macro_f1(&theirs, &SENTIMENTS),
    }
}
