//! The callback refuses what it cannot use, with a 4xx that says what to
//! do: no state, an unknown or forged state, an expired one, and the
//! provider's `access_denied`; a browser gets the same as a page.

use super::support::World;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use mailroom::store::AccountStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_states_are_refused_with_what_to_do() {
    let w = World::start().await;
    let missing = w.callback("/v1/oauth/callback?code=abc").await;
    let message = missing.error(StatusCode::BAD_REQUEST, Some("missing_state"));
    assert!(message.contains("authorization URL"), "{message}");

    let forged = w
        .callback("/v1/oauth/callback?code=abc&state=forged-state")
        .await;
    forged.error(StatusCode::BAD_REQUEST, Some("unknown_state"));

    // A real authorization left too long.
    let callback = w.authorize_and_follow().await;
    sqlx::query("UPDATE oauth_authorizations SET expires_at = 0")
        .execute(w.app.store().pool())
        .await
        .expect("age the authorization");
    let expired = w.callback(&callback).await;
    let message = expired.error(StatusCode::BAD_REQUEST, Some("expired_state"));
    assert!(
        message.contains("expired") && message.contains("start"),
        "{message}"
    );
    assert_eq!(w.idp.token_requests(), 0, "nothing was redeemed");
    let account = w.account().await;
    assert!(!account.has_oauth_refresh_token);
    assert_ne!(account.status, AccountStatus::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_at_the_provider_is_explained() {
    let w = World::start().await;
    w.idp.deny_next_authorization();
    let callback = w.authorize_and_follow().await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    let denied = w.callback(&callback).await;
    let message = denied.error(StatusCode::BAD_REQUEST, Some("access_denied"));
    assert!(message.contains("did not grant access"), "{message}");
    assert!(
        message.contains("The user declined"),
        "the provider's words: {message}"
    );
    assert_eq!(w.idp.token_requests(), 0);

    // In a browser: a page with the same words.
    w.idp.deny_next_authorization();
    let callback = w.authorize_and_follow().await;
    let request = Request::get(callback)
        .header("accept", "text/html,application/xhtml+xml")
        .body(Body::empty())
        .expect("request");
    let page = w.app.call(request).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let content_type = page.headers["content-type"].to_str().expect("content type");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(
        page.text().contains("did not grant access"),
        "{}",
        page.text()
    );
}
