//! Mail accounts over HTTP. Credentials are write-only: they go in through
//! create or `PUT …/credentials` and no response ever carries them (the
//! store's `Account` has only `has_password`-style flags).
//!
//! Who may do what: an admin everything in the org; a user sees the accounts
//! they own plus those shared with them, and changes only their own while an
//! admin has not locked it. An account the caller may not see is 404.

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path};
use super::new_account::{CreateAccount, check_destination, new_account};
use super::providers::preset_for;
use crate::auth::{AuthAdmin, AuthUser, Principal};
use axum::extract::State;
use axum::http::StatusCode;
use mailroom_core::ids::{AccountId, UserId};
use mailroom_store::{Account, AccountUpdate, Credentials, FromAddress, Sharing};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type ErrorBody = super::error::ErrorBody;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts, create_account))
        .routes(routes!(get_account, update_account, delete_account))
        .routes(routes!(set_credentials))
        .routes(routes!(set_sharing))
        .routes(routes!(set_from_addresses))
        .routes(routes!(lock_account))
        .routes(routes!(unlock_account))
}

/// Whether `p` may change `account` (it can already see it).
pub fn check_change(p: &Principal, account: &Account) -> ApiResult<()> {
    if p.is_admin() {
        return Ok(());
    }
    if account.owner != p.user {
        return Err(ApiError::forbidden(
            "only the account's owner or an org admin may change it",
        ));
    }
    if account.locked_by_admin {
        return Err(ApiError::forbidden(
            "an org admin locked this account; ask an admin to change it",
        ));
    }
    Ok(())
}

/// The account if the caller may see it, else 404.
pub(super) async fn visible(state: &AppState, p: &Principal, id: &AccountId) -> ApiResult<Account> {
    let account = state.store.get_account(&p.org, id).await?;
    if p.is_admin()
        || account.owner == p.user
        || state.store.account_visible_to(&p.org, id, &p.user).await?
    {
        Ok(account)
    } else {
        Err(ApiError::not_found("account"))
    }
}

/// The account if the caller may change it (404 if they cannot even see it).
pub(super) async fn changeable(
    state: &AppState,
    p: &Principal,
    id: &AccountId,
) -> ApiResult<Account> {
    let account = visible(state, p, id).await?;
    check_change(p, &account)?;
    Ok(account)
}

/// Accounts the caller may see (every account of the org for an admin).
#[utoipa::path(get, path = "/accounts", tag = "accounts",
    responses((status = 200, body = Vec<Account>), (status = 401, body = ErrorBody)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
) -> ApiResult<Json<Vec<Account>>> {
    let accounts = if p.is_admin() {
        state.store.list_accounts(&p.org).await?
    } else {
        state
            .store
            .list_accounts_visible_to(&p.org, &p.user)
            .await?
    };
    Ok(Json(accounts))
}

/// Connects a mailbox. Credentials are stored encrypted and never returned.
#[utoipa::path(post, path = "/accounts", tag = "accounts", request_body = CreateAccount, responses(
    (status = 201, body = Account),
        (status = 403, description = "a user naming another owner", body = ErrorBody),
    (status = 422, body = ErrorBody)))]
pub async fn create_account(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Json(mut req): Json<CreateAccount>,
) -> ApiResult<(StatusCode, Json<Account>)> {
    let owner = req.owner.clone().unwrap_or_else(|| p.user.clone());
    if owner != p.user && !p.is_admin() {
        return Err(ApiError::forbidden(
            "only an org admin may create an account for another user",
        ));
    }
    let preset = preset_for(&state, &p, &mut req).await?;
    let policy = state.store.destination_policy(&p.org).await?;
    let new = new_account(req, owner, preset.as_ref(), &policy)?;
    let account = state.store.create_account(&p.org, &new).await?;
    let detail = serde_json::json!({ "email": account.email, "owner": account.owner });
    super::audit::record(&state, &p, "account.create", account.id.as_str(), detail).await;
    Ok((StatusCode::CREATED, Json(account)))
}

