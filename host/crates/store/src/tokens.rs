//! API tokens. Only a sha256 of the token is stored: the plaintext is shown
//! once at creation and cannot be recovered from the database.

use super::secrets::Secret;
use super::users::Role;
use super::{Store, StoreError, StoreResult};
use base64::Engine as _;
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{OrgId, TokenId, UserId};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

/// Prefix of every token, so a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "mr_";

/// Last-use times are refreshed at most this often, to keep authentication a
/// read (a write per request would contend with sync on SQLite).
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: TokenId,
    pub org: OrgId,
    pub user: UserId,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A token just created: the only time its plaintext exists.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub info: TokenInfo,
    pub secret: Secret,
}

/// Who a valid token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthContext {
    pub org: OrgId,
    pub user: UserId,
    pub role: Role,
    pub token: TokenId,
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn token_from_row(row: &AnyRow) -> Result<TokenInfo, sqlx::Error> {
    Ok(TokenInfo {
        id: TokenId(row.try_get("id")?),
        org: OrgId(row.try_get("org_id")?),
        user: UserId(row.try_get("user_id")?),
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

const TOKEN_COLUMNS: &str = "id, org_id, user_id, name, created_at, last_used_at, revoked_at";

impl Store {
    /// Creates a token for an active user of the org.
    pub async fn create_token(
        &self,
        org: &OrgId,
        user: &UserId,
        name: &str,
    ) -> StoreResult<NewToken> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(StoreError::Invalid(
                "token name must be 1 to 100 characters".into(),
            ));
        }
        let owner = self.get_user(org, user).await?;
        if !owner.active {
            return Err(StoreError::Invalid("the user is deactivated".into()));
        }
        let random: [u8; 32] = rand::random();
        let secret = Secret::new(format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
        ));
        let info = TokenInfo {
            id: TokenId::generate(),
            org: org.clone(),
            user: user.clone(),
            name: name.to_owned(),
            created_at: now_ms(),
            last_used_at: None,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, org_id, user_id, name, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(info.id.as_str())
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(&info.name)
        .bind(hash_token(secret.expose()))
        .bind(info.created_at)
        .execute(self.pool())
        .await?;
        Ok(NewToken { info, secret })
    }

    /// A user's tokens (revoked ones included), newest first.
    pub async fn list_tokens(&self, org: &OrgId, user: &UserId) -> StoreResult<Vec<TokenInfo>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE org_id = $1 AND user_id = $2 \
             ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(user.as_str())
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(token_from_row).collect::<Result<_, _>>()?)
    }

    /// Revokes a token of the org; with `owner`, only if it is that user's
    /// (users revoke their own, admins any). Revoking twice is a no-op.
    pub async fn revoke_token(
        &self,
        org: &OrgId,
        owner: Option<&UserId>,
        id: &TokenId,
    ) -> StoreResult<()> {
        let mut sql = String::from(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE org_id = $2 AND id = $3",
        );
        if owner.is_some() {
            sql.push_str(" AND user_id = $4");
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now_ms())
            .bind(org.as_str())
            .bind(id.as_str());
        if let Some(owner) = owner {
            q = q.bind(owner.as_str());
        }
        if q.execute(self.pool()).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound("token"));
        }
        Ok(())
    }

    /// The org, user and role a presented token stands for; `None` when the
    /// token is unknown, revoked, or its user is deactivated.
    pub async fn authenticate(&self, token: &str) -> StoreResult<Option<AuthContext>> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT t.id, t.org_id, t.user_id, t.last_used_at, u.role \
             FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.org_id = t.org_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active = TRUE",
        )
        .bind(hash_token(token))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role")?;
        let ctx = AuthContext {
            org: OrgId(row.try_get("org_id")?),
            user: UserId(row.try_get("user_id")?),
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Invalid(format!("stored role {role:?}")))?,
            token: TokenId(row.try_get("id")?),
        };
        let last_used: Option<i64> = row.try_get("last_used_at")?;
        let now = now_ms();
        if last_used.is_none_or(|t| now - t >= LAST_USED_GRANULARITY_MS) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(ctx.token.as_str())
                .execute(self.pool())
                .await?;
        }
        Ok(Some(ctx))
    }
}
