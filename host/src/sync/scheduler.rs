//! Keeping every account in sync: a loop that picks the accounts due (least
//! recently synced first), takes the account's lease so only one node syncs
//! it at a time, runs a sync with the org's provider plugin mapping folders,
//! and backs off with jitter after failures so a broken server is not
//! hammered. Several syncs run at once, up to a connection budget.

use super::{PluginProvider, SyncError, SyncReport, sync_account};
use crate::ids::{AccountId, OrgId};
use crate::plugin::registry::PluginRegistry;
use crate::store::Store;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Clone, Debug)]
pub struct SchedulerSettings {
    /// How often due accounts are looked for (and the least time between
    /// two syncs of one account).
    pub interval: Duration,
    /// Accounts synced at once by this node.
    pub concurrent_accounts: usize,
    /// How long a lease holds before another node may take the account over
    /// (renewed by finishing; longer than any sync should take).
    pub lease: Duration,
    /// First wait after a failure; doubles per failure up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            concurrent_accounts: 4,
            lease: Duration::from_secs(15 * 60),
            base_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30 * 60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("account is being synced by another worker")]
    Busy,
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

#[derive(Clone)]
pub struct SyncScheduler {
    store: Store,
    registry: Arc<PluginRegistry>,
    settings: SchedulerSettings,
    /// This node's name in account leases.
    node: String,
    /// After a failure: when the account may be tried again, and how many failures in a row.
    backoff: Arc<Mutex<HashMap<AccountId, (Instant, u32)>>>,
}

impl SyncScheduler {
    pub fn new(store: Store, registry: Arc<PluginRegistry>, settings: SchedulerSettings) -> Self {
        let node = format!("node-{}", hex::encode(rand::random::<[u8; 6]>()));
        Self {
            store,
            registry,
            settings,
            node,
            backoff: Arc::default(),
        }
    }

    /// Syncs due accounts every interval, until the task is dropped.
    pub async fn run(self) {
        let budget = Arc::new(Semaphore::new(self.settings.concurrent_accounts.max(1)));
        loop {
            match self.store.accounts_to_sync().await {
                Ok(due) => {
                    for (org, account) in due {
                        if self.backing_off(&account) {
                            continue;
                        }
                        let Ok(permit) = budget.clone().acquire_owned().await else {
                            return;
                        };
                        let this = self.clone();
                        tokio::spawn(async move {
                            let _permit = permit;
                            if let Err(e) = this.sync_one(&org, &account).await {
                                tracing::warn!(org = %org, account = %account, error = %e, "sync failed");
                            }
                        });
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot list accounts to sync"),
            }
            tokio::time::sleep(self.settings.interval).await;
        }
    }

    /// One sync of one account under its lease; failures start a backoff.
    pub async fn sync_one(
        &self,
        org: &OrgId,
        account: &AccountId,
    ) -> Result<SyncReport, ScheduleError> {
        let lease_ms = self.settings.lease.as_millis() as i64;
        if !self
            .store
            .try_lease_account(org, account, &self.node, lease_ms)
            .await?
        {
            return Err(ScheduleError::Busy);
        }
        let result = async {
            let provider = self.store.get_account(org, account).await?.provider_id;
            let mapper =
                PluginProvider::new(self.registry.clone(), org.clone(), provider.as_deref());
            Ok::<_, ScheduleError>(sync_account(&self.store, org, account, &mapper, |_| {}).await?)
        }
        .await;
        if let Err(e) = self
            .store
            .release_account_lease(org, account, &self.node)
            .await
        {
            tracing::warn!(org = %org, account = %account, error = %e, "cannot release sync lease");
        }
        match &result {
            Ok(_) => {
                self.backoff.lock().remove(account);
            }
            Err(_) => self.start_backoff(account),
        }
        result
    }

    fn backing_off(&self, account: &AccountId) -> bool {
        self.backoff
            .lock()
            .get(account)
            .is_some_and(|(until, _)| Instant::now() < *until)
    }

    fn start_backoff(&self, account: &AccountId) {
        let mut backoff = self.backoff.lock();
        let failures = backoff.get(account).map_or(0, |(_, n)| *n) + 1;
        let wait = backoff_delay(&self.settings, failures, rand::random::<f64>());
        backoff.insert(account.clone(), (Instant::now() + wait, failures));
    }
}

/// Exponential backoff with ±25 % jitter (`jitter` in 0..1), so accounts
/// failing together do not retry together.
fn backoff_delay(settings: &SchedulerSettings, failures: u32, jitter: f64) -> Duration {
    let exp = settings
        .base_backoff
        .saturating_mul(1 << failures.saturating_sub(1).min(16));
    let capped = exp.min(settings.max_backoff);
    capped.mul_f64(0.75 + jitter * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        let s = SchedulerSettings::default();
        assert_eq!(backoff_delay(&s, 1, 0.5), Duration::from_secs(30));
        assert_eq!(backoff_delay(&s, 2, 0.5), Duration::from_secs(60));
        assert_eq!(backoff_delay(&s, 30, 0.5), Duration::from_secs(30 * 60));
        assert_eq!(backoff_delay(&s, 1, 0.0), Duration::from_millis(22_500));
        assert_eq!(backoff_delay(&s, 1, 1.0), Duration::from_millis(37_500));
    }
}
