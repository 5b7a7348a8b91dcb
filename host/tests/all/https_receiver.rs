//! An HTTPS server on loopback for webhooks and plugins' outbound
//! requests: a fresh self-signed certificate (which the org trusts as its
//! CA), one request per connection, every request recorded (path, headers,
//! body), answered as the test's [`Reply`] says: statuses in order then
//! `200`, a body of a given size, or nothing at all.

use mailroom_test_servers::{SelfSigned, TempDir};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the receiver answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// These statuses in order, then `200`, each with the 7-byte body `answer!`.
    Statuses(Vec<u16>),
    /// `200` with `len` bytes of body, its length announced or not (then
    /// the body ends when the connection closes).
    Body { len: usize, announce_length: bool },
    /// Reads the request and never answers.
    Silent,
}

pub struct HttpsReceiver {
    pub port: u16,
    /// The certificate, to trust as the org's webhook CA.
    pub cert_pem: String,
    requests: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
    _dir: TempDir,
}

impl HttpsReceiver {
    /// Listening on 127.0.0.1; answers `statuses` in order, then 200.
    pub async fn start(statuses: &[u16]) -> HttpsReceiver {
        Self::replying(Reply::Statuses(statuses.to_vec())).await
    }

    /// Listening on 127.0.0.1, answering as `reply` says.
    pub async fn replying(reply: Reply) -> HttpsReceiver {
        let dir = TempDir::new("webhook-receiver").expect("temp dir");
        let cert = SelfSigned::create(dir.path());
        let cert_pem = String::from_utf8(cert.cert_pem()).expect("PEM is text");
        let chain = vec![CertificateDer::from_pem_file(&cert.cert).expect("cert")];
        let key = PrivateKeyDer::from_pem_file(&cert.key).expect("key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let statuses = match &reply {
            Reply::Statuses(statuses) => statuses.iter().copied().collect(),
            _ => VecDeque::new(),
        };
        let statuses = Arc::new(Mutex::new(statuses));
        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let recorded = recorded.clone();
                let statuses = statuses.clone();
                let reply = reply.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Some(request) = read_request(&mut tls).await else {
                        return;
                    };
                    recorded.lock().unwrap().push(request);
                    let (status, body, announce) = match reply {
                        Reply::Statuses(_) => {
                            let status = statuses.lock().unwrap().pop_front().unwrap_or(200);
                            (status, b"answer!".to_vec(), true)
                        }
                        Reply::Body {
                            len,
                            announce_length,
                        } => (200, vec![b'x'; len], announce_length),
                        Reply::Silent => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                    };
                    let length = if announce {
                        format!("content-length: {}\r\n", body.len())
                    } else {
                        String::new()
                    };
                    let head = format!(
                        "HTTP/1.1 {status} Test\r\ncontent-type: text/plain\r\n{length}\
                         connection: close\r\n\r\n"
                    );
                    let _ = tls.write_all(head.as_bytes()).await;
                    let _ = tls.write_all(&body).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        HttpsReceiver {
            port,
            cert_pem,
            requests,
            task,
            _dir: dir,
        }
    }

    /// `https://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for HttpsReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Option<Received> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Received {
        path,
        headers,
        body,
    })
}

/// HMAC-SHA256, written out from RFC 2104 over `sha2`: the test checks the
/// host's signature with code that shares nothing with it.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .into()
}
