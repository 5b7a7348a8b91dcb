//! A small OAuth2 authorization server on loopback, real enough for the
//! host's OAuth client and Dovecot's `oauth2` passdb:
//!
//! - `GET /authorize`: approves at once (or denies, when told to) and
//!   redirects to the client's `redirect_uri` with `code` and `state`;
//!   requires PKCE S256.
//! - `POST /token`: `authorization_code` (checks client, redirect URI and
//!   the PKCE verifier; a code works once) and `refresh_token` (rotates:
//!   the old refresh token dies); access tokens live a configurable time.
//! - `POST /introspect` (form `token=…`, RFC 7662): `{"active": true,
//!   "username": …}` for a live access token, `{"active": false}` else.
//!
//! Tokens can be revoked to simulate a provider that withdrew them. One
//! thread per connection, one request per connection (`Connection: close`).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

struct CodeGrant {
    redirect_uri: String,
    challenge: String,
}

struct AccessToken {
    expires_at: Instant,
    revoked: bool,
}

#[derive(Default)]
struct State {
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessToken>,
    /// Refresh token → still valid.
    refresh: HashMap<String, bool>,
    /// `grant_type` of every successful token request, in order.
    grants: Vec<String>,
    /// Every token request, also refused ones.
    token_requests: usize,
    deny_next: bool,
    counter: u64,
}

/// The authorization server. Stops on drop.
pub struct OAuthServer {
    addr: SocketAddr,
    client_id: String,
    client_secret: String,
    username: String,
    access_ttl: Arc<Mutex<Duration>>,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl OAuthServer {
    /// A server with one registered client and one mailbox user who
    /// approves every request; access tokens live an hour.
    pub fn start(client_id: &str, client_secret: &str, username: &str) -> OAuthServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind OAuth server");
        let addr = listener.local_addr().expect("OAuth server address");
        let mut server = OAuthServer {
            addr,
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            username: username.to_owned(),
            access_ttl: Arc::new(Mutex::new(Duration::from_secs(3600))),
            state: Arc::default(),
            stop: Arc::default(),
            thread: None,
        };
        let handler = Handler {
            client_id: server.client_id.clone(),
            client_secret: server.client_secret.clone(),
            username: server.username.clone(),
            access_ttl: server.access_ttl.clone(),
            state: server.state.clone(),
        };
        let stop = server.stop.clone();
        server.thread = Some(std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let handler = handler.clone();
                std::thread::spawn(move || handler.serve(conn));
            }
        }));
        server
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn authorization_url(&self) -> String {
        format!("{}/authorize", self.base_url())
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url())
    }

    pub fn introspection_url(&self) -> String {
        format!("{}/introspect", self.base_url())
    }

    /// Access tokens issued from now on live `ttl`.
    pub fn set_access_ttl(&self, ttl: Duration) {
        *self.access_ttl.lock().expect("ttl lock") = ttl;
    }

    /// The next `/authorize` answers `error=access_denied`.
    pub fn deny_next_authorization(&self) {
        self.state.lock().expect("state lock").deny_next = true;
    }

    /// Withdraws every access token issued so far (introspection says inactive).
    pub fn revoke_access_tokens(&self) {
        for token in self.state.lock().expect("state lock").access.values_mut() {
            token.revoked = true;
        }
    }

    /// Withdraws every refresh token issued so far (refresh → `invalid_grant`).
    pub fn revoke_refresh_tokens(&self) {
        for valid in self.state.lock().expect("state lock").refresh.values_mut() {
            *valid = false;
        }
    }

    /// The `grant_type` of every successful token request, in order.
    pub fn grants(&self) -> Vec<String> {
        self.state.lock().expect("state lock").grants.clone()
    }

    /// How many token requests arrived, refused ones included.
    pub fn token_requests(&self) -> usize {
        self.state.lock().expect("state lock").token_requests
    }

    /// Whether `token` is a live access token.
    pub fn is_active(&self, token: &str) -> bool {
        self.state
            .lock()
            .expect("state lock")
            .access
            .get(token)
            .is_some_and(|t| !t.revoked && t.expires_at > Instant::now())
    }

    /// Whether `token` is a refresh token this server issued (live or not).
    pub fn issued_refresh_token(&self, token: &str) -> bool {
        self.state
            .lock()
            .expect("state lock")
            .refresh
            .contains_key(token)
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[derive(Clone)]
struct Handler {
    client_id: String,
    client_secret: String,
    username: String,
    access_ttl: Arc<Mutex<Duration>>,
    state: Arc<Mutex<State>>,
}

struct Request {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HashMap<String, String>,
    form: HashMap<String, String>,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn json(status: u16, body: String) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body,
    }
}

fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    json(
        status,
        format!(r#"{{"error":"{error}","error_description":"{description}"}}"#),
    )
}

