//! What sync asks of the account's provider: a folder's role when the
//! server does not say it (`map_folder`), a plain-language diagnosis of
//! a connection problem (`diagnose`), and how long connections may be held
//! (`connection_quirks`). Sync depends on the two small traits
//! here, not on the plugin runtime, so it runs without plugins in tests;
//! [`PluginProvider`] answers them with the org's provider plugin.

use async_trait::async_trait;
use mailroom_core::ids::OrgId;
use mailroom_net::imap::MailboxInfo;
use mailroom_plugin_host::PluginKind;
use mailroom_plugin_host::bindings::latest as api;
use mailroom_plugin_host::registry::{ActivePlugin, PluginRegistry};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Decides a server folder's SalesInbox role from provider knowledge.
#[async_trait]
pub trait FolderMapper: Send + Sync {
    /// A store role (`inbox`, `sent`, `drafts`, `spam`, `trash`, `archive`,
    /// `outbox`), or `None` for no opinion.
    async fn map_folder(&self, mailbox: &MailboxInfo) -> Option<String>;

    /// Gmail-like servers show labels as folders (quirk `labels_as_folders`):
    /// then a message's copies in several folders are one message, and
    /// write-back moves it out of the label folders only.
    async fn labels_as_folders(&self) -> bool {
        false
    }

    /// The server advertises QRESYNC but it does not work (quirk
    /// `qresync_broken`, e.g. iCloud): expunges are then found by comparing
    /// UIDs.
    async fn qresync_broken(&self) -> bool {
        false
    }
}

/// No provider knowledge: special-use attributes and the manual mapping only.
pub struct NoFolderMapper;

#[async_trait]
impl FolderMapper for NoFolderMapper {
    async fn map_folder(&self, _mailbox: &MailboxInfo) -> Option<String> {
        None
    }
}

/// A connection step, as the provider contract names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemStep {
    Dns,
    Tcp,
    Tls,
    Login,
    ListFolders,
    /// Reaching the outgoing server: TCP, its greeting and EHLO.
    SmtpConnect,
    /// Logging in to the outgoing server (AUTH).
    SmtpAuth,
}

/// A failed step, to be explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionProblem {
    pub step: ProblemStep,
    /// `imap`, `pop3` or `smtp`.
    pub protocol: String,
    pub server: String,
    /// The server's words, or the local error.
    pub message: String,
}

/// The provider's explanation of a problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Diagnosis {
    pub summary: String,
    /// What the admin should do.
    pub advice: String,
    pub help_url: Option<String>,
}

#[async_trait]
pub trait Diagnoser: Send + Sync {
    /// `None`: nothing to add to the server's words.
    async fn diagnose(&self, problem: &ConnectionProblem) -> Option<Diagnosis>;
}

/// No provider: the report shows the server's words only.
pub struct NoDiagnoser;

#[async_trait]
impl Diagnoser for NoDiagnoser {
    async fn diagnose(&self, _problem: &ConnectionProblem) -> Option<Diagnosis> {
        None
    }
}

/// The org's provider plugin for an account: the one named after the
/// account's provider id (`gmail` → `gmail` or `provider-gmail`), else the
/// bundled generic one if the org installed it. A plugin that fails is the
/// registry's business (counted, maybe disabled); here it just has no opinion.
pub struct PluginProvider {
    registry: Arc<PluginRegistry>,
    org: OrgId,
    provider_id: Option<String>,
}

impl PluginProvider {
    pub fn new(registry: Arc<PluginRegistry>, org: OrgId, provider_id: Option<&str>) -> Self {
        Self {
            registry,
            org,
            provider_id: provider_id.map(str::to_owned),
        }
    }

    async fn plugin(&self) -> Option<Arc<ActivePlugin>> {
        let plugins = self
            .registry
            .plugins_for(&self.org, PluginKind::Provider, None)
            .await
            .ok()?;
        let named = |name: &str| plugins.iter().find(|p| p.name() == name).cloned();
        self.provider_id
            .as_deref()
            .and_then(|id| named(id).or_else(|| named(&format!("provider-{id}"))))
            .or_else(|| named("provider-generic"))
    }
}

/// What the provider says about holding IMAP connections; its zeros mean
/// "no opinion" and get the defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionQuirks {
    /// Re-issue IDLE this often (servers drop links idle for too long).
    pub idle_restart: Duration,
    /// Most IMAP connections the service allows one account at once.
    pub max_connections: usize,
}

impl ConnectionQuirks {
    /// RFC 2177: re-issue IDLE at least every 29 minutes.
    pub const DEFAULT_IDLE_RESTART: Duration = Duration::from_secs(29 * 60);
    /// Few enough for any provider: the push connection and one sync.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 2;

