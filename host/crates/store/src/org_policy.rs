//! An org's policy kept as one JSON document per org (its destination
//! policy, its automation policy): read as the type's default when the org
//! never set one, replaced whole. The tables share the columns `org_id`,
//! `policy`, `updated_at`.

use super::{Store, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::OrgId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

/// Which policy.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PolicyTable {
    Destinations,
    Automation,
}

impl PolicyTable {
    fn select(self) -> &'static str {
        match self {
            PolicyTable::Destinations => {
                "SELECT policy FROM org_destination_policies WHERE org_id = $1"
            }
            PolicyTable::Automation => "SELECT policy FROM org_automation WHERE org_id = $1",
        }
    }

    fn upsert(self) -> &'static str {
        match self {
            PolicyTable::Destinations => {
                "INSERT INTO org_destination_policies (org_id, policy, updated_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE SET \
                 policy = excluded.policy, updated_at = excluded.updated_at"
            }
            PolicyTable::Automation => {
                "INSERT INTO org_automation (org_id, policy, updated_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE SET \
                 policy = excluded.policy, updated_at = excluded.updated_at"
            }
        }
    }
}

impl Store {
    /// The org's policy in `table`; the default when it never set one.
    pub(crate) async fn org_policy<T: DeserializeOwned + Default>(
        &self,
        table: PolicyTable,
        org: &OrgId,
    ) -> StoreResult<T> {
        let row = sqlx::query(table.select())
            .bind(org.as_str())
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(row) => Ok(serde_json::from_str(&row.try_get::<String, _>("policy")?)?),
            None => Ok(T::default()),
        }
    }

    /// Replaces the org's policy in `table` (checked by the caller).
    pub(crate) async fn set_org_policy<T: Serialize>(
        &self,
        table: PolicyTable,
        org: &OrgId,
        policy: &T,
    ) -> StoreResult<()> {
        sqlx::query(table.upsert())
            .bind(org.as_str())
            .bind(serde_json::to_string(policy)?)
            .bind(now_ms())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