impl Handler {
    fn serve(&self, conn: TcpStream) {
        let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
        let Ok(mut writer) = conn.try_clone() else {
            return;
        };
        let reply = match read_request(conn) {
            Some(request) => self.route(&request),
            None => oauth_error(400, "invalid_request", "unreadable HTTP request"),
        };
        let reason = match reply.status {
            200 => "OK",
            302 => "Found",
            401 => "Unauthorized",
            404 => "Not Found",
            _ => "Bad Request",
        };
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n",
            reply.status,
            reply.body.len()
        );
        for (name, value) in &reply.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(reply.body.as_bytes());
        let _ = writer.flush();
    }

    fn route(&self, r: &Request) -> Reply {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/authorize") => self.authorize(r),
            ("POST", "/token") => self.token(r),
            ("POST", "/introspect") => self.introspect(r),
            _ => oauth_error(404, "not_found", "no such endpoint"),
        }
    }

    fn next_id(state: &mut State, prefix: &str) -> String {
        state.counter += 1;
        format!(
            "{prefix}-{}-{:016x}",
            state.counter,
            crate::tempdir::random_u64()
        )
    }

    fn authorize(&self, r: &Request) -> Reply {
        let q = &r.query;
        let get = |k: &str| q.get(k).cloned().unwrap_or_default();
        if get("client_id") != self.client_id || get("response_type") != "code" {
            return oauth_error(
                400,
                "invalid_request",
                "unknown client or not the code flow",
            );
        }
        if get("code_challenge_method") != "S256" || get("code_challenge").is_empty() {
            return oauth_error(400, "invalid_request", "PKCE S256 is required");
        }
        let redirect_uri = get("redirect_uri");
        let state_param = encode(&get("state"));
        let mut state = self.state.lock().expect("state lock");
        let location = if std::mem::take(&mut state.deny_next) {
            format!(
                "{redirect_uri}?error=access_denied&error_description=The+user+declined&state={state_param}"
            )
        } else {
            let code = Self::next_id(&mut state, "code");
            state.codes.insert(
                code.clone(),
                CodeGrant {
                    redirect_uri: redirect_uri.clone(),
                    challenge: get("code_challenge"),
                },
            );
            format!("{redirect_uri}?code={}&state={state_param}", encode(&code))
        };
        Reply {
            status: 302,
            headers: vec![("Location".into(), location)],
            body: String::new(),
        }
    }

    /// Client authentication: HTTP Basic or the form's client_id/client_secret.
    fn client_ok(&self, r: &Request) -> bool {
        let basic = r
            .headers
            .get("authorization")
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| STANDARD.decode(b.trim()).ok())
            .and_then(|b| String::from_utf8(b).ok());
        let (id, secret) = match basic {
            Some(pair) => {
                let (id, secret) = pair.split_once(':').unwrap_or((&pair, ""));
                (decode(id), decode(secret))
            }
            None => (
                r.form.get("client_id").cloned().unwrap_or_default(),
                r.form.get("client_secret").cloned().unwrap_or_default(),
            ),
        };
        id == self.client_id && secret == self.client_secret
    }

    fn token(&self, r: &Request) -> Reply {
        let mut state = self.state.lock().expect("state lock");
        state.token_requests += 1;
        if !self.client_ok(r) {
            return oauth_error(401, "invalid_client", "client authentication failed");
        }
        let form = |k: &str| r.form.get(k).cloned().unwrap_or_default();
        let grant_type = form("grant_type");
        match grant_type.as_str() {
            "authorization_code" => {
                let Some(grant) = state.codes.remove(&form("code")) else {
                    return oauth_error(400, "invalid_grant", "unknown or used code");
                };
                if grant.redirect_uri != form("redirect_uri") {
                    return oauth_error(400, "invalid_grant", "redirect_uri mismatch");
                }
                let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(form("code_verifier")));
                if computed != grant.challenge {
                    return oauth_error(400, "invalid_grant", "PKCE verification failed");
                }
            }
            "refresh_token" => match state.refresh.get_mut(&form("refresh_token")) {
                Some(valid) if *valid => *valid = false,
                _ => return oauth_error(400, "invalid_grant", "refresh token revoked or unknown"),
            },
            _ => return oauth_error(400, "unsupported_grant_type", "unsupported grant type"),
        }
        let ttl = *self.access_ttl.lock().expect("ttl lock");
        let access = Self::next_id(&mut state, "at");
        let refresh = Self::next_id(&mut state, "rt");
        state.access.insert(
            access.clone(),
            AccessToken {
                expires_at: Instant::now() + ttl,
                revoked: false,
            },
        );
        state.refresh.insert(refresh.clone(), true);
        state.grants.push(grant_type);
        json(
            200,
            format!(
                r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":{},"refresh_token":"{refresh}","scope":"mail"}}"#,
                ttl.as_secs()
            ),
        )
    }

    fn introspect(&self, r: &Request) -> Reply {
        let token = r.form.get("token").cloned().unwrap_or_default();
        let state = self.state.lock().expect("state lock");
        let live = state
            .access
            .get(&token)
            .is_some_and(|t| !t.revoked && t.expires_at > Instant::now());
        if live {
            json(
                200,
                format!(
                    r#"{{"active":true,"username":"{}","scope":"mail"}}"#,
                    self.username
                ),
            )
        } else {
            json(200, r#"{"active":false}"#.into())
        }
    }
}

fn read_request(conn: TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Request {
        method,
        path: path.to_owned(),
        query: parse_form(query),
        headers,
        form: parse_form(&String::from_utf8_lossy(&body)),
    })
}

fn parse_form(text: &str) -> HashMap<String, String> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