    fn from_plugin(idle_restart_seconds: u32, max_connections: u32) -> Self {
        let mut q = Self::default();
        if idle_restart_seconds > 0 {
            q.idle_restart = Duration::from_secs(u64::from(idle_restart_seconds));
        }
        if max_connections > 0 {
            q.max_connections = max_connections as usize;
        }
        q
    }
}

impl Default for ConnectionQuirks {
    fn default() -> Self {
        Self {
            idle_restart: Self::DEFAULT_IDLE_RESTART,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl PluginProvider {
    /// The provider plugin's connection quirks; the defaults when there is
    /// no plugin or it fails.
    pub async fn connection_quirks(&self) -> ConnectionQuirks {
        let Some(plugin) = self.plugin().await else {
            return ConnectionQuirks::default();
        };
        match self.registry.provider_info(&plugin).await {
            Ok(info) => ConnectionQuirks::from_plugin(
                info.quirks.idle_restart_seconds,
                info.quirks.max_connections,
            ),
            Err(e) => {
                tracing::warn!(org = %self.org, plugin = plugin.name(), error = %e, "provider_info failed");
                ConnectionQuirks::default()
            }
        }
    }
}

#[async_trait]
impl FolderMapper for PluginProvider {
    async fn map_folder(&self, mailbox: &MailboxInfo) -> Option<String> {
        let plugin = self.plugin().await?;
        let mailbox = api::types::Mailbox {
            name: mailbox.name.clone(),
            delimiter: mailbox.delimiter.clone(),
            attributes: mailbox.attributes.clone(),
        };
        match self.registry.map_folder(&plugin, mailbox).await {
            Ok(role) => role.and_then(store_role),
            Err(e) => {
                tracing::warn!(org = %self.org, plugin = plugin.name(), error = %e, "map_folder failed");
                None
            }
        }
    }

    async fn labels_as_folders(&self) -> bool {
        self.sync_quirks()
            .await
            .is_some_and(|q| q.labels_as_folders)
    }

    async fn qresync_broken(&self) -> bool {
        self.sync_quirks().await.is_some_and(|q| q.qresync_broken)
    }
}

impl PluginProvider {
    /// The provider plugin's quirks; `None` (no opinion) when there is no
    /// plugin or it fails.
    async fn sync_quirks(&self) -> Option<api::provider::ProviderQuirks> {
        let plugin = self.plugin().await?;
        match self.registry.provider_info(&plugin).await {
            Ok(info) => Some(info.quirks),
            Err(e) => {
                tracing::warn!(org = %self.org, plugin = plugin.name(), error = %e, "provider_info failed");
                None
            }
        }
    }
}

#[async_trait]
impl Diagnoser for PluginProvider {
    async fn diagnose(&self, problem: &ConnectionProblem) -> Option<Diagnosis> {
        use api::provider::ConnectionStep as S;
        let plugin = self.plugin().await?;
        let step = match problem.step {
            ProblemStep::Dns => S::Dns,
            ProblemStep::Tcp => S::Tcp,
            ProblemStep::Tls => S::Tls,
            ProblemStep::Login => S::Login,
            ProblemStep::ListFolders => S::ListFolders,
            ProblemStep::SmtpConnect => S::SmtpConnect,
            ProblemStep::SmtpAuth => S::SmtpAuth,
        };
        let problem = api::provider::ConnectionProblem {
            step,
            protocol: problem.protocol.clone(),
            server: problem.server.clone(),
            message: problem.message.clone(),
        };
        match self.registry.diagnose(&plugin, problem).await {
            Ok(d) => d.map(|d| Diagnosis {
                summary: d.summary,
                advice: d.advice,
                help_url: d.help_url,
            }),
            Err(e) => {
                tracing::warn!(org = %self.org, plugin = plugin.name(), error = %e, "diagnose failed");
                None
            }
        }
    }
}

/// The store's role for a contract role. All-mail, important, starred and
/// custom have no SalesInbox folder: such a folder syncs without a role.
fn store_role(role: api::types::FolderRole) -> Option<String> {
    use api::types::FolderRole as R;
    Some(
        match role {
            R::Inbox => "inbox",
            R::Drafts => "drafts",
            R::Sent => "sent",
            R::Outbox => "outbox",
            R::Spam => "spam",
            R::Trash => "trash",
            R::Archive => "archive",
            R::AllMail | R::Important | R::Starred | R::Custom => return None,
        }
        .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_quirks_mean_the_defaults() {
        assert_eq!(
            ConnectionQuirks::from_plugin(0, 0),
            ConnectionQuirks::default()
        );
        let q = ConnectionQuirks::from_plugin(300, 15);
        assert_eq!(q.idle_restart, Duration::from_secs(300));
        assert_eq!(q.max_connections, 15);
    }
}
