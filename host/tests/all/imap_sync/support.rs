//! Shared plumbing of the IMAP and POP3 tests: a store with an org and an account
//! pointed at a test server, realistic messages, counting helpers, and the
//! org's provider plugin.

use mailroom::ids::{AccountId, MessageId, OrgId, UserId};
use mailroom::plugin::registry::{PluginRegistry, RegistrySettings};
use mailroom::store::testing::TestDb;
use mailroom::store::{
    AuthKind, Credentials, MessageFilter, MessageState, NewAccount, Protocol, Secret, Security,
    ServerSettings, Sharing, Store, StoreSent,
};
use mailroom::sync::{SyncOptions, Timeouts};
use mailroom_test_servers::Dovecot;
use std::sync::Arc;
use std::time::Duration;

/// A test org with one admin.
pub struct Tenant {
    pub org: OrgId,
    pub admin: UserId,
}

pub async fn tenant(store: &Store) -> Tenant {
    let (org, admin, _token) =
        mailroom::store::testing::local_org(store, "acme", "admin@acme.example", "Admin").await;
    Tenant {
        org: org.id,
        admin: admin.id,
    }
}

/// How the account logs in.
pub enum Login {
    Password(String),
    OAuth2(String),
}

/// Creates an IMAP account of `user` on `port` of the loopback server.
pub async fn account(
    store: &Store,
    t: &Tenant,
    user: &str,
    port: u16,
    security: Security,
    tls_verify: bool,
    login: Login,
) -> AccountId {
    let spec = AccountSpec {
        protocol: Protocol::Imap,
        user,
        port,
        security,
        tls_verify,
        pop3_keep_on_server: true,
    };
    account_with(store, t, spec, login).await
}

/// Where an account connects, for [`account_with`].
pub struct AccountSpec<'a> {
    pub protocol: Protocol,
    pub user: &'a str,
    pub port: u16,
    pub security: Security,
    pub tls_verify: bool,
    pub pop3_keep_on_server: bool,
}

/// Creates an account of any protocol on the loopback server.
pub async fn account_with(
    store: &Store,
    t: &Tenant,
    spec: AccountSpec<'_>,
    login: Login,
) -> AccountId {
    let AccountSpec {
        protocol,
        user,
        port,
        security,
        tls_verify,
        pop3_keep_on_server,
    } = spec;
    let (auth_kind, password) = match &login {
        Login::Password(p) => (AuthKind::Password, Some(Secret::new(p.clone()))),
        Login::OAuth2(_) => (AuthKind::Oauth2, None),
    };
    let new = NewAccount {
        owner: t.admin.clone(),
        protocol,
        provider_id: Some("generic".into()),
        display_name: "Work".into(),
        email: format!("{user}@acme.example"),
        incoming: ServerSettings {
            host: "127.0.0.1".into(),
            port,
            security,
        },
        outgoing: None,
        same_credentials_for_outgoing: true,
        auth_kind,
        username: Some(user.to_owned()),
        outgoing_username: None,
        credentials: Credentials {
            password,
            ..Default::default()
        },
        tls_verify,
        from_addresses: Vec::new(),
        default_from: None,
        sharing: Sharing::Private,
        shared_with: Vec::new(),
        pop3_keep_on_server,
        store_sent: StoreSent::Auto,
    };
    let account = store
        .create_account(&t.org, &new)
        .await
        .expect("create account");
    if let Login::OAuth2(token) = login {
        let in_an_hour = mailroom::store::now_ms() + 3_600_000;
        store
            .set_oauth_tokens(&t.org, &account.id, &Secret::new(token), in_an_hour, None)
            .await
            .expect("store access token");
    }
    account.id
}

/// The first user of `dovecot`, over plain IMAP with the right password.
pub async fn plain_account(store: &Store, t: &Tenant, dovecot: &Dovecot) -> AccountId {
    let user = dovecot.user();
    account(
        store,
        t,
        &user.name,
        dovecot.ports().imap,
        Security::None,
        true,
        Login::Password(user.password.clone()),
    )
    .await
}

