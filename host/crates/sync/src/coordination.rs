//! Who may touch an account's mailbox, and how much: the per-account
//! connection budget (the provider's `max_connections`, shared by the push
//! watcher and full syncs), the node-local "one sync at a time" lock, and
//! the store leases that keep two nodes from syncing one account at once
//! or both keeping a push connection to it.

use mailroom_core::ids::{AccountId, OrgId};
use mailroom_store::{AccountLease, Store, StoreResult};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard, Notify, OwnedSemaphorePermit, Semaphore};

/// One account's share of this node: its IMAP connections and its sync turn.
pub struct AccountSlot {
    max_connections: usize,
    connections: Arc<Semaphore>,
    /// Callers waiting for a connection: a watcher holding one gives it up
    /// when the budget is spent and someone waits.
    waiting: AtomicUsize,
    waiter_arrived: Notify,
    peak: AtomicUsize,
    syncing: Mutex<()>,
}

impl AccountSlot {
    /// A budget of `max_connections` (at least one).
    pub fn new(max_connections: usize) -> Arc<AccountSlot> {
        let max_connections = max_connections.max(1);
        Arc::new(AccountSlot {
            max_connections,
            connections: Arc::new(Semaphore::new(max_connections)),
            waiting: AtomicUsize::new(0),
            waiter_arrived: Notify::new(),
            peak: AtomicUsize::new(0),
            syncing: Mutex::new(()),
        })
    }

    /// Waits for one connection of the budget; it is given back on drop.
    /// Waiters are served in order.
    pub async fn connection(&self) -> OwnedSemaphorePermit {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.waiter_arrived.notify_waiters();
        let permit = self.connections.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        // The semaphore is never closed, so acquiring cannot fail; a closed
        // one would mean "no budget", which waiting forever expresses.
        let Ok(permit) = permit else {
            return std::future::pending().await;
        };
        let in_use = self.max_connections - self.connections.available_permits();
        self.peak.fetch_max(in_use, Ordering::SeqCst);
        permit
    }

    /// Resolves once someone waits for a connection while none is free:
    /// a long-lived holder (the IDLE connection) should then step aside.
    pub async fn contended(&self) {
        loop {
            let arrived = self.waiter_arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if self.waiting.load(Ordering::SeqCst) > 0 && self.connections.available_permits() == 0
            {
                return;
            }
            arrived.await;
        }
    }

    /// The most connections this account had open at once on this node.
    pub fn peak_connections(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// This node's turn to sync the account (one sync at a time, whether
    /// push, poll or full). Take a connection first, then the turn.
    pub async fn sync_turn(&self) -> MutexGuard<'_, ()> {
        self.syncing.lock().await
    }
}

/// A store lease of an account held by this node: for one sync, or for
/// as long as it keeps the push connection.
#[derive(Clone)]
pub struct Lease {
    store: Store,
    kind: AccountLease,
    node: String,
    ttl: Duration,
}

impl Lease {
    pub fn new(store: Store, kind: AccountLease, node: String, ttl: Duration) -> Lease {
        Lease {
            store,
            kind,
            node,
            ttl,
        }
    }

    /// How long a taken lease holds unless renewed.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Takes (or renews) the lease; false when another node holds it.
    pub async fn take(&self, org: &OrgId, account: &AccountId) -> StoreResult<bool> {
        let ttl_ms = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        self.store
            .try_lease_account(org, account, self.kind, &self.node, ttl_ms)
            .await
    }

    /// The node this lease is taken for.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Renews the lease every third of its life; returns when another node
    /// has it (or the account is gone). A store error is retried at the
    /// next renewal: the lease outlives two missed ones. This is what lets
    /// leases be short: a node that dies stops renewing, and its lease
    /// lapses within one TTL instead of after the longest possible sync.
    pub async fn keep(&self, org: &OrgId, account: &AccountId) {
        loop {
            tokio::time::sleep(self.ttl / 3).await;
            match self.take(org, account).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(org = %org, account = %account, lease = ?self.kind, "the lease passed to another node");
                    return;
                }
                Err(e) => {
                    tracing::warn!(org = %org, account = %account, lease = ?self.kind, error = %e, "cannot renew the lease");
                }
            }
        }
    }

    /// Runs `work` under the lease (already taken), renewing it meanwhile,
    /// and gives it back after. `None` when the lease was lost midway: the
    /// work is dropped, since another node now does it.
    pub async fn holding<T>(
        &self,
        org: &OrgId,
        account: &AccountId,
        work: impl Future<Output = T>,
    ) -> Option<T> {
        let out = tokio::select! {
            out = work => Some(out),
            () = self.keep(org, account) => None,
        };
        self.release(org, account).await;
        out
    }

    /// Gives the lease back; a failure only delays other nodes until it
    /// expires, so it is logged.
    pub async fn release(&self, org: &OrgId, account: &AccountId) {
        if let Err(e) = self
            .store
            .release_account_lease(org, account, self.kind, &self.node)
            .await
        {
            tracing::warn!(org = %org, account = %account, lease = ?self.kind, error = %e, "cannot release lease");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiter_makes_the_budget_contended_and_gets_the_next_connection() {
        let slot = AccountSlot::new(1);
        let held = slot.connection().await;
        let waiter = {
            let slot = slot.clone();
            tokio::spawn(async move {
                let _p = slot.connection().await;
            })
        };
        tokio::time::timeout(Duration::from_secs(5), slot.contended())
            .await
            .expect("contention seen");
        drop(held);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("waiter served")
            .expect("waiter ran");
        assert_eq!(slot.peak_connections(), 1);
    }
}
