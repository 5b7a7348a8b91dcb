//! Commands whose answers async-imap drops or cannot ask for, sent with its
//! raw command API and read response by response here: `ENABLE QRESYNC`,
//! `SELECT mailbox (QRESYNC (uidvalidity modseq))` with the `VANISHED
//! (EARLIER)` and `FETCH` responses it brings (RFC 7162), and `UID MOVE` /
//! `UID COPY` with the `COPYUID` response code (RFC 4315) that says where
//! the messages went. A child module of `session` so it can use the wrapped
//! `async_imap` session without widening its API.
//!
//! Untagged responses read here are not queued for
//! [`ImapSession::take_mailbox_changes`]: during SELECT they describe the
//! folder being synced, and during a move they are the move's own
//! expunges; anything else the server says about a folder is seen by the
//! sync that selects it next.

use super::super::imap_error;
use super::{FetchedMessage, ImapSession, Selected};
use crate::error::{NetError, NetResult};
use crate::transport::timed;
use async_imap::error::Error as ImapError;
use async_imap::imap_proto::rfc4315::UidSetMember;
use async_imap::imap_proto::{AttributeValue, MailboxDatum, Response, ResponseCode, Status};
use std::ops::RangeInclusive;

/// Most UIDs a COPYUID set may expand to: far above a write-back batch, so
/// only a nonsensical answer is ignored.
const MAX_COPYUID_UIDS: usize = 100_000;

/// What `SELECT … (QRESYNC …)` reported besides the folder's counters:
/// every change since the given mod-sequence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QresyncChanges {
    /// UIDs expunged since (`VANISHED (EARLIER)`) as the server's ranges,
    /// possibly including UIDs never stored: servers may report more than
    /// asked. Kept as ranges, never expanded: `1:4294967295` is a legal
    /// answer a few bytes long.
    pub vanished: Vec<RangeInclusive<u32>>,
    /// Messages whose flags changed since (or that arrived since), with
    /// UID, flags and mod-sequence.
    pub changed: Vec<FetchedMessage>,
}

/// Where the server put copied or moved messages (`COPYUID`).
impl QresyncChanges {
    /// The vanished ranges sorted and merged for binary search: a server's
    /// answer may hold thousands of ranges and a folder thousands of stored
    /// UIDs.
    pub fn vanished_uids(&self) -> VanishedUids {
        // `431:4` is `4:431` (RFC 3501's seq-range: "2:4 and 4:2 are
        // equivalent"); the parser keeps the server's order.
        let mut ranges: Vec<_> = self
            .vanished
            .iter()
            .map(|r| *r.start().min(r.end())..=*r.start().max(r.end()))
            .collect();
        ranges.sort_by_key(|r| *r.start());
        let mut merged: Vec<RangeInclusive<u32>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(last) if *r.start() <= last.end().saturating_add(1) => {
                    if r.end() > last.end() {
                        *last = *last.start()..=*r.end();
                    }
                }
                _ => merged.push(r),
            }
        }
        VanishedUids(merged)
    }
}

/// Expunged UIDs as sorted, disjoint, non-adjacent ranges
/// ([`QresyncChanges::vanished_uids`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VanishedUids(Vec<RangeInclusive<u32>>);

