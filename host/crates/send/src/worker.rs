//! Moving outbox entries along: the SMTP step (queued → sent, or back to
//! queued with a backoff, or failed) and the copy step (sent → appended),
//! one committed transition each, and the background loop `mailroom serve`
//! runs over every org's due entries.
//!
//! Each step first claims its entry with a lease in the store, so two
//! workers (two nodes on one PostgreSQL) never send one message twice, and
//! an entry whose worker died mid-step is taken up again once the lease
//! runs out.
//!
//! A crash after the SMTP server accepted a message but before `sent` was
//! committed is the one window in which a message could go out twice: SMTP
//! has no way to ask "did you get it?". So each attempt is marked in flight
//! in the store before it starts; the worker that takes over an entry whose
//! attempt never finished asks the one witness there is — when the provider
//! files its own Sent copy (plugin quirk, or learned for the account), a
//! copy with the entry's Message-ID in Sent means it went out: marked sent,
//! not sent again. Otherwise (no such provider, no copy, or IMAP out of
//! reach) it is sent again and flagged `possible_duplicate` in the outbox;
//! both copies carry the same Message-ID, by which receiving servers and
//! clients recognise a duplicate.

use super::error::{SendError, SendResult};
use super::sent_copy::{file_sent_copy, find_copy_of_interrupted_send, store_locally};
use super::{SendOptions, smtp};
use mailroom_core::backoff::at;
use mailroom_core::ids::{OrgId, OutboxId};
use mailroom_plugin_host::registry::PluginRegistry;
use mailroom_store::{OutboxEntry, OutboxState, SentCopy, Store, now_ms};
use std::sync::Arc;
use tokio::sync::Notify;

/// What one pass over the due entries did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Entries looked at.
    pub processed: usize,
    /// Entries whose step failed on the store (left for the next pass).
    pub errors: usize,
}

