//! Getting an IMAP client: the shared steps ([`crate::steps`]: DNS, TCP,
//! TLS) with IMAP's own greeting and STARTTLS.

use crate::error::{NetError, NetResult};
use crate::steps;
use crate::transport::{MailStream, ServerTarget, Timeouts, timed, tls_handshake};
use async_imap::Client;
use async_imap::imap_proto::{Response, Status};

/// A connected, greeted client, not yet logged in.
pub struct Greeted {
    pub client: Client<MailStream>,
    /// The greeting as the server worded it, e.g. `OK Dovecot ready.`
    pub greeting: String,
}

/// Reads the server's greeting. `* BYE` (e.g. too many connections) is an
/// error with the server's words.
pub async fn read_greeting(
    target: &ServerTarget,
    stream: MailStream,
    timeouts: Timeouts,
) -> NetResult<Greeted> {
    let server = target.server();
    let mut client = Client::new(stream);
    let greeting = timed("with a greeting", timeouts.greeting, async {
        let response = client
            .read_response()
            .await
            .map_err(|e| NetError::Connect {
                server: server.clone(),
                reason: format!("reading the greeting failed: {e}"),
            })?;
        let Some(response) = response else {
            return Err(NetError::Connect {
                server: server.clone(),
                reason: "the server closed the connection without a greeting".into(),
            });
        };
        match response.parsed() {
            Response::Data { status, outcome } => {
                let text = outcome.information.as_deref().unwrap_or("").trim();
                match status {
                    Status::Ok => Ok(format!("OK {text}")),
                    Status::PreAuth => Ok(format!("PREAUTH {text}")),
                    _ => Err(NetError::Connect {
                        server: server.clone(),
                        reason: format!("the server refused the session: {text}"),
                    }),
                }
            }
            _ => Err(NetError::Protocol(format!(
                "{server} did not greet like an IMAP server"
            ))),
        }
    })
    .await?;
    Ok(Greeted { client, greeting })
}

/// Upgrades a greeted plain connection with STARTTLS (RFC 2595) and returns
/// a client over TLS. No greeting follows the upgrade.
pub async fn starttls(
    target: &ServerTarget,
    greeted: Greeted,
    timeouts: Timeouts,
) -> NetResult<Client<MailStream>> {
    let server = target.server();
    let mut client = greeted.client;
    timed("STARTTLS", timeouts.tls, async {
        client
            .run_command_and_check_ok("STARTTLS", None)
            .await
            .map_err(|e| NetError::Tls {
                server: server.clone(),
                reason: format!(
                    "the server does not offer STARTTLS ({}); use implicit TLS (usually port 993)",
                    super::server_words(&e)
                ),
                certificate: false,
            })
    })
    .await?;
    let MailStream::Plain(tcp) = client.into_inner() else {
        return Err(NetError::Protocol("STARTTLS over TLS".into()));
    };
    let tls = tls_handshake(target, tcp, timeouts).await?;
    Ok(Client::new(MailStream::Tls(Box::new(tls))))
}

/// IMAP's part of the shared steps.
pub struct Imap;

impl steps::Protocol for Imap {
    type Greeted = Greeted;
    const UPGRADE: &'static str = "STARTTLS";

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
        let greeting = greeted.greeting.clone();
        let client = starttls(target, greeted, timeouts).await?;
        Ok(Greeted { client, greeting })
    }

    fn describe(greeted: &Greeted) -> String {
        format!("the server says: {}", greeted.greeting)
    }
}

/// DNS, TCP, TLS as the target says, greeting: a client ready to log in.
pub async fn connect(target: &ServerTarget, timeouts: Timeouts) -> NetResult<Greeted> {
    Ok(steps::connect::<Imap>(target, timeouts, &mut ()).await?)
}
