//! A logged-in IMAP session behind a small API: the few commands sync uses,
//! each under the per-command timeout, each answer converted to plain data
//! (owned strings and numbers; nothing borrowed from the wire) and each
//! failure to a [`NetError`]. Sync code never touches `async_imap` types.

use super::auth::{LoggedIn, login};
use super::connect::connect;
use super::imap_error;
use crate::error::{NetError, NetResult};
use crate::login::LoginAuth;
use crate::transport::{MailStream, ServerTarget, Timeouts, timed};
use async_imap::Session;
use async_imap::types::{Fetch, Flag, NameAttribute};
use futures_util::StreamExt;
use std::collections::{BTreeSet, HashSet};

// APPEND and header search for sending (a child module: it uses the
// private async_imap session).
mod append;
// STORE, MOVE, COPY and EXPUNGE for writing user changes back.
mod write;
// STATUS and IDLE, for watching folders without downloading them.
mod watch;
pub use watch::{FolderStatus, IdleEnd};
// QRESYNC and COPYUID: commands whose answers are read response by response.
mod raw;
#[cfg(feature = "fuzzing")]
pub use raw::fuzz_raw_responses;
pub use raw::{CopyUid, QresyncChanges, VanishedUids};

/// A mailbox as listed by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxInfo {
    /// Full name as the server spells it (modified UTF-7 on the wire).
    pub name: String,
    pub delimiter: Option<String>,
    /// LIST attributes, special-use included, e.g. `\Sent`, `\HasNoChildren`.
    pub attributes: Vec<String>,
}

impl MailboxInfo {
    pub fn has_attribute(&self, attr: &str) -> bool {
        self.attributes.iter().any(|a| a.eq_ignore_ascii_case(attr))
    }

    /// `\Noselect` / `\NonExistent` mailboxes hold no mail.
    pub fn selectable(&self) -> bool {
        !self.has_attribute("\\Noselect") && !self.has_attribute("\\NonExistent")
    }
}

/// What SELECT told about a mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selected {
    pub exists: u32,
    pub uidvalidity: u32,
    pub uidnext: Option<u32>,
    pub highestmodseq: Option<u64>,
}

/// One message (or one message's metadata) from a UID FETCH.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedMessage {
    pub uid: u32,
    /// Without `\Recent`, which is per session and means nothing to a store.
    pub flags: Vec<String>,
    pub internal_date_ms: Option<i64>,
    pub size: Option<u32>,
    pub modseq: Option<u64>,
    /// `BODY[HEADER…]`, when asked for.
    pub header: Option<Vec<u8>>,
    pub body: Option<Vec<u8>>,
}

pub struct ImapSession {
    session: Session<MailStream>,
    server: String,
    capabilities: HashSet<String>,
    timeout: std::time::Duration,
    /// `ENABLE QRESYNC`: not sent yet (None), on (it cannot be undone in
    /// a session), or refused by the server.
    qresync_enabled: Option<bool>,
}

impl ImapSession {
    /// Connects, logs in and reads the capabilities.
    pub async fn open(
        target: &ServerTarget,
        auth: &LoginAuth,
        timeouts: Timeouts,
    ) -> NetResult<ImapSession> {
        let greeted = connect(target, timeouts).await?;
        let logged_in = login(target, greeted, auth, timeouts).await?;
        ImapSession::logged_in(target, logged_in, timeouts).await
    }

    /// Wraps a session that just logged in (the connection test logs in
    /// step by step, then carries on here).
    pub async fn logged_in(
        target: &ServerTarget,
        logged_in: LoggedIn,
        timeouts: Timeouts,
    ) -> NetResult<ImapSession> {
        let mut session = logged_in.session;
        let server = target.server();
        // Capabilities may change at login (RFC 3501 6.2), so ask afterwards.
        let caps = timed("CAPABILITY", timeouts.command, async {
            session
                .capabilities()
                .await
                .map_err(|e| imap_error(&server, e))
        })
        .await?;
        let capabilities = caps
            .iter()
            .map(|c| match c {
                async_imap::types::Capability::Imap4rev1 => "IMAP4REV1".to_owned(),
                async_imap::types::Capability::Auth(m) => format!("AUTH={}", m.to_uppercase()),
                async_imap::types::Capability::Atom(a) => a.to_uppercase(),
            })
            .collect();
        Ok(ImapSession {
            session,
            server,
            capabilities,
            timeout: timeouts.command,
            qresync_enabled: None,
        })
    }

    /// `host:port`.
    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn has_capability(&self, cap: &str) -> bool {
        self.capabilities.contains(&cap.to_uppercase())
    }

    /// Every mailbox, with special-use attributes when the server has
    /// RFC 6154 (`LIST "" "*" RETURN (SPECIAL-USE)`).
    pub async fn list(&mut self) -> NetResult<Vec<MailboxInfo>> {
        let pattern = if self.has_capability("SPECIAL-USE") {
            "\"*\" RETURN (SPECIAL-USE)"
        } else {
            "\"*\""
        };
        let server = self.server.clone();
        let timeout = self.timeout;
        let session = &mut self.session;
        timed("LIST", timeout, async {
            let names = session
                .list(Some(""), Some(pattern))
                .await
                .map_err(|e| imap_error(&server, e))?;
            let names: Vec<_> = names.collect().await;
            names
                .into_iter()
                .map(|n| {
                    let n = n.map_err(|e| imap_error(&server, e))?;
                    Ok(MailboxInfo {
                        name: n.name().to_owned(),
                        delimiter: n.delimiter().map(str::to_owned),
                        attributes: n.attributes().iter().map(attribute_text).collect(),
                    })
                })
                .collect()
        })
        .await
    }

