// The contract versions Mailroom supports, oldest first; the last one is the
// current contract. Read (with `include!`) by the host's admission
// (`host/src/plugin/bindings`) and by the Rust SDK (`plugins/sdk`), and
// checked against the `wit/vX.Y.Z/` folders and wit/README.md by a host test.
// A released version's folder is never edited; a new version is a new folder.

/// Every contract version the host accepts, oldest first.
pub const SUPPORTED_CONTRACT_VERSIONS: &[&str] = &["0.1.0", "0.2.0"];

/// The current contract version: what new plugins are built against.
pub const CONTRACT_VERSION: &str = "0.2.0";
