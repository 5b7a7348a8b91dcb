//! OAuth rows on both back ends: a client's secret is sealed, kept when an
//! update omits it and never part of the client; an authorization is taken
//! once; a refresh token is sealed at rest; clearing tokens forgets them.

use super::*;
use crate::both_backends;
use crate::oauth::{OAuthClientInput, OAuthGrant, PendingAuthorization};

fn input(secret: Option<&str>) -> OAuthClientInput {
    OAuthClientInput {
        client_id: "mailroom-app".into(),
        client_secret: secret.map(Secret::new),
        redirect_uri: "https://mail.acme.example/v1/oauth/callback".into(),
        authorization_url: Some("https://idp.acme.example/authorize".into()),
        token_url: Some("https://idp.acme.example/token".into()),
        scopes: Some(vec!["mail".into(), "offline_access".into()]),
        allow_insecure_http: false,
    }
}

both_backends! {
    async fn client_secret_is_sealed_and_kept_on_update(db) {
        let s = &db.store;
        let (org, _) = org_with_admin(s, "acme").await;
        let client = s.set_oauth_client(&org, "corp", &input(Some("client-s3cret"))).await.expect("set");
        assert!(client.has_client_secret);
        assert_eq!(client.scopes.as_deref(), Some(&["mail".to_owned(), "offline_access".to_owned()][..]));
        let again = s.set_oauth_client(&org, "corp", &OAuthClientInput { client_id: "v2".into(), ..input(None) })
            .await.expect("update");
        assert_eq!((again.client_id.as_str(), again.has_client_secret), ("v2", true));
        let secret = s.oauth_client_secret(&org, "corp").await.expect("secret");
        assert_eq!(secret.as_ref().map(Secret::expose), Some("client-s3cret"));
        let raw: Option<Vec<u8>> = sqlx::query_scalar("SELECT client_secret FROM oauth_clients")
            .fetch_one(s.pool()).await.expect("raw");
        let raw = raw.expect("sealed value");
        assert!(!raw.windows(13).any(|w| w == b"client-s3cret"), "sealed at rest");
        let (other, _) = org_with_admin(s, "other").await;
        assert!(matches!(s.get_oauth_client(&other, "corp").await, Err(StoreError::NotFound(_))));
        assert!(s.list_oauth_clients(&other).await.expect("list").is_empty());
        s.delete_oauth_client(&org, "corp").await.expect("delete");
        assert!(matches!(s.oauth_client_secret(&org, "corp").await, Err(StoreError::NotFound(_))));
    }

    async fn an_authorization_is_taken_once(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        let pending = PendingAuthorization {
            org: org.clone(),
            account: acc.id.clone(),
            provider_id: "corp".into(),
            pkce_verifier: Secret::new("verifier-123"),
            token_url: "https://idp.acme.example/token".into(),
            expires_at: now_ms() + 60_000,
        };
        s.insert_oauth_authorization("hash-1", &pending, &admin).await.expect("insert");
        let taken = s.take_oauth_authorization("hash-1").await.expect("take").expect("found");
        assert_eq!((taken.account, taken.pkce_verifier.expose()), (acc.id.clone(), "verifier-123"));
        assert!(s.take_oauth_authorization("hash-1").await.expect("take").is_none(), "single use");
        // Expired ones are swept when the next one starts.
        let old = PendingAuthorization { expires_at: now_ms() - 1, ..pending.clone() };
        s.insert_oauth_authorization("hash-old", &old, &admin).await.expect("insert old");
        s.insert_oauth_authorization("hash-2", &pending, &admin).await.expect("insert new");
        assert!(s.take_oauth_authorization("hash-old").await.expect("take").is_none());
    }

    async fn tokens_are_sealed_and_cleared(db) {
        let s = &db.store;
        let (org, admin) = org_with_admin(s, "acme").await;
        let acc = imap_account(s, &org, &admin, "me@acme.example").await;
        assert_eq!(s.oauth_grant(&org, &acc.id).await.expect("grant"), None);
        let grant = OAuthGrant { token_url: "https://idp/token".into(), client_provider: "corp".into() };
        s.set_oauth_grant(&org, &acc.id, &grant).await.expect("set grant");
        assert_eq!(s.oauth_grant(&org, &acc.id).await.expect("grant"), Some(grant));
        s.set_oauth_tokens(&org, &acc.id, &Secret::new("access-1"), now_ms() + 1000, Some(&Secret::new("refresh-token-1")))
            .await.expect("tokens");
        let raw: Option<Vec<u8>> = sqlx::query_scalar("SELECT oauth_refresh_token FROM mail_accounts")
            .fetch_one(s.pool()).await.expect("raw");
        assert!(!raw.expect("sealed").windows(15).any(|w| w == b"refresh-token-1"));
        s.clear_oauth_tokens(&org, &acc.id).await.expect("clear");
        let secrets = s.account_secrets(&org, &acc.id).await.expect("secrets");
        assert!(secrets.oauth_refresh_token.is_none() && secrets.oauth_access_token.is_none());
        assert!(secrets.password.is_some(), "other credentials stay");
    }
}
