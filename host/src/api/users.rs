//! The caller (`/v1/me`) and the org's users. Admins create, list, change
//! and deactivate users; a new user gets a first API token in the creation
//! response (there are no passwords: a token is how a user signs in).
//! Deactivating a user stops their accounts' sync and push at once and
//! hides their mail until an admin backs it up into the org archive
//! (`email-backup`); the user list shows each user's accounts with what
//! they hold, so an admin sees what a departure leaves behind.

use super::AppState;
use super::error::ApiResult;
use super::extract::{Json, Path, Query};
use crate::auth::{AuthAdmin, AuthUser};
use axum::extract::State;
use axum::http::StatusCode;
use mailroom_core::ids::UserId;
use mailroom_store::user_mail::{AccountUsage, EmailBackup};
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
        .routes(routes!(email_backup))
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

/// Which users a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Inactive,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    /// `active` or `inactive` users only (default: both).
    #[param(inline)]
    pub status: Option<UserStatus>,
}

/// A user with their mail accounts and what each holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserListing {
    #[serde(flatten)]
    pub user: User,
    pub accounts: Vec<AccountUsage>,
}

/// The org's users by email, each with their accounts (sharing, message
/// count, storage in bytes, whether backed up); `status=inactive` lists
/// the deactivated ones (admins only).
#[utoipa::path(get, path = "/users", tag = "users", params(UserListQuery), responses(
    (status = 200, body = Vec<UserListing>),
        (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Query(q): Query<UserListQuery>,
) -> ApiResult<Json<Vec<UserListing>>> {
    let users = state.store.list_users(&p.org).await?;
    let mut usage = state.store.account_usage(&p.org, None).await?;
    let listings = users
        .into_iter()
        .filter(|u| match q.status {
            None => true,
            Some(UserStatus::Active) => u.active,
            Some(UserStatus::Inactive) => !u.active,
        })
        .map(|user| {
            let (accounts, rest): (Vec<_>, Vec<_>) =
                usage.drain(..).partition(|a| a.owner == user.id);
            usage = rest;
            UserListing { user, accounts }
        })
        .collect();
    Ok(Json(listings))
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
    if !active {
        // The store gives their accounts no more leases; what runs for
        // them on this node stops now rather than at its next renewal.
        for account in state.store.account_usage(&p.org, Some(&id)).await? {
            state.sync.stop_account(&p.org, &account.id).await;
        }
    }
    let action = if active {
        "user.activate"
    } else {
        "user.deactivate"
    };
    super::audit::record(state, p, action, id.as_str(), serde_json::Value::Null).await;
    Ok(Json(user))
}

/// Deactivates a user: their tokens stop working, their accounts' sync and
/// push stop, and their mail is hidden from everyone unless backed up
/// (`email-backup`), all at once (admins only).
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

/// Reactivates a user: their accounts sync again from where they stopped,
/// downloading nothing already stored (admins only).
#[utoipa::path(post, path = "/users/{id}/activate", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = super::error::ErrorBody)))]
pub async fn activate_user(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    set_active(&state, &p, id, true).await
}

/// Backs a user's mail up into the org archive (admins only): each of the
/// user's accounts shared Public keeps its mail visible in related lists,
/// under the same sharing, after the user is deactivated. Accounts not
/// shared Public are left out with the reason (409 when none could be
/// backed up). Audited.
#[utoipa::path(post, path = "/users/{id}/email-backup", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = EmailBackup),
        (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody)))]
pub async fn email_backup(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(id): Path<String>,
) -> ApiResult<Json<EmailBackup>> {
    let id = UserId(id);
    let backup = state.store.back_up_user_mail(&p.org, &id).await?;
    if backup.backed_up.is_empty() {
        let why = match backup.refused.first() {
            Some(first) => format!("{}: {}", first.email, first.reason),
            None => "the user has no mail account".to_owned(),
        };
        return Err(super::error::ApiError::conflict(format!(
            "nothing was backed up; {why}"
        )));
    }
    let detail = serde_json::json!({
        "backed_up": backup.backed_up,
        "messages": backup.messages,
        "refused": backup.refused.iter().map(|r| &r.account).collect::<Vec<_>>(),
    });
    super::audit::record(&state, &p, "user.email_backup", id.as_str(), detail).await;
    Ok(Json(backup))
}
