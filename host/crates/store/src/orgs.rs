//! Organisations: the tenant boundary. Everything else hangs off an org.

use super::tokens::NewToken;
use super::users::{NewUser, Role, User};
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::OrgId;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub created_at: i64,
}

fn org_from_row(row: &AnyRow) -> Result<Org, sqlx::Error> {
    Ok(Org {
        id: OrgId(row.try_get("id")?),
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

fn clean_name(name: &str) -> StoreResult<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(StoreError::Invalid(
            "org name must be 1 to 200 characters".into(),
        ));
    }
    Ok(name.to_owned())
}

impl Store {
    /// Creates an org. Names are unique (they are how an operator names an
    /// org on the command line).
    pub async fn create_org(&self, name: &str) -> StoreResult<Org> {
        let org = Org {
            id: OrgId::generate(),
            name: clean_name(name)?,
            created_at: now_ms(),
        };
        sqlx::query("INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(org.id.as_str())
            .bind(&org.name)
            .bind(org.created_at)
            .execute(self.pool())
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => {
                    StoreError::Conflict(format!("an org named {:?} already exists", org.name))
                }
                other => other,
            })?;
        Ok(org)
    }

    /// Creates an org, its first admin and an API token for that admin, all
    /// or nothing (what `mailroom org create NAME --admin EMAIL` does).
    pub async fn create_org_with_admin(
        &self,
        name: &str,
        admin_email: &str,
        admin_display_name: &str,
    ) -> StoreResult<(Org, User, NewToken)> {
        let org = self.create_org(name).await?;
        let result = async {
            let user = self
                .create_user(
                    &org.id,
                    &NewUser {
                        email: admin_email.to_owned(),
                        display_name: admin_display_name.to_owned(),
                        role: Role::Admin,
                        licensed: true,
                    },
                )
                .await?;
            let token = self
                .create_token(&org.id, &user.id, "initial admin token")
                .await?;
            Ok::<_, StoreError>((user, token))
        }
        .await;
        match result {
            Ok((user, token)) => Ok((org, user, token)),
            Err(e) => {
                // Undo the half-created org so the command can be retried.
                let _ = self.delete_org(&org.id).await;
                Err(e)
            }
        }
    }

    pub async fn get_org(&self, org: &OrgId) -> StoreResult<Org> {
        let row = sqlx::query("SELECT id, name, created_at FROM orgs WHERE id = $1")
            .bind(org.as_str())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("org"))?;
        Ok(org_from_row(&row)?)
    }

    pub async fn find_org_by_name(&self, name: &str) -> StoreResult<Option<Org>> {
        let row = sqlx::query("SELECT id, name, created_at FROM orgs WHERE name = $1")
            .bind(name.trim())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(org_from_row).transpose()?)
    }

    /// Every org (operator view: the CLI, metrics), oldest first.
    pub async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        let rows = sqlx::query("SELECT id, name, created_at FROM orgs ORDER BY created_at, id")
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(org_from_row).collect::<Result<_, _>>()?)
    }

    /// Deletes an org and everything in it.
    pub async fn delete_org(&self, org: &OrgId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // Accounts reference users without cascade (a user is deactivated,
        // never deleted, while an account exists), so remove them first.
        sqlx::query("DELETE FROM mail_accounts WHERE org_id = $1")
            .bind(org.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM crm_records WHERE org_id = $1")
            .bind(org.as_str())
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM orgs WHERE id = $1")
            .bind(org.as_str())
            .execute(&mut *tx)
            .await?;
        crate::db::expect_found(&done, "org")?;
        tx.commit().await?;
        Ok(())
    }
}
