//! # Mailroom plugin SDK
//!
//! Write [Mailroom](https://github.com/) plugins in Rust. A plugin is a
//! WebAssembly component built for `wasm32-wasip2` against the WIT contract
//! `mailroom:plugin@0.2.0` ([`CONTRACT_VERSION`]); this crate holds the
//! generated bindings plus the helpers that make a plugin a page of code.
//! The host also accepts plugins built against the older versions in
//! [`SUPPORTED_CONTRACT_VERSIONS`]; `wit/README.md` says what changed.
//!
//! ```text
//! use mailroom_plugin_sdk::prelude::*;
//!
//! pub struct Shouty;
//!
//! impl Plugin for Shouty {
//!     fn metadata() -> Metadata {
//!         Metadata::new("shouty", "0.1.0", PluginKind::Classifier)
//!             .description("Tags messages whose subject is all capitals")
//!     }
//! }
//!
//! impl Classifier for Shouty {
//!     fn classify(message: Message) -> Result<Classification, String> {
//!         let mut out = Classification::default();
//!         if message.subject.chars().any(char::is_alphabetic)
//!             && message.subject == message.subject.to_uppercase()
//!         {
//!             log::info!("shouting from {}", message.from_email().unwrap_or("?"));
//!             out.tags.push(ScoredLabel::new("shouting", 1.0));
//!         }
//!         Ok(out)
//!     }
//! }
//!
//! mailroom_plugin_sdk::export_classifier!(Shouty);
//! ```
//!
//! with, in `Cargo.toml`:
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! mailroom-plugin-sdk = { path = "…/plugins/sdk" }
//! ```
//!
//! and `cargo build --release --target wasm32-wasip2` gives
//! `target/wasm32-wasip2/release/<name>.wasm`, ready to upload.
//!
//! ## What a plugin gets
//! - Every plugin implements [`Plugin`] (its [`Metadata`](types::Metadata)) and the
//!   trait of its kind: [`Classifier`], [`Provider`], [`FilterImporter`] or
//!   [`Workflow`]; then one export macro ([`export_classifier!`],
//!   [`export_provider!`], [`export_filter_importer!`], [`export_workflow!`]).
//! - [`types`]: messages, rules, actions, classifications, with helpers such as
//!   [`Message::header`](types::Message::header) and
//!   [`Message::from_email`](types::Message::from_email).
//! - [`rules`]: [`RuleBuilder`](rules::RuleBuilder) builds the flat condition
//!   trees the contract uses.
//! - [`log`], [`config`], [`kv`], [`time`]: the host's imports, the only
//!   things outside the plugin it can reach. There is no file system, network,
//!   environment or clock other than [`time::now_ms`].
//!
//! ## Limits
//! The host runs each call in a fresh instance with a deadline and a memory
//! cap. A plugin that traps, loops or exhausts memory is cut off and recorded
//! against it; mail is never lost because of a plugin. Keep per-call work small
//! and do not rely on state in statics: it does not survive between calls.
//!
//! Make the plugin type `pub`: it is never constructed in Rust code (the
//! exports call its associated functions), and `pub` keeps the dead-code
//! lint quiet in native unit-test builds.
//!
//! The crate must be a dependency named `mailroom-plugin-sdk` (not renamed):
//! the export macros refer to it by that name.

pub mod bindings;
pub mod config;

// `SUPPORTED_CONTRACT_VERSIONS` and `CONTRACT_VERSION`: the list the host's
// admission reads too (one file, `wit/versions.rs`).
include!("../../../wit/versions.rs");
pub mod kv;
pub mod log;
pub mod message;
pub mod rules;
pub mod time;
mod types_ext;

/// The contract's data types: [`Message`](types::Message),
/// [`Rule`](types::Rule), [`Action`](types::Action),
/// [`Classification`](types::Classification), [`Metadata`](types::Metadata)…
pub use bindings::shared::mailroom::plugin::types;

