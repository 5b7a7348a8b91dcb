//! Each org's destination policy ([`DestinationPolicy`]: which hosts and
//! ports its accounts, connection tests and OAuth token URLs may reach):
//! read with the default when the org never set one, replaced whole when
//! an admin changes it. Checked before it is stored, so what is read back
//! always applies.

use super::org_policy::PolicyTable;
use super::{Store, StoreError, StoreResult};
use mailroom_core::destinations::DestinationPolicy;
use mailroom_core::ids::OrgId;

impl Store {
    /// The org's policy; the default (public addresses, mail ports) when
    /// it never set one.
    pub async fn destination_policy(&self, org: &OrgId) -> StoreResult<DestinationPolicy> {
        self.org_policy(PolicyTable::Destinations, org).await
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
        self.set_org_policy(PolicyTable::Destinations, org, policy)
            .await
    }
}
