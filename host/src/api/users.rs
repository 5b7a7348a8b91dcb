//! The caller (`/v1/me`) and the org's users. Admins create, list, change
//! and deactivate users; a new user gets a first API token in the creation
//! response (there are no passwords: a token is how a user signs in).

use super::AppState;
use super::error::ApiResult;
use super::extract::{Json, Path};
use crate::auth::{AuthAdmin, AuthUser};
use axum::extract::State;
use axum::http::StatusCode;
use mailroom_core::ids::UserId;
use mailroom_store::{NewUser, Org, Role, User, UserUpdate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(activate_user))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub org: Org,
}

/// Who the token belongs to, and their org.
#[utoipa::path(get, path = "/me", tag = "users",
    responses((status = 200, body = Me), (status = 401, body = super::error::ErrorBody)))]
pub async fn me(State(state): State<AppState>, AuthUser(p): AuthUser) -> ApiResult<Json<Me>> {
    let user = state.store.get_user(&p.org, &p.user).await?;
    let org = state.store.get_org(&p.org).await?;
    Ok(Json(Me { user, org }))
}

/// The org's users (admins only).
#[utoipa::path(get, path = "/users", tag = "users", responses(
    (status = 200, body = Vec<User>),
        (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(state.store.list_users(&p.org).await?))
}

fn default_role() -> Role {
    Role::User
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    /// `user` unless given.
    #[serde(default = "default_role")]
    pub role: Role,
    #[serde(default = "yes")]
    pub licensed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: User,
    /// The user's first API token, shown only now: hand it to the user.
    pub token: String,
}

/// Creates a user with a first API token (admins only).
#[utoipa::path(post, path = "/users", tag = "users", request_body = CreateUser, responses(
    (status = 201, body = CreatedUser), (status = 403, body = super::error::ErrorBody),
    (status = 409, description = "email already used in the org", body = super::error::ErrorBody),
    (status = 422, body = super::error::ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Json(body): Json<CreateUser>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    let new = NewUser {
        email: body.email,
        display_name: body.display_name,
        role: body.role,
        licensed: body.licensed,
    };
    let user = state.store.create_user(&p.org, &new).await?;
    let token = state
        .store
        .create_token(&p.org, &user.id, "initial token")
        .await?;
    let detail = serde_json::json!({ "email": user.email, "role": user.role });
    super::audit::record(&state, &p, "user.create", user.id.as_str(), detail).await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user,
            token: token.secret.expose().to_owned(),
        }),
    ))
}

/// One user of the org (admins only).
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = String, Path)), responses(
    (status = 200, body = User),
        (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.store.get_user(&p.org, &UserId(id)).await?))
}

/// Changes a user's name, role, licence or active flag (admins only). The
/// org's last active admin cannot be demoted or deactivated (409).
#[utoipa::path(patch, path = "/users/{id}", tag = "users",
    params(("id" = String, Path)), request_body = UserUpdate,
    responses((status = 200, body = User),
        (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(id): Path<String>,
    Json(update): Json<UserUpdate>,
) -> ApiResult<Json<User>> {
    let user = state
        .store
        .update_user(&p.org, &UserId(id), &update)
        .await?;
    let detail = serde_json::json!({ "role": update.role, "active": update.active, "licensed": update.licensed });
    super::audit::record(&state, &p, "user.update", user.id.as_str(), detail).await;
    Ok(Json(user))
}

async fn set_active(
    state: &AppState,
    p: &crate::auth::Principal,
    id: String,
    active: bool,
) -> ApiResult<Json<User>> {
    let id = UserId(id);
    let user = state.store.set_user_active(&p.org, &id, active).await?;
    let action = if active {
        "user.activate"
    } else {
        "user.deactivate"
    };
    super::audit::record(state, p, action, id.as_str(), serde_json::Value::Null).await;
    Ok(Json(user))
}

/// Deactivates a user: their tokens stop working at once (admins only).
#[utoipa::path(post, path = "/users/{id}/deactivate", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = User),
        (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody)))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    set_active(&state, &p, id, false).await
}

/// Reactivates a user (admins only).
#[utoipa::path(post, path = "/users/{id}/activate", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = super::error::ErrorBody)))]
pub async fn activate_user(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    set_active(&state, &p, id, true).await
}
