//! The executors' queue: the actions rules and workflows asked for that
//! reach outside the message (tasks, notifications, forwards, CRM updates,
//! webhooks). A pending action is written with its message's pipeline run,
//! so it is queued durably before anything acknowledges the message. An
//! executor claims it (one more attempt, the next attempt pushed past a
//! lease so a crashed executor's claim runs again later) and finishes it
//! with its effect and its outcome in one transaction that only commits
//! while the claim is still the latest: an action takes effect at most once,
//! whatever crashes or concurrent executors do. Every attempt is logged.

use super::crm_fields::{CrmFieldChange, write_crm_field};
use super::db::{Arg, SqlBuilder, from_json, to_json};
use super::notifications::{NewNotification, insert_notification};
use super::outbox::{NewOutboxEntry, insert_outbox_entry};
use super::tasks::{NewTask, insert_task};
use super::{Store, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, MessageId, OrgId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// What the pipeline knew about a message's run that its executors need.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionContext {
    /// The account the message came through.
    pub account: Option<AccountId>,
    /// That account's owner.
    pub account_owner: Option<UserId>,
    /// The CRM records the message concerns, in the run's order
    /// (`contact`/`lead`, id).
    pub links: Vec<(String, String)>,
}

/// A claimed action, ready to execute.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedAction {
    /// The action's row id (also its id in the API).
    pub id: i64,
    pub org: OrgId,
    pub message: MessageId,
    /// The rule (`rule:…`) or plugin that asked for it.
    pub source: String,
    /// The contract's action, as JSON.
    pub action: serde_json::Value,
    pub context: ActionContext,
    /// This attempt's number, from 1.
    pub attempt: u32,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionOutcome {
    /// Carried out; `effect` is written in the same transaction.
    Done {
        effect: ActionEffect,
        detail: String,
    },
    /// Not now (e.g. a webhook receiver was down): again at `at`.
    Retry { at: i64, detail: String },
    /// Never: what it asks for is not allowed or cannot be (an unknown
    /// user, a host no admin allowed).
    Refused { detail: String },
    /// Given up after its last attempt.
    Failed { detail: String },
}

/// What a finished action leaves in the store.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionEffect {
    /// Nothing here (the effect is elsewhere, e.g. a delivered webhook).
    None,
    Task(NewTask),
    Notification(NewNotification),
    /// A field of a linked CRM record (`update-crm-field`).
    CrmField(CrmFieldChange),
    /// A webhook delivered under this idempotency key.
    WebhookDelivered {
        key: String,
    },
    /// A message queued for sending (`forward`).
    Outbox(NewOutboxEntry),
}

impl ActionOutcome {
    fn status(&self) -> (&'static str, &'static str) {
        match self {
            ActionOutcome::Done { .. } => ("done", "done"),
            ActionOutcome::Retry { .. } => ("pending", "retry"),
            ActionOutcome::Refused { .. } => ("refused", "refused"),
            ActionOutcome::Failed { .. } => ("failed", "failed"),
        }
    }

    fn detail(&self) -> &str {
        match self {
            ActionOutcome::Done { detail, .. }
            | ActionOutcome::Retry { detail, .. }
            | ActionOutcome::Refused { detail }
            | ActionOutcome::Failed { detail } => detail,
        }
    }
}

/// One attempt of an action, as the execution log shows it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ActionAttempt {
    pub attempt: u32,
    /// Unix ms.
    pub at: i64,
    /// `done`, `retry`, `refused` or `failed`.
    pub outcome: String,
    /// What the host did, or why not.
    pub detail: String,
}

/// How long a claim holds an action before another executor may try it.
pub const CLAIM_LEASE_MS: i64 = 5 * 60 * 1000;

/// The longest detail kept per attempt.
const MAX_DETAIL_CHARS: usize = 2000;

