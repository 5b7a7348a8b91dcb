//! A connected world: the authorization server, a Dovecot that introspects
//! its tokens (submission relaying to a sink), an org whose admin registered
//! the OAuth client, and an OAuth2 account of `alice` on that Dovecot.

use crate::common::App;
use axum::http::{Method, StatusCode};
use mailroom::ids::{AccountId, OrgId};
use mailroom::store::Account;
use mailroom::store::testing::TestDb;
use mailroom_test_servers::{Dovecot, DovecotOptions, Layout, OAuthServer, SmtpSink};
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "mailroom-test-client";
pub const CLIENT_SECRET: &str = "client-secret-do-not-leak";
pub const PROVIDER: &str = "corp-idp";
/// Where the provider sends the browser; the tests deliver it to the router.
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/v1/oauth/callback";

/// How the account reads its mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Incoming {
    Imap,
    Pop3,
}

pub struct World {
    pub idp: OAuthServer,
    pub dovecot: Dovecot,
    pub sink: SmtpSink,
    pub app: App,
    pub org: OrgId,
    pub admin_token: String,
    pub account: AccountId,
    _db: TestDb,
}

impl World {
    /// Everything set up, the account not yet connected.
    pub async fn start() -> World {
        World::start_with(Incoming::Imap, DovecotOptions::new(Layout::SpecialUse)).await
    }

    /// The account reads mail over `incoming`, from a Dovecot started with
    /// `options` (introspecting the authorization server's tokens).
    pub async fn start_with(incoming: Incoming, options: DovecotOptions) -> World {
        let idp = OAuthServer::start(CLIENT_ID, CLIENT_SECRET, "alice");
        let dovecot = Dovecot::start_with(DovecotOptions {
            oauth2_introspection_url: Some(idp.introspection_url()),
            ..options
        });
        let (protocol, incoming_port) = match incoming {
            Incoming::Imap => ("imap", dovecot.ports().imap),
            Incoming::Pop3 => ("pop3", dovecot.ports().pop3),
        };
        let sink = SmtpSink::relay_for(&dovecot);
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone());
        let (org, _admin, token) =
            mailroom::store::testing::local_org(&db.store, "acme", "admin@acme.example", "Admin")
                .await;
        let admin_token = token.secret.expose().to_owned();
        app.json(
            Method::PUT,
            &format!("/v1/oauth/clients/{PROVIDER}"),
            &admin_token,
            client_json(&idp),
        )
        .await
        .ok(StatusCode::OK);
        let created = app
            .json(
                Method::POST,
                "/v1/accounts",
                &admin_token,
                json!({
                    "email": "alice@acme.example",
                    "provider_id": PROVIDER,
                    "protocol": protocol,
                    "incoming": { "host": "127.0.0.1", "port": incoming_port, "security": "none" },
                    "outgoing": { "host": "127.0.0.1", "port": dovecot.ports().submission, "security": "none" },
                    "auth_kind": "oauth2",
                    "username": "alice",
                }),
            )
            .await
            .ok(StatusCode::CREATED);
        let account = AccountId(created["id"].as_str().expect("id").to_owned());
        World {
            idp,
            dovecot,
            sink,
            app,
            org: org.id,
            admin_token,
            account,
            _db: db,
        }
    }

    /// Started and connected through the whole flow.
    pub async fn connected() -> World {
        World::connected_with(Incoming::Imap, DovecotOptions::new(Layout::SpecialUse)).await
    }

    pub async fn connected_with(incoming: Incoming, options: DovecotOptions) -> World {
        let world = World::start_with(incoming, options).await;
        let callback = world.authorize_and_follow().await;
        world.callback(&callback).await.ok(StatusCode::OK);
        world
    }

    /// `POST …/oauth/authorize`, then the browser's visit to the provider:
    /// returns the path and query the provider redirected to.
    pub async fn authorize_and_follow(&self) -> String {
        let started = self
            .app
            .post(
                &format!("/v1/accounts/{}/oauth/authorize", self.account),
                &self.admin_token,
            )
            .await
            .ok(StatusCode::OK);
        let url = started["authorization_url"]
            .as_str()
            .expect("authorization_url");
        assert!(url.starts_with(&self.idp.authorization_url()), "{url}");
        follow(url).await
    }

    pub async fn callback(&self, path_and_query: &str) -> crate::common::Resp {
        self.app
            .send(Method::GET, path_and_query, None, None, Vec::new())
            .await
    }

    pub async fn account(&self) -> Account {
        self.app
            .store()
            .get_account(&self.org, &self.account)
            .await
            .expect("account")
    }

    /// The stored (decrypted) refresh token.
    pub async fn refresh_token(&self) -> Option<String> {
        self.app
            .store()
            .account_secrets(&self.org, &self.account)
            .await
            .expect("secrets")
            .oauth_refresh_token
            .map(|t| t.expose().to_owned())
    }

    pub async fn access_token(&self) -> Option<String> {
        self.app
            .store()
            .account_secrets(&self.org, &self.account)
            .await
            .expect("secrets")
            .oauth_access_token
            .map(|t| t.expose().to_owned())
    }
}

pub fn client_json(idp: &OAuthServer) -> Value {
    json!({
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": REDIRECT_URI,
        "authorization_url": idp.authorization_url(),
        "token_url": idp.token_url(),
        "scopes": ["mail", "offline_access"],
        "allow_insecure_http": true,
    })
}

/// What a browser does with the authorization URL: one GET, whose redirect
/// (to our redirect URI) is not followed but returned as path and query.
pub async fn follow(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let response = client.get(url).send().await.expect("visit the provider");
    assert_eq!(
        response.status(),
        302,
        "the provider approves and redirects"
    );
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("Location")
        .to_owned();
    let rest = location
        .strip_prefix("http://127.0.0.1:8080")
        .unwrap_or_else(|| panic!("redirected to our redirect URI, not {location}"));
    rest.to_owned()
}

/// A small message for the mailbox.
pub fn mail(subject: &str) -> Vec<u8> {
    format!(
        "From: Maria <maria@customer.example>\r\nTo: alice@acme.example\r\nSubject: {subject}\r\n\
         Date: Mon, 03 Nov 2025 09:14:22 +0100\r\nMessage-ID: <{}@customer.example>\r\n\r\nHello\r\n",
        hex::encode(rand::random::<[u8; 6]>())
    )
    .into_bytes()
}
