//! Plumbing of the CRM-side tests: the sending tests' world (Dovecot with
//! alice and bob, its submission relaying to a sink, an org that allows
//! loopback) plus more users, their IMAP and POP3 accounts on that
//! Dovecot, and syncs run as the scheduler runs them.

pub use crate::send::support::World;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use mailroom::ids::{AccountId, UserId};
use mailroom::store::{
    AuthKind, Credentials, NewAccount, NewUser, Protocol, Role, Secret, Security, ServerSettings,
    Sharing, StoreSent,
};
use mailroom::sync::SyncReport;

/// A user of the world's org with an API token.
pub async fn user(w: &World, email: &str) -> (UserId, String) {
    let new = NewUser {
        email: email.into(),
        display_name: email.into(),
        role: Role::User,
        licensed: true,
    };
    let user = w.store().create_user(&w.org, &new).await.expect("user");
    let token = w
        .store()
        .create_token(&w.org, &user.id, "test")
        .await
        .expect("token");
    (user.id, token.secret.expose().to_owned())
}

/// An account of `owner` reading the Dovecot user `login` over `protocol`
/// (plain text on loopback; POP3 keeps mail on the server).
pub async fn mailbox(
    w: &World,
    owner: &UserId,
    login: &str,
    protocol: Protocol,
    sharing: Sharing,
) -> AccountId {
    let login = w
        .dovecot
        .users()
        .iter()
        .find(|u| u.name == login)
        .expect("a Dovecot user")
        .clone();
    let port = match protocol {
        Protocol::Imap => w.dovecot.ports().imap,
        Protocol::Pop3 => w.dovecot.ports().pop3,
    };
    let new = NewAccount {
        owner: owner.clone(),
        protocol,
        provider_id: None,
        display_name: format!("{} ({})", login.name, protocol.as_str()),
        email: format!("{}@acme.example", login.name),
        incoming: ServerSettings {
            host: "127.0.0.1".into(),
            port,
            security: Security::None,
        },
        outgoing: None,
        same_credentials_for_outgoing: true,
        auth_kind: AuthKind::Password,
        username: Some(login.name.clone()),
        outgoing_username: None,
        credentials: Credentials {
            password: Some(Secret::new(&login.password)),
            ..Default::default()
        },
        tls_verify: false,
        from_addresses: Vec::new(),
        default_from: None,
        sharing,
        shared_with: Vec::new(),
        pop3_keep_on_server: true,
        store_sent: StoreSent::Auto,
    };
    w.store()
        .create_account(&w.org, &new)
        .await
        .expect("account")
        .id
}

/// One full sync of the account, as the scheduler runs it.
pub async fn sync(w: &World, account: &AccountId) -> SyncReport {
    w.state
        .sync
        .sync_one(&w.org, account)
        .await
        .unwrap_or_else(|e| panic!("sync of {account}: {e}"))
}

/// A message from `from` with its Message-ID, date and optional parent.
pub fn mail(from: &str, subject: &str, id: &str, date: &str, parent: Option<&str>) -> Vec<u8> {
    let thread = parent
        .map(|p| format!("In-Reply-To: <{p}>\r\nReferences: <{p}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: {from}\r\nTo: alice@acme.example, bob@acme.example\r\nSubject: {subject}\r\n\
         Message-ID: <{id}>\r\nDate: {date}\r\n{thread}\r\nAbout {subject}.\r\n"
    )
    .into_bytes()
}

/// A GET through the API answered with bytes (not JSON): status, content
/// type and body.
pub async fn get_bytes(w: &World, path: &str, token: &str) -> (StatusCode, String, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let response = mailroom::api::router(w.state.clone())
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, content_type, body)
}
