//! IMAP sync and the connection test against real Dovecot instances
//! started by the tests (see the `mailroom-test-servers` crate): special-use
//! and non-standard folder layouts, plain/STARTTLS/IMAPS, passwords and
//! XOAUTH2, a proxy that cuts connections mid-FETCH, a silent server,
//! writing the user's changes back to the server, push (IDLE, STATUS
//! polls, the per-account connection budget), and expunge detection by
//! QRESYNC or UID SEARCH.

pub(crate) mod support;
mod sync_connection;
mod sync_mailbox;
mod sync_push;
mod sync_push_state;
mod sync_qresync;
mod sync_rules;
mod sync_triggers;
mod sync_writeback;
