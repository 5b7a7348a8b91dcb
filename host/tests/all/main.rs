//! The host's integration tests, in one binary so wasmtime and the host are
//! linked once (as wasmtime's own `tests/all`): the HTTP API, sync against
//! real Dovecot instances (IMAP, POP3), OAuth2 against a loopback
//! authorization server, sending through a real SMTP listener, the plugin
//! host and the bundled and example plugins. Each test starts the servers
//! it needs on loopback; `cargo test --release -p mailroom --test all NAME`
//! runs a part (e.g. `imap_sync`, `api::`).

// Test code: a failed set-up fails the test with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod api;
mod binary;
mod example_plugins;
mod https_receiver;
mod imap_sync;
mod oauth;
mod pipeline;
mod pipeline_isolation;
mod plugin_host;
mod plugin_templates;
mod pop3_sync;
mod provider_plugins;
mod send;
mod test_engine;
