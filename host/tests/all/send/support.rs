//! Shared plumbing of the sending tests: a Dovecot whose submission service
//! relays to a recording SMTP sink, a store with an org and an account
//! pointed at both, a plugin registry, the API on top, and quick options.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use mailroom::api::{self, AppState};
use mailroom::config::Settings;
use mailroom::ids::{AccountId, MessageId, OrgId, OutboxId, UserId};
use mailroom::plugin::registry::{PluginRegistry, RegistrySettings};
use mailroom::send::{Backoff, OutgoingMessage, RetryPolicy, SendOptions, Sender};
use mailroom::store::testing::TestDb;
use mailroom::store::{
    AuthKind, Credentials, NewAccount, OutboxEntry, Protocol, Secret, Security, ServerSettings,
    Sharing, Store, StoreSent,
};
use mailroom::sync::Timeouts;
use mailroom_test_servers::{Dovecot, Layout, SmtpSink};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// Everything one sending test needs.
pub struct World {
    pub dovecot: Dovecot,
    /// Where Dovecot's submission relays to: what "the Internet" received.
    pub sink: SmtpSink,
    pub db: TestDb,
    pub org: OrgId,
    pub admin: UserId,
    /// The admin's API token.
    pub token: String,
    pub registry: Arc<PluginRegistry>,
    /// The API's state (one, so its outbox wake-up is shared with a worker).
    pub state: AppState,
}

impl World {
    /// Dovecot with its relay sink listening.
    pub async fn start() -> World {
        Self::start_with_relay(true).await
    }

    /// `relay_up = false`: the relay greets Dovecot with `421` until the
    /// test calls `sink.set_available(true)`.
    pub async fn start_with_relay(relay_up: bool) -> World {
        let dovecot = Dovecot::start(Layout::SpecialUse);
        let sink = SmtpSink::relay_for(&dovecot);
        sink.set_available(relay_up);
        let db = TestDb::sqlite().await;
        let (org, admin, token) =
            mailroom::store::testing::local_org(&db.store, "acme", "admin@acme.example", "Admin")
                .await;
        let registry = PluginRegistry::new(
            engine(),
            Arc::new(db.store.clone()),
            RegistrySettings::default(),
        );
        let state = AppState::new(db.store.clone(), registry.clone(), Settings::default());
        World {
            dovecot,
            sink,
            db,
            org: org.id,
            admin: admin.id,
            token: token.secret.expose().to_owned(),
            registry,
            state,
        }
    }

    /// Closes the store and opens the database again, with a fresh
    /// registry: what a restarted process sees.
    pub async fn restart(&mut self) {
        self.db.restart().await;
        self.registry = PluginRegistry::new(
            engine(),
            Arc::new(self.db.store.clone()),
            RegistrySettings::default(),
        );
        self.state = AppState::new(
            self.db.store.clone(),
            self.registry.clone(),
            Settings::default(),
        );
    }

    pub fn store(&self) -> &Store {
        &self.db.store
    }

    /// The first mail user (alice): her login and addresses.
    pub fn user(&self) -> &mailroom_test_servers::TestUser {
        self.dovecot.user()
    }

    /// Installs a bundled provider plugin (e.g. `PROVIDER_MICROSOFT`).
    pub async fn install(&self, plugin: &str) {
        let bytes = std::fs::read(plugin).expect("bundled plugin");
        self.registry
            .install(&self.org, bytes)
            .await
            .expect("install the plugin");
    }

    /// An account of alice with the Gmail provider plugin installed (whose
    /// quirk says the SMTP server files sent mail), served by this Dovecot.
    pub async fn gmail_account(&self) -> AccountId {
        let gmail = std::fs::read(mailroom_plugin_artifacts::PROVIDER_GMAIL).expect("gmail plugin");
        self.registry
            .install(&self.org, gmail)
            .await
            .expect("install provider-gmail");
        self.account(Some("gmail"), &self.user().password.clone())
            .await
    }

    /// An account of alice that sends through Dovecot's submission port
    /// (STARTTLS, the test certificate accepted) and files copies over IMAP.
    pub async fn account(&self, provider_id: Option<&str>, password: &str) -> AccountId {
        self.account_with(
            provider_id,
            AuthKind::Password,
            password,
            self.dovecot.ports().submission,
        )
        .await
    }

    pub async fn account_with(
        &self,
        provider_id: Option<&str>,
        auth_kind: AuthKind,
        password: &str,
        smtp_port: u16,
    ) -> AccountId {
        let outgoing = ServerSettings {
            host: "127.0.0.1".into(),
            port: smtp_port,
            security: Security::Starttls,
        };
        self.account_sending_through(provider_id, auth_kind, password, outgoing)
            .await
    }

