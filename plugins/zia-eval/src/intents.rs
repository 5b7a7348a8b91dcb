//! Intent on the test part of the labelled set: the whole classifier's
//! label against the six labels of `tests/data/zia-emails`, per label
//! precision, recall and F1, and their macro average.

use crate::labelled::{INTENTS, LabelledMail};
use crate::metrics::{Confusion, macro_f1};
use classifier_keywords_core::{Email, classify};

pub struct IntentScores {
    pub mails: usize,
    /// One per label of [`INTENTS`], in that order.
    pub per_label: Vec<(&'static str, Confusion)>,
    pub macro_f1: f64,
    /// (id, truth, predicted) of every miss, for reading.
    pub misses: Vec<(String, String, String)>,
}

pub fn predict(mail: &LabelledMail) -> String {
    classify(&Email {
        subject: &mail.subject,
        text_body: &mail.text_body,
    })
    .intent
    .label
}

pub fn evaluate(test: &[LabelledMail]) -> IntentScores {
    let predicted: Vec<String> = test.iter().map(predict).collect();
    let pairs: Vec<(&str, &str)> = predicted
        .iter()
        .zip(test)
        .map(|(p, m)| (p.as_str(), m.intent.as_str()))
        .collect();
    let per_label = INTENTS
        .iter()
        .map(|&label| {
            let mut c = Confusion::default();
            for (p, t) in &pairs {
                c.add(*p == label, *t == label);
            }
            (label, c)
        })
        .collect();
    IntentScores {
        mails: test.len(),
        per_label,
        macro_f1: macro_f1(&pairs, &INTENTS),
        misses: pairs
            .iter()
            .zip(test)
            .filter(|((p, t), _)| p != t)
            .map(|((p, t), m)| (m.id.clone(), t.to_string(), p.to_string()))
            .collect(),
    }
}
