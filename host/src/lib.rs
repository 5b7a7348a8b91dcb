//! Mailroom: a self-hosted email integration host for a CRM whose varying
//! parts (providers, filter importers, workflows, classifiers) are
//! WebAssembly components uploaded per org at runtime.
//!
//! This crate is the top of the host: the HTTP API, the CLI, people's
//! authentication and the configuration file. The layers below are crates of
//! their own, and data flows down this list (no crate depends on one above
//! it): `mailroom-pipeline`, `mailroom-send`, `mailroom-sync`,
//! `mailroom-oauth`, `mailroom-store`, `mailroom-plugin-host`,
//! `mailroom-core`, with the protocol clients (`mailroom-net`) beside the
//! store, on `mailroom-core` alone. They are re-exported under their short names so the
//! integration tests, benchmarks and embedders reach the whole host through
//! one crate.

// Not every public item has its doc comment yet (the workspace warns on
// missing docs; the module docs say what each part owns).
#![allow(missing_docs)]

pub mod api;
pub mod auth;
pub mod bundled;
pub mod cli;
pub mod config;
pub mod scaffold;

pub use mailroom_actions as actions;
pub use mailroom_core::{automation, backoff, clock, destinations, ids, mime, parallel};
pub use mailroom_net as net;
pub use mailroom_oauth as oauth;
pub use mailroom_pipeline as pipeline;
pub use mailroom_plugin_host as plugin;
pub use mailroom_rules as rules;
pub use mailroom_send as send;
pub use mailroom_store as store;
pub use mailroom_sync as sync;
