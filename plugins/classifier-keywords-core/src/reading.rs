//! One message read once, for every analysis: the sender's own text split
//! from its signature, the mood, and the intent: the phrase rules
//! ([`crate::intent`]), the request model per sentence ([`crate::model`])
//! and the six-label model over the whole message
//! ([`crate::intent_model`]). [`intent_features`] gives the trainer exactly
//! what [`crate::classify`] gives the model.

use crate::features::sentence_features;
use crate::intent::{self, Ask, Intent, IntentResult};
use crate::intent_model::{self, LABELS, MessageFeatures};
use crate::sentiment::{self, Sentiment};
use crate::signature::{self, Signature};
use crate::{Email, model, reply, text, when};

/// The sender's own text without the signature, and where its content
/// starts after a greeting.
pub struct SenderText {
    pub text: String,
    /// Byte offset in `text` of the first line after the greeting; `None`
    /// when the text is blank.
    pub content_from: Option<usize>,
    pub signature: Option<Signature>,
}

impl SenderText {
    pub fn read(body: &str) -> Self {
        let lines = reply::own_text(body).lines;
        let (own_end, signature) = match signature::split(&lines) {
            Some((start, block)) => {
                let card = signature::parse(&block);
                (start, (!card.is_empty()).then_some(card))
            }
            None => (lines.len(), None),
        };
        let own = &lines[..own_end];
        let content_from = crate::summary_start(own)
            .map(|skip| own[..skip].iter().map(|l| l.len() + 1).sum::<usize>());
        SenderText {
            text: own.join("\n"),
            content_from,
            signature,
        }
    }

    /// The text after the greeting.
    pub fn content(&self) -> &str {
        self.content_from
            .and_then(|at| self.text.get(at..))
            .unwrap_or("")
    }
}

/// The body's sentiment; the subject's when the body is neutral (subjects
/// are terse and often just a topic). `true` when it came from the subject.
pub fn mood(email: &Email<'_>, own: &SenderText) -> (Sentiment, bool) {
    let body = sentiment::analyze(&own.text);
    if body.label == "neutral" {
        let subject = sentiment::analyze(email.subject);
        if subject.label != "neutral" {
            return (subject, true);
        }
    }
    (body, false)
}

/// Everything the intent decision reads.
pub struct IntentInputs<'a> {
    pub asks: Vec<Ask<'a>>,
    pub subject_features: Vec<Vec<u32>>,
    /// Sentence features of each body sentence, in `asks`' body order.
    pub body_features: Vec<Vec<u32>>,
    pub rules: IntentResult,
    /// What the rest of the classifier says, as the model's cue names.
    pub cues: Vec<String>,
    pub features: MessageFeatures,
}

/// The six labels' name for a rule verdict: buying and unsubscribing ask
/// the reader to do something.
pub fn six_label(intent: Intent) -> &'static str {
    match intent {
        Intent::Purchase | Intent::Unsubscribe => "request",
        other => other.label(),
    }
}