/// Sends outbox entries and files their Sent copies.
pub struct Sender {
    store: Store,
    registry: Option<Arc<PluginRegistry>>,
    options: SendOptions,
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Sender {
    /// `registry` answers provider quirks (and folder roles when the Sent
    /// folder is not known yet); without it every account learns.
    pub fn new(store: Store, registry: Option<Arc<PluginRegistry>>, options: SendOptions) -> Self {
        Self {
            store,
            registry,
            options,
        }
    }

    pub fn options(&self) -> &SendOptions {
        &self.options
    }

    /// Processes every entry due at `now` (the current time, except in
    /// tests that need to jump past a backoff).
    pub async fn run_due(&self, now: i64) -> SendResult<RunReport> {
        let mut report = RunReport::default();
        for (org, id) in self.store.due_outbox(now, 200).await? {
            report.processed += 1;
            if let Err(e) = self.process(&org, &id, now).await {
                report.errors += 1;
                tracing::error!(org = %org, outbox = %id, error = %e, "outbox step failed; will retry");
            }
        }
        Ok(report)
    }

    /// Takes one entry as far as it can go now: the SMTP step if it is
    /// queued (and due), then the copy step if it was sent.
    pub async fn process(&self, org: &OrgId, id: &OutboxId, now: i64) -> SendResult<OutboxEntry> {
        let entry = self.store.get_outbox_entry(org, id).await?;
        let entry = match entry.state {
            OutboxState::Queued | OutboxState::Sending => self.send_step(org, id, now).await?,
            _ => entry,
        };
        match entry.state {
            OutboxState::Sent => self.copy_step(org, id, now).await,
            _ => Ok(entry),
        }
    }

    /// The SMTP step alone. Returns the entry as it is afterwards (unchanged
    /// when it was not due or another worker holds it).
    pub async fn send_step(&self, org: &OrgId, id: &OutboxId, now: i64) -> SendResult<OutboxEntry> {
        let lease = millis(self.options.lease);
        if !self.store.claim_outbox_send(org, id, now, lease).await? {
            return Ok(self.store.get_outbox_entry(org, id).await?);
        }
        let entry = self.store.get_outbox_entry(org, id).await?;
        if entry.interrupted_attempt_at.is_some()
            && let Some(done) = self.settle_interrupted(&entry).await?
        {
            return Ok(done);
        }
        self.store.mark_outbox_in_flight(org, id).await?;
        let outcome = self.smtp(&entry).await;
        match outcome {
            Ok(()) => {
                self.store.mark_outbox_sent(org, id).await?;
                tracing::info!(org = %org, outbox = %id, attempts = entry.attempts, "message sent");
            }
            Err(e) if e.is_transient() && self.options.retry.may_retry(entry.attempts) => {
                let next = at(now, self.options.retry.delay(entry.attempts));
                tracing::warn!(org = %org, outbox = %id, attempts = entry.attempts, error = %e, "send failed; will retry");
                self.store
                    .retry_outbox_later(org, id, &e.to_string(), next)
                    .await?;
            }
            Err(e) => {
                let why = if e.is_transient() {
                    format!("gave up after {} attempts: {e}", entry.attempts)
                } else {
                    e.to_string()
                };
                tracing::warn!(org = %org, outbox = %id, error = %why, "send failed for good");
                self.store.fail_outbox(org, id, &why).await?;
            }
        }
        Ok(self.store.get_outbox_entry(org, id).await?)
    }

    /// The entry's previous attempt died mid-send. Returns the entry marked
    /// sent when the Sent folder shows that attempt went out; `None` to send
    /// again (which marks it a possible duplicate).
    async fn settle_interrupted(&self, entry: &OutboxEntry) -> SendResult<Option<OutboxEntry>> {
        let (org, id) = (&entry.org, &entry.id);
        let registry = self.registry.as_ref();
        let found = match find_copy_of_interrupted_send(&self.store, registry, entry, &self.options)
            .await
        {
            Ok(found) => found,
            // The store's trouble is the next pass's: the mark stays.
            Err(e @ SendError::Store(_)) => return Err(e),
            // Cannot tell: sending again (flagged) beats never sending.
            Err(e) => {
                tracing::warn!(org = %org, outbox = %id, error = %e, "cannot look in Sent for the interrupted attempt");
                None
            }
        };
        let Some(copy) = found else {
            tracing::warn!(org = %org, outbox = %id, "an interrupted send may have gone out; sending again, flagged as a possible duplicate");
            return Ok(None);
        };
        self.store
            .mark_outbox_sent_by_interrupted_attempt(org, id)
            .await?;
        self.store
            .finish_outbox(org, id, copy.copy, &copy.stored, None)
            .await?;
        tracing::info!(org = %org, outbox = %id, "the interrupted send had gone out (its copy is in Sent); not sent again");
        Ok(Some(self.store.get_outbox_entry(org, id).await?))
    }

    async fn smtp(&self, entry: &OutboxEntry) -> SendResult<()> {
        let account = self.store.get_account(&entry.org, &entry.account).await?;
        let raw = self.store.outbox_raw(&entry.org, &entry.id).await?;
        smtp::send_for_account(
            &self.store,
            &account,
            &entry.envelope_from,
            &entry.envelope_to,
            &raw.raw,
            self.options.smtp_timeout,
        )
        .await
    }

    /// The copy step alone: files the Sent copy (or decides none is needed)
    /// and stores the message. Never sends anything.
    pub async fn copy_step(&self, org: &OrgId, id: &OutboxId, now: i64) -> SendResult<OutboxEntry> {
        let lease = millis(self.options.lease);
        if !self.store.claim_outbox_copy(org, id, now, lease).await? {
            return Ok(self.store.get_outbox_entry(org, id).await?);
        }
        let entry = self.store.get_outbox_entry(org, id).await?;
        let registry = self.registry.as_ref();
        match file_sent_copy(&self.store, registry, &entry, &self.options).await {
            Ok(done) => {
                self.store
                    .finish_outbox(org, id, done.copy, &done.stored, None)
                    .await?;
                tracing::info!(org = %org, outbox = %id, copy = done.copy.as_str(), "sent copy handled");
            }
            Err(e) if self.options.copy_retry.may_retry(entry.copy_attempts) => {
                let next = at(now, self.options.copy_retry.delay(entry.copy_attempts));
                tracing::warn!(org = %org, outbox = %id, error = %e, "filing the sent copy failed; will retry");
                self.store
                    .retry_outbox_copy_later(org, id, &e.to_string(), next)
                    .await?;
            }
            Err(e) => {
                // The message went out; it must not be lost from the store
                // because its Sent folder stayed out of reach.
                let raw = self.store.outbox_raw(org, id).await?;
                let stored = store_locally(&self.store, &entry, raw.copy()).await?;
                let why = format!(
                    "gave up filing the copy in Sent after {} attempts: {e}",
                    entry.copy_attempts
                );
                self.store
                    .finish_outbox(org, id, SentCopy::GaveUp, &stored, Some(&why))
                    .await?;
            }
        }
        Ok(self.store.get_outbox_entry(org, id).await?)
    }
}

/// Runs the outbox until the task is dropped: a pass over due entries,
/// then a wait for `wake` (a new message was queued) or the poll interval
/// (a backoff ran out). Errors are logged; entries stay in the store.
pub async fn run_worker(sender: Arc<Sender>, wake: Arc<Notify>) {
    loop {
        match sender.run_due(now_ms()).await {
            Ok(r) if r.processed > 0 => {
                tracing::debug!(processed = r.processed, errors = r.errors, "outbox pass")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "outbox pass failed; will retry"),
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(sender.options.poll_interval) => {}
        }
    }
}
