//! A well-behaved probe: shows what config and key-value state the host gives
//! it, for the config/kv isolation tests (and a cheap call for benchmarks).
//!
//! Tags: `config:<value of key "probe" or none>`, `counter:<n>` where `n` is
//! the kv counter after this call's increment (`counter:error:<e>` if the
//! write was refused). The intent label is `config-all:<k=v;…>` (sorted), so
//! tests can see everything `config-all` returned. The summary is the subject.

use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::types::Permission;

pub struct Probe;

impl Plugin for Probe {
    fn metadata() -> Metadata {
        // The host refuses config keys a plugin did not declare.
        test_plugins::metadata("probe")
            .config_key(ConfigKey::optional(
                "probe",
                "Echoed back as the tag `config:<value>`",
                None,
            ))
            .permission(Permission::KeyValue)
    }
}

impl Classifier for Probe {
    fn classify(message: Message) -> Result<Classification, String> {
        let value = config::get("probe").unwrap_or_else(|| "none".into());
        let mut all = config::all();
        all.sort();
        let all: Vec<String> = all.into_iter().map(|(k, v)| format!("{k}={v}")).collect();

        let next = kv::get_u64("counter").unwrap_or(0).wrapping_add(1);
        let counter = match kv::set_u64("counter", next) {
            Ok(()) => format!("counter:{next}"),
            Err(e) => format!("counter:error:{e:?}"),
        };

        let mut out = test_plugins::tagged([format!("config:{value}"), counter]);
        out.intent = Some(ScoredLabel::new(
            format!("config-all:{}", all.join(";")),
            1.0,
        ));
        out.summary = Some(message.subject);
        Ok(out)
    }
}

mailroom_plugin_sdk::export_classifier!(Probe);
