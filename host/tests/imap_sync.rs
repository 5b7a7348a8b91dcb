//! IMAP sync and the connection test against real Dovecot instances
//! started by the tests (see the `mailroom-test-servers` crate): special-use
//! and non-standard folder layouts, plain/STARTTLS/IMAPS, passwords and
//! XOAUTH2, a proxy that cuts connections mid-FETCH, a silent server,
//! writing the user's changes back to the server, push (IDLE, STATUS
//! polls, the per-account connection budget), and expunge detection by
//! QRESYNC or UID SEARCH.

#[path = "imap_sync/support.rs"]
mod support;
#[path = "imap_sync/sync_connection.rs"]
mod sync_connection;
#[path = "imap_sync/sync_mailbox.rs"]
mod sync_mailbox;
#[path = "imap_sync/sync_push.rs"]
mod sync_push;
#[path = "imap_sync/sync_qresync.rs"]
mod sync_qresync;
#[path = "imap_sync/sync_writeback.rs"]
mod sync_writeback;
