//! Shared test plumbing: an app on a test database (SQLite or PostgreSQL),
//! requests through `tower::ServiceExt::oneshot`, a two-org fixture, and a
//! process-wide log capture so tests can assert what never reaches the log.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use mailroom::api::{self, AppState};
use mailroom::config::Settings;
use mailroom::ids::{AccountId, ContactId, LeadId, MessageId, OrgId, RuleId, TokenId, UserId};
use mailroom::plugin::registry::PluginRegistry;
use mailroom::store::rules::RuleScope;
use mailroom::store::testing::TestDb;
use mailroom::store::{Location, NewCrmRecord, NewUser, Role, Store};
use mailroom_plugin_artifacts as artifacts;
use parking_lot::Mutex;
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

pub use mailroom::store::testing::local_org;

pub use crate::test_engine::engine;

/// Runs one plugin call (async, with its timers) to completion from
/// synchronous test code.
pub fn blocking<F: std::future::Future>(call: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
        .block_on(call)
}

pub fn wasm(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read plugin artifact {path}: {e}"))
}

/// The same component with a custom section appended: new bytes (a new
/// version on upload), same behaviour and metadata.
pub fn wasm_variant(path: &str, tag: &str) -> Vec<u8> {
    let mut bytes = wasm(path);
    let name = b"mailroom-test";
    let payload = tag.as_bytes();
    let size = 1 + name.len() + payload.len();
    assert!(
        size < 128 && name.len() < 128,
        "keep LEB128 sizes to one byte"
    );
    bytes.push(0);
    bytes.push(size as u8);
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    bytes
}

static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every log event of the test process at TRACE level (global:
/// request handling may hop threads), except the compiler's: Cranelift and
/// wasmtime trace every function they compile, never a request's data, and
/// kept for the whole run that was gigabytes per JavaScript component.
pub fn capture_logs() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let buffer = LOG.get_or_init(Arc::default).clone();
    let compiler = [
        "cranelift",
        "regalloc2",
        "wasmtime",
        "wasmparser",
        "wit_parser",
        "wasm_encoder",
    ];
    let filter = compiler.into_iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |f, target| f.with_target(target, LevelFilter::WARN),
    );
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || LogWriter(buffer.clone())),
        )
        .with(filter)
        .try_init();
}

/// Everything logged so far by the test process.
pub fn logs() -> String {
    LOG.get()
        .map(|b| String::from_utf8_lossy(&b.lock()).into_owned())
        .unwrap_or_default()
}

pub fn test_settings() -> Settings {
    let mut s = Settings::default();
    s.limits.plugin_upload_bytes = 4 << 20;
    s.limits.import_bytes = 64 << 10;
    // The route sweeps present bad tokens on purpose, all from one (absent)
    // address; the failure budget has its own test.
    s.http.auth_failure_burst = std::num::NonZeroU32::new(100_000).expect("nonzero");
    s
}

pub struct App {
    pub router: Router,
    pub state: AppState,
}

impl App {
    pub fn new(store: Store) -> App {
        Self::with_settings(store, test_settings())
    }

