//! The commands that change a mailbox, for writing user changes back:
//! `UID STORE` of flags, `UID EXPUNGE` and plain `EXPUNGE` (`UID MOVE` and
//! `UID COPY` are in `raw`, which reads their COPYUID). A child module of
//! `session` so it can use the wrapped `async_imap` session without
//! widening its API. Each works on the selected mailbox and takes a UID set
//! such as `3,7:9`.

use super::super::imap_error;
use super::ImapSession;
use crate::error::NetResult;
use crate::transport::timed;
use futures_util::StreamExt;

impl ImapSession {
    /// `UID STORE set ±FLAGS.SILENT (flags)`: sets (`add`) or clears flags
    /// without asking for the new flags back.
    pub async fn uid_store_flags(&mut self, set: &str, add: bool, flags: &str) -> NetResult<()> {
        let server = self.server.clone();
        let session = &mut self.session;
        let query = format!("{}FLAGS.SILENT ({flags})", if add { "+" } else { "-" });
        timed("UID STORE", self.timeout, async {
            let stream = session
                .uid_store(set, &query)
                .await
                .map_err(|e| imap_error(&server, e))?;
            drain(stream, &server).await
        })
        .await
    }

    /// `UID EXPUNGE set` (RFC 4315; needs UIDPLUS): removes only these
    /// UIDs' `\Deleted` messages.
    pub async fn uid_expunge(&mut self, set: &str) -> NetResult<()> {
        let server = self.server.clone();
        let session = &mut self.session;
        timed("UID EXPUNGE", self.timeout, async {
            let stream = session
                .uid_expunge(set)
                .await
                .map_err(|e| imap_error(&server, e))?;
            drain(stream, &server).await
        })
        .await
    }

    /// `EXPUNGE`: removes every `\Deleted` message of the mailbox; callers
    /// make sure only their own are marked.
    pub async fn expunge_all(&mut self) -> NetResult<()> {
        let server = self.server.clone();
        let session = &mut self.session;
        timed("EXPUNGE", self.timeout, async {
            let stream = session
                .expunge()
                .await
                .map_err(|e| imap_error(&server, e))?;
            drain(stream, &server).await
        })
        .await
    }
}

/// Reads a command's responses to its end (the tagged OK or an error).
async fn drain<T>(
    stream: impl futures_util::Stream<Item = Result<T, async_imap::error::Error>>,
    server: &str,
) -> NetResult<()> {
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        item.map_err(|e| imap_error(server, e))?;
    }
    Ok(())
}
