//! The keyword classifier plugin: a thin wrapper that runs
//! [`classifier_keywords_core::classify`] on a message's subject and text body
//! and converts the result to the contract's `classification`.
//!
//! The logic lives in `classifier-keywords-core` so the host can benchmark
//! the same code natively.

use classifier_keywords_core::{Analysis, Email, Part, Signature, when};
use mailroom_plugin_sdk::prelude::*;

pub struct KeywordClassifier;

impl Plugin for KeywordClassifier {
    fn metadata() -> Metadata {
        Metadata::new(
            "classifier-keywords",
            env!("CARGO_PKG_VERSION"),
            PluginKind::Classifier,
        )
        .description(
            "Sentiment, intent (request, question, complaint, meeting, thanks, other) from a \
                 learned model, a short summary, the sender's signature, a meeting's time and \
                 topic tags, in English",
        )
    }
}

impl Classifier for KeywordClassifier {
    fn classify(message: Message) -> Result<Classification, String> {
        let analysis = classifier_keywords_core::classify(&Email {
            subject: &message.subject,
            text_body: &message.text_body,
        });
        Ok(to_classification(&message, analysis))
    }
}

mailroom_plugin_sdk::export_classifier!(KeywordClassifier);

/// Converts the core's result, filling in what only the message knows (the
/// sender's address for the contact card and the meeting participants).
pub fn to_classification(message: &Message, analysis: Analysis) -> Classification {
    let sender = message.from_email().map(str::to_string);
    let meeting_time = (analysis.intent.label == "meeting")
        .then(|| meeting_start(message))
        .flatten();
    let activities = if analysis.intent.label == "meeting" {
        let details = classifier_keywords_core::meeting_details(&Email {
            subject: &message.subject,
            text_body: &message.text_body,
        });
        vec![Activity {
            kind: ActivityKind::Meeting,
            title: match message.base_subject() {
                "" => "Meeting".to_string(),
                subject => subject.to_string(),
            },
            starts_at: meeting_time.as_ref().map(|(w, _)| w.epoch_ms),
            duration_minutes: details.duration_minutes,
            location: details.location,
            participants: sender.iter().cloned().collect(),
        }]
    } else {
        Vec::new()
    };
    Classification {
        sentiment: Some(ScoredLabel::new(
            analysis.sentiment.label,
            analysis.sentiment.score,
        )),
        intent: Some(ScoredLabel::new(
            analysis.intent.label,
            analysis.intent.score,
        )),
        summary: analysis.summary,
        signature: analysis.signature.map(|s| card(s, sender)),
        activities,
        tags: analysis
            .tags
            .into_iter()
            .map(|t| ScoredLabel::new(t.label, t.score))
            .collect(),
        reasons: analysis
            .reasons
            .into_iter()
            .map(reason)
            .chain(meeting_time.map(|(w, source)| {
                Reason::new(ClassificationPart::Activity, "", "time:written", 1.0)
                    .at(0)
                    .found(source, w.text, None)
            }))
            .collect(),
    }
}

/// The meeting's start written in the subject or the sender's own text,
/// resolved against the Date header (its time and UTC offset).
fn meeting_start(message: &Message) -> Option<(when::When, TextSource)> {
    let sent = when::Reference {
        epoch_ms: message.date?,
        offset_minutes: message
            .header("Date")
            .and_then(when::header_offset_minutes)
            .unwrap_or(0),
    };
    let email = Email {
        subject: &message.subject,
        text_body: &message.text_body,
    };
    classifier_keywords_core::meeting_start(&email, sent).map(|(w, in_subject)| {
        let source = if in_subject {
            TextSource::Subject
        } else {
            TextSource::TextBody
        };
        (w, source)
    })
}

fn reason(r: classifier_keywords_core::Reason) -> Reason {
    let part = match r.part {
        Part::Sentiment => ClassificationPart::Sentiment,
        Part::Intent => ClassificationPart::Intent,
    };
    let source = if r.in_subject {
        TextSource::Subject
    } else {
        TextSource::TextBody
    };
    Reason::new(part, r.label, r.feature, r.weight).found(source, r.text, None)
}

fn card(sig: Signature, sender: Option<String>) -> ContactCard {
    let mut emails = sig.emails;
    // The signature is the sender's: their address belongs on the card even
    // when the signature does not repeat it.
    if emails.is_empty() {
        emails.extend(sender);
    }
    ContactCard {
        name: sig.name,
        job_title: sig.job_title,
        company: sig.company,
        emails,
        phones: sig.phones,
        postal_address: sig.postal_address,
        website: sig.website,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_time_from_the_subject_and_the_date_header() {
        let message = Message {
            subject: "Meeting Wed 12 Nov 15:00 UTC".into(),
            text_body: "Hi, can we meet to go through the agenda? 30 minutes on \
                        https://meet.google.com/abc-defg-hij should do.\n\nAnna\n"
                .into(),
            from: vec![Address::new(Some("Anna Berg"), "anna@example.se")],
            // Mon, 10 Nov 2025 09:00:00 +0100
            date: Some(1_762_761_600_000),
            headers: vec![Header {
                name: "Date".into(),
                value: "Mon, 10 Nov 2025 09:00:00 +0100".into(),
            }],
            ..Default::default()
        };
        let c = KeywordClassifier::classify(message).unwrap();
        assert_eq!(c.activities.len(), 1);
        // Wed, 12 Nov 2025 15:00:00 UTC
        assert_eq!(c.activities[0].starts_at, Some(1_762_959_600_000));
        assert_eq!(c.activities[0].duration_minutes, Some(30));
        assert_eq!(
            c.activities[0].location.as_deref(),
            Some("https://meet.google.com/abc-defg-hij")
        );
        let reason = c
            .reasons
            .iter()
            .find(|r| r.part == ClassificationPart::Activity)
            .unwrap();
        assert_eq!(reason.evidence.as_ref().unwrap().text, "Wed 12 Nov 15:00");
    }

    #[test]
    fn meeting_with_signature() {
        let message = Message {
            subject: "Re: Call next week".into(),
            text_body: "Hi Sam,\n\nAre you available for a call on Tuesday? I can send a calendar invite.\n\nBest regards,\nAnna Berg\nHead of Sales\n+46 8 123 456 78\n"
                .into(),
            from: vec![Address::new(Some("Anna Berg"), "anna@example.se")],
            ..Default::default()
        };
        let c = KeywordClassifier::classify(message).unwrap();
        assert_eq!(c.intent.as_ref().map(|i| i.label.as_str()), Some("meeting"));
        assert_eq!(c.activities.len(), 1);
        assert_eq!(c.activities[0].title, "Call next week");
        assert_eq!(c.activities[0].participants, ["anna@example.se"]);
        let card = c.signature.unwrap();
        assert_eq!(card.name.as_deref(), Some("Anna Berg"));
        assert_eq!(card.job_title.as_deref(), Some("Head of Sales"));
        assert_eq!(card.emails, ["anna@example.se"]);
        assert_eq!(card.phones, ["+46 8 123 456 78"]);
        // The intent's reason names the phrase that decided it.
        let intent_reasons: Vec<_> = c
            .reasons
            .iter()
            .filter(|r| r.part == ClassificationPart::Intent)
            .collect();
        assert!(
            intent_reasons
                .iter()
                .any(|r| r.label == "meeting" && r.feature.starts_with("cue:")),
            "{intent_reasons:?}"
        );
        assert!(intent_reasons.iter().all(|r| r.evidence.is_some()));
    }
}
