//! The `oauth2` crate set up for one org's client: the authorization URL
//! (code flow, PKCE S256, random CSRF state), the code exchange and the
//! refresh, over a checked reqwest client (`mailroom_net::https`) that
//! follows no redirects and speaks HTTPS only, unless the admin allowed
//! plain HTTP for this client (a test or loopback identity provider).

use super::error::{OAuthError, OAuthResult};
use mailroom_core::destinations::DestinationPolicy;
use mailroom_net::https::{HttpsOptions, HttpsSetupError, checked_client};
use mailroom_store::{Secret, now_ms};
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpClientError,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};
use std::sync::Arc;
use std::time::Duration;

/// Without `expires_in` the token is taken to live this long; a rejection
/// by the mail server refreshes it earlier if it did not.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The org's client for one provider, decrypted.
pub(crate) struct ClientSettings {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub allow_insecure_http: bool,
    /// Where the org lets its token requests go.
    pub destinations: Arc<DestinationPolicy>,
}

/// What a token endpoint gave.
pub(crate) struct TokenSet {
    pub access_token: Secret,
    pub expires_at: i64,
    /// A new refresh token (first grant, or a rotation).
    pub refresh_token: Option<Secret>,
}

/// An authorization URL and what its callback must be checked against.
pub(crate) struct AuthorizationRequest {
    pub url: String,
    pub state: Secret,
    pub pkce_verifier: Secret,
}

/// `url` must be an absolute https URL, or http when the client allows it.
pub fn check_endpoint(url: &str, what: &str, allow_insecure_http: bool) -> OAuthResult<()> {
    let parsed = url::Url::parse(url)
        .map_err(|e| OAuthError::Config(format!("the {what} {url:?} is not a URL: {e}")))?;
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if allow_insecure_http && parsed.host().is_some() => Ok(()),
        "http" => Err(OAuthError::Config(format!(
            "the {what} {url:?} uses plain http://; use https://, or set allow_insecure_http on \
             the org's OAuth client (for a test or loopback identity provider only)"
        ))),
        _ => Err(OAuthError::Config(format!(
            "the {what} {url:?} must be an https:// URL with a host"
        ))),
    }
}

/// A client for one request to `endpoint`, bound by the org's destination
/// policy (`mailroom_net::https`).
fn http_client(settings: &ClientSettings, endpoint: &str) -> OAuthResult<reqwest::Client> {
    let options = HttpsOptions {
        destinations: settings.destinations.clone(),
        allow_plain_http: settings.allow_insecure_http,
        extra_root_pem: None,
        timeout: HTTP_TIMEOUT,
    };
    checked_client(endpoint, &options).map_err(|e| match e {
        HttpsSetupError::Refused(refused) => {
            OAuthError::Config(format!("the token URL: {refused}"))
        }
        other => OAuthError::Config(other.to_string()),
    })
}

fn base_client(settings: &ClientSettings) -> BasicClient {
    let client = BasicClient::new(ClientId::new(settings.client_id.clone()));
    match &settings.client_secret {
        Some(secret) => client.set_client_secret(ClientSecret::new(secret.expose().to_owned())),
        None => client,
    }
}

fn token_url(url: &str, allow_insecure_http: bool) -> OAuthResult<TokenUrl> {
    check_endpoint(url, "token URL", allow_insecure_http)?;
    TokenUrl::new(url.to_owned())
        .map_err(|e| OAuthError::Config(format!("the token URL {url:?} is not a URL: {e}")))
}

fn redirect_url(url: &str) -> OAuthResult<RedirectUrl> {
    RedirectUrl::new(url.to_owned())
        .map_err(|e| OAuthError::Config(format!("the redirect URI {url:?} is not a URL: {e}")))
}

/// The URL to send the mailbox owner to, with a fresh state and PKCE pair.
pub(crate) fn authorization_request(
    settings: &ClientSettings,
    authorization_url: &str,
    redirect_uri: &str,
    scopes: &[String],
) -> OAuthResult<AuthorizationRequest> {
    check_endpoint(
        authorization_url,
        "authorization URL",
        settings.allow_insecure_http,
    )?;
    let auth_url = AuthUrl::new(authorization_url.to_owned()).map_err(|e| {
        OAuthError::Config(format!(
            "the authorization URL {authorization_url:?} is not a URL: {e}"
        ))
    })?;
    let client = base_client(settings)
        .set_auth_uri(auth_url)
        .set_redirect_uri(redirect_url(redirect_uri)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge)
        // Without these Google issues no refresh token (the mailbox would
        // need reconnecting every hour); other servers ignore what they do
        // not know (RFC 6749, 3.1) and `prompt` is standard OpenID Connect.
        .add_extra_param("access_type", "offline")
        .add_extra_param("prompt", "consent")
        .url();
    Ok(AuthorizationRequest {
        url: url.to_string(),
        state: Secret::new(state.secret().clone()),
        pkce_verifier: Secret::new(verifier.secret().clone()),
    })
}

