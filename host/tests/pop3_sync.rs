//! POP3 sync and the POP3 connection test against real Dovecot instances
//! started by the tests (the `mailroom-test-servers` crate): plain, STLS
//! and POP3S ports, keep-on-server on and off, a proxy that cuts the
//! connection mid-RETR, wrong passwords and untrusted certificates.

#[allow(dead_code)]
#[path = "imap_sync/support.rs"]
mod support;

#[path = "pop3_sync/pop3_support.rs"]
mod pop3_support;
#[path = "pop3_sync/sync_connection.rs"]
mod sync_connection;
#[path = "pop3_sync/sync_mailbox.rs"]
mod sync_mailbox;
