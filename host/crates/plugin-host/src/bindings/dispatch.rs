//! The version × kind dispatch: a component's pre-instantiated world, for
//! the contract version it was built against and the kind it implements,
//! and every plugin call with `latest`'s types. Calls to an older version
//! convert their input and output through that version's `adapt` module, so
//! the rest of the host never sees which version a plugin targets.

use super::v0_1_0::adapt::Adapt;
use super::{latest as api, v0_1_0 as old};
use crate::PluginKind;
use crate::contract::World;
use crate::metadata::PluginMetadata;
use crate::state::InvocationState;
use wasmtime::Store;
use wasmtime::component::InstancePre;

type State = InvocationState;

/// A component's typed, pre-instantiated world: one case per supported
/// contract version, each holding one case per kind.
pub enum WorldPre {
    V0_1_0(old::WorldPre<State>),
    V0_2_0(api::WorldPre<State>),
}

/// A call for another kind than the component implements (a host bug).
#[derive(Debug)]
pub struct WrongWorld(pub PluginKind);

impl std::fmt::Display for WrongWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the plugin is not a {} plugin", self.0)
    }
}

impl std::error::Error for WrongWorld {}

fn wrong_world(wanted: PluginKind) -> wasmtime::Error {
    wasmtime::Error::msg(WrongWorld(wanted))
}

/// The `metadata` export, which every world of every version has.
macro_rules! metadata {
    ($pre:expr, $store:expr, $version:ident) => {
        match $pre {
            $version::WorldPre::Provider(p) => {
                p.instantiate_async(&mut *$store)
                    .await?
                    .call_metadata(&mut *$store)
                    .await?
            }
            $version::WorldPre::FilterImporter(p) => {
                p.instantiate_async(&mut *$store)
                    .await?
                    .call_metadata(&mut *$store)
                    .await?
            }
            $version::WorldPre::Workflow(p) => {
                p.instantiate_async(&mut *$store)
                    .await?
                    .call_metadata(&mut *$store)
                    .await?
            }
            $version::WorldPre::Classifier(p) => {
                p.instantiate_async(&mut *$store)
                    .await?
                    .call_metadata(&mut *$store)
                    .await?
            }
        }
    };
}

impl WorldPre {
    /// Type-checks the component's exports against the world `world` names.
    pub fn new(world: World, pre: InstancePre<State>) -> wasmtime::Result<Self> {
        match world.version {
            old::VERSION => Ok(Self::V0_1_0(old::WorldPre::new(world.kind, pre)?)),
            api::VERSION => Ok(Self::V0_2_0(api::WorldPre::new(world.kind, pre)?)),
            other => Err(wasmtime::Error::msg(format!(
                "contract version {other} is listed as supported but has no bindings"
            ))),
        }
    }

    pub async fn metadata(&self, store: &mut Store<State>) -> wasmtime::Result<PluginMetadata> {
        Ok(match self {
            Self::V0_1_0(pre) => metadata!(pre, store, old).into(),
            Self::V0_2_0(pre) => metadata!(pre, store, api).into(),
        })
    }

    pub async fn classify(
        &self,
        store: &mut Store<State>,
        message: &api::types::Message,
    ) -> wasmtime::Result<Result<api::types::Classification, String>> {
        match self {
            Self::V0_2_0(api::WorldPre::Classifier(p)) => {
                p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_classifier()
                    .call_classify(&mut *store, message)
                    .await
            }
            Self::V0_1_0(old::WorldPre::Classifier(p)) => {
                let message: old::types::Message = message.clone().adapt();
                Ok(p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_classifier()
                    .call_classify(&mut *store, &message)
                    .await?
                    .adapt())
            }
            _ => Err(wrong_world(PluginKind::Classifier)),
        }
    }

    pub async fn on_event(
        &self,
        store: &mut Store<State>,
        event: &api::workflow::Event,
    ) -> wasmtime::Result<Result<Vec<api::types::Action>, String>> {
        match self {
            Self::V0_2_0(api::WorldPre::Workflow(p)) => {
                p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_workflow()
                    .call_on_event(&mut *store, event)
                    .await
            }
            Self::V0_1_0(old::WorldPre::Workflow(p)) => {
                let event: old::workflow::Event = event.clone().adapt();
                Ok(p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_workflow()
                    .call_on_event(&mut *store, &event)
                    .await?
                    .adapt())
            }
            _ => Err(wrong_world(PluginKind::Workflow)),
        }
    }

