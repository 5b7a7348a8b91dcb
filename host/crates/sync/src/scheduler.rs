//! Keeping every account in sync. IMAP accounts get a push watcher
//! (`watch`): IDLE on INBOX, STATUS polls of the other folders, periodic
//! full syncs, all on one connection. Other accounts (and every account
//! when push is off) get a full sync each interval: a loop picks the
//! accounts due (least recently synced first), takes the account's lease
//! so only one node syncs it at a time, syncs with the org's provider
//! plugin mapping folders, and backs off with jitter after failures so a
//! broken server is not hammered. Each account's IMAP connections on this
//! node stay within its provider's `max_connections` (the watcher's
//! included). An account whose owner or integration is deactivated gets
//! no lease, so nothing syncs or watches it; deactivating one stops what
//! runs for it on this node at once (see [`SyncScheduler::stop_account`]).

use super::coordination::{AccountSlot, Lease};
use super::watch::{WatchSettings, WatchStats, Watcher};
use super::{PluginProvider, SyncError, SyncOptions, SyncReport, sync_account_with};
use mailroom_core::backoff::Backoff;
use mailroom_core::ids::{AccountId, OrgId};
use mailroom_plugin_host::registry::PluginRegistry;
use mailroom_store::{AccountLease, Protocol, Store, StoreResult, SyncLease, SyncStop};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
pub struct SchedulerSettings {
    /// How often due accounts are looked for (and the least time between
    /// two syncs of one account).
    pub interval: Duration,
    /// Accounts synced at once by this node.
    pub concurrent_accounts: usize,
    /// How long a sync lease holds unless renewed. A sync renews it every
    /// third of this while it runs, so this bounds how long a node that
    /// died mid-sync keeps the account from everyone else, not how long a
    /// sync may take.
    pub lease: Duration,
    /// This node's identity in leases. A node that restarts with the same
    /// identity gives back, at start ([`SyncScheduler::recover`]), every
    /// lease it held: nothing of its past life can still be running.
    /// `None`: a new random identity each start (leases then lapse).
    pub node: Option<String>,
    /// The wait before an account that failed is tried again (and a push
    /// connection that failed is reopened).
    pub backoff: Backoff,
    /// Watch IMAP accounts (IDLE and STATUS polls) instead of syncing
    /// them fully every interval.
    pub push: bool,
    pub watch: WatchSettings,
    /// Caps every account's connection budget below its provider's
    /// `max_connections` (for a server stricter than its provider says).
    pub max_connections: Option<usize>,
    pub sync: SyncOptions,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            concurrent_accounts: 4,
            lease: Duration::from_secs(60),
            node: None,
            backoff: Backoff {
                base: Duration::from_secs(30),
                max: Duration::from_secs(30 * 60),
            },
            push: true,
            watch: WatchSettings::default(),
            max_connections: None,
            sync: SyncOptions::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "the account is being synced by {} (its lease lapses in {} s unless renewed); \
         this sync waits for it",
        .0.node, seconds_until(.0.until)
    )]
    Busy(SyncLease),
    #[error(
        "another node took the account over during the sync (this node stalled past its lease)"
    )]
    LeaseLost,
    #[error("this account uses POP3, which has no push")]
    NoPush,
    #[error("{}", .0.reason())]
    Stopped(SyncStop),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Store(#[from] mailroom_store::StoreError),
}

/// A fresh random node identity for leases, e.g. `node-3f9c…`.
pub fn new_node_id() -> String {
    format!("node-{}", hex::encode(rand::random::<[u8; 8]>()))
}

/// Whole seconds from now until `at` (unix ms), 0 when past.
fn seconds_until(at: i64) -> i64 {
    ((at - mailroom_store::now_ms()).max(0) + 999) / 1000
}

