//! The two commands sending needs on top of sync's: APPEND (file a copy of
//! a sent message in the Sent folder) and a header search (is a message
//! with this Message-ID already there?). A child module of `session` so it
//! can use the wrapped `async_imap` session without widening its API.

use super::super::imap_error;
use super::ImapSession;
use crate::error::{NetError, NetResult};
use crate::transport::timed;
use std::collections::BTreeSet;

impl ImapSession {
    /// `APPEND mailbox (flags) {n}` with `raw` as the message. `flags` is a
    /// parenthesised list such as `(\Seen)`, or empty for none.
    pub async fn append(&mut self, mailbox: &str, flags: &str, raw: &[u8]) -> NetResult<()> {
        let server = self.server.clone();
        let session = &mut self.session;
        let flags = (!flags.is_empty()).then_some(flags);
        timed("APPEND", self.timeout, async {
            session
                .append(mailbox, flags, None, raw)
                .await
                .map_err(|e| imap_error(&server, e))
        })
        .await
    }

    /// UIDs of the selected mailbox's messages whose header `name` contains
    /// `value` (`UID SEARCH HEADER name "value"`). A value that cannot be
    /// sent as a quoted string is refused rather than escaped: header
    /// values worth searching for (Message-IDs) never need it.
    pub async fn search_header(&mut self, name: &str, value: &str) -> NetResult<BTreeSet<u32>> {
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        };
        if !plain(name) || !plain(value) {
            return Err(NetError::Protocol(format!(
                "cannot search for header {name:?} = {value:?}: not a plain ASCII value"
            )));
        }
        self.uid_search(&format!("HEADER {name} \"{value}\"")).await
    }
}
