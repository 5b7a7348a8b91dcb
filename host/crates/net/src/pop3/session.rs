//! A logged-in POP3 session: the commands sync needs (UIDL with LIST
//! sizes, RETR, DELE, QUIT), each under the per-command deadline, with
//! errors that name the server and the command.

use super::auth::{PopClient, login};
use super::connect::{Greeted, connect};
use super::pop_error;
use crate::error::{NetError, NetResult};
use crate::login::{LoginAuth, LoginMechanism};
use crate::transport::{ServerTarget, Timeouts, timed};
use async_pop::error::ErrorKind;
use async_pop::response::list::ListResponse;
use async_pop::response::types::DataType;
use async_pop::response::uidl::UidlResponse;
use std::collections::HashMap;

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
    client: PopClient,
    /// How the login went through, for the connection test.
    mechanism: LoginMechanism,
    server: String,
    timeouts: Timeouts,
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

    /// Logs in on a greeted connection.
    pub async fn login(
        target: &ServerTarget,
        greeted: Greeted,
        auth: &LoginAuth,
        timeouts: Timeouts,
    ) -> NetResult<Self> {
        let (client, mechanism) = login(target, greeted, auth, timeouts).await?;
        Ok(Self {
            client,
            mechanism,
            server: target.server(),
            timeouts,
        })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn login_mechanism(&self) -> LoginMechanism {
        self.mechanism
    }

    /// Every message with its UIDL and size, in server order.
    pub async fn listing(&mut self) -> NetResult<Vec<ServerMessage>> {
        let server = self.server.clone();
        let client = &mut self.client;
        let (uidls, sizes) = timed("UIDL and LIST", self.timeouts.command, async {
            let uidls = client.uidl(None).await.map_err(|e| match e.kind() {
                ErrorKind::FeatureUnsupported => NetError::Protocol(format!(
                    "{server} does not offer UIDL, which Mailroom needs to download each \
                     message once; use IMAP for this account if the server has it"
                )),
                _ => pop_error(&server, "UIDL", e),
            })?;
            let sizes = client
                .list(None)
                .await
                .map_err(|e| pop_error(&server, "LIST", e))?;
            Ok((uidls, sizes))
        })
        .await?;
        let unreadable =
            |what: &str| NetError::Protocol(format!("{}: unreadable {what} answer", self.server));
        let sizes: HashMap<usize, u64> = match sizes {
            ListResponse::Multiple(list) => list
                .items()
                .iter()
                .map(|s| Some((s.counter().value().ok()?, s.size().value().ok()? as u64)))
                .collect::<Option<_>>()
                .ok_or_else(|| unreadable("LIST"))?,
            ListResponse::Single(_) => return Err(unreadable("LIST")),
        };
        let UidlResponse::Multiple(uidls) = uidls else {
            return Err(unreadable("UIDL"));
        };
        uidls
            .items()
            .iter()
            .map(|item| {
                let number = item.index().value().ok()?;
                Some(ServerMessage {
                    number,
                    uidl: item.id().value().ok()?,
                    size: sizes.get(&number).copied().unwrap_or(0),
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| unreadable("UIDL"))
    }

    /// The raw message, as stored on the server.
    pub async fn retr(&mut self, number: usize) -> NetResult<Vec<u8>> {
        let server = self.server.clone();
        let client = &mut self.client;
        let what = format!("RETR {number}");
        let body = timed(&what, self.timeouts.command, async {
            client
                .retr(number)
                .await
                .map_err(|e| pop_error(&server, &what, e))
        })
        .await?;
        Ok(unstuff(&body))
    }

    /// Marks a message for deletion; QUIT applies it.
    pub async fn dele(&mut self, number: usize) -> NetResult<()> {
        let server = self.server.clone();
        let client = &mut self.client;
        let what = format!("DELE {number}");
        timed(&what, self.timeouts.command, async {
            client
                .dele(number)
                .await
                .map(|_| ())
                .map_err(|e| pop_error(&server, &what, e))
        })
        .await
    }

    /// Ends the session. This is what makes DELE take effect, so its
    /// failure is an error (the deletions did not happen).
    pub async fn quit(mut self) -> NetResult<()> {
        let server = self.server.clone();
        let client = &mut self.client;
        timed("QUIT", self.timeouts.command, async {
            client
                .quit()
                .await
                .map(|_| ())
                .map_err(|e| pop_error(&server, "QUIT", e))
        })
        .await
    }
}

/// The message from a RETR body as `async-pop` returns it (without the
/// final CRLF and terminating dot): byte-stuffed lines (`..`, RFC 1939
/// section 3) lose their extra dot, and the last line gets its CRLF back,
/// so the bytes (and the content hash) are the server's.
fn unstuff(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 2);
    let mut line_start = true;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if !(line_start && b == b'.' && body.get(i + 1) == Some(&b'.')) {
            out.push(b);
        }
        line_start = b == b'\n';
        i += 1;
    }
    if !out.is_empty() {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unstuff;

    #[test]
    fn dot_stuffing_is_undone_and_the_last_line_ends() {
        assert_eq!(
            unstuff(b"Subject: x\r\n\r\n..hidden\r\nkeep . dot\r\n..\r\nend"),
            b"Subject: x\r\n\r\n.hidden\r\nkeep . dot\r\n.\r\nend\r\n"
        );
        assert_eq!(unstuff(b"..first"), b".first\r\n");
        assert_eq!(unstuff(b""), b"");
    }
}