/// A realistic message of about `body_bytes`, with a unique Message-ID.
pub fn mail(n: usize, subject: &str, body_bytes: usize) -> Vec<u8> {
    let line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n";
    let body = line.repeat(body_bytes / line.len() + 1);
    format!(
        "From: Ann Example <ann@customer.example>\r\nTo: alice@acme.example\r\n\
         Subject: {subject}\r\nDate: Tue, 1 Jul 2025 10:{:02}:{:02} +0200\r\n\
         Message-ID: <msg-{n}-{subject_id}@customer.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}",
        (n / 60) % 60,
        n % 60,
        subject_id = subject.replace(' ', "-"),
    )
    .into_bytes()
}

/// Quick options for tests: small batches so batching is exercised, short
/// timeouts so a hung server fails fast.
pub fn options(batch_messages: usize) -> SyncOptions {
    SyncOptions {
        batch_messages,
        timeouts: short_timeouts(),
        ..Default::default()
    }
}

pub fn short_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        tls: Duration::from_secs(2),
        greeting: Duration::from_secs(2),
        command: Duration::from_secs(2),
    }
}

pub async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Stored messages, locations and queued pipeline runs.
pub async fn totals(store: &Store) -> (i64, i64, i64) {
    (
        count(store, "SELECT COUNT(*) FROM messages").await,
        count(store, "SELECT COUNT(*) FROM message_locations").await,
        count(store, "SELECT COUNT(*) FROM pipeline_runs").await,
    )
}

/// The stored message with this subject.
pub async fn by_subject(store: &Store, org: &OrgId, subject: &str) -> (MessageId, MessageState) {
    let page = store
        .list_messages(
            org,
            &MessageFilter {
                text: Some(subject.into()),
                ..Default::default()
            },
            None,
            Some(500),
        )
        .await
        .expect("list messages");
    let found: Vec<_> = page
        .items
        .into_iter()
        .filter(|m| m.subject.as_deref() == Some(subject))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one message with subject {subject:?}"
    );
    let m = found.into_iter().next().expect("one");
    (m.id, m.state)
}

/// The role of the stored folder with this server name.
pub async fn role_of(db: &TestDb, t: &Tenant, account: &AccountId, name: &str) -> Option<String> {
    let folders = db
        .store
        .list_folders(&t.org, account)
        .await
        .expect("folders");
    folders
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no folder {name:?} stored"))
        .role
}

/// A plugin registry on the store with the bundled generic provider
/// installed for the org.
pub async fn registry_with_generic_provider(store: &Store, org: &OrgId) -> Arc<PluginRegistry> {
    registry_with_provider(store, org, mailroom_plugin_artifacts::PROVIDER_GENERIC).await
}

/// A plugin registry on the store with the provider plugin built at
/// `artifact` (a `mailroom_plugin_artifacts` path) installed for the org.
pub async fn registry_with_provider(
    store: &Store,
    org: &OrgId,
    artifact: &str,
) -> Arc<PluginRegistry> {
    registry_with_provider_and(store, org, artifact, RegistrySettings::default()).await
}

/// [`registry_with_provider`] with the registry's settings given.
pub async fn registry_with_provider_and(
    store: &Store,
    org: &OrgId,
    artifact: &str,
    settings: RegistrySettings,
) -> Arc<PluginRegistry> {
    let engine = crate::test_engine::engine();
    let registry = PluginRegistry::new(engine, Arc::new(store.clone()), settings);
    let bytes = std::fs::read(artifact).expect("provider artifact");
    registry
        .install(org, bytes)
        .await
        .expect("install the provider plugin");
    registry
}

/// The account is in status `error` with a last error saying `what`, as an
/// admin would see it after a failed sync.
pub async fn assert_account_failed(store: &Store, t: &Tenant, account: &AccountId, what: &str) {
    let account = store.get_account(&t.org, account).await.expect("account");
    assert_eq!(account.status, mailroom::store::AccountStatus::Error);
    assert!(
        account
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains(what)),
        "last error {:?} should mention {what:?}",
        account.last_error
    );
}