/// Redeems an authorization code (with its PKCE verifier).
pub(crate) async fn exchange_code(
    settings: &ClientSettings,
    token_endpoint: &str,
    redirect_uri: &str,
    code: &str,
    pkce_verifier: &Secret,
) -> OAuthResult<TokenSet> {
    let client = base_client(settings)
        .set_token_uri(token_url(token_endpoint, settings.allow_insecure_http)?)
        .set_redirect_uri(redirect_url(redirect_uri)?);
    let http = http_client(settings, token_endpoint)?;
    let response = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.expose().to_owned()))
        .request_async(&http)
        .await
        .map_err(|e| token_error(token_endpoint, e))?;
    Ok(token_set(&response))
}

/// Trades a refresh token for a new access token (and maybe a new refresh token).
pub(crate) async fn refresh(
    settings: &ClientSettings,
    token_endpoint: &str,
    refresh_token: &Secret,
) -> OAuthResult<TokenSet> {
    let client = base_client(settings)
        .set_token_uri(token_url(token_endpoint, settings.allow_insecure_http)?);
    let http = http_client(settings, token_endpoint)?;
    let refresh_token = RefreshToken::new(refresh_token.expose().to_owned());
    let response = client
        .exchange_refresh_token(&refresh_token)
        .request_async(&http)
        .await
        .map_err(|e| token_error(token_endpoint, e))?;
    Ok(token_set(&response))
}

fn token_set(response: &oauth2::basic::BasicTokenResponse) -> TokenSet {
    let lifetime = response.expires_in().unwrap_or(DEFAULT_TOKEN_LIFETIME);
    let lifetime_ms = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX);
    TokenSet {
        access_token: Secret::new(response.access_token().secret().clone()),
        expires_at: now_ms().saturating_add(lifetime_ms),
        refresh_token: response
            .refresh_token()
            .map(|t| Secret::new(t.secret().clone())),
    }
}

/// Sorts a failed token request: `invalid_grant` means the grant is dead
/// (reconnect), other error responses are configuration, and a network
/// failure or an unparsable answer (an HTML error page, a 502) is worth
/// another try. The provider's own description is kept; no token is.
fn token_error(
    endpoint: &str,
    e: RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>,
) -> OAuthError {
    match e {
        RequestTokenError::ServerResponse(response) => {
            let detail = match response.error_description() {
                Some(d) => format!("{} ({d})", response.error()),
                None => response.error().to_string(),
            };
            match response.error() {
                BasicErrorResponseType::InvalidGrant => OAuthError::Reconnect(format!(
                    "the identity provider no longer accepts the account's grant: {detail}"
                )),
                _ => OAuthError::Refused(detail),
            }
        }
        RequestTokenError::Request(e) => {
            OAuthError::Unavailable(format!("{endpoint}: {}", request_error_words(&e)))
        }
        RequestTokenError::Parse(_, body) => OAuthError::Unavailable(format!(
            "{endpoint} answered something that is not a token response ({} bytes)",
            body.len()
        )),
        RequestTokenError::Other(why) => OAuthError::Unavailable(format!("{endpoint}: {why}")),
    }
}

fn request_error_words(e: &HttpClientError<reqwest::Error>) -> String {
    match e {
        HttpClientError::Reqwest(inner) => {
            let mut words = inner.to_string();
            let mut source = std::error::Error::source(inner.as_ref());
            while let Some(s) = source {
                words = format!("{words}: {s}");
                source = s.source();
            }
            words
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(allow_insecure_http: bool) -> ClientSettings {
        ClientSettings {
            client_id: "mailroom".into(),
            client_secret: None,
            allow_insecure_http,
            destinations: Default::default(),
        }
    }

    #[test]
    fn plain_http_only_when_allowed() {
        assert!(check_endpoint("https://idp.example/token", "token URL", false).is_ok());
        let refused = check_endpoint("http://127.0.0.1:9/token", "token URL", false)
            .expect_err("http refused");
        assert!(
            refused.to_string().contains("allow_insecure_http"),
            "{refused}"
        );
        assert!(check_endpoint("http://127.0.0.1:9/token", "token URL", true).is_ok());
        assert!(check_endpoint("ftp://idp.example/", "token URL", true).is_err());
        assert!(check_endpoint("not a url", "token URL", true).is_err());
    }

    /// Token requests obey the org's destination policy: an address in
    /// the URL before any request, a name after its lookup (the resolver),
    /// so nothing reaches a loopback or private endpoint the org did not name.
    #[tokio::test]
    async fn token_requests_go_only_where_the_org_allows() {
        let token = Secret::new("refresh".to_owned());
        for url in ["http://127.0.0.1:9/token", "http://localhost:9/token"] {
            let err = refresh(&settings(true), url, &token)
                .await
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.contains("loopback") && err.contains("allowed_hosts"),
                "{url}: {err}"
            );
        }
        let err = refresh(&settings(false), "https://idp.example:8443/token", &token)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("port 8443"), "{err}");
    }

    #[test]
    fn authorization_url_carries_pkce_state_and_scopes() {
        let request = authorization_request(
            &settings(false),
            "https://idp.example/authorize",
            "https://mail.example/v1/oauth/callback",
            &["imap".into(), "offline_access".into()],
        )
        .expect("url");
        let url = url::Url::parse(&request.url).expect("parses");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "mailroom");
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["scope"], "imap offline_access");
        assert_eq!(query["state"], request.state.expose());
        assert!(!request.url.contains(request.pkce_verifier.expose()));
    }
}
