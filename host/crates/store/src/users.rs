//! Users of an org: role (admin or user), active flag and licence (seat).
//! Users are deactivated, never deleted, so history (audit, ownership) keeps
//! pointing at someone.

use super::accounts::LeaseScope;
use super::db::get_bool;
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{OrgId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub org: OrgId,
    /// Lower-cased; unique in the org.
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// Holds a licence seat.
    pub licensed: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub licensed: bool,
}

/// A partial update: `None` leaves the field as it is.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub licensed: Option<bool>,
}

const USER_COLUMNS: &str = "id, org_id, email, display_name, role, active, licensed, created_at";

pub(crate) fn user_from_row(row: &AnyRow) -> StoreResult<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: UserId(row.try_get("id")?),
        org: OrgId(row.try_get("org_id")?),
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Invalid(format!("stored role {role:?}")))?,
        active: get_bool(row, "active")?,
        licensed: get_bool(row, "licensed")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Normalises an email address for storage and comparison (the rule is
/// `mailroom_core::email::normalize_email`, shared with CSV import).
pub fn normalize_email(email: &str) -> StoreResult<String> {
    Ok(mailroom_core::email::normalize_email(email)?)
}

fn clean_display_name(name: &str) -> StoreResult<String> {
    let name = name.trim();
    if name.len() > 200 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "display name must be at most 200 printable characters".into(),
        ));
    }
    Ok(name.to_owned())
}

impl Store {
    pub async fn create_user(&self, org: &OrgId, new: &NewUser) -> StoreResult<User> {
        let user = User {
            id: UserId::generate(),
            org: org.clone(),
            email: normalize_email(&new.email)?,
            display_name: clean_display_name(&new.display_name)?,
            role: new.role,
            active: true,
            licensed: new.licensed,
            created_at: now_ms(),
        };
        self.get_org(org).await?;
        sqlx::query(
            "INSERT INTO users (id, org_id, email, display_name, role, active, licensed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.id.as_str())
        .bind(org.as_str())
        .bind(&user.email)
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(user.active)
        .bind(user.licensed)
        .bind(user.created_at)
        .execute(self.pool())
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("a user with email {} already exists", user.email))
            }
            other => other,
        })?;
        Ok(user)
    }

    pub async fn get_user(&self, org: &OrgId, id: &UserId) -> StoreResult<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        user_from_row(&row)
    }

    pub async fn find_user_by_email(&self, org: &OrgId, email: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND email = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(email.trim().to_lowercase())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The org's users ordered by email.
    pub async fn list_users(&self, org: &OrgId) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY email");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Applies a partial update. Refuses to leave the org without an active
    /// admin (nobody could manage it any more).
    pub async fn update_user(
        &self,
        org: &OrgId,
        id: &UserId,
        update: &UserUpdate,
    ) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        // Lock the org row first (a portable row lock: SQLite has no FOR
        // UPDATE) so two concurrent demotions cannot both see another admin.
        sqlx::query("UPDATE orgs SET name = name WHERE id = $1")
            .bind(org.as_str())
            .execute(&mut *tx)
            .await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        let mut user = user_from_row(&row)?;
        let deactivating = user.active && update.active == Some(false);
        if let Some(name) = &update.display_name {
            user.display_name = clean_display_name(name)?;
        }
        if let Some(role) = update.role {
            user.role = role;
        }
        if let Some(active) = update.active {
            user.active = active;
        }
        if let Some(licensed) = update.licensed {
            user.licensed = licensed;
        }
        sqlx::query(
            "UPDATE users SET display_name = $1, role = $2, active = $3, licensed = $4 \
             WHERE org_id = $5 AND id = $6",
        )
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(user.active)
        .bind(user.licensed)
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        if deactivating {
            // Revoked, not merely unusable while deactivated: reactivating the
            // user must not bring back tokens that may have leaked meanwhile.
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE org_id = $2 AND user_id = $3 AND revoked_at IS NULL",
            )
            .bind(now_ms())
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
            // Their accounts are not synced from now on (see `SyncStop`).
            Store::drop_leases(&mut tx, org, LeaseScope::Owner, id.as_str()).await?;
        }
        let admins: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE org_id = $1 AND role = 'admin' AND active = TRUE",
        )
        .bind(org.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if admins == 0 {
            return Err(StoreError::Conflict(
                "the org's last active admin cannot be deactivated or demoted".into(),
            ));
        }
        tx.commit().await?;
        Ok(user)
    }

    /// Activates or deactivates a user (deactivating revokes the user's tokens).
    pub async fn set_user_active(
        &self,
        org: &OrgId,
        id: &UserId,
        active: bool,
    ) -> StoreResult<User> {
        self.update_user(
            org,
            id,
            &UserUpdate {
                active: Some(active),
                ..Default::default()
            },
        )
        .await
    }
}
