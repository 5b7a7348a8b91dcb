//! Getting a byte stream to a mail server, for every protocol: DNS, TCP,
//! and the TLS handshake, each with a deadline, so a server that accepts
//! and then says nothing costs a timeout, never a hung account. IMAP and
//! POP3 add their greetings and STARTTLS/STLS on top.
//!
//! Certificates are verified against the Mozilla roots (`webpki-roots`)
//! unless the account explicitly opted out (`tls_verify = false`); the
//! opt-out still checks the handshake signatures, it only stops asking who
//! issued the certificate.

use crate::error::{NetError, NetResult};
use mailroom_core::destinations::{DestinationPolicy, Purpose};
use mailroom_core::security::Security;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Where and how to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTarget {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Verify the server's certificate (the default; false only when the
    /// account explicitly opted out).
    pub tls_verify: bool,
    /// Where the account's org lets it connect: checked on every address
    /// DNS gives, before connecting to that address.
    pub destinations: Arc<DestinationPolicy>,
}

impl ServerTarget {
    /// `host:port`, for messages.
    pub fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Deadlines, one per step of reaching a server: `connect` for the DNS
/// lookup and the TCP connection, `tls` for a handshake, `greeting` for
/// the server's first words (for SMTP: and the EHLO answer); `command`
/// applies to each server response after that: a long FETCH may take
/// minutes as long as data keeps coming.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub tls: Duration,
    pub greeting: Duration,
    pub command: Duration,
}

impl Default for Timeouts {
    /// For sync and sending: patient with a slow server.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(20),
            tls: Duration::from_secs(20),
            greeting: Duration::from_secs(30),
            command: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    /// For the connection test, where someone waits for the answer: a port
    /// that accepts and says nothing is reported within seconds.
    pub fn connection_test() -> Self {
        Self {
            connect: Duration::from_secs(5),
            tls: Duration::from_secs(10),
            greeting: Duration::from_secs(5),
            command: Duration::from_secs(20),
        }
    }
}

/// A TLS connection to a mail server.
pub type TlsStream = tokio_rustls::client::TlsStream<TcpStream>;

/// Plain TCP or TLS over TCP, as one type for the protocol clients.
pub enum MailStream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

impl std::fmt::Debug for MailStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MailStream::Plain(_) => "MailStream::Plain",
            MailStream::Tls(_) => "MailStream::Tls",
        })
    }
}

impl AsyncRead for MailStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_flush(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// True for this machine: `localhost` or a loopback address.
pub fn is_loopback(host: &str) -> bool {
    mailroom_core::destinations::is_this_machine(host)
}

/// The one rule for unencrypted connections, for every protocol: a login
/// (a password, a token) crosses the network in plain text only to this
/// machine, or to a host the org's policy names in `plain_text_hosts`
/// (which must then resolve to a non-public address: [`resolve`] checks).
/// Checked before any connection is made, whatever the stored account says.
pub fn refuse_plain_text(target: &ServerTarget) -> NetResult<()> {
    if target.security != Security::None
        || target.destinations.allows_plain_text(&target.host, None)
    {
        return Ok(());
    }
    Err(plain_text_refused(
        target,
        format!("{}, which is not this machine", target.host),
    ))
}

fn plain_text_refused(target: &ServerTarget, whom: String) -> NetError {
    NetError::Tls {
        server: target.server(),
        reason: format!(
            "refusing to send a login in plain text to {whom}: use TLS or STARTTLS (IMAP 993 \
             or 143, POP3 995 or 110, SMTP 465 or 587); for a server on a private network, an \
             admin can name it in `plain_text_hosts` of the org's destination policy"
        ),
        certificate: false,
    }
}

/// The org's policy on each address DNS gave for the target: all of them
/// must be allowed (a name that also resolves somewhere refused is not
/// trusted), and plain text goes to non-public addresses only.
fn check_addresses(target: &ServerTarget, addrs: &[SocketAddr]) -> NetResult<()> {
    for addr in addrs {
        target
            .destinations
            .check(&target.host, *addr, Purpose::Mail)
            .map_err(|refused| NetError::NotAllowed {
                server: target.server(),
                reason: refused.0,
            })?;
        if target.security == Security::None
            && !target
                .destinations
                .allows_plain_text(&target.host, Some(addr.ip()))
        {
            return Err(plain_text_refused(
                target,
                format!("{} at {}, a public address", target.host, addr.ip()),
            ));
        }
    }
    Ok(())
}

/// Runs `fut` with a deadline; `what` names the step in the error.
pub async fn timed<T>(
    what: &str,
    after: Duration,
    fut: impl Future<Output = NetResult<T>>,
) -> NetResult<T> {
    match tokio::time::timeout(after, fut).await {
        Ok(result) => result,
        Err(_) => Err(NetError::Timeout {
            what: what.to_owned(),
            after,
        }),
    }
}

/// DNS: the addresses of the target's host, each checked against the
/// org's destination policy; connections go to these addresses only, never
/// to a second lookup's. The first step of every connection, so the
/// plain-text rule ([`refuse_plain_text`]) is kept here too.
pub async fn resolve(target: &ServerTarget, timeouts: Timeouts) -> NetResult<Vec<SocketAddr>> {
    refuse_plain_text(target)?;
    let server = target.server();
    let addrs = timed("the DNS lookup", timeouts.connect, async {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|e| NetError::Connect {
                server: server.clone(),
                reason: format!("the host name does not resolve: {e}"),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(NetError::Connect {
                server: server.clone(),
                reason: "the host name has no addresses".into(),
            });
        }
        Ok(addrs)
    })
    .await?;
    check_addresses(target, &addrs)?;
    Ok(addrs)
}

/// TCP to the first address that accepts.
pub async fn tcp_connect(
    target: &ServerTarget,
    addrs: &[SocketAddr],
    timeouts: Timeouts,
) -> NetResult<TcpStream> {
    let mut last = String::from("no address to connect to");
    for addr in addrs {
        match tokio::time::timeout(timeouts.connect, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = format!(
                    "{addr} refused the connection: nothing listens on port {} (wrong port?)",
                    target.port
                );
            }
            Ok(Err(e)) => last = format!("{addr}: {e}"),
            Err(_) => {
                last = format!(
                    "{addr} did not accept the connection within {} s (firewall or wrong port?)",
                    timeouts.connect.as_secs()
                )
            }
        }
    }
    Err(NetError::Connect {
        server: target.server(),
        reason: last,
    })
}

