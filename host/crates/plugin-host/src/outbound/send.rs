//! A plugin's `wasi:http/outgoing-handler`. Every request is checked before
//! anything leaves: HTTPS only, to a host and port the plugin's grant names,
//! within the call's request count. It is then sent by a client bound by
//! the org's destination policy (no private or loopback address unless the
//! org allows it; `mailroom_net::https`), trusting the public roots and the
//! grant's CA, with redirects never followed. The request body and the
//! response body are capped, and the call's deadline bounds the rest: the
//! request runs in a task that is dropped with the call.
//!
//! A refusal reaches the plugin as `error-code.internal-error` with a
//! message naming the host and what an admin would have to grant, and is
//! logged once per call under the plugin's name.

use super::grant::{HostRules, OutboundGrant};
use crate::registry::storage::RegistryStorage;
use bytes::Bytes;
use http_body_util::BodyExt;
use mailroom_core::destinations::DestinationPolicy;
use mailroom_core::ids::OrgId;
use mailroom_net::https::{HttpsOptions, HttpsSetupError, checked_client};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// Longest a cached client waits for anything; each request also gets
/// what is left of its call's deadline.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The future `send_request` hands back to wasmtime-wasi-http.
type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

/// What one plugin of one org may reach: its grant, parsed once, and its
/// clients.
pub struct OutboundAccess {
    grant: OutboundGrant,
    rules: HostRules,
    clients: Arc<OutboundClients>,
}

impl OutboundAccess {
    /// The access `grant` gives.
    pub fn new(grant: OutboundGrant, clients: Arc<OutboundClients>) -> Self {
        let rules = HostRules::of(&grant);
        Self {
            grant,
            rules,
            clients,
        }
    }

    pub fn allows(&self, host: &str, port: u16) -> bool {
        self.rules.allows(host, port)
    }
}

/// The HTTPS clients of one (org, plugin), kept across its calls and
/// versions: one per destination, rebuilt when the org's destination
/// policy or the grant's CA changes. Building one loads the root store,
/// which would otherwise be most of a short request.
pub struct OutboundClients {
    policies: Arc<dyn RegistryStorage>,
    cache: Mutex<HashMap<(String, u16), CachedClient>>,
}

impl std::fmt::Debug for OutboundAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundAccess")
            .field("grant", &self.grant)
            .finish_non_exhaustive()
    }
}

struct CachedClient {
    policy: DestinationPolicy,
    ca_pem: Option<String>,
    client: reqwest::Client,
}

impl OutboundClients {
    /// Clients bound by the destination policy `policies` keeps per org.
    pub fn new(policies: Arc<dyn RegistryStorage>) -> Arc<Self> {
        Arc::new(Self {
            policies,
            cache: Mutex::default(),
        })
    }

    /// The org's destination policy is read on every request, so an admin
    /// who narrows it stops the next request; the read is a small part of
    /// an HTTPS request, and the client it selects is cached.
    async fn client(
        &self,
        org: &OrgId,
        grant: &OutboundGrant,
        url: &str,
        host: &str,
        port: u16,
    ) -> Result<reqwest::Client, HttpError> {
        let mut policy = self
            .policies
            .destination_policy(org)
            .await
            .map_err(|e| internal(format!("cannot read the org's destination policy: {e}")))?;
        // The grant names the port; the policy still decides which networks.
        policy.extra_ports.push(port);
        let key = (host.to_owned(), port);
        if let Some(cached) = self.cache.lock().get(&key)
            && cached.policy == policy
            && cached.ca_pem == grant.ca_pem
        {
            return Ok(cached.client.clone());
        }
        let options = HttpsOptions {
            destinations: Arc::new(policy.clone()),
            allow_plain_http: false,
            extra_root_pem: grant.ca_pem.as_deref(),
            timeout: CLIENT_TIMEOUT,
        };
        let client = checked_client(url, &options).map_err(|e| match e {
            HttpsSetupError::Refused(r) => internal(format!("refused: {r}")),
            other => internal(other.to_string()),
        })?;
        self.cache.lock().insert(
            key,
            CachedClient {
                policy,
                ca_pem: grant.ca_pem.clone(),
                client: client.clone(),
            },
        );
        Ok(client)
    }
}

/// Checks a grant's CA certificate the way requests will read it.
pub fn check_ca(pem: &str) -> Result<(), String> {
    match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
        Ok(certs) if certs.is_empty() => Err("`ca_pem` holds no PEM certificate".into()),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("`ca_pem` is not a PEM certificate: {e}")),
    }
}

/// The `wasi:http` hooks of one call.
pub struct OutboundHooks {
    access: Option<Arc<OutboundAccess>>,
    org: OrgId,
    plugin: String,
    /// Requests the plugin asked for in this call, refused ones included.
    attempts: u32,
    refusal_logged: bool,
    /// When the call must be over.
    ends_at: Instant,
}

impl OutboundHooks {
    pub fn new(access: Option<Arc<OutboundAccess>>, org: OrgId, plugin: String) -> Self {
        Self {
            access,
            org,
            plugin,
            attempts: 0,
            refusal_logged: false,
            ends_at: Instant::now() + CLIENT_TIMEOUT,
        }
    }

