//! HTTP API tests: every route through the real router (`tower::oneshot`),
//! on SQLite and, for the key ones, on PostgreSQL; and the demo binary.
//! Module names start with `api_` so `cargo test api` selects them.

mod api_account_deactivation;
mod api_account_sync;
mod api_accounts;
mod api_auth;
mod api_connection_rules;
mod api_connections;
mod api_crm_messages;
mod api_crm_records;
mod api_demo;
mod api_destination_policy;
mod api_errors;
mod api_inactive_users;
mod api_mailbox_state;
mod api_mbox_export;
mod api_openapi;
mod api_plugins;
mod api_related_lists;
mod api_rule_import;
mod api_rules;
mod api_schemathesis;
mod api_sync_lease;
mod api_system;
mod api_visibility;
mod crm_support;
