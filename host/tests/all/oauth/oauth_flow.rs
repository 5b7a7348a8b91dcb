//! Connecting a mailbox and keeping its token fresh: the full flow, a token
//! refreshed before it expires, a revoked token refreshed after the server
//! rejects it (IMAP and SMTP), and a revoked grant that asks the owner to
//! reconnect without hammering the provider.

use super::support::{CLIENT_SECRET, World, mail};
use axum::http::StatusCode;
use mailroom::store::AccountStatus;
use mailroom::sync::{NoFolderMapper, SyncReport, SyncResult, sync_account};
use std::time::Duration;

async fn sync(w: &World) -> SyncResult<SyncReport> {
    sync_account(w.app.store(), &w.org, &w.account, &NoFolderMapper, |_| {}).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_through_the_provider_lets_imap_sync_with_the_issued_token() {
    let w = World::start().await;
    let callback = w.authorize_and_follow().await;
    assert!(
        callback.contains("code=") && callback.contains("state="),
        "{callback}"
    );
    let connected = w.callback(&callback).await.ok(StatusCode::OK);
    assert_eq!(connected["status"], "connected");
    assert_eq!(connected["account"], w.account.as_str());
    assert_eq!(w.idp.grants(), ["authorization_code"]);

    let account = w.account().await;
    assert_eq!(account.status, AccountStatus::Ok);
    assert!(account.has_oauth_refresh_token);
    let access = w.access_token().await.expect("access token stored");
    assert!(
        w.idp.is_active(&access),
        "the token the provider issued is stored"
    );
    let refresh = w.refresh_token().await.expect("refresh token stored");
    assert!(w.idp.issued_refresh_token(&refresh));

    w.dovecot
        .seed("alice", "INBOX", &mail("Pricing for 40 seats"));
    let report = sync(&w)
        .await
        .unwrap_or_else(|e| panic!("sync: {e}\n{}", w.dovecot.log()));
    assert_eq!(report.new_messages(), 1);
    assert_eq!(
        w.idp.grants(),
        ["authorization_code"],
        "a fresh token needs no refresh"
    );

    // The refresh token is sealed at rest and never leaves through the API.
    let raw: Option<Vec<u8>> = sqlx::query_scalar("SELECT oauth_refresh_token FROM mail_accounts")
        .fetch_one(w.app.store().pool())
        .await
        .expect("raw column");
    let raw = raw.expect("stored");
    assert!(
        !raw.windows(refresh.len())
            .any(|win| win == refresh.as_bytes())
    );
    for path in [
        format!("/v1/accounts/{}", w.account),
        "/v1/accounts".to_owned(),
        "/v1/oauth/clients".to_owned(),
    ] {
        let body = w
            .app
            .get(&path, &w.admin_token)
            .await
            .ok(StatusCode::OK)
            .to_string();
        for secret in [&refresh, &access, &CLIENT_SECRET.to_owned()] {
            assert!(
                !body.contains(secret.as_str()),
                "{path} leaks a secret: {body}"
            );
        }
    }
    // The state worked once: the same redirect again is refused.
    let replay = w.callback(&callback).await;
    let message = replay.error(StatusCode::BAD_REQUEST, Some("unknown_state"));
    assert!(
        message.contains("start connecting the account again"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_about_to_expire_is_refreshed_before_login() {
    let w = World::start().await;
    // Valid at the provider, but inside the host's five-minute margin.
    w.idp.set_access_ttl(Duration::from_secs(120));
    w.callback(&w.authorize_and_follow().await)
        .await
        .ok(StatusCode::OK);
    let first_access = w.access_token().await.expect("access");
    let first_refresh = w.refresh_token().await.expect("refresh");
    w.idp.set_access_ttl(Duration::from_secs(3600));

    w.dovecot.seed("alice", "INBOX", &mail("Renewal"));
    let report = sync(&w)
        .await
        .unwrap_or_else(|e| panic!("sync: {e}\n{}", w.dovecot.log()));
    assert_eq!(report.new_messages(), 1);
    assert_eq!(w.idp.grants(), ["authorization_code", "refresh_token"]);
    let access = w.access_token().await.expect("access");
    assert_ne!(access, first_access);
    assert!(w.idp.is_active(&access));
    let refresh = w.refresh_token().await.expect("refresh");
    assert_ne!(
        refresh, first_refresh,
        "the rotated refresh token replaced the old one"
    );
    let account = w.account().await;
    assert!(
        account.oauth_access_expires_at.expect("expiry") > mailroom::store::now_ms() + 3_000_000
    );

    // Now fresh for an hour: the next sync logs in without a refresh.
    sync(&w).await.expect("second sync");
    assert_eq!(w.idp.grants().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_server_rejects_is_refreshed_and_the_login_retried_once() {
    let w = World::connected().await;
    w.idp.revoke_access_tokens();
    w.dovecot.seed("alice", "INBOX", &mail("After revocation"));
    let report = sync(&w)
        .await
        .unwrap_or_else(|e| panic!("sync: {e}\n{}", w.dovecot.log()));
    assert_eq!(report.new_messages(), 1);
    assert_eq!(w.idp.grants(), ["authorization_code", "refresh_token"]);
    assert_eq!(w.account().await.status, AccountStatus::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_refreshes_a_rejected_token_and_sends() {
    let w = World::connected().await;
    w.idp.revoke_access_tokens();
    let account = w.account().await;
    let raw = b"From: alice@acme.example\r\nTo: maria@customer.example\r\nSubject: Offer\r\n\
Message-ID: <offer-1@acme.example>\r\n\r\nHere is the offer.\r\n";
    mailroom::send::smtp::send_for_account(
        w.app.store(),
        &account,
        "alice@acme.example",
        &["maria@customer.example".to_owned()],
        raw,
        Duration::from_secs(10),
    )
    .await
    .unwrap_or_else(|e| panic!("send: {e}\n{}", w.dovecot.log()));
    let received = w.sink.wait_for(1, Duration::from_secs(10));
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].header("Subject").as_deref(), Some("Offer"));
    assert_eq!(w.idp.grants(), ["authorization_code", "refresh_token"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_asks_the_owner_to_reconnect_once() {
    let w = World::connected().await;
    w.idp.revoke_access_tokens();
    w.idp.revoke_refresh_tokens();
    let err = sync(&w).await.expect_err("no way in");
    assert!(
        err.to_string().contains("must reconnect (authorize again)"),
        "{err}"
    );
    let account = w.account().await;
    assert_eq!(account.status, AccountStatus::Error);
    let last_error = account.last_error.expect("last error");
    assert!(
        last_error.contains("must reconnect (authorize again)"),
        "{last_error}"
    );
    assert!(
        !account.has_oauth_refresh_token,
        "the dead grant is forgotten"
    );
    let asked = w.idp.token_requests();

    // Later attempts fail at once, without asking the provider again.
    let again = sync(&w).await.expect_err("still no way in");
    assert!(again.to_string().contains("must reconnect"), "{again}");
    let sent = mailroom::send::smtp::send_for_account(
        w.app.store(),
        &w.account().await,
        "alice@acme.example",
        &["maria@customer.example".to_owned()],
        b"Subject: x\r\n\r\nx\r\n",
        Duration::from_secs(5),
    )
    .await
    .expect_err("no token to send with");
    assert!(!sent.is_transient(), "{sent}");
    assert!(sent.to_string().contains("must reconnect"), "{sent}");
    assert_eq!(w.idp.token_requests(), asked, "no retry storm");

    // Reconnecting brings it back.
    w.callback(&w.authorize_and_follow().await)
        .await
        .ok(StatusCode::OK);
    sync(&w).await.expect("sync after reconnecting");
    assert_eq!(w.account().await.status, AccountStatus::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_logins_refresh_once() {
    let w = World::start().await;
    w.idp.set_access_ttl(Duration::from_secs(60));
    w.callback(&w.authorize_and_follow().await)
        .await
        .ok(StatusCode::OK);
    w.idp.set_access_ttl(Duration::from_secs(3600));
    let store = w.app.store();
    let tokens = futures_util::future::join_all(
        (0..4).map(|_| mailroom::oauth::fresh_access_token(store, &w.org, &w.account)),
    )
    .await;
    let tokens: Vec<String> = tokens
        .into_iter()
        .map(|t| t.expect("token").expose().to_owned())
        .collect();
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "one refresh, one token"
    );
    assert_eq!(w.idp.grants(), ["authorization_code", "refresh_token"]);
    assert!(w.idp.is_active(&tokens[0]));
}
