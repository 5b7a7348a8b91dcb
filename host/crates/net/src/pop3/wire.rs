//! The POP3 wire (RFC 1939): commands out, and the two shapes of answer
//! back — a status line (`+OK`, `-ERR`, or a SASL `+ ` challenge) and a
//! multi-line answer ended by a lone `.`, with byte-stuffing undone.
//!
//! Reads go through tokio's buffered reader, a line at a time, so an answer
//! of any length (a UIDL of 100,000 lines, a 50 MB message) is read the same
//! way as a short one; the only bounds are the line length of a status line
//! and a total size per multi-line answer, both to keep a hostile server
//! from filling memory. The command deadline applies to each line: a long
//! RETR takes as long as it needs while data keeps coming, and a server that
//! goes quiet costs one deadline.

use crate::error::{NetError, NetResult};
use crate::transport::{MailStream, Timeouts, timed};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};

/// A status line longer than this is not POP3 (RFC 2449 allows 512 octets;
/// SASL challenges may be longer, hence the margin).
const MAX_STATUS_LINE: u64 = 8 * 1024;

/// A server's one-line answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+OK` and the rest of the line.
    Ok(String),
    /// `-ERR` and the server's words.
    Err(String),
    /// A SASL challenge (`+ ` and base64), during AUTH only.
    Challenge(String),
}

/// A POP3 connection after the greeting (and STLS, if any).
pub struct Wire {
    io: BufStream<MailStream>,
    server: String,
    timeouts: Timeouts,
}

