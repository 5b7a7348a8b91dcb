//! API tokens. Every user lists, creates (the plaintext is in the creation
//! response and nowhere else, ever) and revokes their own; an admin lists
//! and revokes those of any user of the org (a lost laptop, a leaver).

use super::AppState;
use super::error::ApiResult;
use super::extract::{Json, Path};
use crate::auth::{AuthAdmin, AuthUser, Principal};
use axum::extract::State;
use axum::http::StatusCode;
use mailroom_core::ids::{TokenId, UserId};
use mailroom_store::TokenInfo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_user_tokens, create_user_token))
        .routes(routes!(revoke_user_token))
}

/// The caller's tokens, revoked ones included (never the token values).
#[utoipa::path(get, path = "/tokens", tag = "tokens",
    responses((status = 200, body = Vec<TokenInfo>),
        (status = 401, body = super::error::ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    Ok(Json(state.store.list_tokens(&p.org, &p.user).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for, e.g. `laptop` or `crm-sync`.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The token itself: shown only in this response.
    pub token: String,
}

/// Creates a token for the caller.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = super::error::ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Json(body): Json<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let user = p.user.clone();
    issue(&state, &p, &user, &body.name).await
}

/// Creates a token and records it; the plaintext goes only into the answer.
async fn issue(
    state: &AppState,
    p: &Principal,
    user: &UserId,
    name: &str,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let new = state.store.create_token(&p.org, user, name).await?;
    let token = new.secret.expose().to_owned();
    super::audit::record(
        state,
        p,
        "token.create",
        new.info.id.as_str(),
        serde_json::json!({ "name": new.info.name, "user": user }),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            info: new.info,
            token,
        }),
    ))
}

/// Creates a token for a user of the org, e.g. after reactivating them
/// (admins only; hand the token to the user).
#[utoipa::path(post, path = "/users/{id}/tokens", tag = "tokens", params(("id" = String, Path)),
    request_body = CreateToken,
    responses((status = 201, body = CreatedToken),
        (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn create_user_token(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(user): Path<String>,
    Json(body): Json<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    issue(&state, &p, &UserId(user), &body.name).await
}

/// Revokes one of the caller's tokens (another user's token is 404).
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 204, description = "revoked"),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = TokenId(id);
    state.store.revoke_token(&p.org, Some(&p.user), &id).await?;
    super::audit::record(
        &state,
        &p,
        "token.revoke",
        id.as_str(),
        serde_json::Value::Null,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's tokens, revoked ones included (admins only; never the values).
#[utoipa::path(get, path = "/users/{id}/tokens", tag = "tokens", params(("id" = String, Path)),
    responses((status = 200, body = Vec<TokenInfo>),
        (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn list_user_tokens(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(user): Path<String>,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    let user = state.store.get_user(&p.org, &UserId(user)).await?;
    Ok(Json(state.store.list_tokens(&p.org, &user.id).await?))
}

/// Revokes a token of a user of the org (admins only).
#[utoipa::path(delete, path = "/users/{id}/tokens/{token}", tag = "tokens",
    params(("id" = String, Path), ("token" = String, Path)),
    responses((status = 204, description = "revoked"),
        (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn revoke_user_token(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path((user, token)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (user, token) = (UserId(user), TokenId(token));
    state
        .store
        .revoke_token(&p.org, Some(&user), &token)
        .await?;
    super::audit::record(
        &state,
        &p,
        "token.revoke",
        token.as_str(),
        serde_json::json!({ "user": user }),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
