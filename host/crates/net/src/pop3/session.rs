//! A logged-in POP3 session: the commands sync needs (UIDL with LIST
//! sizes, RETR, DELE, QUIT), with errors that name the server and the
//! command.

use super::auth::{Capabilities, login};
use super::connect::{Greeted, connect};
use super::wire::{Reply, Wire};
use crate::error::{NetError, NetResult};
use crate::login::{LoginAuth, LoginMechanism};
use crate::transport::{ServerTarget, Timeouts};
use std::collections::HashMap;

/// The largest message RETR downloads: it is held in memory whole, so a
/// larger one (or a server that never ends its answer) is refused rather
/// than allowed to exhaust it. Sync leaves larger messages on the server.
pub const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// A UIDL or LIST answer of this size lists about a million messages.
const MAX_LISTING_BYTES: u64 = 64 * 1024 * 1024;

/// One message in the server's maildrop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerMessage {
    /// Its number in this session (RETR/DELE take it).
    pub number: usize,
    /// Its unique id, stable across sessions.
    pub uidl: String,
    /// Its size as LIST announces it.
    pub size: u64,
}

pub struct Pop3Session {
    wire: Wire,
    /// How the login went through, for the connection test.
    mechanism: LoginMechanism,
}

impl Pop3Session {
    /// Connects and logs in.
    pub async fn open(
        target: &ServerTarget,
        auth: &LoginAuth,
        timeouts: Timeouts,
    ) -> NetResult<Self> {
        let greeted = connect(target, timeouts).await?;
        Self::login(target, greeted, auth, timeouts).await
    }

    /// Asks for the capabilities and logs in on a greeted connection.
    pub async fn login(
        target: &ServerTarget,
        greeted: Greeted,
        auth: &LoginAuth,
        timeouts: Timeouts,
    ) -> NetResult<Self> {
        let mut wire = Wire::new(greeted.stream, target.server(), timeouts);
        let caps = Capabilities::ask(&mut wire).await?;
        let mechanism = login(target, &mut wire, &caps, auth).await?;
        Ok(Self { wire, mechanism })
    }

    pub fn server(&self) -> &str {
        self.wire.server()
    }

    pub fn login_mechanism(&self) -> LoginMechanism {
        self.mechanism
    }

    /// Every message with its UIDL and size, in server order.
    pub async fn listing(&mut self) -> NetResult<Vec<ServerMessage>> {
        let uidls = match self
            .wire
            .multiline("UIDL", "UIDL", MAX_LISTING_BYTES)
            .await?
        {
            Ok(body) => body,
            Err(words) => {
                return Err(NetError::Protocol(format!(
                    "{} does not offer UIDL (it said -ERR {words}), which Mailroom needs to \
                     download each message once; use IMAP for this account if the server has it",
                    self.server()
                )));
            }
        };
        let sizes = self.command_body("LIST", "LIST", MAX_LISTING_BYTES).await?;
        let sizes: HashMap<usize, u64> = pairs(&sizes)
            .map(|pair| {
                let (number, size) = pair?;
                Some((number, size.parse().ok()?))
            })
            .collect::<Option<_>>()
            .ok_or_else(|| self.unreadable("LIST"))?;
        pairs(&uidls)
            .map(|pair| {
                let (number, uidl) = pair?;
                Some(ServerMessage {
                    number,
                    uidl: uidl.to_owned(),
                    size: sizes.get(&number).copied().unwrap_or(0),
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| self.unreadable("UIDL"))
    }

    /// The raw message, as stored on the server.
    pub async fn retr(&mut self, number: usize) -> NetResult<Vec<u8>> {
        let what = format!("RETR {number}");
        self.command_body(&what, &what, MAX_MESSAGE_BYTES).await
    }

    /// Marks a message for deletion; QUIT applies it.
    pub async fn dele(&mut self, number: usize) -> NetResult<()> {
        let what = format!("DELE {number}");
        self.command_ok(&what).await
    }

    /// Ends the session. This is what makes DELE take effect, so its
    /// failure is an error (the deletions did not happen).
    pub async fn quit(mut self) -> NetResult<()> {
        self.command_ok("QUIT").await
    }

    async fn command_ok(&mut self, what: &str) -> NetResult<()> {
        match self.wire.command(what, what).await? {
            Reply::Ok(_) => Ok(()),
            other => Err(self.refused(what, other)),
        }
    }

    async fn command_body(&mut self, what: &str, line: &str, limit: u64) -> NetResult<Vec<u8>> {
        match self.wire.multiline(what, line, limit).await? {
            Ok(body) => Ok(body),
            Err(words) => Err(self.refused(what, Reply::Err(words))),
        }
    }

    fn refused(&self, what: &str, reply: Reply) -> NetError {
        let words = match reply {
            Reply::Err(words) => format!("-ERR {words}"),
            Reply::Ok(text) => format!("+OK {text}"),
            Reply::Challenge(text) => format!("+ {text}"),
        };
        NetError::Protocol(format!("{} refused {what}: {words}", self.server()))
    }

    fn unreadable(&self, what: &str) -> NetError {
        NetError::Protocol(format!("{}: unreadable {what} answer", self.server()))
    }
}

/// The `number value` lines of a UIDL or LIST answer; `None` for a line
/// that is not one, so that a garbled answer is an error, not a gap.
fn pairs(body: &[u8]) -> impl Iterator<Item = Option<(usize, &str)>> {
    // UIDs are printable ASCII (RFC 1939): an answer that is not even
    // UTF-8 becomes one line that does not parse.
    std::str::from_utf8(body)
        .unwrap_or("not UTF-8")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut words = l.split_whitespace();
            let number = words.next()?.parse().ok()?;
            let value = words.next()?;
            Some((number, value))
        })
}

#[cfg(test)]
mod tests {
    use super::pairs;

    #[test]
    fn listing_lines_parse_and_garbage_is_refused() {
        let ok: Option<Vec<_>> = pairs(b"1 abc\r\n2 def\r\n").collect();
        assert_eq!(ok, Some(vec![(1, "abc"), (2, "def")]));
        let bad: Option<Vec<_>> = pairs(b"1 abc\r\nnonsense\r\n").collect();
        assert_eq!(bad, None);
    }
}
