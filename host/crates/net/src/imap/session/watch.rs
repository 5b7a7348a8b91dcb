//! The two commands that watch a mailbox without downloading it: STATUS
//! (a folder's counters, without selecting it) and IDLE (RFC 2177: the
//! server pushes changes of the selected folder).

use super::super::imap_error;
use super::ImapSession;
use crate::error::{NetError, NetResult};
use crate::transport::timed;
use async_imap::extensions::idle::IdleResponse;
use async_imap::imap_proto::Response;
use async_imap::types::UnsolicitedResponse;
use std::future::Future;
use std::time::Duration;

/// A folder's counters as STATUS reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderStatus {
    pub messages: u32,
    pub uidnext: Option<u32>,
    pub uidvalidity: Option<u32>,
    /// Only with CONDSTORE.
    pub highestmodseq: Option<u64>,
}

/// Why an IDLE ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleEnd {
    /// The server reported a change (EXISTS, EXPUNGE, FETCH, VANISHED …).
    Changed,
    /// The time given ran out (or the server was silent for the
    /// keepalive bound and answered DONE): nothing happened.
    TimeUp,
    /// The caller asked to stop.
    Interrupted,
}

impl ImapSession {
    /// Empties the queue of responses the server sent on its own during
    /// earlier commands; true if one reported a change to the selected
    /// mailbox (new, expunged or re-flagged mail).
    pub fn take_mailbox_changes(&mut self) -> bool {
        let mut changed = false;
        while let Ok(r) = self.session.unsolicited_responses.try_recv() {
            changed |= match r {
                UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Expunge(_) => true,
                UnsolicitedResponse::Other(data) => matches!(
                    data.parsed(),
                    Response::Fetch(..) | Response::Vanished { .. } | Response::Expunge(_)
                ),
                _ => false,
            };
        }
        changed
    }

    /// `STATUS mailbox (MESSAGES UIDNEXT UIDVALIDITY [HIGHESTMODSEQ])`.
    pub async fn status(&mut self, mailbox: &str) -> NetResult<FolderStatus> {
        let items = if self.has_capability("CONDSTORE") {
            "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)"
        } else {
            "(MESSAGES UIDNEXT UIDVALIDITY)"
        };
        let server = self.server.clone();
        let session = &mut self.session;
        let mb = timed("STATUS", self.timeout, async {
            session
                .status(mailbox, items)
                .await
                .map_err(|e| imap_error(&server, e))
        })
        .await?;
        Ok(FolderStatus {
            messages: mb.exists,
            uidnext: mb.uid_next,
            uidvalidity: mb.uid_validity,
            highestmodseq: mb.highest_modseq,
        })
    }

    /// IDLE on the selected mailbox until the server reports a change,
    /// `until` passes, or `interrupt` resolves; then DONE. The server must
    /// say something at least every `keepalive` (Dovecot says "Still here");
    /// after a longer silence DONE probes it under the command timeout, so
    /// a dead link ends in an error rather than a hang. Consumes the session
    /// because IDLE owns the connection; it is handed back when IDLE ended
    /// cleanly.
    pub async fn idle(
        self,
        until: Duration,
        keepalive: Duration,
        interrupt: impl Future<Output = ()>,
    ) -> NetResult<(ImapSession, IdleEnd)> {
        let ImapSession {
            session,
            server,
            capabilities,
            timeout,
            qresync_enabled,
        } = self;
        let mut handle = session.idle();
        timed("IDLE", timeout, async {
            handle.init().await.map_err(|e| imap_error(&server, e))
        })
        .await?;
        let end = {
            let (wait, stop) = handle.wait_with_timeout(keepalive.max(Duration::from_secs(1)));
            tokio::pin!(wait);
            tokio::pin!(interrupt);
            let time_up = tokio::time::sleep(until);
            tokio::pin!(time_up);
            // Dropping `stop` ends the wait with ManualInterrupt.
            let mut stop = Some(stop);
            let mut asked: Option<IdleEnd> = None;
            loop {
                tokio::select! {
                    r = &mut wait => break match r.map_err(|e| imap_error(&server, e))? {
                        IdleResponse::NewData(_) => IdleEnd::Changed,
                        IdleResponse::Timeout => IdleEnd::TimeUp,
                        IdleResponse::ManualInterrupt => match asked {
                            Some(end) => end,
                            // Nobody asked: the stream ended.
                            None => return Err(NetError::Connect {
                                server,
                                reason: "the server closed the connection during IDLE".into(),
                            }),
                        },
                    },
                    () = &mut time_up, if asked.is_none() => {
                        asked = Some(IdleEnd::TimeUp);
                        stop.take();
                    }
                    () = &mut interrupt, if asked.is_none() => {
                        asked = Some(IdleEnd::Interrupted);
                        stop.take();
                    }
                }
            }
        };
        let session = timed("DONE", timeout, async {
            handle.done().await.map_err(|e| imap_error(&server, e))
        })
        .await?;
        Ok((
            ImapSession {
                session,
                server,
                capabilities,
                timeout,
                qresync_enabled,
            },
            end,
        ))
    }
}
