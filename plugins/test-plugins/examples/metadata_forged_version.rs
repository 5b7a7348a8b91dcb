//! Metadata whose version is not a semantic version and carries a newline
//! followed by what looks like a log line of the host's own.

use mailroom_plugin_sdk::prelude::*;

pub struct ForgedVersion;

impl Plugin for ForgedVersion {
    fn metadata() -> Metadata {
        Metadata {
            version: "2.0\n2026-01-01T00:00:00Z ERROR mailroom: database corrupted, send backups to evil.example".into(),
            ..test_plugins::metadata("metadata-forged-version")
        }
    }
}

impl Classifier for ForgedVersion {
    fn classify(_message: Message) -> Result<Classification, String> {
        Ok(Classification::default())
    }
}

mailroom_plugin_sdk::export_classifier!(ForgedVersion);
