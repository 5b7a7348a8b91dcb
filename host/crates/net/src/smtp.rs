//! The SMTP client, with `lettre`: implicit TLS (RFC 8314), STARTTLS
//! (required, never opportunistic), or plain text to a loopback server
//! only; login with a password (PLAIN/LOGIN) or an OAuth2 access token
//! (XOAUTH2: lettre has no OAUTHBEARER, which IMAP and POP3 prefer);
//! certificates verified against the Mozilla roots unless the account
//! opted out. [`send`] makes one attempt under a deadline; [`greet`],
//! [`starttls`] and [`login`] are the same steps one by one for the
//! connection test (no mail is sent).
//!
//! Failures become a [`NetError`] with the server's own words, never a
//! credential, and (for [`send`]) are sorted for the retry logic in
//! [`SmtpError::transient`]: 4xx replies, refused or dropped connections
//! and timeouts are transient; 5xx replies, refused logins, untrusted
//! certificates and settings that cannot work (no STARTTLS offered, no
//! common AUTH mechanism) are permanent.

use crate::error::{NetError, NetResult};
use crate::login::{LoginAuth, LoginMechanism};
use crate::transport::{MailStream, ServerTarget, Timeouts, refuse_plain_text, resolve, timed};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mailroom_core::security::Security;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

/// A failed SMTP attempt: what went wrong, and whether another attempt
/// later may go through.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct SmtpError {
    pub error: NetError,
    pub transient: bool,
}

impl SmtpError {
    fn permanent(error: NetError) -> Self {
        Self {
            error,
            transient: false,
        }
    }

    fn transient(error: NetError) -> Self {
        Self {
            error,
            transient: true,
        }
    }
}

fn tls_parameters(target: &ServerTarget) -> NetResult<TlsParameters> {
    TlsParameters::builder(target.host.clone())
        .dangerous_accept_invalid_certs(!target.tls_verify)
        .build_rustls()
        .map_err(|e| NetError::Tls {
            server: target.server(),
            reason: format!("TLS is not available: {e}"),
            certificate: false,
        })
}

/// lettre's credentials and the mechanisms this login may use.
fn credentials(auth: &LoginAuth) -> (Credentials, Vec<Mechanism>, LoginMechanism) {
    match auth {
        LoginAuth::Password { username, password } => (
            Credentials::new(username.clone(), password.expose().to_owned()),
            vec![Mechanism::Plain, Mechanism::Login],
            LoginMechanism::SmtpPassword,
        ),
        LoginAuth::OAuth2 {
            username,
            access_token,
        } => (
            Credentials::new(username.clone(), access_token.expose().to_owned()),
            vec![Mechanism::Xoauth2],
            LoginMechanism::OAuth(crate::sasl::OAuthMechanism::XOAuth2),
        ),
    }
}

/// lettre's transport to one checked address of the target: it connects
/// to that address (no lookup of its own), and verifies the certificate
/// against the target's host name.
fn transport(
    target: &ServerTarget,
    addr: SocketAddr,
    auth: &LoginAuth,
    timeout: Duration,
) -> NetResult<AsyncSmtpTransport<Tokio1Executor>> {
    let tls = match target.security {
        Security::Tls => Tls::Wrapper(tls_parameters(target)?),
        Security::Starttls => Tls::Required(tls_parameters(target)?),
        Security::None => Tls::None,
    };
    let (credentials, mechanisms, _) = credentials(auth);
    Ok(
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
            .port(addr.port())
            .tls(tls)
            .credentials(credentials)
            .authentication(mechanisms)
            // Per socket operation; the whole attempt has its own deadline.
            .timeout(Some(timeout))
            .build(),
    )
}

/// Sends `raw` to `to` as `from` in one SMTP session, to the first of the
/// target's checked addresses that accepts the connection.
pub async fn send(
    target: &ServerTarget,
    auth: &LoginAuth,
    from: &str,
    to: &[String],
    raw: &[u8],
    timeout: Duration,
) -> Result<(), SmtpError> {
    let address = |a: &str| {
        Address::from_str(a).map_err(|e| {
            SmtpError::permanent(NetError::Protocol(format!("{a:?} is not an address: {e}")))
        })
    };
    let recipients = to
        .iter()
        .map(|a| address(a))
        .collect::<Result<Vec<_>, _>>()?;
    let envelope = Envelope::new(Some(address(from)?), recipients)
        .map_err(|e| SmtpError::permanent(NetError::Protocol(format!("no envelope: {e}"))))?;
    let timeouts = Timeouts {
        connect: timeout,
        ..Timeouts::default()
    };
    let addrs = resolve(target, timeouts).await.map_err(|e| match e {
        // A name that does not resolve (now) or a slow resolver may do later.
        NetError::Connect { .. } | NetError::Timeout { .. } => SmtpError::transient(e),
        // The plain-text rule, the destination policy: until an admin acts.
        other => SmtpError::permanent(other),
    })?;
    // The socket timeout bounds each read and write; this bounds a server
    // that trickles bytes forever. Connect, TLS, EHLO, AUTH, MAIL, RCPT and
    // DATA for a large message fit well within three times it.
    let deadline = timeout.saturating_mul(3);
    let mut last = None;
    for addr in addrs {
        let smtp = transport(target, addr, auth, timeout).map_err(SmtpError::permanent)?;
        match tokio::time::timeout(deadline, smtp.send_raw(&envelope, raw)).await {
            Ok(Ok(_response)) => return Ok(()),
            // Nothing reached that address: the next one may take it.
            Ok(Err(e)) if connection_refused(&e) => last = Some(classify(target, Some(auth), &e)),
            Ok(Err(e)) => return Err(classify(target, Some(auth), &e)),
            Err(_) => {
                return Err(SmtpError::transient(NetError::Timeout {
                    what: format!("{}: the SMTP exchange", target.server()),
                    after: deadline,
                }));
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        SmtpError::transient(NetError::Connect {
            server: target.server(),
            reason: "the host name has no addresses".into(),
        })
    }))
}

