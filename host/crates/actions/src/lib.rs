//! The executors: what carries out the actions rules and workflows ask for
//! that reach outside the message, after the message's run has committed
//! them as `pending` (`mailroom_store::action_queue`). Each action is
//! claimed, carried out, and finished with its effect in one transaction
//! (at most once in effect), retried with backoff when the failure may
//! pass, refused for good when what it asks for is not allowed, and every
//! attempt is logged with the action.
//!
//! Executed here: `create-task` (a CRM task for a person, `tasks`) and
//! `notify` (a notification to a person, `notifications`), both in
//! [`effects`], whom they are for resolved by [`recipients`];
//! `update-crm-field` ([`crm_field`]), `webhook` ([`webhook`]) and
//! `forward` ([`forward`]), bound by the org's automation policy.

pub mod crm_field;
pub mod effects;
pub mod forward;
pub mod recipients;
pub mod webhook;

use mailroom_core::backoff::{self, Backoff};
use mailroom_core::clock::now_ms;
use mailroom_plugin_host::bindings::latest::types::Action;
use mailroom_store::{ActionOutcome, ClaimedAction, Store, StoreError};
use std::sync::LazyLock;
use std::time::Duration;

/// Attempts before an action that keeps failing is given up.
pub const MAX_ATTEMPTS: u32 = 8;

/// How long to wait between attempts of an action that failed.
pub const RETRY: Backoff = Backoff {
    base: Duration::from_secs(2),
    max: Duration::from_secs(15 * 60),
};

/// How often the worker looks for due actions when there were none.
pub const WORKER_INTERVAL: Duration = Duration::from_secs(1);

/// Actions claimed per pass.
const BATCH: u32 = 100;

/// Why an action could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// What it asks for is not allowed or cannot be: never tried again.
    #[error("{0}")]
    Refused(String),
    /// It failed this time (a receiver was down); the next attempt may work.
    #[error("{0}")]
    Transient(String),
    /// The store failed; the next attempt may work.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecutorReport {
    /// Carried out.
    pub done: usize,
    /// Failed for now; tried again later.
    pub retried: usize,
    /// Not allowed or impossible; never tried again.
    pub refused: usize,
    /// Given up after the last attempt.
    pub failed: usize,
}

/// The JSON key the pipeline stores an action under (`{"<key>": …}`),
/// taken from the contract's own serialization so it cannot drift from it.
pub fn kind_key(action: &Action) -> Option<String> {
    serde_json::to_value(action)
        .ok()?
        .as_object()?
        .keys()
        .next()
        .cloned()
}

/// The key of `webhook` actions: the delivery log lists them.
pub fn webhook_kind() -> String {
    kind_key(&effects::sample_webhook()).unwrap_or_default()
}

/// The JSON key of each executed kind.
static EXECUTED_KINDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    [
        effects::sample_task(),
        effects::sample_notification(),
        effects::sample_crm_field_update(),
        effects::sample_webhook(),
        Action::Forward(String::new()),
    ]
    .iter()
    .filter_map(kind_key)
    .collect()
});

/// Runs every due action the executors know, until none is left; the
/// pass's counts.
pub async fn execute_due(store: &Store) -> Result<ExecutorReport, StoreError> {
    let kinds: Vec<&str> = EXECUTED_KINDS.iter().map(String::as_str).collect();
    let mut report = ExecutorReport::default();
    loop {
        let claimed = store.claim_due_actions(&kinds, BATCH).await?;
        if claimed.is_empty() {
            return Ok(report);
        }
        for claim in &claimed {
            let outcome = execute(store, claim).await;
            let outcome = match store.finish_action(claim, &outcome).await {
                Ok(true) => outcome,
                Ok(false) => {
                    tracing::info!(
                        action = claim.id,
                        "action claimed again by another executor; this attempt's result is dropped"
                    );
                    continue;
                }
                // The effect could not be written: the attempt failed like
                // any store failure and is tried again (the log says why).
                Err(e) if matches!(outcome, ActionOutcome::Done { .. }) => {
                    let failed = failure(claim, &ExecuteError::Store(e));
                    if !store.finish_action(claim, &failed).await? {
                        continue;
                    }
                    failed
                }
                Err(e) => return Err(e),
            };
            match &outcome {
                ActionOutcome::Done { .. } => report.done += 1,
                ActionOutcome::Retry { .. } => report.retried += 1,
                ActionOutcome::Refused { .. } => report.refused += 1,
                ActionOutcome::Failed { .. } => report.failed += 1,
            }
            if let ActionOutcome::Refused { detail } | ActionOutcome::Failed { detail } = &outcome {
                tracing::warn!(org = %claim.org, message = %claim.message, action = claim.id, source = %claim.source, "action not carried out: {detail}");
            }
        }
    }
}

/// Carries out one claimed action and says how it went.
async fn execute(store: &Store, claim: &ClaimedAction) -> ActionOutcome {
    let action: Action = match serde_json::from_value(claim.action.clone()) {
        Ok(a) => a,
        Err(e) => {
            return ActionOutcome::Refused {
                detail: format!("the stored action cannot be read: {e}"),
            };
        }
    };
    let result = match &action {
        Action::CreateTask(spec) => effects::task(store, claim, spec).await,
        Action::Notify(n) => effects::notification(store, claim, n).await,
        Action::UpdateCrmField(update) => crm_field::update(store, claim, update).await,
        Action::Webhook(call) => webhook::deliver(store, claim, call).await,
        Action::Forward(to) => forward::forward(store, claim, to).await,
        _ => Err(ExecuteError::Refused(
            "no executor carries out this action".into(),
        )),
    };
    match result {
        Ok((effect, detail)) => ActionOutcome::Done { effect, detail },
        Err(ExecuteError::Refused(detail)) => ActionOutcome::Refused { detail },
        Err(e) => failure(claim, &e),
    }
}

/// An attempt that failed and may work later: tried again with backoff,
/// or given up after [`MAX_ATTEMPTS`].
fn failure(claim: &ClaimedAction, e: &ExecuteError) -> ActionOutcome {
    if claim.attempt >= MAX_ATTEMPTS {
        ActionOutcome::Failed {
            detail: format!("given up after {} attempts: {e}", claim.attempt),
        }
    } else {
        ActionOutcome::Retry {
            at: backoff::at(now_ms(), RETRY.delay(claim.attempt)),
            detail: format!("attempt {} failed, will try again: {e}", claim.attempt),
        }
    }
}

/// Runs the executors until the task is dropped: a pass every
/// [`WORKER_INTERVAL`] (each pass works until nothing is due).
pub async fn run_worker(store: Store) {
    loop {
        match execute_due(&store).await {
            Ok(report) if report != ExecutorReport::default() => {
                tracing::debug!(?report, "executors: pass done");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "executors: pass failed; trying again"),
        }
        tokio::time::sleep(WORKER_INTERVAL).await;
    }
}
