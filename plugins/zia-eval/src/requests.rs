//! Request detection on the held-out Parakweet sentences: the learned model
//! alone (sentence in, probability out) and the whole classifier (the
//! sentence as a message body; `request`, `question` and `meeting` all ask
//! the reader for something).

use crate::metrics::Confusion;
use crate::parakweet::Sentence;
use classifier_keywords_core::{Email, classify, model};

pub struct RequestScores {
    pub sentences: usize,
    pub requests: usize,
    pub model: Confusion,
    pub classifier: Confusion,
}

pub fn evaluate(held_out: &[Sentence]) -> RequestScores {
    let mut scores = RequestScores {
        sentences: held_out.len(),
        requests: held_out.iter().filter(|s| s.is_request).count(),
        model: Confusion::default(),
        classifier: Confusion::default(),
    };
    for s in held_out {
        scores
            .model
            .add(model::request_probability(&s.text) >= 0.5, s.is_request);
        let label = classify(&Email {
            subject: "",
            text_body: &s.text,
        })
        .intent
        .label;
        let asks = matches!(label.as_str(), "request" | "question" | "meeting");
        scores.classifier.add(asks, s.is_request);
    }
    scores
}
