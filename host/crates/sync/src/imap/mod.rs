//! Syncing an IMAP account over a [`mailroom_net::ImapSession`]: folder
//! discovery with role mapping (`folders`, `folder_mapping`), incremental
//! folder sync (`sync`, `known`, `rematch`, with batches committing behind
//! the fetch in `storing`), and writing the user's changes back
//! (`writeback`). Connecting and the commands themselves are the
//! protocol client's, in `mailroom-net`.

pub mod folder_mapping;
pub mod folders;
pub mod known;
pub mod rematch;
pub mod storing;
pub mod sync;
pub mod writeback;