/// One account (without secrets).
#[utoipa::path(get, path = "/accounts/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = Account), (status = 404, body = ErrorBody)))]
pub async fn get_account(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Account>> {
    Ok(Json(visible(&state, &p, &AccountId(id)).await?))
}

/// Changes connection settings (owner while unlocked, or an admin).
#[utoipa::path(patch, path = "/accounts/{id}", tag = "accounts",
    params(("id" = String, Path)), request_body = AccountUpdate,
    responses((status = 200, body = Account),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_account(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
    Json(update): Json<AccountUpdate>,
) -> ApiResult<Json<Account>> {
    let id = AccountId(id);
    changeable(&state, &p, &id).await?;
    if update.owner.is_some() && !p.is_admin() {
        return Err(ApiError::forbidden(
            "only an org admin may give an account to another user",
        ));
    }
    let policy = state.store.destination_policy(&p.org).await?;
    if let Some(incoming) = &update.incoming {
        check_destination("incoming", incoming, &policy)?;
    }
    if let Some(Some(outgoing)) = &update.outgoing {
        check_destination("outgoing", outgoing, &policy)?;
    }
    let account = state.store.update_account(&p.org, &id, &update).await?;
    super::audit::record(
        &state,
        &p,
        "account.update",
        id.as_str(),
        serde_json::Value::Null,
    )
    .await;
    Ok(Json(account))
}

/// Removes the account (its stored messages stay with the org).
#[utoipa::path(delete, path = "/accounts/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 204, description = "deleted"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_account(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = AccountId(id);
    changeable(&state, &p, &id).await?;
    state.store.delete_account(&p.org, &id).await?;
    super::audit::record(
        &state,
        &p,
        "account.delete",
        id.as_str(),
        serde_json::Value::Null,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces the credentials given (write-only; answers without them).
#[utoipa::path(put, path = "/accounts/{id}/credentials", tag = "accounts",
    params(("id" = String, Path)), request_body = Credentials,
    responses((status = 204, description = "stored encrypted"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_credentials(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
    Json(creds): Json<Credentials>,
) -> ApiResult<StatusCode> {
    let id = AccountId(id);
    changeable(&state, &p, &id).await?;
    if creds.is_empty() {
        return Err(ApiError::unprocessable(
            "give at least one of password, outgoing_password, oauth_refresh_token",
        ));
    }
    state
        .store
        .set_account_credentials(&p.org, &id, &creds)
        .await?;
    // Which credentials changed, never their values.
    let detail = serde_json::json!({
        "password": creds.password.is_some(),
        "outgoing_password": creds.outgoing_password.is_some(),
        "oauth_refresh_token": creds.oauth_refresh_token.is_some(),
    });
    super::audit::record(&state, &p, "account.credentials", id.as_str(), detail).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharingRequest {
    pub sharing: Sharing,
    /// The users who see the account's mail, for `custom`.
    #[serde(default)]
    pub users: Vec<UserId>,
}

/// Who sees the account's mail: `private` (owner), `public` (the org) or `custom` (listed users).
#[utoipa::path(put, path = "/accounts/{id}/sharing", tag = "accounts",
    params(("id" = String, Path)), request_body = SharingRequest,
    responses((status = 200, body = Account),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_sharing(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
    Json(req): Json<SharingRequest>,
) -> ApiResult<Json<Account>> {
    let id = AccountId(id);
    changeable(&state, &p, &id).await?;
    let account = state
        .store
        .set_account_sharing(&p.org, &id, req.sharing, &req.users)
        .await?;
    let detail = serde_json::json!({ "sharing": account.sharing, "users": account.shared_with });
    super::audit::record(&state, &p, "account.sharing", id.as_str(), detail).await;
    Ok(Json(account))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromAddressesRequest {
    pub addresses: Vec<FromAddress>,
    /// The account's email or one of `addresses`; the account's email when absent.
    #[serde(default)]
    pub default: Option<String>,
}

/// Replaces the extra addresses the account may send as, and the default one.
#[utoipa::path(put, path = "/accounts/{id}/from-addresses", tag = "accounts",
    params(("id" = String, Path)), request_body = FromAddressesRequest,
    responses((status = 200, body = Account),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_from_addresses(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
    Json(req): Json<FromAddressesRequest>,
) -> ApiResult<Json<Account>> {
    let id = AccountId(id);
    changeable(&state, &p, &id).await?;
    let account = state
        .store
        .set_from_addresses(&p.org, &id, &req.addresses, req.default.as_deref())
        .await?;
    let detail =
        serde_json::json!({ "addresses": account.from_addresses, "default": account.default_from });
    super::audit::record(&state, &p, "account.from_addresses", id.as_str(), detail).await;
    Ok(Json(account))
}

/// Locks the account against changes by its owner (admins only).
#[utoipa::path(post, path = "/accounts/{id}/lock", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = Account),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn lock_account(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(id): Path<String>,
) -> ApiResult<Json<Account>> {
    set_locked(&state, &p, AccountId(id), true).await
}

async fn set_locked(
    state: &AppState,
    p: &Principal,
    id: AccountId,
    locked: bool,
) -> ApiResult<Json<Account>> {
    let account = state.store.set_account_locked(&p.org, &id, locked).await?;
    let action = if locked {
        "account.lock"
    } else {
        "account.unlock"
    };
    super::audit::record(state, p, action, id.as_str(), serde_json::Value::Null).await;
    Ok(Json(account))
}

/// Unlocks the account (admins only).
#[utoipa::path(post, path = "/accounts/{id}/unlock", tag = "accounts",
    params(("id" = String, Path)),
    responses((status = 200, body = Account),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn unlock_account(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(id): Path<String>,
) -> ApiResult<Json<Account>> {
    set_locked(&state, &p, AccountId(id), false).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::ids::{OrgId, TokenId};
    use mailroom_store::{Role, StoreSent};

    fn request(json: serde_json::Value) -> CreateAccount {
        serde_json::from_value(json).expect("request")
    }

    #[test]
    fn owners_change_their_accounts_until_an_admin_locks_them() {
        let principal = |user: &str, role| Principal {
            org: OrgId("org_a".into()),
            user: UserId(user.into()),
            role,
            token: TokenId("tok_a".into()),
        };
        let req = request(serde_json::json!({"email": "ann@example.com",
            "incoming": {"host": "imap.example.com", "port": 993, "security": "tls"}}));
        let new = new_account(
            req,
            UserId("usr_ann".into()),
            None,
            &mailroom_core::destinations::DestinationPolicy::default(),
        )
        .expect("new");
        let mut account = Account {
            id: AccountId("acc_1".into()),
            org: OrgId("org_a".into()),
            owner: new.owner,
            protocol: new.protocol,
            provider_id: None,
            display_name: new.display_name,
            email: new.email.clone(),
            incoming: new.incoming,
            outgoing: None,
            same_credentials_for_outgoing: true,
            auth_kind: new.auth_kind,
            username: new.email.clone(),
            outgoing_username: None,
            has_password: false,
            has_outgoing_password: false,
            has_oauth_refresh_token: false,
            oauth_access_expires_at: None,
            tls_verify: true,
            from_addresses: Vec::new(),
            default_from: new.email,
            sharing: Sharing::Public,
            shared_with: Vec::new(),
            locked_by_admin: false,
            pop3_keep_on_server: true,
            store_sent: StoreSent::Auto,
            store_sent_learned: None,
            folder_overrides: Default::default(),
            status: mailroom_store::AccountStatus::New,
            last_error: None,
            last_sync_at: None,
            sync_lease: None,
            warnings: Vec::new(),
            deactivated_at: None,
            backed_up_at: None,
            filter_import: mailroom_store::FilterImport::Skipped,
            created_at: 0,
            updated_at: 0,
        };
        assert!(check_change(&principal("usr_ann", Role::User), &account).is_ok());
        assert!(
            check_change(&principal("usr_bob", Role::User), &account).is_err(),
            "shared is not owned"
        );
        account.locked_by_admin = true;
        let err = check_change(&principal("usr_ann", Role::User), &account).unwrap_err();
        assert_eq!(err.status, StatusCode::FORBIDDEN);
        assert!(check_change(&principal("usr_admin", Role::Admin), &account).is_ok());
    }
}
