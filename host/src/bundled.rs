//! The plugins this binary carries (built from `plugins/` at compile time,
//! `mailroom-plugin-artifacts`): installing them into an org, and telling
//! an org's admin how what it runs compares with what the server carries.
//!
//! A new org gets every bundled plugin (`mailroom org create`, unless
//! `--no-bundled-plugins`), so providers, importers and the classifier work
//! from the first request. After that the org owns them: an admin may
//! disable, replace (upload a component of the same name) or roll back each
//! one, and a server upgrade that carries a newer bundled version only
//! *offers* it ([`BundledStatus::UpgradeAvailable`]); nothing replaces the
//! version an org runs behind its admin's back.

use mailroom_core::ids::OrgId;
use mailroom_plugin_artifacts::Bundled;
use mailroom_plugin_host::PluginKind;
use mailroom_plugin_host::contract::{ComponentShape, detect_world};
use mailroom_plugin_host::registry::{PluginRegistry, PluginView, RegistryError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use std::sync::LazyLock;
use utoipa::ToSchema;

/// How an org stands with one bundled plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BundledStatus {
    /// The org runs exactly the version this server carries.
    Current,
    /// The org has no plugin of this name (never installed, or removed).
    NotInstalled,
    /// The org runs an older version than the server carries: installing
    /// the bundled one is offered, never done for the admin.
    UpgradeAvailable,
    /// The org runs something else under this name: an upload of its own,
    /// a newer version, or a version it rolled back to.
    Replaced,
}

/// A bundled plugin next to what the org runs under its name.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BundledOffer {
    /// The plugin's name (its metadata's).
    pub name: String,
    /// The kind of plugin, read off the world it exports (absent only if
    /// the component could not be read, which its install would then say).
    pub kind: Option<PluginKind>,
    /// The version this server carries.
    pub version: String,
    /// sha256 of the bundled component.
    pub sha256: String,
    pub status: BundledStatus,
    /// The version the org runs under this name, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_version: Option<String>,
}

/// What installing one bundled plugin did.
#[derive(Debug)]
pub struct BundledInstall {
    pub package: &'static str,
    pub result: Result<PluginView, RegistryError>,
}

#[derive(Debug, thiserror::Error)]
pub enum BundledError {
    #[error(
        "this server carries no plugin named `{0}`; GET /v1/bundled-plugins lists what it carries"
    )]
    Unknown(String),
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// One plugin the binary carries, described without compiling it: its name
/// and version are its package's (which its metadata reports, see
/// [`Bundled`]), its kind is the world it exports.
#[derive(Clone, Debug)]
struct BundledPlugin {
    bundled: &'static Bundled,
    kind: Option<PluginKind>,
    sha256: String,
}

/// The bundled plugins, described once per process (their bytes are
/// compiled in and cannot change).
fn catalog() -> &'static [BundledPlugin] {
    static CATALOG: LazyLock<Vec<BundledPlugin>> = LazyLock::new(|| {
        mailroom_plugin_artifacts::BUNDLED
            .iter()
            .map(|bundled| BundledPlugin {
                bundled,
                kind: ComponentShape::parse(bundled.bytes)
                    .ok()
                    .and_then(|shape| detect_world(&shape).ok())
                    .map(|world| world.kind),
                sha256: hex::encode(Sha256::digest(bundled.bytes)),
            })
            .collect()
    });
    &CATALOG
}

/// Installs every bundled plugin into `org`; each one's outcome is
/// reported, and one that fails does not stop the others.
pub async fn install_all(registry: &PluginRegistry, org: &OrgId) -> Vec<BundledInstall> {
    let mut done = Vec::new();
    for bundled in mailroom_plugin_artifacts::BUNDLED {
        let result = registry.install(org, bundled.bytes.to_vec()).await;
        done.push(BundledInstall {
            package: bundled.package,
            result,
        });
    }
    done
}

/// Installs (or upgrades to) the bundled plugin `name` in `org`. Installing
/// the version the org already runs changes nothing.
pub async fn install_one(
    registry: &PluginRegistry,
    org: &OrgId,
    name: &str,
) -> Result<PluginView, BundledError> {
    let plugin = catalog()
        .iter()
        .find(|p| p.bundled.package == name)
        .ok_or_else(|| BundledError::Unknown(name.to_owned()))?;
    Ok(registry.install(org, plugin.bundled.bytes.to_vec()).await?)
}

/// Every bundled plugin next to what `org` runs under its name.
pub async fn offers(
    registry: &PluginRegistry,
    org: &OrgId,
) -> Result<Vec<BundledOffer>, RegistryError> {
    let installed = registry.list(org).await?;
    let offers = catalog()
        .iter()
        .map(|plugin| {
            let running = installed
                .iter()
                .find(|v| v.record.name == plugin.bundled.package)
                .map(|v| &v.active_version);
            let status = status_of(
                plugin.bundled.version,
                &plugin.sha256,
                running.map(|v| (v.metadata.version.as_str(), v.sha256.as_str())),
            );
            BundledOffer {
                name: plugin.bundled.package.to_owned(),
                kind: plugin.kind,
                version: plugin.bundled.version.to_owned(),
                sha256: plugin.sha256.clone(),
                status,
                installed_version: running.map(|v| v.metadata.version.clone()),
            }
        })
        .collect();
    Ok(offers)
}

/// How a bundled `(version, sha256)` compares with the `(version, sha256)`
/// an org runs under the same name. Only a version that is older by
/// semantic versioning is offered an upgrade: a version that cannot be
/// compared is the admin's own and counts as replaced.
fn status_of(version: &str, sha256: &str, running: Option<(&str, &str)>) -> BundledStatus {
    let Some((running_version, running_sha256)) = running else {
        return BundledStatus::NotInstalled;
    };
    if running_sha256 == sha256 {
        return BundledStatus::Current;
    }
    let parse = |v: &str| semver::Version::parse(v.trim_start_matches('v')).ok();
    match (parse(running_version), parse(version)) {
        (Some(running), Some(bundled)) if running.cmp(&bundled) == Ordering::Less => {
            BundledStatus::UpgradeAvailable
        }
        _ => BundledStatus::Replaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_older_version_is_offered_an_upgrade() {
        let s = |running| status_of("1.2.0", "aaa", running);
        assert_eq!(s(None), BundledStatus::NotInstalled);
        assert_eq!(s(Some(("1.2.0", "aaa"))), BundledStatus::Current);
        assert_eq!(s(Some(("1.1.9", "bbb"))), BundledStatus::UpgradeAvailable);
        assert_eq!(s(Some(("v1.0.0", "bbb"))), BundledStatus::UpgradeAvailable);
        // The same version number with other bytes is someone's own build.
        assert_eq!(s(Some(("1.2.0", "bbb"))), BundledStatus::Replaced);
        assert_eq!(s(Some(("2.0.0", "bbb"))), BundledStatus::Replaced);
        assert_eq!(s(Some(("1.3.0-beta.1", "bbb"))), BundledStatus::Replaced);
        assert_eq!(s(Some(("our build", "bbb"))), BundledStatus::Replaced);
        assert_eq!(
            status_of("next", "aaa", Some(("1.0.0", "bbb"))),
            BundledStatus::Replaced
        );
    }
}
