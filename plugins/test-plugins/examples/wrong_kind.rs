//! Exports the classifier world but its metadata claims to be a workflow:
//! the host must refuse it at upload.

use mailroom_plugin_sdk::prelude::*;

pub struct WrongKind;

impl Plugin for WrongKind {
    fn metadata() -> Metadata {
        Metadata {
            kind: PluginKind::Workflow,
            ..test_plugins::metadata("wrong-kind")
        }
    }
}

impl Classifier for WrongKind {
    fn classify(_message: Message) -> Result<Classification, String> {
        Ok(Classification::default())
    }
}

mailroom_plugin_sdk::export_classifier!(WrongKind);