#[derive(Clone)]
pub struct SyncScheduler {
    store: Store,
    registry: Arc<PluginRegistry>,
    settings: SchedulerSettings,
    /// This node's lease on the account being synced.
    lease: Lease,
    /// This node's lease on the push connection of the accounts it watches.
    push_lease: Lease,
    /// After a failure: when the account may be tried again, and how many failures in a row.
    backoff: Arc<Mutex<HashMap<AccountId, (Instant, u32)>>>,
    /// Each account's connection budget and sync turn on this node.
    slots: Arc<Mutex<HashMap<AccountId, Arc<AccountSlot>>>>,
    watchers: Arc<Watchers>,
    /// Accounts whose sync lease a full sync of this node holds now (one
    /// cut off by [`SyncScheduler::stop`] never gives it back itself).
    leased: Arc<Mutex<HashSet<(OrgId, AccountId)>>>,
    /// Told when an account is to stop syncing now (its owner or its
    /// integration was deactivated): the syncs of it running here end.
    stops: Arc<Mutex<HashMap<AccountId, Arc<Notify>>>>,
}

/// The running watchers; stopped when the scheduler goes.
#[derive(Default)]
struct Watchers(Mutex<HashMap<AccountId, RunningWatcher>>);

/// A watcher's task, its counters, and the account's org.
type RunningWatcher = (JoinHandle<()>, Arc<WatchStats>, OrgId);

impl Watchers {
    fn running(&self, account: &AccountId) -> Option<Arc<WatchStats>> {
        let map = self.0.lock();
        let (task, stats, _) = map.get(account)?;
        (!task.is_finished()).then(|| stats.clone())
    }

    /// Keeps `task` unless another watcher of the account runs already.
    fn insert(
        &self,
        org: &OrgId,
        account: &AccountId,
        task: JoinHandle<()>,
        stats: Arc<WatchStats>,
    ) -> Arc<WatchStats> {
        let mut map = self.0.lock();
        if let Some((running, stats, _)) = map.get(account)
            && !running.is_finished()
        {
            task.abort();
            return stats.clone();
        }
        map.insert(account.clone(), (task, stats.clone(), org.clone()));
        stats
    }

    /// Takes every watcher out, aborted.
    fn abort_all(&self) -> Vec<(OrgId, AccountId, JoinHandle<()>)> {
        self.0
            .lock()
            .drain()
            .map(|(account, (task, _, org))| {
                task.abort();
                (org, account, task)
            })
            .collect()
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        for (task, _, _) in self.0.get_mut().values() {
            task.abort();
        }
    }
}

impl SyncScheduler {
    pub fn new(store: Store, registry: Arc<PluginRegistry>, settings: SchedulerSettings) -> Self {
        let node = settings.node.clone().unwrap_or_else(new_node_id);
        Self {
            lease: Lease::new(
                store.clone(),
                AccountLease::Sync,
                node.clone(),
                settings.lease,
            ),
            push_lease: Lease::new(
                store.clone(),
                AccountLease::Push,
                node,
                settings.watch.push_lease,
            ),
            store,
            registry,
            settings,
            backoff: Arc::default(),
            slots: Arc::default(),
            watchers: Arc::default(),
            leased: Arc::default(),
            stops: Arc::default(),
        }
    }

