//! The audit log of admin actions (who did what to which object, when).
//! Callers must never put secrets in `detail`.

use super::db::{SqlBuilder, from_json, to_json};
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{OrgId, UserId};
use serde::Serialize;
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Increasing; also the pagination key.
    pub id: i64,
    pub org: OrgId,
    /// `None` for the system itself (e.g. the host auto-disabling a plugin).
    pub actor: Option<UserId>,
    /// Dotted verb, e.g. `account.lock`, `user.deactivate`.
    pub action: String,
    /// The object acted on, e.g. an account id.
    pub target: Option<String>,
    pub detail: serde_json::Value,
    pub at: i64,
}

impl Store {
    /// Appends an entry to the org's audit log.
    pub async fn audit(
        &self,
        org: &OrgId,
        actor: Option<&UserId>,
        action: &str,
        target: Option<&str>,
        detail: &serde_json::Value,
    ) -> StoreResult<()> {
        insert_audit(self.pool(), org, actor, action, target, detail).await
    }

    /// The org's entries, newest first; `before` (an entry id) pages back.
    pub async fn list_audit(
        &self,
        org: &OrgId,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let mut q = SqlBuilder::new(
            "SELECT id, org_id, actor, action, target, detail, at FROM audit_log WHERE org_id = ",
        );
        q.bind_text(org.as_str());
        if let Some(before) = before {
            q.push(" AND id < ").bind_i64(before);
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .bind_i64(i64::from(limit.clamp(1, 1000)));
        let rows = q.query().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    org: OrgId(r.try_get("org_id")?),
                    actor: r.try_get::<Option<String>, _>("actor")?.map(UserId),
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    detail: from_json(&r.try_get::<String, _>("detail")?)?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }
}

/// Appends an audit entry through `db`: the pool, or the transaction of the
/// change it records, so the change and its record commit together.
pub(crate) async fn insert_audit<'c, E>(
    db: E,
    org: &OrgId,
    actor: Option<&UserId>,
    action: &str,
    target: Option<&str>,
    detail: &serde_json::Value,
) -> StoreResult<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    if action.is_empty() || action.len() > 100 {
        return Err(StoreError::Invalid(
            "audit action must be 1 to 100 characters".into(),
        ));
    }
    sqlx::query("INSERT INTO audit_log (org_id, actor, action, target, detail, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(org.as_str())
        .bind(actor.map(|a| a.as_str().to_owned()))
        .bind(action)
        .bind(target)
        .bind(to_json(detail)?)
        .bind(now_ms())
        .execute(db)
        .await?;
    Ok(())
}