pub fn intent_inputs<'a>(
    email: &Email<'a>,
    own: &'a SenderText,
    mood: &Sentiment,
) -> IntentInputs<'a> {
    let subject_sentences = text::sentences(email.subject);
    let body_sentences = text::sentences(own.content());
    let subject_features: Vec<Vec<u32>> = subject_sentences
        .iter()
        .map(|s| sentence_features(s))
        .collect();
    let body_features: Vec<Vec<u32>> = body_sentences
        .iter()
        .map(|s| sentence_features(s))
        .collect();
    let asks: Vec<Ask<'a>> = subject_sentences
        .iter()
        .zip(&subject_features)
        .map(|(s, f)| (*s, f, true))
        .chain(
            body_sentences
                .iter()
                .zip(&body_features)
                .map(|(s, f)| (*s, f, false)),
        )
        .map(|(sentence, features, in_subject)| Ask {
            sentence,
            probability: model::sigmoid(model::logit(features)),
            in_subject,
        })
        .collect();
    let rules = intent::analyze(
        &text::Tokens::new(email.subject),
        &text::Tokens::new(&own.text),
        &asks,
    );
    let best_ask = asks.iter().map(|a| a.probability).fold(0.0f32, f32::max);
    let written_time = when::Reference {
        epoch_ms: 0,
        offset_minutes: 0,
    };
    let has_time = when::resolve(email.subject, written_time).is_some()
        || when::resolve(&own.text, written_time).is_some();
    let questions = body_sentences
        .iter()
        .chain(&subject_sentences)
        .filter(|s| s.trim_end().ends_with('?'))
        .count();
    let mut cues: Vec<String> = vec![
        format!("rule:{}", rules.intent.label()),
        format!("mood:{}", mood.label),
        format!(
            "ask:{}",
            match best_ask {
                p if p >= 0.75 => "high",
                p if p >= 0.5 => "yes",
                p if p >= 0.25 => "maybe",
                _ => "no",
            }
        ),
        format!("questions:{}", questions.min(3)),
    ];
    if has_time {
        cues.push("time".to_string());
    }
    cues.extend(rules.tags.iter().map(|(tag, _)| format!("tag:{tag}")));
    let cue_refs: Vec<&str> = cues.iter().map(String::as_str).collect();
    let features = intent_model::message_features(&subject_features, &body_features, &cue_refs);
    IntentInputs {
        asks,
        subject_features,
        body_features,
        rules,
        cues,
        features,
    }
}

/// What the intent model reads of `email`: the trainer's input.
pub fn intent_features(email: &Email<'_>) -> MessageFeatures {
    intent_features_with(email, intent_model::CUE_REPEATS)
}

/// [`intent_features`] with another weight for the cues (cross-validation).
pub fn intent_features_with(email: &Email<'_>, cue_repeats: usize) -> MessageFeatures {
    let own = SenderText::read(email.text_body);
    let (mood, _) = mood(email, &own);
    let inputs = intent_inputs(email, &own, &mood);
    let cues: Vec<&str> = inputs.cues.iter().map(String::as_str).collect();
    intent_model::message_features_with(
        &inputs.subject_features,
        &inputs.body_features,
        &cues,
        cue_repeats,
    )
}

/// The intent: the label with the highest probability, every label's
/// share of the six heads' probabilities, and the evidence (the body sentence that speaks most for
/// the label, then the rules' phrases when they agree).
pub struct IntentDecision {
    pub label: &'static str,
    pub score: f32,
    pub scores: [f32; 6],
    pub evidence: Vec<intent::Evidence>,
    pub tags: Vec<(&'static str, f32)>,
}

pub fn decide(inputs: &IntentInputs<'_>) -> IntentDecision {
    // The heads are independent; shares of their sum read as "how sure,
    // among the six" and add up to one.
    let mut scores = intent_model::probabilities(&inputs.features);
    let total: f32 = scores.iter().sum();
    if total > 0.0 {
        scores.iter_mut().for_each(|p| *p /= total);
    }
    let winner = (0..LABELS.len())
        .max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)))
        .unwrap_or(LABELS.len() - 1);
    let label = LABELS[winner];
    let mut evidence = Vec::new();
    let body_asks = inputs.asks.iter().filter(|a| !a.in_subject);
    let deciding = body_asks
        .zip(&inputs.body_features)
        .map(|(ask, f)| (ask, intent_model::sentence_weight(winner, f)))
        .filter(|(_, w)| *w > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((ask, _)) = deciding {
        evidence.push(intent::Evidence {
            feature: format!("model:{label}"),
            text: ask.sentence.to_string(),
            in_subject: false,
            weight: scores[winner],
        });
    }
    if six_label(inputs.rules.intent) == label {
        evidence.extend(
            inputs
                .rules
                .evidence
                .iter()
                .filter(|e| !e.feature.starts_with("model:"))
                .cloned(),
        );
    }
    // Buying and unsubscribing are requests now; they stay visible as tags.
    let mut tags = inputs.rules.tags.clone();
    if matches!(inputs.rules.intent, Intent::Purchase | Intent::Unsubscribe) {
        tags.insert(0, (inputs.rules.intent.label(), inputs.rules.score));
    }
    IntentDecision {
        label,
        score: scores[winner],
        scores,
        evidence,
        tags,
    }
}
