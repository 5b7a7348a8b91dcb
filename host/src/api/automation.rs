//! The org's automation policy over HTTP (admins only): where its rules'
//! and workflows' forwards and webhooks may go and which CRM fields they
//! may write ([`AutomationPolicy`]), and the org's webhook signing secret,
//! created or replaced by an admin and shown once; and the org's webhook
//! subscriptions to events. Every change is audited.

use super::AppState;
use super::error::{ApiResult, ErrorBody};
use super::extract::{Json, Path, Query};
use crate::auth::AuthAdmin;
use axum::extract::State;
use axum::http::StatusCode;
use mailroom_core::automation::AutomationPolicy;
use mailroom_core::ids::MessageId;
use mailroom_core::ids::SubscriptionId;
use mailroom_store::pipeline_results::StoredAction;
use mailroom_store::{NewWebhookSubscription, WebhookSubscription};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_automation_policy, put_automation_policy))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(
            list_webhook_subscriptions,
            create_webhook_subscription
        ))
        .routes(routes!(delete_webhook_subscription))
        .routes(routes!(webhook_deliveries))
}

/// The org's automation policy and whether it has a webhook secret.
#[derive(Serialize, ToSchema)]
pub struct AutomationPolicyView {
    pub policy: AutomationPolicy,
    /// Whether a webhook secret exists (it is never shown again).
    pub webhook_secret_set: bool,
}

/// A new webhook secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct WebhookSecret {
    /// Receivers check `Mailroom-Signature` with it (see the README's
    /// "Webhooks"); store it where they can read it.
    pub secret: String,
}

async fn view(
    state: &AppState,
    org: &mailroom_core::ids::OrgId,
) -> ApiResult<AutomationPolicyView> {
    Ok(AutomationPolicyView {
        policy: state.store.automation_policy(org).await?,
        webhook_secret_set: state.store.webhook_secret(org).await?.is_some(),
    })
}

/// The org's automation policy (admins only). Nothing is allowed by
/// default: no forward, no webhook, no CRM field written by workflows.
#[utoipa::path(get, path = "/org/automation-policy", tag = "users",
    responses((status = 200, body = AutomationPolicyView), (status = 403, body = ErrorBody)))]
pub async fn get_automation_policy(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
) -> ApiResult<Json<AutomationPolicyView>> {
    Ok(Json(view(&state, &p.org).await?))
}

/// Replaces the org's automation policy (admins only); an entry that
/// cannot apply is refused (422) with which one and why, and nothing
/// changes. Actions already queued are checked against the new policy.
/// Recorded in the audit log.
#[utoipa::path(put, path = "/org/automation-policy", tag = "users",
    request_body = AutomationPolicy,
    responses((status = 200, body = AutomationPolicyView), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_automation_policy(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Json(policy): Json<AutomationPolicy>,
) -> ApiResult<Json<AutomationPolicyView>> {
    state.store.set_automation_policy(&p.org, &policy).await?;
    super::audit::record(
        &state,
        &p,
        "org.automation_policy.update",
        p.org.as_str(),
        serde_json::to_value(&policy).unwrap_or_default(),
    )
    .await;
    Ok(Json(view(&state, &p.org).await?))
}

/// Creates the org's webhook secret, or replaces it at once (admins only).
/// The answer is the only time it is shown. Recorded in the audit log
/// (without the secret).
#[utoipa::path(post, path = "/org/webhook-secret", tag = "users",
    responses((status = 200, body = WebhookSecret), (status = 403, body = ErrorBody)))]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
) -> ApiResult<Json<WebhookSecret>> {
    let secret = state.store.rotate_webhook_secret(&p.org).await?;
    super::audit::record(
        &state,
        &p,
        "org.webhook_secret.rotate",
        p.org.as_str(),
        serde_json::Value::Null,
    )
    .await;
    Ok(Json(WebhookSecret {
        secret: secret.expose().to_owned(),
    }))
}

/// The org's webhook subscriptions (admins only), oldest first.
#[utoipa::path(get, path = "/org/webhooks", tag = "users",
    responses((status = 200, body = Vec<WebhookSubscription>), (status = 403, body = ErrorBody)))]
pub async fn list_webhook_subscriptions(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
) -> ApiResult<Json<Vec<WebhookSubscription>>> {
    Ok(Json(state.store.webhook_subscriptions(&p.org).await?))
}

/// Subscribes a URL to events (admins only): `message.received`,
/// `message.sent`, `reply.received`, `workflow.fired`. Each event of a
/// message is delivered as a signed webhook (see the README's "Webhooks").
/// The URL's host must be in the automation policy's `webhook_hosts` (422
/// otherwise, with the reason). Recorded in the audit log.
#[utoipa::path(post, path = "/org/webhooks", tag = "users",
    request_body = NewWebhookSubscription,
    responses((status = 201, body = WebhookSubscription), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create_webhook_subscription(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Json(new): Json<NewWebhookSubscription>,
) -> ApiResult<(StatusCode, Json<WebhookSubscription>)> {
    let created = state
        .store
        .create_webhook_subscription(&p.org, &new, Some(&p.user))
        .await?;
    super::audit::record(
        &state,
        &p,
        "org.webhook_subscription.create",
        created.id.as_str(),
        serde_json::json!({"url": created.url, "events": created.events}),
    )
    .await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Deletes a subscription (admins only); deliveries already queued still go
/// out. Recorded in the audit log.
#[utoipa::path(delete, path = "/org/webhooks/{id}", tag = "users",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_webhook_subscription(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = SubscriptionId(id);
    state.store.delete_webhook_subscription(&p.org, &id).await?;
    super::audit::record(
        &state,
        &p,
        "org.webhook_subscription.delete",
        id.as_str(),
        serde_json::Value::Null,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Which deliveries to list.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// `pending`, `done`, `refused` or `failed`; all when absent.
    pub status: Option<String>,
    /// At most this many, newest first (1 to 500; 100 by default).
    pub limit: Option<u32>,
}

/// One webhook delivery: the action, its message, and every attempt.
#[derive(Serialize, ToSchema)]
pub struct WebhookDelivery {
    pub message: MessageId,
    #[serde(flatten)]
    pub action: StoredAction,
}

/// The org's webhook deliveries (admins only), newest first: workflows',
/// rules' and subscriptions' alike, each with its status, outcome and
/// every attempt (the receiver's status and the start of its answer).
#[utoipa::path(get, path = "/org/webhook-deliveries", tag = "users", params(DeliveryQuery),
    responses((status = 200, body = Vec<WebhookDelivery>), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    AuthAdmin(p): AuthAdmin,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<Json<Vec<WebhookDelivery>>> {
    if let Some(status) = q.status.as_deref()
        && !["pending", "done", "refused", "failed"].contains(&status)
    {
        return Err(mailroom_store::StoreError::Invalid(format!(
            "status {status:?} is none of pending, done, refused, failed"
        ))
        .into());
    }
    let kind = mailroom_actions::webhook_kind();
    let found = state
        .store
        .actions_of_kind(&p.org, &kind, q.status.as_deref(), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(
        found
            .into_iter()
            .map(|(message, action)| WebhookDelivery { message, action })
            .collect(),
    ))
}