    /// An account of alice reading this Dovecot over IMAP and sending
    /// through `outgoing`.
    pub async fn account_sending_through(
        &self,
        provider_id: Option<&str>,
        auth_kind: AuthKind,
        password: &str,
        outgoing: ServerSettings,
    ) -> AccountId {
        let user = self.user();
        let new = NewAccount {
            owner: self.admin.clone(),
            protocol: Protocol::Imap,
            provider_id: provider_id.map(str::to_owned),
            display_name: "Work".into(),
            email: format!("{}@acme.example", user.name),
            incoming: ServerSettings {
                host: "127.0.0.1".into(),
                port: self.dovecot.ports().imap,
                security: Security::None,
            },
            outgoing: Some(outgoing),
            same_credentials_for_outgoing: true,
            auth_kind,
            username: Some(user.name.clone()),
            outgoing_username: None,
            credentials: Credentials {
                password: (auth_kind != AuthKind::Oauth2).then(|| Secret::new(password)),
                ..Default::default()
            },
            // The test server's certificate is self-signed.
            tls_verify: false,
            from_addresses: Vec::new(),
            default_from: None,
            sharing: Sharing::Private,
            shared_with: Vec::new(),
            pop3_keep_on_server: true,
            store_sent: StoreSent::Auto,
        };
        let account = self
            .store()
            .create_account(&self.org, &new)
            .await
            .expect("create account");
        if auth_kind == AuthKind::Oauth2 {
            let in_an_hour = mailroom::store::now_ms() + 3_600_000;
            self.store()
                .set_oauth_tokens(
                    &self.org,
                    &account.id,
                    &Secret::new(password),
                    in_an_hour,
                    None,
                )
                .await
                .expect("store access token");
        }
        account.id
    }

    pub fn sender(&self) -> Sender {
        Sender::new(self.store().clone(), Some(self.registry.clone()), options())
    }

    /// Queues a message from the account (as the API would).
    pub async fn queue(&self, account: &AccountId, subject: &str) -> OutboxEntry {
        mailroom::send::enqueue(
            self.store(),
            &self.org,
            account,
            &message(subject),
            Some(&self.admin),
        )
        .await
        .expect("queue")
    }

    pub async fn entry(&self, id: &OutboxId) -> OutboxEntry {
        self.store()
            .get_outbox_entry(&self.org, id)
            .await
            .expect("outbox entry")
    }

    /// UIDs in alice's Sent folder, straight from the server.
    pub fn sent_uids(&self) -> Vec<u32> {
        self.dovecot.uids(&self.user().name, "Sent")
    }

    /// The UIDs in alice's Sent folder holding this Message-ID.
    pub fn sent_with_message_id(&self, message_id: &str) -> usize {
        let out = self.dovecot.doveadm(&[
            "-f",
            "flow",
            "search",
            "-u",
            &self.user().name,
            "mailbox",
            "Sent",
            "header",
            "Message-ID",
            message_id,
        ]);
        out.lines().filter(|l| !l.trim().is_empty()).count()
    }

    /// Files `raw` in alice's Sent folder behind Mailroom's back, as a
    /// server that keeps its own copy of submitted mail would.
    pub fn server_files_copy(&self, raw: &[u8]) {
        self.dovecot.seed(&self.user().name, "Sent", raw);
    }

    pub async fn api(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let router = api::router(self.state.clone());
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"));
        let body = match body {
            Some(v) => {
                request = request.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let response = router
            .oneshot(request.body(body).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
        };
        (status, value)
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(self.store().pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// Where the stored message sits: (folder role of its state, location
/// folder if on a server).
pub async fn stored(w: &World, id: &MessageId) -> (String, Option<String>) {
    let detail = w
        .store()
        .get_message(&w.org, id)
        .await
        .expect("stored message");
    let location = detail.locations.first().expect("a location").clone();
    let folder = match &location.folder {
        Some(f) => Some(w.store().get_folder(&w.org, f).await.expect("folder").name),
        None => None,
    };
    (detail.summary.state.folder.clone(), folder)
}

/// A message to two colleagues of a customer, one of them blind-copied.
pub fn message(subject: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: vec!["Maria Garcia <maria@customer.example>".into()],
        bcc: vec!["boss@acme.example".into()],
        subject: subject.into(),
        text: "Hello Maria,\n\nthe offer for 40 seats is attached in spirit.\n".into(),
        ..Default::default()
    }
}

/// Fast options: short timeouts, one-second backoff, a short look for a
/// server-filed copy.
pub fn options() -> SendOptions {
    SendOptions {
        smtp_timeout: Duration::from_secs(5),
        imap_timeouts: Timeouts {
            connect: Duration::from_secs(3),
            tls: Duration::from_secs(3),
            greeting: Duration::from_secs(5),
            command: Duration::from_secs(5),
        },
        retry: RetryPolicy {
            backoff: Backoff {
                base: Duration::from_secs(1),
                max: Duration::from_secs(4),
            },
            max_attempts: 5,
        },
        copy_retry: RetryPolicy {
            backoff: Backoff {
                base: Duration::from_secs(1),
                max: Duration::from_secs(4),
            },
            max_attempts: 3,
        },
        learn_wait: Duration::from_millis(300),
        lease: Duration::from_secs(60),
        poll_interval: Duration::from_millis(200),
    }
}

pub use crate::common::engine;

/// The sink must stay at `n` messages: a relay delivers after answering its
/// client, so give it a moment to prove nothing more comes.
pub fn assert_sink_stays_at(sink: &SmtpSink, n: usize) {
    let got = sink.wait_for(n, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.count(), n, "{got:?}");
}
