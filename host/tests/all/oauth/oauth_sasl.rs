//! Which SASL mechanism carries the token: OAUTHBEARER (RFC 7628) where the
//! server offers it, XOAUTH2 where it offers only that, a clear error where
//! it offers neither — over IMAP and POP3 against Dovecot's `oauth2`
//! passdb, with the refresh-once path after a rejected token. SMTP (lettre)
//! speaks XOAUTH2 only.

use super::support::{Incoming, World, mail};
use mailroom::sync::diagnose::{ConnectionReport, Step, StepStatus, test_account};
use mailroom::sync::{NoDiagnoser, NoFolderMapper, SyncErrorKind, SyncReport, SyncResult};
use mailroom::sync::{Timeouts, sync_account};
use mailroom_test_servers::{DovecotOptions, Layout};
use std::time::Duration;

fn offering(mechanisms: &[&str]) -> DovecotOptions {
    DovecotOptions {
        auth_mechanisms: mechanisms.iter().map(|m| (*m).to_owned()).collect(),
        ..DovecotOptions::new(Layout::SpecialUse)
    }
}

async fn sync(w: &World) -> SyncResult<SyncReport> {
    sync_account(w.app.store(), &w.org, &w.account, &NoFolderMapper, |_| {}).await
}

async fn connection_test(w: &World) -> ConnectionReport {
    let timeouts = Timeouts {
        connect: Duration::from_secs(3),
        tls: Duration::from_secs(3),
        greeting: Duration::from_secs(10),
        command: Duration::from_secs(10),
    };
    test_account(w.app.store(), &w.org, &w.account, &NoDiagnoser, timeouts)
        .await
        .expect("report")
}

/// The login step's words.
async fn login_detail(w: &World) -> (StepStatus, String) {
    let report = connection_test(w).await;
    let login = report.step(Step::Login).expect("login step");
    (login.status, login.detail.clone())
}

/// Logs in with `mechanism`; a revoked token is refused with the server's
/// words and refreshed once by sync.
async fn logs_in_and_refreshes_with(incoming: Incoming, options: DovecotOptions, mechanism: &str) {
    let w = World::connected_with(incoming, options).await;
    w.dovecot.seed("alice", "INBOX", &mail("First"));
    let report = sync(&w)
        .await
        .unwrap_or_else(|e| panic!("{incoming:?} sync: {e}\n{}", w.dovecot.log()));
    assert_eq!(report.new_messages(), 1);
    let (status, detail) = login_detail(&w).await;
    assert_eq!(status, StepStatus::Ok, "{detail}");
    assert_eq!(detail, format!("logged in as alice with {mechanism}"));

    // Revoked at the provider: the connection test (which does not
    // refresh) shows the server's refusal ...
    w.idp.revoke_access_tokens();
    let (status, detail) = login_detail(&w).await;
    assert_eq!(status, StepStatus::Failed, "{detail}");
    assert!(
        detail.contains("Authentication failed"),
        "{mechanism}: {detail}"
    );
    if incoming == Incoming::Imap {
        // The server's JSON error challenge says why (POP3: async-pop
        // consumes the challenge, so only the final -ERR is there).
        assert!(detail.contains(r#"{"status":"#), "{mechanism}: {detail}");
    }
    // ... and sync refreshes the token once and gets in.
    w.dovecot.seed("alice", "INBOX", &mail("After revocation"));
    let report = sync(&w).await.unwrap_or_else(|e| {
        panic!(
            "{incoming:?} sync after revocation: {e}\n{}",
            w.dovecot.log()
        )
    });
    assert_eq!(report.new_messages(), 1);
    assert_eq!(w.idp.grants(), ["authorization_code", "refresh_token"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_prefers_oauthbearer_and_refreshes_a_rejected_token() {
    let options = DovecotOptions::new(Layout::SpecialUse);
    logs_in_and_refreshes_with(Incoming::Imap, options, "OAUTHBEARER").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_falls_back_to_xoauth2_where_it_is_all_there_is() {
    let options = offering(&["plain", "login", "xoauth2"]);
    logs_in_and_refreshes_with(Incoming::Imap, options, "XOAUTH2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_prefers_oauthbearer_and_refreshes_a_rejected_token() {
    let options = DovecotOptions::new(Layout::SpecialUse);
    logs_in_and_refreshes_with(Incoming::Pop3, options, "OAUTHBEARER").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_falls_back_to_xoauth2_where_it_is_all_there_is() {
    let options = offering(&["plain", "login", "xoauth2"]);
    logs_in_and_refreshes_with(Incoming::Pop3, options, "XOAUTH2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_oauth_login_says_what_it_offers() {
    for incoming in [Incoming::Imap, Incoming::Pop3] {
        let w = World::connected_with(incoming, offering(&["plain", "login"])).await;
        let err = sync(&w).await.expect_err("no OAuth login");
        let text = err.to_string();
        assert!(
            text.contains("offers no OAuth login"),
            "{incoming:?}: {text}"
        );
        assert!(text.contains("PLAIN") && text.contains("LOGIN"), "{text}");
        assert!(text.contains("password or app password"), "{text}");
        assert_ne!(err.kind(), SyncErrorKind::Auth, "not the token's fault");
        assert_eq!(
            w.idp.grants(),
            ["authorization_code"],
            "no refresh for a token never tried"
        );
        let (status, detail) = login_detail(&w).await;
        assert_eq!(status, StepStatus::Failed);
        assert!(detail.contains("offers no OAuth login"), "{detail}");
    }
}

/// Sends one message from the account over its submission server.
async fn send(w: &World) -> Result<(), mailroom::send::SendError> {
    let raw = b"From: alice@acme.example\r\nTo: maria@customer.example\r\nSubject: Offer\r\n\
Message-ID: <offer-sasl@acme.example>\r\n\r\nHere is the offer.\r\n";
    mailroom::send::smtp::send_for_account(
        w.app.store(),
        &w.account().await,
        "alice@acme.example",
        &["maria@customer.example".to_owned()],
        raw,
        Duration::from_secs(10),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_sends_with_xoauth2_and_says_so_where_only_oauthbearer_is_offered() {
    // Both offered: IMAP takes OAUTHBEARER, SMTP XOAUTH2; both get in.
    let w = World::connected().await;
    send(&w)
        .await
        .unwrap_or_else(|e| panic!("send: {e}\n{}", w.dovecot.log()));
    assert_eq!(w.sink.wait_for(1, Duration::from_secs(10)).len(), 1);

    // A server with OAUTHBEARER only: IMAP still logs in, sending cannot.
    let w =
        World::connected_with(Incoming::Imap, offering(&["plain", "login", "oauthbearer"])).await;
    let (status, detail) = login_detail(&w).await;
    assert_eq!(
        (status, detail.as_str()),
        (StepStatus::Ok, "logged in as alice with OAUTHBEARER")
    );
    let err = send(&w).await.expect_err("no XOAUTH2 for SMTP");
    assert!(!err.is_transient(), "retrying changes nothing: {err}");
    let text = err.to_string();
    assert!(text.contains("offers no XOAUTH2 login"), "{text}");
    assert!(text.contains("password or app password"), "{text}");
    assert_eq!(w.sink.count(), 0);
    assert_eq!(w.idp.grants(), ["authorization_code"], "no refresh for it");
}
