//! HTTPS requests an org's settings point at (OAuth token URLs, webhook
//! receivers, plugins' granted hosts), bound by the org's destination
//! policy: the port, and an
//! address written in the URL, are checked before anything is sent
//! (reqwest resolves no address), a name's addresses by the client's
//! resolver right after the lookup ([`CheckedResolver`]), so a request goes
//! to an address that was checked and DNS gets no second say (and no proxy
//! from the environment takes it elsewhere). Redirects
//! are never followed: a redirect could carry a secret or a signed body
//! somewhere nobody allowed. Certificates are always verified, against the
//! public roots and, when the org gave one, its own CA.

use mailroom_core::destinations::{DestinationPolicy, Purpose};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How one client is set up.
#[derive(Clone, Debug)]
pub struct HttpsOptions<'a> {
    /// Where the org lets its requests go.
    pub destinations: Arc<DestinationPolicy>,
    /// Plain `http://` allowed (a test or loopback identity provider only).
    pub allow_plain_http: bool,
    /// A CA certificate (PEM) trusted besides the public roots.
    pub extra_root_pem: Option<&'a str>,
    /// The whole request, connect to last byte.
    pub timeout: Duration,
}

/// Why no client could be set up for a URL.
#[derive(Debug, thiserror::Error)]
pub enum HttpsSetupError {
    #[error("{url:?} is not a URL: {reason}")]
    NotAUrl { url: String, reason: String },
    /// The org's destination policy refuses the URL's port or address.
    #[error("{0}")]
    Refused(#[from] mailroom_core::destinations::Refused),
    #[error("the CA certificate is not a PEM certificate: {0}")]
    BadCertificate(String),
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// A client for requests to `url` (its host and port), bound by
/// `options.destinations`.
pub fn checked_client(
    url: &str,
    options: &HttpsOptions<'_>,
) -> Result<reqwest::Client, HttpsSetupError> {
    let parsed = url::Url::parse(url).map_err(|e| HttpsSetupError::NotAUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host = match parsed.host() {
        // Without brackets, as the policy and the resolver see it.
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    };
    options
        .destinations
        .check_before_lookup(&host, port, Purpose::Https)?;
    let resolver = CheckedResolver {
        destinations: options.destinations.clone(),
        port,
    };
    let mut builder = reqwest::Client::builder()
        // A proxy from the environment (HTTPS_PROXY…) would take the
        // request somewhere the policy never checked.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .https_only(!options.allow_plain_http)
        .timeout(options.timeout)
        .dns_resolver(Arc::new(resolver));
    if let Some(pem) = options.extra_root_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| HttpsSetupError::BadCertificate(e.to_string()))?;
        if certs.is_empty() {
            return Err(HttpsSetupError::BadCertificate(
                "no certificate in it".into(),
            ));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| HttpsSetupError::Client(e.to_string()))
}

/// DNS for checked requests: the system's lookup, then the org's policy on
/// every address, refused as a whole when one is not allowed.
struct CheckedResolver {
    destinations: Arc<DestinationPolicy>,
    /// The URL's port, which the policy also checks.
    port: u16,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(checked_lookup(
            self.destinations.clone(),
            name.as_str().to_owned(),
            self.port,
        ))
    }
}

async fn checked_lookup(
    destinations: Arc<DestinationPolicy>,
    host: String,
    port: u16,
) -> Result<Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await?
        .collect();
    for addr in &addrs {
        destinations.check(&host, *addr, Purpose::Https)?;
    }
    Ok(Box::new(addrs.into_iter()))
}
