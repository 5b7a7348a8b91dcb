//! Each org's automation policy ([`AutomationPolicy`]: where forwards and
//! webhooks may go, which CRM fields workflows may write), read as
//! "nothing allowed" when the org never set one and replaced whole when an
//! admin changes it; and the org's webhook signing secret, sealed under the
//! master key and bound to the org, created or replaced only by an admin,
//! shown once and never again; and the webhook idempotency keys already
//! delivered.

use super::org_policy::PolicyTable;
use super::{Store, StoreError, StoreResult};
use mailroom_core::automation::AutomationPolicy;
use mailroom_core::clock::now_ms;
use mailroom_core::ids::OrgId;
use mailroom_core::secret::Secret;

/// The prefix of every webhook secret, so one found in a config file or a
/// log says what it is.
const SECRET_PREFIX: &str = "whsec_";

fn secret_aad(org: &OrgId) -> Vec<u8> {
    format!("webhook-secret:{}", org.as_str()).into_bytes()
}

impl Store {
    /// The org's automation policy; the default (nothing allowed) when it
    /// never set one.
    pub async fn automation_policy(&self, org: &OrgId) -> StoreResult<AutomationPolicy> {
        self.org_policy(PolicyTable::Automation, org).await
    }

    /// Replaces the org's policy; an entry that cannot apply is refused
    /// with which one and why. The webhook secret is kept.
    pub async fn set_automation_policy(
        &self,
        org: &OrgId,
        policy: &AutomationPolicy,
    ) -> StoreResult<()> {
        policy
            .validate()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.set_org_policy(PolicyTable::Automation, org, policy)
            .await
    }

    /// A new webhook secret for the org, replacing the old one at once
    /// (receivers must switch to it). Returned here and never again.
    pub async fn rotate_webhook_secret(&self, org: &OrgId) -> StoreResult<Secret> {
        let secret = Secret::new(format!(
            "{SECRET_PREFIX}{}",
            hex::encode(rand::random::<[u8; 32]>())
        ));
        let sealed = self.cipher().seal_secret(&secret, &secret_aad(org))?;
        let default_policy = serde_json::to_string(&AutomationPolicy::default())?;
        sqlx::query(
            "INSERT INTO org_automation (org_id, policy, webhook_secret, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id) DO UPDATE SET webhook_secret = excluded.webhook_secret, \
             updated_at = excluded.updated_at",
        )
        .bind(org.as_str())
        .bind(default_policy)
        .bind(sealed)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(secret)
    }

    /// The org's webhook secret, for signing a delivery; `None` when no
    /// admin created one yet.
    pub async fn webhook_secret(&self, org: &OrgId) -> StoreResult<Option<Secret>> {
        let sealed: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT webhook_secret FROM org_automation WHERE org_id = $1")
                .bind(org.as_str())
                .fetch_optional(self.pool())
                .await?;
        sealed
            .flatten()
            .map(|s| self.cipher().open_secret(&s, &secret_aad(org)))
            .transpose()
    }

    /// The action that delivered a webhook under `key`, if one did.
    pub async fn webhook_key_delivery(&self, org: &OrgId, key: &str) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT action_id FROM webhook_keys WHERE org_id = $1 AND idempotency_key = $2",
        )
        .bind(org.as_str())
        .bind(key)
        .fetch_optional(self.pool())
        .await?)
    }
}
