//! The plugins of `plugins/` (and the JavaScript and Python examples) as built
//! WebAssembly components, for the host's tests, benchmarks and `mailroom demo`.
//!
//! The build script compiles them for `wasm32-wasip2` (see `build.rs`);
//! this crate only exposes where they are:
//!
//! - one `&str` path constant per component, named after its crate or
//!   example in upper snake case: the bundled plugins `PROVIDER_GENERIC`,
//!   `PROVIDER_GMAIL`, `PROVIDER_MICROSOFT`, `PROVIDER_YAHOO`, `PROVIDER_ZOHO`,
//!   `PROVIDER_ICLOUD`, `PROVIDER_AOL`, `FILTER_GMAIL`, `CLASSIFIER_KEYWORDS`,
//!   `WORKFLOW_FOLLOW_UP` (every `cdylib` library in the plugins workspace is
//!   one; library crates such as `provider-common` are not); the test
//!   plugins `PROBE`, `TRIVIAL`, `INFINITE_LOOP`, `ALLOC_1GIB`,
//!   `DEEP_RECURSION`, `TRAP`, `OVERSIZED_OUTPUT`, `SANDBOX_ESCAPE`,
//!   `UNGRANTED_IMPORT`, `WRONG_KIND`, `SLOW`, `SWAP_V1`, `SWAP_V2`, `KV_FLOOD`…; and
//!   the examples in other languages `JS_CLASSIFIER`, `PY_CLASSIFIER` and
//!   `PY_WORKFLOW`;
//! - [`BUNDLED`]: the bundled plugins' names, versions and bytes, compiled in.

/// A plugin the host binary carries.
#[derive(Clone, Copy, Debug)]
pub struct Bundled {
    /// Its Cargo package name, which is also the name its metadata reports.
    pub package: &'static str,
    /// Its Cargo package version, which is also the version its metadata
    /// reports (the SDK's `metadata` uses `CARGO_PKG_VERSION`).
    pub version: &'static str,
    /// The component.
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));
