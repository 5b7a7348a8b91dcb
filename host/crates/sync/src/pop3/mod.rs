//! Syncing a POP3 account: the UIDL-based download of the one mailbox
//! POP3 has ([`sync::sync_account`]), over a
//! [`mailroom_net::Pop3Session`], reported through the same
//! [`crate::SyncReport`] as IMAP with a single pseudo-folder `INBOX`.

pub mod sync;