impl Wire {
    pub fn new(stream: MailStream, server: String, timeouts: Timeouts) -> Self {
        Self {
            io: BufStream::new(stream),
            server,
            timeouts,
        }
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends one command line; `what` names it in errors (without the
    /// arguments, which may be a credential).
    pub async fn send(&mut self, what: &str, line: &str) -> NetResult<()> {
        timed(what, self.timeouts.command, async {
            let sent: std::io::Result<()> = async {
                self.io.write_all(line.as_bytes()).await?;
                self.io.write_all(b"\r\n").await?;
                self.io.flush().await
            }
            .await;
            sent.map_err(|e| broken(&self.server, what, &e))
        })
        .await
    }

    /// Sends a command and reads its status line.
    pub async fn command(&mut self, what: &str, line: &str) -> NetResult<Reply> {
        self.send(what, line).await?;
        self.status(what).await
    }

    /// Sends a command whose `+OK` is followed by a multi-line answer, and
    /// reads both; `-ERR` comes back as `Err(words)` for the caller to judge.
    pub async fn multiline(
        &mut self,
        what: &str,
        line: &str,
        limit: u64,
    ) -> NetResult<Result<Vec<u8>, String>> {
        match self.command(what, line).await? {
            Reply::Ok(_) => Ok(Ok(self.body(what, limit).await?)),
            Reply::Err(words) => Ok(Err(words)),
            Reply::Challenge(_) => Err(self.unexpected(what, "a SASL challenge")),
        }
    }

    /// Reads one status line.
    pub async fn status(&mut self, what: &str) -> NetResult<Reply> {
        let mut line = Vec::new();
        let n = timed(what, self.timeouts.command, async {
            (&mut self.io)
                .take(MAX_STATUS_LINE)
                .read_until(b'\n', &mut line)
                .await
                .map_err(|e| broken(&self.server, what, &e))
        })
        .await?;
        if n == 0 || !line.ends_with(b"\n") {
            if line.len() as u64 >= MAX_STATUS_LINE {
                return Err(NetError::Protocol(format!(
                    "{}: the answer to {what} is a line longer than {MAX_STATUS_LINE} bytes; \
                     is this a POP3 server?",
                    self.server
                )));
            }
            return Err(closed(&self.server, what));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if let Some(rest) = text.strip_prefix("+OK") {
            return Ok(Reply::Ok(rest.trim().to_owned()));
        }
        if let Some(rest) = text.strip_prefix("-ERR") {
            return Ok(Reply::Err(rest.trim().to_owned()));
        }
        if let Some(rest) = text.strip_prefix('+') {
            return Ok(Reply::Challenge(rest.trim().to_owned()));
        }
        Err(self.unexpected(what, &format!("{:?}", truncated(text))))
    }

    /// Reads a multi-line answer up to the lone `.`, undoing byte-stuffing
    /// (RFC 1939 section 3: a line starting with `.` loses that first dot).
    /// Line endings stay as the server sent them, so a message's bytes (and
    /// its content hash) are the server's. More than `limit` bytes is an
    /// error, after which the connection is unusable.
    pub async fn body(&mut self, what: &str, limit: u64) -> NetResult<Vec<u8>> {
        let mut out = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            // Room for the rest of the limit plus the terminating ".\r\n".
            let room = limit.saturating_sub(out.len() as u64) + 4;
            let n = timed(what, self.timeouts.command, async {
                (&mut self.io)
                    .take(room)
                    .read_until(b'\n', &mut line)
                    .await
                    .map_err(|e| broken(&self.server, what, &e))
            })
            .await?;
            if !line.ends_with(b"\n") {
                return Err(if n as u64 >= room {
                    self.too_large(what, limit)
                } else {
                    closed(&self.server, what)
                });
            }
            if line == b".\r\n" || line == b".\n" {
                return Ok(out);
            }
            let content = match line.first() {
                Some(b'.') => &line[1..],
                _ => &line[..],
            };
            if (out.len() + content.len()) as u64 > limit {
                return Err(self.too_large(what, limit));
            }
            out.extend_from_slice(content);
        }
    }

    fn too_large(&self, what: &str, limit: u64) -> NetError {
        NetError::Protocol(format!(
            "{}: the answer to {what} is larger than the POP3 client accepts ({} MiB)",
            self.server,
            limit / (1024 * 1024)
        ))
    }

    fn unexpected(&self, what: &str, got: &str) -> NetError {
        NetError::Protocol(format!(
            "{} answered {what} with {got}, which is not POP3",
            self.server
        ))
    }
}

fn truncated(text: &str) -> String {
    text.chars().take(80).collect()
}

fn broken(server: &str, what: &str, e: &std::io::Error) -> NetError {
    NetError::Connect {
        server: server.to_owned(),
        reason: format!("the connection broke during {what}: {e}"),
    }
}

fn closed(server: &str, what: &str) -> NetError {
    NetError::Connect {
        server: server.to_owned(),
        reason: format!("the server closed the connection during {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::net::{TcpListener, TcpStream};

    /// A wire to a loopback socket that sends `script` and then closes.
    async fn wire_to(script: Vec<u8>) -> Wire {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.expect("accept");
            conn.write_all(&script).await.expect("write");
            conn.shutdown().await.expect("shutdown");
        });
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let timeouts = Timeouts {
            connect: Duration::from_secs(5),
            tls: Duration::from_secs(5),
            greeting: Duration::from_secs(5),
            command: Duration::from_secs(5),
        };
        Wire::new(MailStream::Plain(tcp), "test:110".into(), timeouts)
    }

    #[tokio::test]
    async fn long_answers_are_read_whole_and_unstuffed() {
        // Far past any read buffer, with stuffed lines at the edges.
        let mut script = b"+OK 5000 messages\r\n".to_vec();
        let mut expected = Vec::new();
        for i in 1..=5000 {
            let line = format!("{i} uid-{i:08}\r\n");
            script.extend_from_slice(line.as_bytes());
            expected.extend_from_slice(line.as_bytes());
        }
        script.extend_from_slice(b"..stuffed\r\n.\r\n+OK next\r\n");
        expected.extend_from_slice(b".stuffed\r\n");
        let mut wire = wire_to(script).await;
        assert_eq!(
            wire.status("UIDL").await.expect("status"),
            Reply::Ok("5000 messages".into())
        );
        assert_eq!(wire.body("UIDL", 1 << 20).await.expect("body"), expected);
        assert_eq!(
            wire.status("NOOP").await.expect("next"),
            Reply::Ok("next".into())
        );
    }

    #[tokio::test]
    async fn an_answer_over_the_limit_or_cut_short_is_an_error() {
        let mut wire = wire_to(b"0123456789\r\n0123456789\r\n.\r\n".to_vec()).await;
        let err = wire.body("RETR 1", 15).await.expect_err("over the limit");
        assert!(err.to_string().contains("larger than"), "{err}");

        let mut wire = wire_to(b"line\r\nno end".to_vec()).await;
        let err = wire.body("RETR 1", 1 << 20).await.expect_err("cut");
        assert!(
            err.to_string()
                .contains("closed the connection during RETR 1"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn status_lines_are_told_apart() {
        let mut wire = wire_to(b"-ERR no such message\r\n+ eyJ9\r\nHELLO\r\n".to_vec()).await;
        assert_eq!(
            wire.status("x").await.expect("err"),
            Reply::Err("no such message".into())
        );
        assert_eq!(
            wire.status("x").await.expect("challenge"),
            Reply::Challenge("eyJ9".into())
        );
        let err = wire.status("x").await.expect_err("not POP3");
        assert!(err.to_string().contains("not POP3"), "{err}");
    }
}