    pub fn with_settings(store: Store, settings: Settings) -> App {
        capture_logs();
        let registry = PluginRegistry::new(
            engine(),
            Arc::new(store.clone()),
            mailroom::config::registry_settings(&settings),
        );
        let state = AppState::new(store, registry, settings);
        App {
            router: api::router(state.clone()),
            state,
        }
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub async fn call(&self, request: Request<Body>) -> Resp {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Resp {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        self.call(request.body(Body::from(body)).expect("request"))
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(Method::GET, path, Some(token), None, Vec::new())
            .await
    }

    pub async fn json(&self, method: Method, path: &str, token: &str, body: Value) -> Resp {
        self.send(
            method,
            path,
            Some(token),
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await
    }

    pub async fn post(&self, path: &str, token: &str) -> Resp {
        self.send(Method::POST, path, Some(token), None, Vec::new())
            .await
    }

    /// Uploads a plugin component as `application/wasm`.
    pub async fn upload_plugin(&self, token: &str, component: Vec<u8>) -> Resp {
        self.send(
            Method::POST,
            "/v1/plugins",
            Some(token),
            Some("application/wasm"),
            component,
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.send(Method::DELETE, path, Some(token), None, Vec::new())
            .await
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    #[track_caller]
    pub fn ok(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts the API's error shape with this status (and code, if given).
    #[track_caller]
    pub fn error(&self, status: StatusCode, code: Option<&str>) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        let v = self.json();
        let error = v
            .get("error")
            .unwrap_or_else(|| panic!("no `error` in {v}"));
        let message = error["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message in {v}"))
            .to_owned();
        let actual = error["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no code in {v}"));
        assert!(!message.is_empty());
        assert_eq!(
            v.as_object().map(|o| o.len()),
            Some(1),
            "only `error` in {v}"
        );
        if let Some(code) = code {
            assert_eq!(actual, code, "{v}");
        }
        message
    }
}

/// Two orgs. Org A has an admin, a user, and one of each resource; org B an admin.
pub struct Fixture {
    pub org_a: OrgId,
    pub admin_a: UserId,
    pub admin_a_token: String,
    pub admin_a_token_id: TokenId,
    pub user_a: UserId,
    pub user_a_token: String,
    pub org_b: OrgId,
    pub admin_b_token: String,
    pub account_a: AccountId,
    pub contact_a: ContactId,
    pub lead_a: LeadId,
    /// An org rule of org A, made by the tests that need one
    /// ([`with_rule`]): other tests count the org's rules.
    pub rule_a: Option<RuleId>,
    pub message_a: MessageId,
    pub plugin_a: String,
}

pub const SAMPLE: &[u8] = b"From: Maria Garcia <maria@acme.example>\r\nTo: admin@a.example\r\nSubject: Pricing for 40 seats\r\n\
Message-ID: <fixture-1@acme.example>\r\nDate: Mon, 03 Nov 2025 09:14:22 +0100\r\n\r\nHello, what does it cost?\r\n";

pub fn account_json(email: &str) -> Value {
    serde_json::json!({
        "email": email,
        "display_name": "Mailbox",
        "incoming": { "host": "imap.example.com", "port": 993, "security": "tls" },
        "outgoing": { "host": "smtp.example.com", "port": 465, "security": "tls" },
    })
}

pub async fn fixture(app: &App) -> Fixture {
    let store = app.store();
    let unique = hex::encode(rand::random::<[u8; 4]>());
    let (org_a, admin_a, token_a) =
        local_org(store, &format!("A {unique}"), "admin@a.example", "Admin A").await;
    let (org_b, _, token_b) =
        local_org(store, &format!("B {unique}"), "admin@b.example", "Admin B").await;
    let user_a = store
        .create_user(
            &org_a.id,
            &NewUser {
                email: "user@a.example".into(),
                display_name: "User A".into(),
                role: Role::User,
                licensed: true,
            },
        )
        .await
        .expect("user A");
    let user_a_token = store
        .create_token(&org_a.id, &user_a.id, "test")
        .await
        .expect("token");

    let account = app
        .json(
            Method::POST,
            "/v1/accounts",
            token_a.secret.expose(),
            account_json("admin@a.example"),
        )
        .await;
    let account_a = AccountId(
        account.ok(StatusCode::CREATED)["id"]
            .as_str()
            .expect("id")
            .to_owned(),
    );
    let contact = store
        .create_contact(&org_a.id, &record("Maria Garcia", "maria@acme.example"))
        .await
        .expect("contact");
    let lead = store
        .create_lead(&org_a.id, &record("Lucía Fernández", "lucia@verde.example"))
        .await
        .expect("lead");
    let location = Location::Local {
        key: "fixture-1".into(),
        role: "inbox".into(),
    };
    let ingested = store
        .ingest_message(&org_a.id, &account_a, &location, SAMPLE)
        .await
        .expect("ingest");
    let plugin = app
        .state
        .registry
        .install(&org_a.id, wasm(artifacts::PROBE))
        .await
        .expect("install probe");
    Fixture {
        org_a: org_a.id,
        admin_a: admin_a.id,
        admin_a_token: token_a.secret.expose().to_owned(),
        admin_a_token_id: token_a.info.id,
        user_a: user_a.id,
        user_a_token: user_a_token.secret.expose().to_owned(),
        org_b: org_b.id,
        admin_b_token: token_b.secret.expose().to_owned(),
        account_a,
        contact_a: contact.id,
        lead_a: lead.id,
        rule_a: None,
        message_a: ingested.message_id,
        plugin_a: plugin.record.name,
    }
}

/// `f` with a (disabled) org rule of org A as `rule_a`.
pub async fn with_rule(app: &App, mut f: Fixture) -> Fixture {
    let rule: mailroom::rules::Rule = serde_json::from_value(serde_json::json!({
        "name": "Fixture", "enabled": false, "conditions": [], "actions": [{"add-label": "fixture"}]
    }))
    .expect("rule");
    let stored = app
        .store()
        .create_rules(&f.org_a, &RuleScope::Org, &[rule], Some(&f.admin_a))
        .await
        .expect("rule");
    f.rule_a = stored.into_iter().next().map(|r| r.id);
    f
}

pub fn record(name: &str, email: &str) -> NewCrmRecord {
    NewCrmRecord {
        name: name.into(),
        primary_email: Some(email.into()),
        secondary_emails: Vec::new(),
        owner: None,
        fields: serde_json::json!({}),
    }
}

/// Runs a test body on a fresh app over `db`.
pub async fn app_on(db: &TestDb) -> App {
    App::new(db.store.clone())
}
