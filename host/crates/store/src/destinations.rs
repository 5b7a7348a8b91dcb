//! Each org's destination policy ([`DestinationPolicy`]: which hosts and
//! ports its accounts, connection tests and OAuth token URLs may reach):
//! read with the default when the org never set one, replaced whole when
//! an admin changes it. Checked before it is stored, so what is read back
//! always applies.

use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::destinations::DestinationPolicy;
use mailroom_core::ids::OrgId;
use sqlx::Row;

impl Store {
    /// The org's policy; the default (public addresses, mail ports) when
    /// it never set one.
    pub async fn destination_policy(&self, org: &OrgId) -> StoreResult<DestinationPolicy> {
        let row = sqlx::query("SELECT policy FROM org_destination_policies WHERE org_id = $1")
            .bind(org.as_str())
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(row) => {
                let text: String = row.try_get("policy")?;
                Ok(serde_json::from_str(&text)?)
            }
            None => Ok(DestinationPolicy::default()),
        }
    }

    /// Replaces the org's policy; an entry that cannot apply is refused
    /// with which one and why.
    pub async fn set_destination_policy(
        &self,
        org: &OrgId,
        policy: &DestinationPolicy,
    ) -> StoreResult<()> {
        policy
            .validate()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        sqlx::query(
            "INSERT INTO org_destination_policies (org_id, policy, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET policy = excluded.policy, \
             updated_at = excluded.updated_at",
        )
        .bind(org.as_str())
        .bind(serde_json::to_string(policy)?)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
