//! An org's webhook subscriptions: a URL and the events it gets (a message
//! received or sent, a reply received, a rule or workflow that fired). The
//! pipeline turns each event of a message's run into a `webhook` action
//! queued with the run, so a subscription's deliveries are durable, signed,
//! retried and logged exactly like a workflow's webhooks.

use super::db::{from_json, to_json};
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{OrgId, SubscriptionId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// The events a subscription can get.
pub const EVENTS: [&str; 4] = [
    "message.received",
    "message.sent",
    "reply.received",
    "workflow.fired",
];

/// Subscriptions an org may have.
pub const MAX_SUBSCRIPTIONS: usize = 50;

/// One subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WebhookSubscription {
    pub id: SubscriptionId,
    pub url: String,
    /// Event names, from [`EVENTS`].
    pub events: Vec<String>,
    pub created_by: Option<UserId>,
    /// Unix ms.
    pub created_at: i64,
}

/// What an admin asks for.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookSubscription {
    /// An https URL whose host the org's automation policy lists.
    pub url: String,
    /// At least one of `message.received`, `message.sent`,
    /// `reply.received`, `workflow.fired`.
    pub events: Vec<String>,
}

fn from_row(r: &sqlx::any::AnyRow) -> StoreResult<WebhookSubscription> {
    Ok(WebhookSubscription {
        id: SubscriptionId(r.try_get("id")?),
        url: r.try_get("url")?,
        events: from_json(&r.try_get::<String, _>("events")?)?,
        created_by: r.try_get::<Option<String>, _>("created_by")?.map(UserId),
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Adds a subscription; an unknown event, no event, a URL the org's
    /// automation policy does not allow or one subscription too many is
    /// refused with the reason.
    pub async fn create_webhook_subscription(
        &self,
        org: &OrgId,
        new: &NewWebhookSubscription,
        created_by: Option<&UserId>,
    ) -> StoreResult<WebhookSubscription> {
        let mut events: Vec<String> = Vec::new();
        for e in &new.events {
            if !EVENTS.contains(&e.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "{e:?} is not an event; the events are {}",
                    EVENTS.join(", ")
                )));
            }
            if !events.contains(e) {
                events.push(e.clone());
            }
        }
        if events.is_empty() {
            return Err(StoreError::Invalid(format!(
                "give at least one event: {}",
                EVENTS.join(", ")
            )));
        }
        let target = self
            .automation_policy(org)
            .await?
            .check_webhook(&new.url)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        if self.webhook_subscriptions(org).await?.len() >= MAX_SUBSCRIPTIONS {
            return Err(StoreError::Invalid(format!(
                "the org has {MAX_SUBSCRIPTIONS} subscriptions, the most it may have; delete one first"
            )));
        }
        let subscription = WebhookSubscription {
            id: SubscriptionId::generate(),
            url: target.url,
            events,
            created_by: created_by.cloned(),
            created_at: now_ms(),
        };
        sqlx::query(
            "INSERT INTO webhook_subscriptions (id, org_id, url, events, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(subscription.id.as_str())
        .bind(org.as_str())
        .bind(subscription.url.as_str())
        .bind(to_json(&subscription.events)?)
        .bind(created_by.map(|u| u.as_str().to_owned()))
        .bind(subscription.created_at)
        .execute(self.pool())
        .await?;
        Ok(subscription)
    }

    /// The org's subscriptions, oldest first.
    pub async fn webhook_subscriptions(
        &self,
        org: &OrgId,
    ) -> StoreResult<Vec<WebhookSubscription>> {
        let rows = sqlx::query(
            "SELECT id, url, events, created_by, created_at FROM webhook_subscriptions \
             WHERE org_id = $1 ORDER BY created_at, id",
        )
        .bind(org.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Deletes a subscription; deliveries already queued still go out.
    pub async fn delete_webhook_subscription(
        &self,
        org: &OrgId,
        id: &SubscriptionId,
    ) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM webhook_subscriptions WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(self.pool())
            .await?;
        super::db::expect_found(&done, "webhook subscription")?;
        Ok(())
    }
}