/// The TLS handshake over `tcp`.
pub async fn tls_handshake(
    target: &ServerTarget,
    tcp: TcpStream,
    timeouts: Timeouts,
) -> NetResult<TlsStream> {
    let server = target.server();
    let name = ServerName::try_from(target.host.clone()).map_err(|_| NetError::Tls {
        server: server.clone(),
        reason: format!("{:?} is not a valid TLS server name", target.host),
        certificate: false,
    })?;
    let config = client_config(target.tls_verify).map_err(|reason| NetError::Tls {
        server: server.clone(),
        reason,
        certificate: false,
    })?;
    let connector = TlsConnector::from(config);
    timed("the TLS handshake", timeouts.tls, async {
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| tls_error(target, e))
    })
    .await
}

/// The negotiated TLS version, e.g. `TLSv1.3`, for the connection test.
pub fn tls_version(tls: &TlsStream) -> String {
    tls.get_ref()
        .1
        .protocol_version()
        .map(|v| format!("{v:?}").replace('_', "."))
        .unwrap_or_else(|| "TLS".into())
}

/// One client config per verification mode for the whole process: building
/// one parses the whole root store.
fn client_config(verify: bool) -> Result<Arc<rustls::ClientConfig>, String> {
    static VERIFYING: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    static TRUSTING: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    let cell = if verify { &VERIFYING } else { &TRUSTING };
    cell.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS is not available: {e}"))?;
        let config = if verify {
            let roots =
                rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            builder.with_root_certificates(roots).with_no_client_auth()
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth()
        };
        Ok(Arc::new(config))
    })
    .clone()
}

/// Accepts any certificate (the account opted out of verification) but
/// still checks that the server holds the certificate's key.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Words an admin can act on for a failed handshake.
fn tls_error(target: &ServerTarget, e: std::io::Error) -> NetError {
    let server = target.server();
    let rustls_error = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let Some(err) = rustls_error else {
        let reason = match e.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => format!(
                "the server closed the connection during the handshake ({e}); \
                 does port {} speak TLS? (STARTTLS ports such as 143 or 110 do not)",
                target.port
            ),
            _ => e.to_string(),
        };
        return NetError::Tls {
            server,
            reason,
            certificate: false,
        };
    };
    let (reason, certificate) = match err {
        rustls::Error::InvalidCertificate(cert) => {
            let why = match cert {
                CertificateError::UnknownIssuer => {
                    "it is not signed by a trusted certificate authority (self-signed or a private CA)"
                        .to_owned()
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    format!("it is not valid for the name {}", target.host)
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "it has expired".to_owned()
                }
                other => format!("{other:?}"),
            };
            (
                format!(
                    "the server's certificate is not trusted: {why}. Fix the server's certificate, \
                     or turn off certificate verification for this account if you trust this network"
                ),
                true,
            )
        }
        rustls::Error::InvalidMessage(_) => (
            format!(
                "the server did not answer with TLS ({err}); does port {} speak TLS? \
                 (STARTTLS ports such as 143 or 110 do not)",
                target.port
            ),
            false,
        ),
        other => (other.to_string(), false),
    };
    NetError::Tls {
        server,
        reason,
        certificate,
    }
}