    /// The call's deadline, which bounds every request it makes.
    pub fn set_deadline(&mut self, ends_at: Instant) {
        self.ends_at = ends_at;
    }

    /// What the grant lets this request do, or the message refusing it.
    fn admit(
        &mut self,
        request: &http::Request<WasiBody>,
    ) -> Result<(Arc<OutboundAccess>, String, u16), String> {
        self.attempts += 1;
        let uri = request.uri();
        let host = uri.host().unwrap_or_default().to_owned();
        let shown = uri
            .authority()
            .map_or("(no host)", |a| a.as_str())
            .to_owned();
        let Some(access) = self.access.clone() else {
            return Err(format!(
                "outbound HTTP to {shown} refused: plugin `{}` has no outbound-http grant in \
                 this org; an admin grants hosts with PUT /v1/plugins/{}/outbound-http",
                self.plugin, self.plugin
            ));
        };
        let max = access.grant.max_requests_per_call;
        if self.attempts > max {
            return Err(format!(
                "outbound HTTP to {shown} refused: this call already made {max} request(s), \
                 the most its grant allows per call"
            ));
        }
        if uri.scheme() != Some(&http::uri::Scheme::HTTPS) {
            return Err(format!(
                "outbound HTTP to {shown} refused: only https:// requests are allowed, not {}://",
                uri.scheme_str().unwrap_or("(none)")
            ));
        }
        let port = uri.port_u16().unwrap_or(443);
        if !access.allows(&host, port) {
            return Err(format!(
                "outbound HTTP to {host}:{port} refused: plugin `{}` is granted only {}",
                self.plugin,
                access.grant.hosts.join(", ")
            ));
        }
        Ok((access, host, port))
    }

    fn log_refusal(&mut self, message: &str) {
        if std::mem::replace(&mut self.refusal_logged, true) {
            return;
        }
        tracing::warn!(target: "plugin", org = %self.org, plugin = %self.plugin, "{message}");
    }
}

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        let (access, host, port) = match self.admit(&request) {
            Ok(admitted) => admitted,
            Err(message) => {
                self.log_refusal(&message);
                return Box::new(async move { Err(internal(message)) });
            }
        };
        let org = self.org.clone();
        let timeout = self.ends_at.saturating_duration_since(Instant::now());
        Box::new(async move {
            let response = send(&access, &org, request, &host, port, timeout).await?;
            let done: Box<dyn Future<Output = Result<(), HttpError>> + Send> =
                Box::new(async { Ok(()) });
            Ok((response, done))
        })
    }
}

/// Sends one admitted request and hands back its response with the body capped.
async fn send(
    access: &OutboundAccess,
    org: &OrgId,
    request: http::Request<WasiBody>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<http::Response<WasiBody>, HttpError> {
    let grant = &access.grant;
    let url = request.uri().to_string();
    let client = access.clients.client(org, grant, &url, host, port).await?;
    let (parts, body) = request.into_parts();
    let max_request = grant.max_request_bytes;
    let body =
        http_body_util::Limited::new(body, usize::try_from(max_request).unwrap_or(usize::MAX))
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    HttpError::HttpRequestBodySize(Some(max_request))
                } else {
                    internal(format!("cannot read the request body: {e}"))
                }
            })?
            .to_bytes();
    let mut builder = client.request(parts.method, &url).timeout(timeout);
    for (name, value) in &parts.headers {
        // reqwest writes Host from the URL it was given.
        if name != http::header::HOST {
            builder = builder.header(name, value);
        }
    }
    let response = builder
        .body(body)
        .send()
        .await
        .map_err(|e| request_error(host, port, &e))?;
    let max_response = grant.max_response_bytes;
    if response
        .content_length()
        .is_some_and(|len| len > max_response)
    {
        return Err(HttpError::HttpResponseBodySize(Some(max_response)));
    }
    let response: http::Response<reqwest::Body> = response.into();
    Ok(response.map(|body| capped(body, max_response)))
}

/// The response body, ending with `HttpResponseBodySize` past `max` bytes.
fn capped(body: reqwest::Body, max: u64) -> WasiBody {
    http_body_util::Limited::new(body, usize::try_from(max).unwrap_or(usize::MAX))
        .map_frame(|frame| frame.map_data(Bytes::from))
        .map_err(move |e| {
            if e.is::<http_body_util::LengthLimitError>() {
                HttpError::HttpResponseBodySize(Some(max))
            } else {
                internal(format!("the response body broke off: {}", chain(&*e)))
            }
        })
        .boxed_unsync()
}

/// A failed request in the words a plugin author needs.
fn request_error(host: &str, port: u16, e: &reqwest::Error) -> HttpError {
    if e.is_timeout() {
        return HttpError::ConnectionTimeout;
    }
    internal(format!("request to {host}:{port} failed: {}", chain(e)))
}

/// An error and its sources, one after the other (reqwest's own message
/// alone rarely says what went wrong: a refused address, a bad certificate).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

fn internal(message: String) -> HttpError {
    HttpError::InternalError(Some(message))
}