impl VanishedUids {
    /// Whether the server said `uid` vanished.
    pub fn contains(&self, uid: u32) -> bool {
        let i = self.0.partition_point(|r| *r.end() < uid);
        self.0.get(i).is_some_and(|r| r.contains(&uid))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyUid {
    /// The destination folder's UIDVALIDITY.
    pub uidvalidity: u32,
    /// (source UID, destination UID) pairs.
    pub uids: Vec<(u32, u32)>,
}

impl ImapSession {
    /// `ENABLE QRESYNC` (RFC 7162), once per session: from then on the
    /// server reports expunges as VANISHED (UIDs) and every FETCH carries
    /// the mod-sequence. False when the server refused it (now or earlier
    /// in the session; it is not asked again).
    pub async fn enable_qresync(&mut self) -> NetResult<bool> {
        if let Some(enabled) = self.qresync_enabled {
            return Ok(enabled);
        }
        let server = self.server.clone();
        let session = &mut self.session;
        let enabled = timed("ENABLE", self.timeout, async {
            session
                .run_command_and_check_ok("ENABLE QRESYNC")
                .await
                .map_err(|e| imap_error(&server, e))
        })
        .await;
        let enabled = match enabled {
            Ok(()) => true,
            Err(NetError::Protocol(why)) => {
                tracing::warn!(
                    server,
                    why,
                    "the server advertises QRESYNC but refused to enable it"
                );
                false
            }
            Err(e) => return Err(e),
        };
        self.qresync_enabled = Some(enabled);
        Ok(enabled)
    }

    /// `SELECT mailbox (QRESYNC (uidvalidity modseq))`, after
    /// [`enable_qresync`](Self::enable_qresync). When `uidvalidity` is not
    /// the folder's any more, the server reports no changes (the caller
    /// sees the new UIDVALIDITY and starts over).
    pub async fn select_qresync(
        &mut self,
        mailbox: &str,
        uidvalidity: u32,
        modseq: u64,
    ) -> NetResult<(Selected, QresyncChanges)> {
        let command = format!(
            "SELECT {} (QRESYNC ({uidvalidity} {modseq}))",
            quoted(mailbox)?
        );
        let mut reader = QresyncSelect::default();
        self.run_raw("SELECT", &command, |r| reader.read(r)).await?;
        let QresyncSelect { counters, changes } = reader;
        Ok((counters.into_selected(&self.server, mailbox)?, changes))
    }

    /// `UID MOVE set mailbox` (RFC 6851; needs MOVE), with the server's
    /// COPYUID when it has UIDPLUS.
    pub async fn uid_move(&mut self, set: &str, mailbox: &str) -> NetResult<Option<CopyUid>> {
        let command = format!("UID MOVE {set} {}", quoted(mailbox)?);
        self.run_with_copyuid("UID MOVE", &command).await
    }

    /// `UID COPY set mailbox`, with the server's COPYUID when it has
    /// UIDPLUS.
    pub async fn uid_copy(&mut self, set: &str, mailbox: &str) -> NetResult<Option<CopyUid>> {
        let command = format!("UID COPY {set} {}", quoted(mailbox)?);
        self.run_with_copyuid("UID COPY", &command).await
    }

    async fn run_with_copyuid(&mut self, what: &str, command: &str) -> NetResult<Option<CopyUid>> {
        let mut copied = None;
        self.run_raw(what, command, |r| {
            if let Some(c) = copy_uid_in(r) {
                copied = Some(c);
            }
        })
        .await?;
        Ok(copied)
    }

    /// Sends `command` and hands every response, up to and including its
    /// tagged completion, to `each`; a NO or BAD completion is an error
    /// with the server's words. The timeout applies to each response.
    async fn run_raw(
        &mut self,
        what: &str,
        command: &str,
        mut each: impl FnMut(&Response<'_>),
    ) -> NetResult<()> {
        let server = self.server.clone();
        let timeout = self.timeout;
        let session = &mut self.session;
        let tag = timed(what, timeout, async {
            session
                .run_command(command)
                .await
                .map_err(|e| imap_error(&server, e))
        })
        .await?;
        loop {
            let next = timed(what, timeout, async {
                session
                    .read_response()
                    .await
                    .map_err(|e| imap_error(&server, ImapError::Io(e)))
            })
            .await?;
            let Some(response) = next else {
                return Err(imap_error(&server, ImapError::ConnectionLost));
            };
            let parsed = response.parsed();
            each(parsed);
            if let Response::Done {
                tag: done,
                status,
                outcome,
            } = parsed
                && *done == tag
            {
                // The same text async-imap makes, so its NO/BAD read alike.
                let words = format!("code: {:?}, info: {:?}", outcome.code, outcome.information);
                return match status {
                    Status::Ok => Ok(()),
                    Status::No => Err(imap_error(&server, ImapError::No(words))),
                    _ => Err(imap_error(&server, ImapError::Bad(words))),
                };
            }
        }
    }
}

/// What a `SELECT … (QRESYNC …)` answer says, read response by response.
#[derive(Default)]
struct QresyncSelect {
    counters: Counters,
    changes: QresyncChanges,
}

impl QresyncSelect {
    fn read(&mut self, r: &Response<'_>) {
        self.counters.read(r);
        match r {
            Response::Vanished { uids, .. } => {
                self.changes.vanished.extend(uids.iter().cloned());
            }
            Response::Fetch(_, attrs) => self.changes.changed.extend(flag_change(attrs)),
            _ => {}
        }
    }
}

/// The COPYUID a response carries, if any: MOVE says it in an untagged
/// OK, COPY in the tagged one.
fn copy_uid_in(r: &Response<'_>) -> Option<CopyUid> {
    let outcome = match r {
        Response::Data { outcome, .. } | Response::Done { outcome, .. } => outcome,
        _ => return None,
    };
    match &outcome.code {
        Some(ResponseCode::CopyUid(uidvalidity, from, to)) => copy_uid(*uidvalidity, from, to),
        _ => None,
    }
}

/// Feeds raw server bytes through everything this module reads itself
/// (SELECT counters, QRESYNC changes, COPYUID, a NO's words), the way a
/// session would: the fuzz target's entry point (`fuzz/`). Checks the
/// promises callers rely on and panics when one is broken.
#[cfg(feature = "fuzzing")]
pub fn fuzz_raw_responses(mut bytes: &[u8]) {
    let mut reader = QresyncSelect::default();
    while let Ok((rest, response)) = Response::parse(bytes) {
        reader.read(&response);
        if let Some(c) = copy_uid_in(&response) {
            assert!(c.uids.len() <= MAX_COPYUID_UIDS);
        }
        if let Response::Done { outcome, .. } = &response {
            let words = format!("code: {:?}, info: {:?}", outcome.code, outcome.information);
            let _ = super::super::server_words(&ImapError::No(words));
        }
        if rest.len() >= bytes.len() {
            break;
        }
        bytes = rest;
    }
    let QresyncSelect { counters, changes } = reader;
    let had_uidvalidity = counters.uidvalidity.is_some();
    assert_eq!(
        counters.into_selected("server", "INBOX").is_ok(),
        had_uidvalidity
    );
    let merged = changes.vanished_uids();
    assert!(merged.0.windows(2).all(|w| w[0].end() < w[1].start()));
    for r in &changes.vanished {
        for uid in [*r.start(), *r.end()] {
            assert!(merged.contains(uid), "{uid} of {r:?} is in {merged:?}");
        }
    }
    for m in &changes.changed {
        assert!(!m.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Recent")));
        assert!(
            m.flags.windows(2).all(|w| w[0] < w[1]),
            "flags sorted, no repeats"
        );
    }
}

/// The counters SELECT reports, collected from its responses.
#[derive(Default)]
struct Counters {
    exists: u32,
    uidvalidity: Option<u32>,
    uidnext: Option<u32>,
    highestmodseq: Option<u64>,
}

impl Counters {
    fn read(&mut self, r: &Response<'_>) {
        match r {
            Response::MailboxData(MailboxDatum::Exists(n)) => self.exists = *n,
            Response::Data {
                status: Status::Ok,
                outcome,
            } => match outcome.code {
                Some(ResponseCode::UidValidity(v)) => self.uidvalidity = Some(v),
                Some(ResponseCode::UidNext(v)) => self.uidnext = Some(v),
                Some(ResponseCode::HighestModSeq(v)) => self.highestmodseq = Some(v),
                _ => {}
            },
            _ => {}
        }
    }

    fn into_selected(self, server: &str, mailbox: &str) -> NetResult<Selected> {
        let uidvalidity = self.uidvalidity.ok_or_else(|| {
            NetError::Protocol(format!(
                "{server} gave no UIDVALIDITY for {mailbox:?}: it cannot be synced incrementally"
            ))
        })?;
        Ok(Selected {
            exists: self.exists,
            uidvalidity,
            uidnext: self.uidnext,
            highestmodseq: self.highestmodseq,
        })
    }
}

/// A FETCH during a QRESYNC SELECT: UID, FLAGS and MODSEQ. One without a
/// UID cannot be placed and is left out.
fn flag_change(attrs: &[AttributeValue<'_>]) -> Option<FetchedMessage> {
    let mut uid = None;
    let mut flags = Vec::new();
    let mut modseq = None;
    for a in attrs {
        match a {
            AttributeValue::Uid(u) => uid = Some(*u),
            AttributeValue::ModSeq(m) => modseq = Some(*m),
            AttributeValue::Flags(f) => flags.extend(
                f.iter()
                    .filter(|x| !x.eq_ignore_ascii_case("\\Recent"))
                    .map(|x| x.to_string()),
            ),
            _ => {}
        }
    }
    flags.sort();
    flags.dedup();
    Some(FetchedMessage {
        uid: uid?,
        flags,
        internal_date_ms: None,
        size: None,
        modseq,
        header: None,
        body: None,
    })
}

/// Pairs the source and destination sets of a COPYUID, which list the
/// UIDs in corresponding order (RFC 4315 section 3). An answer whose sets
/// do not pair up is ignored: the next sync finds the messages anyway.
fn copy_uid(uidvalidity: u32, from: &[UidSetMember], to: &[UidSetMember]) -> Option<CopyUid> {
    let from = expand(from)?;
    let to = expand(to)?;
    (from.len() == to.len()).then(|| CopyUid {
        uidvalidity,
        uids: from.into_iter().zip(to).collect(),
    })
}

fn expand(set: &[UidSetMember]) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for member in set {
        match member {
            UidSetMember::Uid(u) => out.push(*u),
            UidSetMember::UidRange(r) => {
                // Servers may write a range high-to-low (`5:3`).
                let (lo, hi) = (*r.start().min(r.end()), *r.start().max(r.end()));
                let len = usize::try_from(hi - lo).ok()?.saturating_add(1);
                if out.len().saturating_add(len) > MAX_COPYUID_UIDS {
                    return None;
                }
                if r.start() <= r.end() {
                    out.extend(lo..=hi);
                } else {
                    out.extend((lo..=hi).rev());
                }
            }
        }
        if out.len() > MAX_COPYUID_UIDS {
            return None;
        }
    }
    Some(out)
}

/// A mailbox name as an IMAP quoted string. Names come from the server's
/// own LIST, so a line break in one is refused rather than sent.
fn quoted(mailbox: &str) -> NetResult<String> {
    if mailbox.contains(['\r', '\n']) {
        return Err(NetError::Protocol(format!(
            "the folder name {mailbox:?} contains a line break and cannot be sent to the server"
        )));
    }
    Ok(format!(
        "\"{}\"",
        mailbox.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copyuid_sets_pair_up_in_order() {
        let from = [UidSetMember::Uid(4), UidSetMember::UidRange(7..=9)];
        let to = [UidSetMember::UidRange(20..=23)];
        assert_eq!(
            copy_uid(5, &from, &to),
            Some(CopyUid {
                uidvalidity: 5,
                uids: vec![(4, 20), (7, 21), (8, 22), (9, 23)],
            })
        );
        let short = [UidSetMember::Uid(20)];
        assert_eq!(copy_uid(5, &from, &short), None, "sets that do not pair up");
        let huge = [UidSetMember::UidRange(1..=u32::MAX)];
        assert_eq!(copy_uid(5, &huge, &huge), None, "a nonsensical size");
    }

    #[test]
    fn mailbox_names_are_quoted_or_refused() {
        assert_eq!(
            quoted("INBOX.Sent Items").ok().as_deref(),
            Some("\"INBOX.Sent Items\"")
        );
        assert_eq!(quoted("a\"b\\c").ok().as_deref(), Some("\"a\\\"b\\\\c\""));
        assert!(quoted("bad\r\nLOGOUT").is_err());
    }

    #[test]
    fn a_qresync_fetch_gives_uid_flags_and_modseq() {
        let attrs = [
            AttributeValue::Uid(7),
            AttributeValue::Flags(vec!["\\Seen".into(), "\\Recent".into()]),
            AttributeValue::ModSeq(42),
        ];
        let m = flag_change(&attrs).expect("a change");
        assert_eq!(
            (m.uid, m.flags, m.modseq),
            (7, vec!["\\Seen".to_owned()], Some(42))
        );
        assert!(flag_change(&[AttributeValue::ModSeq(1)]).is_none());
    }

    /// Found by fuzz/imap_responses: imap-proto 0.17.0 panicked on this
    /// line, crashing the sync task that read it (vendor/imap-proto fixes
    /// it). A server's SELECT answer is read whatever bytes follow a code.
    #[test]
    fn a_response_code_followed_by_bytes_that_are_not_utf8_parses() {
        let answer: &[&[u8]] = &[
            b"* 3 EXISTS\r\n",
            b"* OK [UIDVALIDITY 3857529045]\xff\xff\xff\t UIDs valid\r\n",
            b"* OK [UIDNEXT 4392]\xc3 Predicted next UID\r\n",
            b"* 49 FETCH (UID 117 FLAGS (\\Seen \\Recent) MODSEQ (9))\r\n",
        ];
        let mut reader = QresyncSelect::default();
        for line in answer {
            let (rest, response) = Response::parse(line).expect("a response");
            assert!(rest.is_empty());
            reader.read(&response);
        }
        let selected = reader
            .counters
            .into_selected("server", "INBOX")
            .expect("selected");
        assert_eq!(
            (selected.exists, selected.uidvalidity, selected.uidnext),
            (3, 3_857_529_045, Some(4392))
        );
        assert_eq!(reader.changes.changed[0].flags, ["\\Seen"]);
    }

    /// Found by fuzz/imap_responses: `VANISHED (EARLIER) 125:2115080355`
    /// was expanded UID by UID (8 GB) and the sync ran out of memory. The
    /// ranges are kept as the server sent them (either end first).
    #[test]
    fn a_vanished_range_to_the_top_uid_is_not_expanded() {
        let line = b"* VANISHED (EARLIER) 41,116:43,118,125:2115080355,214:516,7\r\n";
        let (_, response) = Response::parse(line).expect("a response");
        let mut reader = QresyncSelect::default();
        reader.read(&response);
        let vanished = reader.changes.vanished_uids();
        for uid in [7, 41, 43, 116, 118, 125, 2_115_080_355] {
            assert!(vanished.contains(uid), "{uid}");
        }
        for uid in [1, 42, 117, 2_115_080_356, u32::MAX] {
            assert!(!vanished.contains(uid), "{uid}");
        }
        assert_eq!(
            vanished.0.len(),
            5,
            "7 | 41 | 43:116 | 118 | 125:… (214:516 merged in)"
        );
    }
}