/// The raw host imports. Prefer the wrappers in [`log`], [`config`], [`kv`]
/// and [`time`].
pub use bindings::shared::mailroom::plugin::host;

/// The `provider` interface: server presets, folder roles, quirks, diagnosis.
pub mod provider {
    pub use crate::bindings::provider::exports::mailroom::plugin::provider::*;
}

/// The `filter-importer` interface: another system's filters to rules.
pub mod filter_importer {
    pub use crate::bindings::filter_importer::exports::mailroom::plugin::filter_importer::*;
}

/// The `workflow` interface: actions on incoming, outgoing and reply mail.
pub mod workflow {
    pub use crate::bindings::workflow::exports::mailroom::plugin::workflow::*;
}

/// The `classifier` interface: what a message means.
pub mod classifier {
    pub use crate::bindings::classifier::exports::mailroom::plugin::classifier::*;
}

pub use classifier::Guest as Classifier;
pub use filter_importer::Guest as FilterImporter;
pub use provider::Guest as Provider;
pub use workflow::Guest as Workflow;

/// What every plugin says about itself. The host reads it at upload, before
/// any other call, to check the kind and ask the admin for permissions.
pub trait Plugin {
    fn metadata() -> types::Metadata;
}

/// Everything a plugin usually needs: `use mailroom_plugin_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::rules::{Cond, RuleBuilder};
    pub use crate::types::*;
    pub use crate::{Classifier, FilterImporter, Plugin, Provider, Workflow};
    pub use crate::{config, kv, log, time};
}

/// Exports a type implementing [`Plugin`] and [`Classifier`] as the
/// `classifier-plugin` world. Use once, at the crate root of a `cdylib`.
#[macro_export]
macro_rules! export_classifier {
    ($ty:ident) => {
        $crate::__export_world!($ty, classifier);
    };
}

/// Exports a type implementing [`Plugin`] and [`Provider`] as the
/// `provider-plugin` world. Use once, at the crate root of a `cdylib`.
#[macro_export]
macro_rules! export_provider {
    ($ty:ident) => {
        $crate::__export_world!($ty, provider);
    };
}

/// Exports a type implementing [`Plugin`] and [`FilterImporter`] as the
/// `filter-importer-plugin` world. Use once, at the crate root of a `cdylib`.
#[macro_export]
macro_rules! export_filter_importer {
    ($ty:ident) => {
        $crate::__export_world!($ty, filter_importer);
    };
}

/// Exports a type implementing [`Plugin`] and [`Workflow`] as the
/// `workflow-plugin` world. Use once, at the crate root of a `cdylib`.
#[macro_export]
macro_rules! export_workflow {
    ($ty:ident) => {
        $crate::__export_world!($ty, workflow);
    };
}

/// Shared body of the export macros: bridges [`Plugin`] to the world's own
/// `metadata` export, then expands wit-bindgen's export macro.
///
/// The exported symbols (`mailroom:plugin/classifier@0.2.0#classify`…) only
/// exist for wasm32: native linkers reject such names, and a native build of a
/// plugin crate is only for its unit tests.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_world {
    ($ty:ident, $world:ident) => {
        impl $crate::bindings::$world::Guest for $ty {
            fn metadata() -> $crate::types::Metadata {
                <$ty as $crate::Plugin>::metadata()
            }
        }
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            $crate::bindings::$world::export!($ty);
        };
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bindings_are_generated_from_the_current_contract() {
        assert_eq!(
            super::SUPPORTED_CONTRACT_VERSIONS.last(),
            Some(&super::CONTRACT_VERSION)
        );
        let bindings = include_str!("bindings.rs");
        let folder = format!("\"../../wit/v{}\"", super::CONTRACT_VERSION);
        assert!(
            bindings.contains(&folder),
            "bindings.rs does not read {folder}"
        );
        let world = format!(
            "mailroom:plugin/classifier-plugin@{}",
            super::CONTRACT_VERSION
        );
        assert!(
            bindings.contains(&world),
            "bindings.rs does not name {world}"
        );
    }
}
