//! OAuth2 over HTTP: org admins register the org's OAuth client per
//! provider (`/oauth/clients/{provider}`, the client secret write-only); the
//! account's owner or an admin starts connecting a mailbox
//! (`POST /accounts/{id}/oauth/authorize` → the URL for the browser); the
//! identity provider sends the browser back to `GET /oauth/callback`, which
//! carries no bearer token: the single-use state names the org and account.

use super::AppState;
use super::accounts::changeable;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Json, Path, Query};
use super::providers::providers;
use crate::auth::{AuthAdmin, AuthUser};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use mailroom_core::ids::AccountId;
use mailroom_oauth::{
    self as oauth, AuthorizationStart, CallbackParams, OAuthError, ProviderEndpoints,
};
use mailroom_store::{OAuthClient, OAuthClientInput};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients))
        .routes(routes!(set_client, delete_client))
        .routes(routes!(authorize))
        .routes(routes!(callback))
}

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::Store(s) => s.into(),
            OAuthError::Callback { code, message } => {
                ApiError::new(StatusCode::BAD_REQUEST, code, message)
            }
            e @ OAuthError::Config(_) => ApiError::unprocessable(e.to_string()),
            e @ (OAuthError::Reconnect(_) | OAuthError::Refused(_)) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "oauth_refused", e.to_string())
            }
            e @ OAuthError::Unavailable(_) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "identity_provider_unavailable",
                e.to_string(),
            ),
        }
    }
}

/// What makes a client usable, checked before it is stored.
fn check_client(provider: &str, input: &OAuthClientInput) -> ApiResult<()> {
    let valid_id = !provider.is_empty()
        && provider.len() <= 64
        && provider
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !valid_id {
        return Err(ApiError::unprocessable(
            "the provider id must be 1-64 letters, digits, '-', '_' or '.'",
        ));
    }
    if input.client_id.trim().is_empty() {
        return Err(ApiError::unprocessable("client_id must not be empty"));
    }
    let insecure = input.allow_insecure_http;
    oauth::check_endpoint(&input.redirect_uri, "redirect_uri", insecure)?;
    for (url, what) in [
        (&input.authorization_url, "authorization_url"),
        (&input.token_url, "token_url"),
    ] {
        if let Some(url) = url {
            oauth::check_endpoint(url, what, insecure)?;
        }
    }
    if input
        .scopes
        .as_ref()
        .is_some_and(|s| s.is_empty() || s.iter().any(|s| s.trim().is_empty() || s.contains(' ')))
    {
        return Err(ApiError::unprocessable(
            "scopes must be a non-empty list of scope names without spaces",
        ));
    }
    Ok(())
}

/// The org's OAuth clients (never their secrets).
#[utoipa::path(get, path = "/oauth/clients", tag = "accounts",
    responses((status = 200, body = Vec<OAuthClient>), (status = 403, body = ErrorBody)))]
pub async fn list_clients(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
) -> ApiResult<Json<Vec<OAuthClient>>> {
    Ok(Json(state.store.list_oauth_clients(&p.org).await?))
}

/// Registers (or replaces) the org's OAuth client for a provider. Endpoint
/// and scope overrides are for identity providers without a provider
/// plugin (e.g. a self-hosted Keycloak); plain `http://` endpoints need
/// `allow_insecure_http`. An absent `client_secret` keeps the stored one.
#[utoipa::path(put, path = "/oauth/clients/{provider}", tag = "accounts",
    params(("provider" = String, Path)), request_body = OAuthClientInput,
    responses((status = 200, body = OAuthClient),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_client(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(provider): Path<String>,
    Json(input): Json<OAuthClientInput>,
) -> ApiResult<Json<OAuthClient>> {
    check_client(&provider, &input)?;
    let client = state
        .store
        .set_oauth_client(&p.org, &provider, &input)
        .await?;
    let detail = serde_json::json!({
        "client_id": client.client_id,
        "client_secret": input.client_secret.is_some(),
    });
    super::audit::record(&state, &p, "oauth_client.set", &provider, detail).await;
    Ok(Json(client))
}

/// Removes the org's OAuth client for a provider (connected accounts can
/// no longer refresh their tokens).
#[utoipa::path(delete, path = "/oauth/clients/{provider}", tag = "accounts",
    params(("provider" = String, Path)),
    responses((status = 204, description = "removed"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_client(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(provider): Path<String>,
) -> ApiResult<StatusCode> {
    state.store.delete_oauth_client(&p.org, &provider).await?;
    super::audit::record(
        &state,
        &p,
        "oauth_client.delete",
        &provider,
        serde_json::Value::Null,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts connecting the account with OAuth2: open `authorization_url` in
/// the mailbox owner's browser within 10 minutes. The account's owner
/// (while unlocked) or an admin may start it.
#[utoipa::path(post, path = "/accounts/{id}/oauth/authorize", tag = "accounts",
    params(("id" = String, Path)),
    responses((status = 200, body = AuthorizationStart),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "no OAuth client, endpoint or scope known; not an OAuth2 account", body = ErrorBody)))]
pub async fn authorize(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<AuthorizationStart>> {
    let account = changeable(&state, &p, &AccountId(id)).await?;
    let plugin_endpoints = match account.provider_id.as_deref() {
        Some(provider_id) => providers(&state, &p)
            .await?
            .into_iter()
            .find(|preset| preset.info.id == provider_id)
            .and_then(|preset| preset.info.oauth2)
            .map(|e| ProviderEndpoints {
                authorization_url: e.authorization_url,
                token_url: e.token_url,
                scopes: e.scopes,
            }),
        None => None,
    };
    let started =
        oauth::connect::start(&state.store, &account, plugin_endpoints.as_ref(), &p.user).await?;
    super::audit::record(
        &state,
        &p,
        "account.oauth_authorize",
        account.id.as_str(),
        serde_json::Value::Null,
    )
    .await;
    Ok(Json(started))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Connected {
    pub account: AccountId,
    /// `connected`: the tokens are stored and the account syncs from now on.
    pub status: String,
}

/// Where the identity provider sends the browser back. No bearer token: the
/// single-use `state` identifies the authorization. Answers an HTML page to
/// a browser (`Accept: text/html`), JSON otherwise; an unknown, used or
/// expired state, or a refusal at the provider, is a 400 saying what to do.
#[utoipa::path(get, path = "/oauth/callback", tag = "accounts", security(()),
    params(CallbackParams),
    responses((status = 200, body = Connected),
        (status = 400, description = "unknown, used or expired state; access denied at the provider", body = ErrorBody),
        (status = 502, description = "the identity provider refused or failed the code exchange", body = ErrorBody)))]
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Response {
    let html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    match oauth::connect::finish(&state.store, &params).await {
        Ok(_) if html => page(
            StatusCode::OK,
            "Mailbox connected",
            "The mailbox is connected. You can close this window.",
        ),
        Ok((_org, account)) => Json(Connected {
            account,
            status: "connected".into(),
        })
        .into_response(),
        Err(e) => {
            let error = ApiError::from(e);
            if html {
                page(error.status, "Mailbox not connected", &error.message)
            } else {
                error.into_response()
            }
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>{m}</p></body></html>",
        t = escape(title),
        m = escape(message)
    );
    (status, Html(body)).into_response()
}
