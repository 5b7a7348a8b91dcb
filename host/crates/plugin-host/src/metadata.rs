//! The host's own, serialisable view of what a plugin says about itself
//! (`metadata` export) — independent of any one contract version's bindings,
//! so the store and the API never see generated types.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    Provider,
    FilterImporter,
    Workflow,
    Classifier,
}

impl PluginKind {
    pub const ALL: [PluginKind; 4] = [
        PluginKind::Provider,
        PluginKind::FilterImporter,
        PluginKind::Workflow,
        PluginKind::Classifier,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Provider => "provider",
            PluginKind::FilterImporter => "filter-importer",
            PluginKind::Workflow => "workflow",
            PluginKind::Classifier => "classifier",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigKey {
    pub name: String,
    pub description: String,
    pub required: bool,
    pub default_value: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "hosts", rename_all = "kebab-case")]
pub enum Permission {
    KeyValue,
    OutboundHttp(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PluginMetadata {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    pub description: String,
    pub config_keys: Vec<ConfigKey>,
    pub permissions: Vec<Permission>,
}
