//! Contract `mailroom:plugin@0.1.0` (the frozen `wit/v0.1.0/` directory).
//!
//! One `bindgen!` per world; the later ones reuse the first one's `types`
//! and `host` modules through `with:` so every world shares one Rust type
//! per WIT type and one `host` implementation. [`adapt`] converts this
//! version's values to and from `latest`; the `host` imports of 0.1.0 are
//! implemented by delegating to the latest implementation (below).

pub const VERSION: &str = "0.1.0";

pub mod adapt;

mod classifier_world {
    wasmtime::component::bindgen!({
        world: "classifier-plugin",
        path: "../../../wit/v0.1.0",
        additional_derives: [serde::Serialize, serde::Deserialize],
    });
}

mod provider_world {
    wasmtime::component::bindgen!({
        world: "provider-plugin",
        path: "../../../wit/v0.1.0",
        additional_derives: [serde::Serialize, serde::Deserialize],
        with: {
            "mailroom:plugin/types": super::classifier_world::mailroom::plugin::types,
            "mailroom:plugin/host": super::classifier_world::mailroom::plugin::host,
        },
    });
}

mod filter_importer_world {
    wasmtime::component::bindgen!({
        world: "filter-importer-plugin",
        path: "../../../wit/v0.1.0",
        additional_derives: [serde::Serialize, serde::Deserialize],
        with: {
            "mailroom:plugin/types": super::classifier_world::mailroom::plugin::types,
            "mailroom:plugin/host": super::classifier_world::mailroom::plugin::host,
        },
    });
}

mod workflow_world {
    wasmtime::component::bindgen!({
        world: "workflow-plugin",
        path: "../../../wit/v0.1.0",
        additional_derives: [serde::Serialize, serde::Deserialize],
        with: {
            "mailroom:plugin/types": super::classifier_world::mailroom::plugin::types,
            "mailroom:plugin/host": super::classifier_world::mailroom::plugin::host,
        },
    });
}

pub use classifier_world::mailroom::plugin::{host, types};
pub use classifier_world::{ClassifierPlugin, ClassifierPluginPre};
pub use filter_importer_world::{FilterImporterPlugin, FilterImporterPluginPre};
pub use provider_world::{ProviderPlugin, ProviderPluginPre};
pub use workflow_world::{WorkflowPlugin, WorkflowPluginPre};

pub mod provider {
    pub use super::provider_world::exports::mailroom::plugin::provider::*;
}
pub mod filter_importer {
    pub use super::filter_importer_world::exports::mailroom::plugin::filter_importer::*;
}
pub mod workflow {
    pub use super::workflow_world::exports::mailroom::plugin::workflow::*;
}
pub mod classifier {
    pub use super::classifier_world::exports::mailroom::plugin::classifier::*;
}

super::world_pre!();

/// Adds the contract's imports (`host`, and the type-only `types`) to a linker.
pub fn add_to_linker<T: host::Host + types::Host + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
) -> wasmtime::Result<()> {
    ClassifierPlugin::add_to_linker::<T, wasmtime::component::HasSelf<T>>(linker, |state| state)
}

impl From<types::PluginKind> for crate::PluginKind {
    fn from(kind: types::PluginKind) -> Self {
        match kind {
            types::PluginKind::Provider => Self::Provider,
            types::PluginKind::FilterImporter => Self::FilterImporter,
            types::PluginKind::Workflow => Self::Workflow,
            types::PluginKind::Classifier => Self::Classifier,
        }
    }
}

impl From<types::Metadata> for crate::PluginMetadata {
    fn from(m: types::Metadata) -> Self {
        use crate::metadata::{ConfigKey, Permission};
        Self {
            name: m.name,
            version: m.version,
            kind: m.kind.into(),
            description: m.description,
            config_keys: m
                .config_keys
                .into_iter()
                .map(|k| ConfigKey {
                    name: k.name,
                    description: k.description,
                    required: k.required,
                    default_value: k.default_value,
                })
                .collect(),
            permissions: m
                .permissions
                .into_iter()
                .map(|p| match p {
                    types::Permission::KeyValue => Permission::KeyValue,
                    types::Permission::OutboundHttp(hosts) => Permission::OutboundHttp(hosts),
                })
                .collect(),
        }
    }
}

/// 0.1.0's `types` declares no functions; linking it only makes its types importable.
impl types::Host for crate::state::InvocationState {}

/// 0.1.0's `host` is 0.2.0's: every call goes to the latest implementation,
/// so old plugins see the same config, key-value store, limits and clock.
impl host::Host for crate::state::InvocationState {
    fn log(&mut self, level: host::LogLevel, message: String) {
        use adapt::Adapt;
        super::latest::host::Host::log(self, level.adapt(), message)
    }

    fn config_get(&mut self, key: String) -> Option<String> {
        super::latest::host::Host::config_get(self, key)
    }

    fn config_all(&mut self) -> Vec<(String, String)> {
        super::latest::host::Host::config_all(self)
    }

    fn kv_get(&mut self, key: String) -> Option<Vec<u8>> {
        super::latest::host::Host::kv_get(self, key)
    }

    fn kv_set(&mut self, key: String, value: Vec<u8>) -> Result<(), host::KvError> {
        use adapt::Adapt;
        super::latest::host::Host::kv_set(self, key, value).map_err(Adapt::adapt)
    }

    fn kv_delete(&mut self, key: String) {
        super::latest::host::Host::kv_delete(self, key)
    }

    fn now(&mut self) -> i64 {
        super::latest::host::Host::now(self)
    }
}