    /// Syncs due accounts every interval, until the task is dropped (which
    /// drops the syncs it started too; [`SyncScheduler::stop`] then gives
    /// back their leases).
    pub async fn run(self) {
        let budget = Arc::new(Semaphore::new(self.settings.concurrent_accounts.max(1)));
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.try_join_next().is_some() {}
            match self.store.accounts_to_sync().await {
                Ok(due) => {
                    for (org, account) in due {
                        if self.backing_off(&account) {
                            continue;
                        }
                        if self.settings.push && self.ensure_watched(&org, &account).await {
                            continue;
                        }
                        let Ok(permit) = budget.clone().acquire_owned().await else {
                            return;
                        };
                        let this = self.clone();
                        running.spawn(async move {
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

    /// One full sync of one account under its lease, within its connection
    /// budget (a watcher holding the last connection steps aside);
    /// failures start a backoff.
    pub async fn sync_one(
        &self,
        org: &OrgId,
        account: &AccountId,
    ) -> Result<SyncReport, ScheduleError> {
        if let Some(stop) = self.store.sync_stopped(org, account).await? {
            return Err(ScheduleError::Stopped(stop));
        }
        let provider_id = self.store.get_account(org, account).await?.provider_id;
        let provider =
            PluginProvider::new(self.registry.clone(), org.clone(), provider_id.as_deref());
        let slot = self.slot(account, &provider).await;
        let _connection = slot.connection().await;
        let _turn = slot.sync_turn().await;
        if !self.lease.take(org, account).await? {
            if let Some(stop) = self.store.sync_stopped(org, account).await? {
                return Err(ScheduleError::Stopped(stop));
            }
            return Err(match self.waiting_for(org, account).await? {
                Some(held) => ScheduleError::Busy(held),
                // Released between the two looks: the next try gets it.
                None => ScheduleError::Busy(SyncLease {
                    node: "another node".into(),
                    until: mailroom_store::now_ms(),
                }),
            });
        }
        let key = (org.clone(), account.clone());
        self.leased.lock().insert(key.clone());
        let work = sync_account_with(
            &self.store,
            org,
            account,
            &provider,
            &self.settings.sync,
            |_| {},
        );
        let stop = self.stop_signal(account);
        let work = async {
            tokio::select! {
                out = work => Ok(out),
                () = stop.notified() => Err(()),
            }
        };
        let result = match self.lease.holding(org, account, work).await {
            Some(Ok(result)) => result.map_err(ScheduleError::from),
            Some(Err(())) => Err(match self.store.sync_stopped(org, account).await? {
                Some(stop) => ScheduleError::Stopped(stop),
                None => ScheduleError::LeaseLost,
            }),
            None => Err(ScheduleError::LeaseLost),
        };
        self.leased.lock().remove(&key);
        match &result {
            Ok(_) => {
                self.backoff.lock().remove(account);
            }
            Err(_) => self.start_backoff(account),
        }
        result
    }

    /// [`sync_one`](Self::sync_one), and while another node's lease holds
    /// the account, again when it ends or lapses: what "sync now" means
    /// when a crashed node left its lease behind. Gives up when the holder
    /// keeps renewing for longer than `patience` (a live node syncs the
    /// account meanwhile, which is what was asked for).
    pub async fn sync_when_free(
        &self,
        org: &OrgId,
        account: &AccountId,
        patience: Duration,
    ) -> Result<SyncReport, ScheduleError> {
        let give_up = Instant::now() + patience;
        loop {
            match self.sync_one(org, account).await {
                Err(ScheduleError::Busy(held)) if Instant::now() < give_up => {
                    let left = held.until.saturating_sub(mailroom_store::now_ms());
                    let wait = Duration::from_millis(u64::try_from(left).unwrap_or(0))
                        .clamp(Duration::from_millis(200), self.lease.ttl());
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    /// The sync lease another node holds on the account now, if any: a
    /// sync asked for here waits until it ends or lapses.
    pub async fn waiting_for(
        &self,
        org: &OrgId,
        account: &AccountId,
    ) -> StoreResult<Option<SyncLease>> {
        let held = self
            .store
            .account_lease(org, account, AccountLease::Sync)
            .await?;
        Ok(held.filter(|l| l.node != self.lease.node()))
    }

    /// At start: gives back the leases this node's identity held before a
    /// restart (a crash, `kill -9`), so its accounts sync at once instead
    /// of when those leases lapse. Returns how many there were.
    pub async fn recover(&self) -> StoreResult<u64> {
        let released = self.store.release_leases_of_node(self.lease.node()).await?;
        if released > 0 {
            tracing::info!(
                node = self.lease.node(),
                released,
                "gave back the leases of this node's previous run"
            );
        }
        Ok(released)
    }

    /// Starts the account's push watcher unless one runs; returns its
    /// counters. POP3 accounts have no push.
    pub async fn watch(
        &self,
        org: &OrgId,
        account: &AccountId,
    ) -> Result<Arc<WatchStats>, ScheduleError> {
        if let Some(stats) = self.watchers.running(account) {
            return Ok(stats);
        }
        let stored = self.store.get_account(org, account).await?;
        if stored.protocol != Protocol::Imap {
            return Err(ScheduleError::NoPush);
        }
        let provider = PluginProvider::new(
            self.registry.clone(),
            org.clone(),
            stored.provider_id.as_deref(),
        );
        let slot = self.slot(account, &provider).await;
        let idle_restart = match self.settings.watch.idle_restart {
            Some(d) => d,
            None => provider.connection_quirks().await.idle_restart,
        };
        let stats = Arc::new(WatchStats::default());
        let watcher = Watcher {
            store: self.store.clone(),
            org: org.clone(),
            account: account.clone(),
            mapper: Arc::new(provider),
            options: self.settings.sync.clone(),
            settings: self.settings.watch.clone(),
            idle_restart,
            slot,
            lease: self.lease.clone(),
            push_lease: self.push_lease.clone(),
            backoff: self.settings.backoff,
            stats: stats.clone(),
        };
        Ok(self
            .watchers
            .insert(org, account, tokio::spawn(watcher.run()), stats))
    }

    /// At shutdown, after the [`run`](Self::run) task was aborted: stops
    /// every push watcher and gives back the leases this node's watchers and
    /// syncs held, so another node, or this one restarted, takes the
    /// accounts over at once rather than when the leases expire. A sync cut
    /// off resumes from its last committed batch.
    pub async fn stop(&self) {
        for (org, account, task) in self.watchers.abort_all() {
            // Aborted: this only waits for it to be dropped.
            let _ = task.await;
            self.push_lease.release(&org, &account).await;
            self.lease.release(&org, &account).await;
        }
        let cut_off: Vec<_> = self.leased.lock().drain().collect();
        for (org, account) in cut_off {
            self.lease.release(&org, &account).await;
        }
    }

    /// Stops what runs for the account on this node now: its push
    /// watcher, and any sync of it (which ends between two commits, so
    /// nothing stored is lost). Called once the store says the account is
    /// not to be synced; other nodes stop at their next lease renewal.
    pub async fn stop_account(&self, org: &OrgId, account: &AccountId) {
        let watcher = self.watchers.0.lock().remove(account);
        if let Some((task, _, _)) = watcher {
            task.abort();
            // Aborted: this only waits for it to be dropped.
            let _ = task.await;
            self.push_lease.release(org, account).await;
        }
        self.stop_signal(account).notify_waiters();
    }

    fn stop_signal(&self, account: &AccountId) -> Arc<Notify> {
        self.stops
            .lock()
            .entry(account.clone())
            .or_default()
            .clone()
    }

    /// The most IMAP connections the account had open at once on this
    /// node (push and syncs together); 0 before the first.
    pub fn peak_connections(&self, account: &AccountId) -> usize {
        self.slots
            .lock()
            .get(account)
            .map_or(0, |s| s.peak_connections())
    }

    /// True when a watcher now keeps the account in sync.
    async fn ensure_watched(&self, org: &OrgId, account: &AccountId) -> bool {
        match self.watch(org, account).await {
            Ok(_) => true,
            Err(ScheduleError::NoPush) => false,
            Err(e) => {
                tracing::warn!(org = %org, account = %account, error = %e, "cannot watch the account");
                false
            }
        }
    }

    /// The account's budget, sized by its provider when first needed.
    async fn slot(&self, account: &AccountId, provider: &PluginProvider) -> Arc<AccountSlot> {
        if let Some(slot) = self.slots.lock().get(account) {
            return slot.clone();
        }
        let quirks = provider.connection_quirks().await.max_connections;
        let max = self
            .settings
            .max_connections
            .map_or(quirks, |cap| cap.min(quirks));
        self.slots
            .lock()
            .entry(account.clone())
            .or_insert_with(|| AccountSlot::new(max))
            .clone()
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
        let wait = self.settings.backoff.delay(failures);
        backoff.insert(account.clone(), (Instant::now() + wait, failures));
    }
}
