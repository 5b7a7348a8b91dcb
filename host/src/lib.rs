//! Mailroom: a self-hosted email integration host for a CRM whose varying
//! parts (providers, filter importers, workflows, classifiers) are
//! WebAssembly components uploaded per org at runtime.
//!
//! Modules follow the data flow of `DESIGN.md`; data flows down this list and
//! no module reaches up.

pub mod api;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod ids;
pub mod mime;
pub mod oauth;
pub mod parallel;
pub mod pipeline;
pub mod plugin;
pub mod send;
pub mod store;
pub mod sync;