    pub async fn provider_info(
        &self,
        store: &mut Store<State>,
    ) -> wasmtime::Result<api::provider::ProviderInfo> {
        match self {
            Self::V0_2_0(api::WorldPre::Provider(p)) => {
                p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_provider()
                    .call_info(&mut *store)
                    .await
            }
            Self::V0_1_0(old::WorldPre::Provider(p)) => Ok(p
                .instantiate_async(&mut *store)
                .await?
                .mailroom_plugin_provider()
                .call_info(&mut *store)
                .await?
                .adapt()),
            _ => Err(wrong_world(PluginKind::Provider)),
        }
    }

    pub async fn map_folder(
        &self,
        store: &mut Store<State>,
        mailbox: &api::types::Mailbox,
    ) -> wasmtime::Result<Option<api::types::FolderRole>> {
        match self {
            Self::V0_2_0(api::WorldPre::Provider(p)) => {
                p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_provider()
                    .call_map_folder(&mut *store, mailbox)
                    .await
            }
            Self::V0_1_0(old::WorldPre::Provider(p)) => {
                let mailbox: old::types::Mailbox = mailbox.clone().adapt();
                Ok(p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_provider()
                    .call_map_folder(&mut *store, &mailbox)
                    .await?
                    .adapt())
            }
            _ => Err(wrong_world(PluginKind::Provider)),
        }
    }

    pub async fn normalize(
        &self,
        store: &mut Store<State>,
        message: &api::types::Message,
    ) -> wasmtime::Result<Result<api::types::Message, String>> {
        match self {
            Self::V0_2_0(api::WorldPre::Provider(p)) => {
                p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_provider()
                    .call_normalize(&mut *store, message)
                    .await
            }
            Self::V0_1_0(old::WorldPre::Provider(p)) => {
                let message: old::types::Message = message.clone().adapt();
                Ok(p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_provider()
                    .call_normalize(&mut *store, &message)
                    .await?
                    .adapt())
            }
            _ => Err(wrong_world(PluginKind::Provider)),
        }
    }

    pub async fn diagnose(
        &self,
        store: &mut Store<State>,
        problem: &api::provider::ConnectionProblem,
    ) -> wasmtime::Result<Option<api::provider::Diagnosis>> {
        match self {
            Self::V0_2_0(api::WorldPre::Provider(p)) => {
                p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_provider()
                    .call_diagnose(&mut *store, problem)
                    .await
            }
            Self::V0_1_0(old::WorldPre::Provider(p)) => {
                let problem: old::provider::ConnectionProblem = problem.clone().adapt();
                Ok(p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_provider()
                    .call_diagnose(&mut *store, &problem)
                    .await?
                    .adapt())
            }
            _ => Err(wrong_world(PluginKind::Provider)),
        }
    }

    pub async fn filter_formats(
        &self,
        store: &mut Store<State>,
    ) -> wasmtime::Result<Vec<api::filter_importer::FilterFormat>> {
        match self {
            Self::V0_2_0(api::WorldPre::FilterImporter(p)) => {
                p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_filter_importer()
                    .call_formats(&mut *store)
                    .await
            }
            Self::V0_1_0(old::WorldPre::FilterImporter(p)) => Ok(p
                .instantiate_async(&mut *store)
                .await?
                .mailroom_plugin_filter_importer()
                .call_formats(&mut *store)
                .await?
                .adapt()),
            _ => Err(wrong_world(PluginKind::FilterImporter)),
        }
    }

    #[allow(clippy::type_complexity)]
    pub async fn import_filters(
        &self,
        store: &mut Store<State>,
        format: &str,
        data: &[u8],
    ) -> wasmtime::Result<
        Result<api::filter_importer::ImportedRules, api::filter_importer::ImportError>,
    > {
        match self {
            Self::V0_2_0(api::WorldPre::FilterImporter(p)) => {
                p.instantiate_async(&mut *store)
                    .await?
                    .mailroom_plugin_filter_importer()
                    .call_import_filters(&mut *store, format, data)
                    .await
            }
            Self::V0_1_0(old::WorldPre::FilterImporter(p)) => Ok(p
                .instantiate_async(&mut *store)
                .await?
                .mailroom_plugin_filter_importer()
                .call_import_filters(&mut *store, format, data)
                .await?
                .adapt()),
            _ => Err(wrong_world(PluginKind::FilterImporter)),
        }
    }
}