    /// SELECT, with CONDSTORE when the server has it (so HIGHESTMODSEQ is
    /// reported and flag changes can be asked for by mod-sequence).
    pub async fn select(&mut self, mailbox: &str, condstore: bool) -> NetResult<Selected> {
        let server = self.server.clone();
        let session = &mut self.session;
        let mb = timed("SELECT", self.timeout, async {
            let r = if condstore {
                session.select_condstore(mailbox).await
            } else {
                session.select(mailbox).await
            };
            r.map_err(|e| imap_error(&server, e))
        })
        .await?;
        let uidvalidity = mb.uid_validity.ok_or_else(|| {
            NetError::Protocol(format!(
                "{server} gave no UIDVALIDITY for {mailbox:?}: it cannot be synced incrementally"
            ))
        })?;
        Ok(Selected {
            exists: mb.exists,
            uidvalidity,
            uidnext: mb.uid_next,
            highestmodseq: mb.highest_modseq,
        })
    }

    /// `UID FETCH set query [modifiers]`, collected. The timeout applies to
    /// each response, so a big batch is fine as long as data keeps coming.
    /// Responses for UIDs outside `wanted` are dropped: `n:*` returns the
    /// last message even when its UID is below `n` (RFC 3501 6.4.8).
    pub async fn uid_fetch(
        &mut self,
        set: &str,
        query: &str,
        wanted: impl Fn(u32) -> bool,
    ) -> NetResult<Vec<FetchedMessage>> {
        let server = self.server.clone();
        let timeout = self.timeout;
        let mut stream = timed("UID FETCH", timeout, async {
            self.session
                .uid_fetch(set, query)
                .await
                .map_err(|e| imap_error(&server, e))
        })
        .await?;
        let mut out = Vec::new();
        loop {
            let next = tokio::time::timeout(timeout, stream.next())
                .await
                .map_err(|_| NetError::Timeout {
                    what: "UID FETCH".into(),
                    after: timeout,
                })?;
            match next {
                None => break,
                Some(Err(e)) => return Err(imap_error(&server, e)),
                Some(Ok(f)) => {
                    if let Some(m) = convert_fetch(&f)
                        && wanted(m.uid)
                    {
                        out.push(m);
                    }
                }
            }
        }
        Ok(out)
    }

    /// `UID SEARCH query`, sorted.
    pub async fn uid_search(&mut self, query: &str) -> NetResult<BTreeSet<u32>> {
        let server = self.server.clone();
        let session = &mut self.session;
        timed("UID SEARCH", self.timeout, async {
            session
                .uid_search(query)
                .await
                .map(|uids| uids.into_iter().collect())
                .map_err(|e| imap_error(&server, e))
        })
        .await
    }

    /// LOGOUT, best effort: the work is done (or failed) by now.
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.session.logout()).await;
    }
}

fn attribute_text(a: &NameAttribute<'_>) -> String {
    match a {
        NameAttribute::NoInferiors => "\\Noinferiors".into(),
        NameAttribute::NoSelect => "\\Noselect".into(),
        NameAttribute::Marked => "\\Marked".into(),
        NameAttribute::Unmarked => "\\Unmarked".into(),
        NameAttribute::All => "\\All".into(),
        NameAttribute::Archive => "\\Archive".into(),
        NameAttribute::Drafts => "\\Drafts".into(),
        NameAttribute::Flagged => "\\Flagged".into(),
        NameAttribute::Junk => "\\Junk".into(),
        NameAttribute::Sent => "\\Sent".into(),
        NameAttribute::Trash => "\\Trash".into(),
        NameAttribute::Extension(e) => e.to_string(),
        // The enum is non-exhaustive; a future attribute is kept by name.
        other => format!("{other:?}"),
    }
}

fn flag_text(f: &Flag<'_>) -> Option<String> {
    Some(match f {
        Flag::Seen => "\\Seen".into(),
        Flag::Answered => "\\Answered".into(),
        Flag::Flagged => "\\Flagged".into(),
        Flag::Deleted => "\\Deleted".into(),
        Flag::Draft => "\\Draft".into(),
        Flag::Recent => return None,
        Flag::MayCreate => "\\*".into(),
        Flag::Custom(c) => c.to_string(),
    })
}

/// A FETCH response without a UID is an unsolicited one (another client's
/// flag change, RFC 3501 7.4.2): not ours to interpret here.
fn convert_fetch(f: &Fetch) -> Option<FetchedMessage> {
    let uid = f.uid?;
    let mut flags: Vec<String> = f.flags().filter_map(|fl| flag_text(&fl)).collect();
    flags.sort();
    flags.dedup();
    Some(FetchedMessage {
        uid,
        flags,
        internal_date_ms: f.internal_date().map(|d| d.timestamp_millis()),
        size: f.size,
        modseq: f.modseq,
        header: f.header().map(<[u8]>::to_vec),
        body: f.body().map(<[u8]>::to_vec),
    })
}