impl Store {
    /// Claims up to `limit` due pending actions whose kind is one of
    /// `kinds` (the action's JSON key, e.g. `create-task`), oldest first.
    pub async fn claim_due_actions(
        &self,
        kinds: &[&str],
        limit: u32,
    ) -> StoreResult<Vec<ClaimedAction>> {
        let now = now_ms();
        let mut q = SqlBuilder::new(
            "SELECT id, org_id, message_id, source, action, context, attempts FROM message_actions \
             WHERE status = 'pending' AND next_attempt_at <= ",
        );
        q.bind_i64(now).push(" AND (");
        for (i, kind) in kinds.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            // The action is the contract's variant as JSON: `{"create-task": …}`.
            q.push("action LIKE ").bind_text(format!("{{\"{kind}\":%"));
        }
        if kinds.is_empty() {
            q.push("1 = 0");
        }
        q.push(") ORDER BY next_attempt_at, id LIMIT ")
            .bind_i64(i64::from(limit.clamp(1, 1000)));
        let rows = q.query().fetch_all(self.pool()).await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let attempts: i64 = r.try_get("attempts")?;
            let taken = sqlx::query(
                "UPDATE message_actions SET attempts = attempts + 1, next_attempt_at = $1 \
                 WHERE id = $2 AND status = 'pending' AND attempts = $3",
            )
            .bind(now + CLAIM_LEASE_MS)
            .bind(id)
            .bind(attempts)
            .execute(self.pool())
            .await?;
            if taken.rows_affected() == 0 {
                continue; // another executor took it first
            }
            let context: Option<String> = r.try_get("context")?;
            claimed.push(ClaimedAction {
                id,
                org: OrgId(r.try_get("org_id")?),
                message: MessageId(r.try_get("message_id")?),
                source: r.try_get("source")?,
                action: from_json(&r.try_get::<String, _>("action")?)?,
                context: context
                    .as_deref()
                    .map(from_json)
                    .transpose()?
                    .unwrap_or_default(),
                attempt: u32::try_from(attempts).unwrap_or(0).saturating_add(1),
            });
        }
        Ok(claimed)
    }

    /// Ends an attempt: its effect, the action's new status and the log
    /// line, together. Returns `false` (and writes nothing) when the claim
    /// is no longer the latest: the lease ran out and another executor
    /// claimed the action again.
    pub async fn finish_action(
        &self,
        claim: &ClaimedAction,
        outcome: &ActionOutcome,
    ) -> StoreResult<bool> {
        let now = now_ms();
        let (status, logged) = outcome.status();
        let detail = super::mime_index::clean_text(outcome.detail(), MAX_DETAIL_CHARS);
        let next = match outcome {
            ActionOutcome::Retry { at, .. } => *at,
            _ => 0,
        };
        let finished = (status != "pending").then_some(now);
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE message_actions SET status = $1, next_attempt_at = $2, outcome = $3, \
             finished_at = $4 WHERE id = $5 AND org_id = $6 AND status = 'pending' AND attempts = $7",
        )
        .bind(status)
        .bind(next)
        .bind(detail.as_str())
        .bind(finished)
        .bind(claim.id)
        .bind(claim.org.as_str())
        .bind(i64::from(claim.attempt))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        if let ActionOutcome::Done { effect, .. } = outcome {
            match effect {
                ActionEffect::None => {}
                ActionEffect::Task(task) => {
                    insert_task(&mut tx, &claim.org, task, Some(claim.id)).await?;
                }
                ActionEffect::Notification(n) => {
                    insert_notification(&mut tx, &claim.org, n, Some(claim.id)).await?;
                }
                ActionEffect::CrmField(change) => {
                    write_crm_field(&mut tx, &claim.org, change).await?;
                }
                ActionEffect::Outbox(entry) => {
                    insert_outbox_entry(&mut tx, &claim.org, entry).await?;
                }
                ActionEffect::WebhookDelivered { key } => {
                    sqlx::query(
                        "INSERT INTO webhook_keys (org_id, idempotency_key, action_id, delivered_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, idempotency_key) DO NOTHING",
                    )
                    .bind(claim.org.as_str())
                    .bind(key.as_str())
                    .bind(claim.id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        sqlx::query(
            "INSERT INTO action_attempts (org_id, action_id, attempt, at, outcome, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(claim.org.as_str())
        .bind(claim.id)
        .bind(i64::from(claim.attempt))
        .bind(now)
        .bind(logged)
        .bind(detail.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every attempt of an action of the org, in order.
    pub async fn action_attempts(
        &self,
        org: &OrgId,
        action: i64,
    ) -> StoreResult<Vec<ActionAttempt>> {
        let rows = sqlx::query(
            "SELECT attempt, at, outcome, detail FROM action_attempts \
             WHERE org_id = $1 AND action_id = $2 ORDER BY attempt, id",
        )
        .bind(org.as_str())
        .bind(action)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ActionAttempt {
                    attempt: u32::try_from(r.try_get::<i64, _>("attempt")?).unwrap_or(0),
                    at: r.try_get("at")?,
                    outcome: r.try_get("outcome")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}

/// The context column's value for a run's pending actions.
pub(crate) fn context_arg(context: Option<&ActionContext>) -> StoreResult<Arg> {
    Ok(match context {
        Some(c) => Arg::Text(to_json(c)?),
        None => Arg::NullText,
    })
}
