//! The caller's own API tokens: list, create (the plaintext is in the
//! creation response and nowhere else, ever), revoke.

use super::AppState;
use super::error::ApiResult;
use super::extract::{Json, Path};
use crate::auth::AuthUser;
use axum::extract::State;
use axum::http::StatusCode;
use mailroom_core::ids::TokenId;
use mailroom_store::TokenInfo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
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
    let new = state
        .store
        .create_token(&p.org, &p.user, &body.name)
        .await?;
    let token = new.secret.expose().to_owned();
    super::audit::record(
        &state,
        &p,
        "token.create",
        new.info.id.as_str(),
        serde_json::json!({ "name": new.info.name }),
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