/// An SMTP session that has read the server's greeting and sent EHLO, not
/// yet logged in: the connection test's steps.
pub struct Greeted {
    connection: AsyncSmtpConnection,
}

impl Greeted {
    /// The name the server gave in its EHLO answer.
    pub fn server_name(&self) -> &str {
        self.connection.server_info().name()
    }

    /// QUIT, best effort: the test is over.
    pub async fn quit(mut self, timeouts: Timeouts) {
        let _ = tokio::time::timeout(timeouts.command, self.connection.quit()).await;
    }
}

/// lettre takes any tokio stream that can name its peer.
impl AsyncTokioStream for MailStream {
    fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            MailStream::Plain(tcp) => tcp.peer_addr(),
            MailStream::Tls(tls) => tls.get_ref().0.peer_addr(),
        }
    }
}

/// Reads the greeting and sends EHLO on a connected stream (plain for
/// STARTTLS, TLS for implicit TLS).
pub async fn greet(
    target: &ServerTarget,
    stream: MailStream,
    timeouts: Timeouts,
) -> NetResult<Greeted> {
    timed("with a greeting and EHLO", timeouts.greeting, async {
        AsyncSmtpConnection::connect_with_transport(Box::new(stream), &ClientId::default())
            .await
            .map(|connection| Greeted { connection })
            .map_err(|e| classify(target, None, &e).error)
    })
    .await
}

/// STARTTLS (RFC 3207) and EHLO again over TLS.
pub async fn starttls(
    target: &ServerTarget,
    mut greeted: Greeted,
    timeouts: Timeouts,
) -> NetResult<Greeted> {
    if !greeted.connection.can_starttls() {
        return Err(NetError::Tls {
            server: target.server(),
            reason: "the server does not offer STARTTLS; use implicit TLS (usually port 465)"
                .into(),
            certificate: false,
        });
    }
    let parameters = tls_parameters(target)?;
    timed("STARTTLS", timeouts.tls, async {
        greeted
            .connection
            .starttls(parameters, &ClientId::default())
            .await
            .map_err(|e| classify(target, None, &e).error)
    })
    .await?;
    Ok(greeted)
}

/// SMTP's part of the shared steps ([`crate::steps`]).
pub struct Smtp;

impl crate::steps::Protocol for Smtp {
    type Greeted = Greeted;
    const UPGRADE: &'static str = "STARTTLS";

    async fn greet(
        target: &ServerTarget,
        stream: MailStream,
        timeouts: Timeouts,
    ) -> NetResult<Greeted> {
        greet(target, stream, timeouts).await
    }

    async fn upgrade(
        target: &ServerTarget,
        greeted: Greeted,
        timeouts: Timeouts,
    ) -> NetResult<Greeted> {
        starttls(target, greeted, timeouts).await
    }

    fn describe(greeted: &Greeted) -> String {
        format!("the server says it is {}", greeted.server_name())
    }
}

/// AUTH with `auth`; no mail is sent. A password goes in plain text to a
/// loopback server only, as when sending.
pub async fn login(
    target: &ServerTarget,
    greeted: &mut Greeted,
    auth: &LoginAuth,
    timeouts: Timeouts,
) -> NetResult<LoginMechanism> {
    refuse_plain_text(target)?;
    let (credentials, mechanisms, mechanism) = credentials(auth);
    timed("the login", timeouts.command, async {
        greeted
            .connection
            .auth(&mechanisms, &credentials)
            .await
            .map(|_| mechanism)
            .map_err(|e| classify(target, Some(auth), &e).error)
    })
    .await
}

