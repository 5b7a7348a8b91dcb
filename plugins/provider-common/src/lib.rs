//! What every bundled provider plugin shares.
//!
//! A provider plugin is one mail service's facts: its servers, quirks, folder
//! names and the words its servers use when something fails. The logic that
//! applies those facts lives here once:
//!
//! - [`folders`]: folder roles by special-use attribute, then the service's
//!   names, then names common clients create in many languages;
//! - [`utf7`]: IMAP's modified UTF-7, the encoding of non-ASCII folder names;
//! - [`diagnose`]: the service's error [`Pattern`]s, then the generic ones;
//! - [`info`]: `provider-info` as constants ([`ServiceInfo`]);
//! - [`checks`]: what every plugin's unit tests verify about its tables.
//! - [`testing`]: the names those unit tests use.
//!
//! A service implements [`Service`] and calls [`export_service!`]:
//!
//! ```text
//! use provider_common::{Service, ServiceInfo};
//!
//! pub struct Example;
//!
//! impl Service for Example {
//!     const PLUGIN: &'static str = "provider-example";
//!     const DESCRIPTION: &'static str = "Example Mail";
//!     const INFO: ServiceInfo = /* … */;
//! }
//!
//! provider_common::export_service!(Example);
//! ```
//!
//! This crate is a plain library, not a component; the plugin crate must also
//! depend on `mailroom-plugin-sdk` under that name (the SDK's export macro
//! refers to it).

pub mod checks;
pub mod diagnose;
pub mod folders;
pub mod info;
pub mod testing;
/// IMAP's modified UTF-7, shared with the host.
pub use imap_utf7 as utf7;

/// The SDK, for [`export_service!`]'s expansion in the plugin crate.
pub use mailroom_plugin_sdk as sdk;

pub use diagnose::{
    AUTH_STEPS, Pattern, app_password_needed, diagnose_with, problem, yahoo_platform,
};
pub use folders::{FolderNames, mailbox, map_folder};
pub use info::{DEFAULT_QUIRKS, OAuth, Preset, ServiceInfo, starttls, tls, yahoo_platform_oauth};

use mailroom_plugin_sdk::provider::{ConnectionProblem, Diagnosis, ProviderInfo};
use mailroom_plugin_sdk::types::{ConfigKey, Message, Metadata, PluginKind};

/// One mail service. Only the constants are required; the functions have
/// the behaviour a service without surprises wants.
pub trait Service {
    /// The plugin's name in its metadata: its package name, `provider-…`.
    const PLUGIN: &'static str;
    /// One line for the admin's plugin list.
    const DESCRIPTION: &'static str;
    /// The service's facts.
    const INFO: ServiceInfo;
    /// The service's own folder names, tried after special-use and before
    /// the common names.
    const FOLDERS: FolderNames = &[];
    /// What the service's servers say, tried before the generic patterns.
    const DIAGNOSES: &'static [Pattern] = &[];

    /// The `provider-info` the host receives: [`Self::INFO`], unless the
    /// service adjusts it from the org's config (Zoho's regions).
    fn describe() -> ProviderInfo {
        Self::INFO.to_info()
    }

    /// The config keys [`Self::describe`] reads, shown to the org admin.
    fn config_keys() -> Vec<ConfigKey> {
        Vec::new()
    }

    /// Fixes the service's message quirks; by default only surrounding
    /// white space in the subject, which every client hides anyway.
    fn fix_quirks(message: Message) -> Result<Message, String> {
        Ok(trim_subject(message))
    }
}

/// The message with its subject trimmed (no allocation when already trim).
pub fn trim_subject(mut message: Message) -> Message {
    let trimmed = message.subject.trim();
    if trimmed.len() != message.subject.len() {
        message.subject = trimmed.to_string();
    }
    message
}

/// The plugin metadata of service `S`; `version` is the plugin crate's.
pub fn metadata<S: Service>(version: &str) -> Metadata {
    S::config_keys().into_iter().fold(
        Metadata::new(S::PLUGIN, version, PluginKind::Provider).description(S::DESCRIPTION),
        Metadata::config_key,
    )
}

/// Service `S`'s diagnosis of a failed step.
pub fn diagnose<S: Service>(problem: &ConnectionProblem) -> Option<Diagnosis> {
    diagnose_with(problem, S::DIAGNOSES, S::INFO.app_password_hint)
}

/// Implements the SDK's `Plugin` and `Provider` for a [`Service`] and
/// exports it as the `provider-plugin` world. Use once, at the crate root of
/// a `cdylib` that depends on `mailroom-plugin-sdk` under that name.
#[macro_export]
macro_rules! export_service {
    ($ty:ident) => {
        impl $crate::sdk::Plugin for $ty {
            fn metadata() -> $crate::sdk::types::Metadata {
                $crate::metadata::<$ty>(env!("CARGO_PKG_VERSION"))
            }
        }

        impl $crate::sdk::Provider for $ty {
            fn info() -> $crate::sdk::provider::ProviderInfo {
                <$ty as $crate::Service>::describe()
            }

            fn map_folder(
                mailbox: $crate::sdk::types::Mailbox,
            ) -> Option<$crate::sdk::types::FolderRole> {
                $crate::map_folder(&mailbox, <$ty as $crate::Service>::FOLDERS)
            }

            fn normalize(
                message: $crate::sdk::types::Message,
            ) -> Result<$crate::sdk::types::Message, String> {
                <$ty as $crate::Service>::fix_quirks(message)
            }

            fn diagnose(
                problem: $crate::sdk::provider::ConnectionProblem,
            ) -> Option<$crate::sdk::provider::Diagnosis> {
                $crate::diagnose::<$ty>(&problem)
            }
        }

        $crate::sdk::export_provider!($ty);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_the_subject_only() {
        let msg = Message {
            subject: "  Hello \t".into(),
            text_body: " body ".into(),
            ..Default::default()
        };
        let out = trim_subject(msg);
        assert_eq!(out.subject, "Hello");
        assert_eq!(out.text_body, " body ");
        assert_eq!(trim_subject(out.clone()), out);
    }
}
