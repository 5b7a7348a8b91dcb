//! {{name}}: a Mailroom classifier that tags urgent mail.
//!
//! A message is tagged `urgent` when one of the configured keywords occurs in
//! its subject or text body; each keyword found is a reason the user can
//! check. The contract it implements is `wit/v{{contract}}/classifier.wit`;
//! the data it reads and returns is in `wit/v{{contract}}/types.wit`.

use mailroom_plugin_sdk::prelude::*;

pub struct Plugin;

/// The config key an org admin sets (in the API or the console) to change
/// the keywords without rebuilding the plugin.
const KEYWORDS: &str = "keywords";
const DEFAULT_KEYWORDS: &str = "urgent,asap,deadline";

impl mailroom_plugin_sdk::Plugin for Plugin {
    fn metadata() -> Metadata {
        Metadata::new("{{name}}", env!("CARGO_PKG_VERSION"), PluginKind::Classifier)
            .description("Tags messages that mention an urgent keyword")
            .config_key(ConfigKey::optional(
                KEYWORDS,
                "Comma-separated words that make a message urgent",
                Some(DEFAULT_KEYWORDS),
            ))
    }
}

impl Classifier for Plugin {
    fn classify(message: Message) -> Result<Classification, String> {
        let keywords = keywords(&config::get_or(KEYWORDS, DEFAULT_KEYWORDS));
        let subject = message.subject.to_lowercase();
        let body = message.text_body.to_lowercase();

        let mut out = Classification::default();
        for keyword in &keywords {
            // One reason per keyword, from the first text it occurs in: the
            // subject is what a user sees first.
            let source = if subject.contains(keyword.as_str()) {
                TextSource::Subject
            } else if body.contains(keyword.as_str()) {
                TextSource::TextBody
            } else {
                continue;
            };
            out.reasons.push(
                Reason::new(
                    ClassificationPart::Tag,
                    "urgent",
                    format!("keyword:{keyword}"),
                    1.0,
                )
                .found(source, keyword.clone(), None),
            );
        }
        if !out.reasons.is_empty() {
            out.tags.push(ScoredLabel::new("urgent", 1.0));
        }
        log::info!(
            "{} keyword(s) matched in \"{}\"",
            out.reasons.len(),
            message.subject
        );
        Ok(out)
    }
}

/// `"Urgent, ASAP,,"` → `["urgent", "asap"]`.
fn keywords(setting: &str) -> Vec<String> {
    setting
        .split(',')
        .map(|k| k.trim().to_lowercase())
        .filter(|k| !k.is_empty())
        .collect()
}

mailroom_plugin_sdk::export_classifier!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_trimmed_lowercased_and_never_empty() {
        assert_eq!(keywords(" Urgent, ASAP,,"), ["urgent", "asap"]);
        assert!(keywords("").is_empty());
    }
}
