//! POP3 sync and the POP3 connection test against real Dovecot instances
//! started by the tests (the `mailroom-test-servers` crate): plain, STLS
//! and POP3S ports, keep-on-server on and off, a proxy that cuts the
//! connection mid-RETR, wrong passwords and untrusted certificates.

use super::imap_sync::support;

mod large_mailboxes;
mod pop3_support;
mod sync_connection;
mod sync_mailbox;
