//! Generated bindings for every contract version the host supports, and the
//! one type that dispatches a call to the right version and kind.
//!
//! Each version lives in its own module, generated from its frozen folder
//! `wit/vX.Y.Z/`. `latest` is what the rest of the host programs against; an
//! older version's module converts its values to and from `latest`
//! (`v0_1_0::adapt`), so adapting old plugins happens there and nowhere
//! else. [`dispatch::WorldPre`] holds a component's pre-instantiated world
//! per version × kind and offers every call with `latest`'s types.
//!
//! Adding a version: freeze `wit/vX.Y.Z/`, add its module (bindgen from that
//! folder) with an `adapt` from its values to the new latest, add it to
//! [`SUPPORTED_CONTRACT_VERSIONS`] (in `wit/versions.rs`), to
//! `dispatch::WorldPre`, and to the linker in `add_to_linker`.

pub mod dispatch;
pub mod v0_1_0;
pub mod v0_2_0;

pub use v0_2_0 as latest;

// The contract versions the host accepts, oldest first, the last one being
// `latest`: `SUPPORTED_CONTRACT_VERSIONS`. The file is shared with the SDK
// (`plugins/sdk`), so host, SDK and docs name the same list; a test checks
// that it matches the bindings modules, the `wit/` folders and wit/README.md.
include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../wit/versions.rs"
));

/// Links the `host` and `types` imports of every supported version; each
/// older version's `host` delegates to the latest implementation.
pub fn add_to_linker(
    linker: &mut wasmtime::component::Linker<crate::state::InvocationState>,
) -> wasmtime::Result<()> {
    v0_1_0::add_to_linker(linker)?;
    v0_2_0::add_to_linker(linker)?;
    Ok(())
}

/// The names every version module exports, over its own `bindgen!` worlds
/// (the same in every version; only the WIT behind them differs), and the
/// linking of its imports.
macro_rules! version_exports {
    () => {
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
        pub fn add_to_linker<T: host::Host + types::Host + Send + 'static>(
            linker: &mut wasmtime::component::Linker<T>,
        ) -> wasmtime::Result<()> {
            ClassifierPlugin::add_to_linker::<T, wasmtime::component::HasSelf<T>>(linker, |state| {
                state
            })
        }
    };
}
use version_exports;

/// The per-kind world types of one version: `WorldPre` (an enum with one
/// pre-instantiated world per kind) and its constructor. Expanded in each
/// version's module, where the bindgen types are in scope.
macro_rules! world_pre {
    () => {
        /// A component's pre-instantiated world of this version, by kind.
        pub enum WorldPre<T: 'static> {
            Provider(ProviderPluginPre<T>),
            FilterImporter(FilterImporterPluginPre<T>),
            Workflow(WorkflowPluginPre<T>),
            Classifier(ClassifierPluginPre<T>),
        }

        impl<T: 'static> WorldPre<T> {
            /// Type-checks the component's exports against this version's
            /// world of `kind`.
            pub fn new(
                kind: crate::PluginKind,
                pre: wasmtime::component::InstancePre<T>,
            ) -> wasmtime::Result<Self> {
                use crate::PluginKind as K;
                Ok(match kind {
                    K::Provider => Self::Provider(ProviderPluginPre::new(pre)?),
                    K::FilterImporter => Self::FilterImporter(FilterImporterPluginPre::new(pre)?),
                    K::Workflow => Self::Workflow(WorkflowPluginPre::new(pre)?),
                    K::Classifier => Self::Classifier(ClassifierPluginPre::new(pre)?),
                })
            }
        }
    };
}
pub(crate) use world_pre;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_supported_versions_are_the_bindings_modules_oldest_first() {
        assert_eq!(
            SUPPORTED_CONTRACT_VERSIONS,
            [v0_1_0::VERSION, v0_2_0::VERSION]
        );
        assert_eq!(SUPPORTED_CONTRACT_VERSIONS.last(), Some(&latest::VERSION));
        assert_eq!(CONTRACT_VERSION, latest::VERSION);
    }

    #[test]
    fn every_supported_version_has_its_frozen_wit_folder_and_is_documented() {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../wit");
        let mut folders: Vec<String> = std::fs::read_dir(&wit)
            .expect("read wit/")
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str()?.strip_prefix('v').map(str::to_owned))
            .collect();
        folders.sort_by_key(|v| {
            v.split('.')
                .map(|n| n.parse::<u32>().unwrap_or(0))
                .collect::<Vec<_>>()
        });
        assert_eq!(folders, SUPPORTED_CONTRACT_VERSIONS);
        let readme = std::fs::read_to_string(wit.join("README.md")).expect("wit/README.md");
        for version in SUPPORTED_CONTRACT_VERSIONS {
            let package = format!("mailroom:plugin@{version}");
            assert!(
                readme.contains(&package),
                "wit/README.md does not mention {package}"
            );
            let types = std::fs::read_to_string(wit.join(format!("v{version}/types.wit")))
                .expect("types.wit");
            assert!(types.starts_with(&format!("package {package};")));
        }
    }
}
