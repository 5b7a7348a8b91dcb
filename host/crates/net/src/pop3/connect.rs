//! Getting a greeted POP3 connection: the shared steps ([`crate::steps`]:
//! DNS, TCP, TLS) with POP3's `+OK` greeting and STLS (RFC 2595). Up to here lines are read a byte at a time, since what
//! follows STLS belongs to TLS; after it, [`super::wire`] reads buffered.

use crate::error::{NetError, NetResult};
use crate::steps;
use crate::transport::{MailStream, ServerTarget, Timeouts, timed, tls_handshake};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server line longer than this is not POP3 (RFC 2449 allows 512 octets).
const MAX_LINE: usize = 1024;

/// A connected stream whose `+OK` greeting has been read.
pub struct Greeted {
    pub stream: MailStream,
    /// The greeting line without `+OK`, e.g. `Dovecot ready.`
    pub greeting: String,
}

/// POP3's part of the shared steps.
pub struct Pop3;

impl steps::Protocol for Pop3 {
    type Greeted = Greeted;
    const UPGRADE: &'static str = "STLS";

    async fn greet(
        target: &ServerTarget,
        stream: MailStream,
        timeouts: Timeouts,
    ) -> NetResult<Greeted> {
        read_greeting(target, stream, timeouts).await
    }

    async fn upgrade(
        target: &ServerTarget,
        greeted: Greeted,
        timeouts: Timeouts,
    ) -> NetResult<Greeted> {
        stls(target, greeted, timeouts).await
    }

    fn describe(greeted: &Greeted) -> String {
        format!("the server says: +OK {}", greeted.greeting)
    }
}

/// DNS, TCP, TLS as the target says (implicit, STLS or none), greeting.
pub async fn connect(target: &ServerTarget, timeouts: Timeouts) -> NetResult<Greeted> {
    Ok(steps::connect::<Pop3>(target, timeouts, &mut ()).await?)
}

/// Reads the greeting. `-ERR` (e.g. too many connections) is a connection
/// error with the server's words; anything else is not a POP3 server.
pub async fn read_greeting(
    target: &ServerTarget,
    mut stream: MailStream,
    timeouts: Timeouts,
) -> NetResult<Greeted> {
    let server = target.server();
    let line = timed(
        "with a greeting",
        timeouts.greeting,
        read_line(&server, &mut stream),
    )
    .await?;
    if let Some(text) = line.strip_prefix("+OK") {
        return Ok(Greeted {
            stream,
            greeting: text.trim().to_owned(),
        });
    }
    if let Some(text) = line.strip_prefix("-ERR") {
        return Err(NetError::Connect {
            server,
            reason: format!("the server refused the session: {}", text.trim()),
        });
    }
    Err(NetError::Protocol(format!(
        "{server} did not greet like a POP3 server (it said {:?}); is this the POP3 port?",
        line.chars().take(80).collect::<String>()
    )))
}

/// Upgrades a greeted plain connection with STLS. No greeting follows the
/// upgrade: the first one is kept.
pub async fn stls(
    target: &ServerTarget,
    greeted: Greeted,
    timeouts: Timeouts,
) -> NetResult<Greeted> {
    let server = target.server();
    let Greeted {
        stream: mut plain,
        greeting,
    } = greeted;
    let answer = timed("STLS", timeouts.tls, async {
        plain
            .write_all(b"STLS\r\n")
            .await
            .map_err(|e| broken(&server, &e))?;
        read_line(&server, &mut plain).await
    })
    .await?;
    if !answer.starts_with("+OK") {
        return Err(NetError::Tls {
            server,
            reason: format!(
                "the server does not offer STLS (it answered {:?}); use implicit TLS \
                 (usually port 995)",
                answer.trim()
            ),
            certificate: false,
        });
    }
    let MailStream::Plain(tcp) = plain else {
        return Err(NetError::Protocol("STLS over TLS".into()));
    };
    let tls = tls_handshake(target, tcp, timeouts).await?;
    Ok(Greeted {
        stream: MailStream::Tls(Box::new(tls)),
        greeting,
    })
}

/// One CRLF-terminated line, read a byte at a time: nothing after it may
/// be consumed, since the bytes that follow may belong to TLS.
async fn read_line(server: &str, stream: &mut MailStream) -> NetResult<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        let n = stream
            .read(&mut byte)
            .await
            .map_err(|e| broken(server, &e))?;
        if n == 0 {
            return Err(NetError::Connect {
                server: server.to_owned(),
                reason: "the server closed the connection without answering".into(),
            });
        }
        if line.len() >= MAX_LINE {
            return Err(NetError::Protocol(format!(
                "{server} sent a line longer than {MAX_LINE} bytes; is this a POP3 server?"
            )));
        }
        line.push(byte[0]);
    }
    line.truncate(line.len() - 2);
    Ok(String::from_utf8_lossy(&line).into_owned())
}

fn broken(server: &str, e: &std::io::Error) -> NetError {
    NetError::Connect {
        server: server.to_owned(),
        reason: format!("the connection broke: {e}"),
    }
}
