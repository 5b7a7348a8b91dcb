//! The plugin host: one wasmtime engine, the versioned contract's bindings,
//! per-invocation limits, the valid range of everything a plugin returns,
//! the per-org registry and per-plugin metrics.

// Not every public item has its doc comment yet (the workspace warns on
// missing docs; the module docs say what each part owns).
#![allow(missing_docs)]

pub mod bindings;
pub mod budget;
pub mod cache;
pub mod contract;
pub mod convert;
pub mod engine;
pub mod error;
pub mod golden;
pub mod invoke;
pub mod kv;
pub mod limits;
pub mod log_budget;
pub mod metadata;
pub mod metrics;
pub mod outbound;
pub mod registry;
pub mod state;
pub mod stderr_tail;
pub mod validate;

pub use engine::{EngineSettings, LoadedComponent, PluginEngine};
pub use error::{PluginError, PluginErrorKind};
pub use limits::Limits;
pub use metadata::{PluginKind, PluginMetadata};
