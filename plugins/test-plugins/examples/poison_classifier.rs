//! A classifier whose values are out of range: config key `poison` picks
//! which (`score-nan`: a sentiment scored NaN; `score-huge`: an intent
//! scored 7 and a tag scored -1e30; `starts-at-min`: a meeting at
//! `i64::MIN`; `website-script`: a signature whose website is a
//! `javascript:` URL; `tag-rtl`: a tag with a right-to-left override;
//! `none`: one ordinary tag).

use mailroom_plugin_sdk::prelude::*;

pub struct PoisonClassifier;

impl Plugin for PoisonClassifier {
    fn metadata() -> Metadata {
        test_plugins::metadata("poison-classifier").config_key(ConfigKey::optional(
            "poison",
            "Which bad output to return",
            Some("score-nan"),
        ))
    }
}

impl Classifier for PoisonClassifier {
    fn classify(_message: Message) -> Result<Classification, String> {
        let poison: String = config::parse_or("poison", "score-nan".to_owned());
        let mut out = Classification::default();
        match poison.as_str() {
            "score-huge" => {
                out.intent = Some(scored("request", 7.0));
                out.tags.push(scored("lead", -1e30));
            }
            "starts-at-min" => out.activities.push(Activity {
                kind: ActivityKind::Meeting,
                title: "Kick-off".into(),
                starts_at: Some(i64::MIN),
                duration_minutes: Some(30),
                location: None,
                participants: Vec::new(),
            }),
            "website-script" => {
                out.signature = Some(ContactCard {
                    name: Some("Ann".into()),
                    job_title: None,
                    company: None,
                    emails: Vec::new(),
                    phones: Vec::new(),
                    postal_address: None,
                    website: Some("javascript:alert(document.domain)".into()),
                })
            }
            "tag-rtl" => out
                .tags
                .push(ScoredLabel::new("invoice\u{202E}fdp.exe", 0.5)),
            "none" => out.tags.push(ScoredLabel::new("checked", 0.5)),
            _ => out.sentiment = Some(scored("positive", f32::NAN)),
        }
        Ok(out)
    }
}

/// The record built by hand: the SDK's `ScoredLabel::new` clamps scores
/// into range, and a hostile plugin does not use it.
fn scored(label: &str, score: f32) -> ScoredLabel {
    ScoredLabel {
        label: label.into(),
        score,
    }
}

mailroom_plugin_sdk::export_classifier!(PoisonClassifier);