/// The server refused the credentials: 535 (RFC 4954), or the error
/// challenge a server sends on a bad XOAUTH2 token, which lettre cannot
/// answer and reports as a client error.
fn login_refused(e: &lettre::transport::smtp::Error) -> bool {
    e.status().is_some_and(|code| code.to_string() == "535")
        || (e.is_client() && e.to_string().contains("does not expect a challenge"))
}

/// Every error in the chain, outermost first.
fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = vec![e];
    let mut next = e.source();
    while let Some(err) = next {
        out.push(err);
        // io::Error::source skips its own payload: look inside explicitly.
        next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
        if out.len() > 16 {
            break;
        }
    }
    out
}

/// The server's EHLO lists none of the mechanisms this login can use.
fn no_common_mechanism(server: &str, auth: Option<&LoginAuth>) -> String {
    match auth {
        None => format!("{server} offers no login mechanism Mailroom can use"),
        Some(LoginAuth::OAuth2 { .. }) => format!(
            "{server} offers no XOAUTH2 login, the one OAuth mechanism Mailroom can send with \
             (its SMTP client has no OAUTHBEARER); enable XOAUTH2 on the server, or connect \
             this account with a password or app password"
        ),
        Some(LoginAuth::Password { .. }) => format!(
            "{server} offers neither PLAIN nor LOGIN for a password login (over this \
             connection's security); use the port and security the provider documents"
        ),
    }
}

/// A reply's code and the server's words: `451 4.3.0 Try again later`.
fn reply(server: &str, e: &lettre::transport::smtp::Error) -> Option<String> {
    let code = e.status()?;
    let words = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    Some(
        format!("{server} answered {code} {words}")
            .trim_end()
            .to_owned(),
    )
}

/// Nothing listens on the port: the connection never opened.
fn connection_refused(e: &lettre::transport::smtp::Error) -> bool {
    chain(e).iter().any(|err| {
        err.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    })
}

/// Sorts a failed attempt (or step) into transient or permanent, in words
/// an admin can act on, keeping the server's reply.
fn classify(
    target: &ServerTarget,
    auth: Option<&LoginAuth>,
    e: &lettre::transport::smtp::Error,
) -> SmtpError {
    let server = target.server();
    if e.is_client()
        && e.to_string()
            .contains("No compatible authentication mechanism")
    {
        return SmtpError::permanent(NetError::Protocol(no_common_mechanism(&server, auth)));
    }
    if login_refused(e) {
        let server_says = reply(&server, e)
            .unwrap_or_else(|| format!("{server} refused the OAuth access token (XOAUTH2)"));
        return SmtpError::permanent(NetError::Auth { server_says });
    }
    if let Some(words) = reply(&server, e) {
        return SmtpError {
            error: NetError::Protocol(words),
            transient: e.is_transient(),
        };
    }
    let errors = chain(e);
    let certificate = errors
        .iter()
        .find_map(|err| match err.downcast_ref::<rustls::Error>() {
            Some(rustls::Error::InvalidCertificate(why)) => Some(format!("{why:?}")),
            _ => None,
        });
    if let Some(why) = certificate {
        return SmtpError::permanent(NetError::Tls {
            server,
            reason: format!(
                "the server's certificate is not trusted ({why}). Fix the server's certificate, \
                 or turn off certificate verification for this account if you trust this network"
            ),
            certificate: true,
        });
    }
    let detail = errors
        .last()
        .map(|root| root.to_string())
        .unwrap_or_else(|| e.to_string());
    if e.is_timeout() {
        return SmtpError::transient(NetError::Connect {
            server,
            reason: format!("the server did not answer in time: {detail}"),
        });
    }
    if e.is_client() {
        // lettre's own refusals: no STARTTLS offered, no common AUTH
        // mechanism. Retrying changes nothing.
        return SmtpError::permanent(NetError::Protocol(format!(
            "cannot send through {server}: {e}"
        )));
    }
    let reason = if connection_refused(e) {
        format!(
            "the server refused the connection: nothing listens on port {} (server down or wrong port?)",
            target.port
        )
    } else {
        e.to_string()
    };
    SmtpError::transient(NetError::Connect { server, reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::is_loopback;
    use mailroom_core::secret::Secret;

    #[tokio::test]
    async fn plain_text_only_to_loopback() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("smtp.example.com"));
        assert!(!is_loopback("10.0.0.1"));
        let target = ServerTarget {
            host: "smtp.example.com".into(),
            port: 25,
            security: Security::None,
            tls_verify: true,
            destinations: Default::default(),
        };
        let auth = LoginAuth::Password {
            username: "ann".into(),
            password: Secret::new("pw"),
        };
        let to = ["bob@example.com".to_owned()];
        let err = send(
            &target,
            &auth,
            "ann@example.com",
            &to,
            b"x",
            Duration::from_secs(1),
        )
        .await
        .expect_err("refused");
        assert!(!err.transient, "{err}");
        assert!(err.to_string().contains("plain text"), "{err}");
        assert!(!err.to_string().contains("pw"));
    }
}
