//! Trains the two models the classifier embeds
//! (`plugins/classifier-keywords-core/data/intent/`):
//!
//! - `request-model.bin`: does a sentence ask the reader for something?
//!   Logistic regression over the classifier's hashed sentence features, on
//!   the training part of the Parakweet sentences;
//! - `intent-model.bin`: the six intents of a whole message, one-vs-rest
//!   logistic regression over what `reading::intent_features` gives, on the
//!   train part of `tests/data/zia-emails`. The Parakweet sentences reach
//!   it through the request model, whose verdict on the mail's sentences
//!   is one of its cues; training the `request` head on them directly as
//!   one-sentence messages was worse in cross-validation (they call "are
//!   you free on Tuesday?" a request; the six labels call it a meeting).
//!
//! Never the held-out parts (`zia_eval::parakweet`, `zia_eval::labelled`).
//! Deterministic: same data, same files. With `--cross-validate` it writes
//! nothing and prints the five-fold cross-validation on the training mails
//! that chose the cue weight.
//!
//!     cargo run --release --manifest-path plugins/Cargo.toml -p zia-eval --bin train-intent

use classifier_keywords_core::features::{self, sentence_features};
use classifier_keywords_core::intent_model::{self, CUE_REPEATS, Head, LABELS, MessageFeatures};
use classifier_keywords_core::reading::intent_features_with;
use classifier_keywords_core::{Email, model};
use std::path::PathBuf;
use zia_eval::labelled::LabelledMail;
use zia_eval::metrics::macro_f1;
use zia_eval::parakweet::{Sentence, fnv1a};
use zia_eval::training::{Example, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../classifier-keywords-core/data/intent");
    let split = zia_eval::parakweet::load()?;

    // Each feature counts as often as it fires; the bias is a feature.
    let sentences: Vec<Example> = split
        .train
        .iter()
        .map(|s| Example {
            buckets: sentence_features(&s.text),
            value: 1.0,
            truth: f32::from(u8::from(s.is_request)),
        })
        .collect();
    let request = train(&sentences, features::BUCKETS, false);
    std::fs::write(
        out_dir.join("request-model.bin"),
        model::encode(&request.weights),
    )?;
    eprintln!(
        "request model: {} sentences ({} held out), log-loss {:.4}",
        sentences.len(),
        split.held_out.len(),
        request.loss
    );

    let mails = zia_eval::labelled::load()?.train;
    if std::env::args().any(|a| a == "--cross-validate") {
        cross_validate(&mails, &split.train);
        return Ok(());
    }
    let mail_examples: Vec<(MessageFeatures, &str)> = mails
        .iter()
        .map(|m| {
            (
                features_of(&m.subject, &m.text_body, CUE_REPEATS),
                m.intent.as_str(),
            )
        })
        .collect();
    let heads = train_heads(&mail_examples, &[]);
    std::fs::write(
        out_dir.join("intent-model.bin"),
        intent_model::encode(&heads),
    )?;
    eprintln!(
        "intent model: {} training mails, wrote {}",
        mails.len(),
        out_dir.display()
    );
    Ok(())
}

fn features_of(subject: &str, body: &str, cue_repeats: usize) -> MessageFeatures {
    intent_features_with(
        &Email {
            subject,
            text_body: body,
        },
        cue_repeats,
    )
}

/// The Parakweet sentences as one-sentence messages, for the `request`
/// head.
fn parakweet_examples(sentences: &[Sentence], cue_repeats: usize) -> Vec<(MessageFeatures, bool)> {
    sentences
        .iter()
        .map(|s| (features_of("", &s.text, cue_repeats), s.is_request))
        .collect()
}

fn example(features: &MessageFeatures, truth: bool) -> Example {
    Example {
        buckets: features.buckets.clone(),
        value: features.value,
        truth: f32::from(u8::from(truth)),
    }
}

/// One head per label: every mail trains every head; the sentences, when
/// given, train the `request` head only.
fn train_heads(
    mails: &[(MessageFeatures, &str)],
    sentences: &[(MessageFeatures, bool)],
) -> Vec<Head> {
    LABELS
        .iter()
        .map(|label| {
            let mut examples: Vec<Example> = mails
                .iter()
                .map(|(f, truth)| example(f, truth == label))
                .collect();
            if *label == "request" {
                examples.extend(sentences.iter().map(|(f, asks)| example(f, *asks)));
            }
            let head = train(&examples, intent_model::BUCKETS, true);
            Head {
                bias: head.bias,
                weights: head.weights,
            }
        })
        .collect()
}

fn predict(heads: &[Head], f: &MessageFeatures) -> usize {
    let score = |h: &Head| {
        h.bias
            + f.value
                * f.buckets
                    .iter()
                    .map(|&b| h.weights[b as usize])
                    .sum::<f32>()
    };
    (0..heads.len())
        .max_by(|&a, &b| {
            score(&heads[a])
                .total_cmp(&score(&heads[b]))
                .then(b.cmp(&a))
        })
        .unwrap_or(0)
}

/// Five folds of the training mails (by a hash of the id other than the
/// test split's), for each choice of cue weight and of whether the
/// Parakweet sentences train the `request` head: the pooled macro-F1 of
/// the six labels. The test part is not read.
fn cross_validate(mails: &[LabelledMail], sentences: &[Sentence]) {
    for cue_repeats in [1, 4, 8] {
        let features: Vec<(MessageFeatures, &str)> = mails
            .iter()
            .map(|m| {
                (
                    features_of(&m.subject, &m.text_body, cue_repeats),
                    m.intent.as_str(),
                )
            })
            .collect();
        let parakweet = parakweet_examples(sentences, cue_repeats);
        for with_sentences in [true, false] {
            let mut pairs: Vec<(&str, &str)> = Vec::new();
            for fold in 0..5 {
                let in_fold = |m: &LabelledMail| (fnv1a(m.id.as_bytes()) / 5) % 5 == fold;
                let train_part: Vec<(MessageFeatures, &str)> = mails
                    .iter()
                    .zip(&features)
                    .filter(|(m, _)| !in_fold(m))
                    .map(|(_, f)| f.clone())
                    .collect();
                let heads = train_heads(&train_part, if with_sentences { &parakweet } else { &[] });
                for (m, (f, truth)) in mails.iter().zip(&features) {
                    if in_fold(m) {
                        pairs.push((LABELS[predict(&heads, f)], truth));
                    }
                }
            }
            println!(
                "cue repeats {cue_repeats}, Parakweet in the request head {with_sentences}: macro-F1 {:.3}",
                macro_f1(&pairs, &LABELS)
            );
        }
    }
}
