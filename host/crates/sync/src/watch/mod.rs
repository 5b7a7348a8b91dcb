//! Push for one IMAP account: a long-lived connection that IDLEs on INBOX
//! and syncs it as soon as the server reports a change, polls the other
//! folders with one STATUS each (syncing only those that changed), and
//! runs a full sync (folder discovery, every folder) when it connects and
//! every `full_sync_interval`, all on that one connection.
//!
//! Only the node holding the account's push lease keeps a connection; a
//! watcher on another node waits in standby and takes over when the lease
//! is released or expires. Every sync takes the account's sync turn on
//! this node and its sync lease, so it never overlaps another sync of the
//! account here or on another node. The connection counts against the
//! account's budget; when someone else waits for a connection and none is
//! free, the watcher logs out and queues behind them. A broken or silent
//! connection ends in an error (every command has a timeout; IDLE is
//! re-issued every `idle_restart` and probed after `keepalive` of
//! silence), and the watcher reconnects after a jittered backoff. A server
//! without IDLE gets INBOX polled with STATUS like the other folders.

mod changes;

pub use changes::folder_changed;

use super::coordination::{AccountSlot, Lease};
use super::credentials::open_imap_session;
use super::{FolderMapper, Scope, SyncError, SyncOptions, SyncReport, SyncResult};
use mailroom_core::backoff::Backoff;
use mailroom_core::ids::{AccountId, FolderId, OrgId};
use mailroom_net::NetError;
use mailroom_net::imap::{FolderStatus, IdleEnd, ImapSession};
use mailroom_store::{Account, AccountStatus, Folder, Protocol, Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// How the watcher paces itself. Tests shrink these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchSettings {
    /// Most time between two STATUS polls of the other folders.
    pub poll_interval: Duration,
    /// Most time between two full syncs (new folders; flag changes on
    /// servers without CONDSTORE, which STATUS cannot show).
    pub full_sync_interval: Duration,
    /// After the first change reported by IDLE, wait this long for the
    /// rest of a burst before syncing.
    pub debounce: Duration,
    /// Overrides the provider's IDLE restart interval.
    pub idle_restart: Option<Duration>,
    /// Longest server silence during IDLE before the link is probed.
    pub keepalive: Duration,
    /// How long the push lease holds unless renewed (every third of it):
    /// after a node dies, another takes its push over within about 1.5×.
    pub push_lease: Duration,
    /// How often a connection checks for the user's changes waiting to be
    /// written to the server (made on any node), so they reach it within
    /// seconds rather than at the next full sync.
    pub writeback_check: Duration,
}

impl Default for WatchSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(60),
            full_sync_interval: Duration::from_secs(15 * 60),
            debounce: Duration::from_millis(500),
            idle_restart: None,
            keepalive: Duration::from_secs(5 * 60),
            push_lease: Duration::from_secs(2 * 60),
            writeback_check: Duration::from_secs(1),
        }
    }
}

/// What a watcher did so far (for tests and operators).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WatchCounts {
    /// Connections opened (the first, and one per reconnect or yield).
    pub connects: u64,
    /// IDLE commands issued (the watcher was listening for push).
    pub idles: u64,
    /// IDLEs ended by the restart interval and issued again.
    pub idle_restarts: u64,
    /// INBOX syncs started by a change IDLE reported.
    pub pushes: u64,
    /// STATUS polls of the other folders.
    pub polls: u64,
    /// Folders synced because a poll saw them change (over all polls).
    pub folders_synced_by_polls: u64,
    pub full_syncs: u64,
    /// Times the connection was given up for someone waiting for one.
    pub yields: u64,
    /// Connections that ended in an error.
    pub errors: u64,
    /// Times the push lease was found held by another node (this watcher
    /// then stays in standby).
    pub watched_elsewhere: u64,
    /// Times the push lease was lost while held (another node took over).
    pub leases_lost: u64,
}

#[derive(Debug, Default)]
pub struct WatchStats {
    connects: AtomicU64,
    idles: AtomicU64,
    idle_restarts: AtomicU64,
    pushes: AtomicU64,
    polls: AtomicU64,
    folders_synced_by_polls: AtomicU64,
    full_syncs: AtomicU64,
    yields: AtomicU64,
    errors: AtomicU64,
    watched_elsewhere: AtomicU64,
    leases_lost: AtomicU64,
}

impl WatchStats {
    pub fn counts(&self) -> WatchCounts {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        WatchCounts {
            connects: get(&self.connects),
            idles: get(&self.idles),
            idle_restarts: get(&self.idle_restarts),
            pushes: get(&self.pushes),
            polls: get(&self.polls),
            folders_synced_by_polls: get(&self.folders_synced_by_polls),
            full_syncs: get(&self.full_syncs),
            yields: get(&self.yields),
            errors: get(&self.errors),
            watched_elsewhere: get(&self.watched_elsewhere),
            leases_lost: get(&self.leases_lost),
        }
    }
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::SeqCst);
}

/// What a watcher needs; the scheduler builds it.
pub struct Watcher {
    pub store: Store,
    pub org: OrgId,
    pub account: AccountId,
    pub mapper: Arc<dyn FolderMapper>,
    pub options: SyncOptions,
    pub settings: WatchSettings,
    /// From the provider's quirks unless the settings override it.
    pub idle_restart: Duration,
    pub slot: Arc<AccountSlot>,
    /// Taken for each sync.
    pub lease: Lease,
    /// Held while this watcher keeps the push connection.
    pub push_lease: Lease,
    /// First wait after a failure, and the most.
    pub backoff: Backoff,
    pub stats: Arc<WatchStats>,
}

/// Carried from one connection to the next.
struct WatchState {
    next_full: Instant,
    next_poll: Instant,
    /// The STATUS of each folder when it was last known in sync.
    seen: HashMap<FolderId, FolderStatus>,
    /// IDLE reported a change that is not synced yet.
    inbox_dirty: bool,
}

/// How a connection ended without an error.
enum ConnectionEnd {
    /// The account is gone, disabled or not IMAP: stop watching.
    Stop,
    /// Given up for someone waiting for a connection.
    Yielded,
}

impl Watcher {
    /// Watches until the account is deleted or disabled (or the task is
    /// dropped: everything committed stays, the rest comes next time).
    pub async fn run(self) {
        let now = Instant::now();
        let mut state = WatchState {
            next_full: now,
            next_poll: now + self.settings.poll_interval,
            seen: HashMap::new(),
            inbox_dirty: false,
        };
        let standby = self.push_lease.ttl() / 2;
        loop {
            match self.push_lease.take(&self.org, &self.account).await {
                Ok(true) => {}
                Ok(false) => {
                    // Another node watches, or the account is gone.
                    if matches!(self.account_to_watch().await, Ok(None)) {
                        return;
                    }
                    bump(&self.stats.watched_elsewhere, 1);
                    tokio::time::sleep(standby).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(org = %self.org, account = %self.account, error = %e, "cannot take the push lease");
                    tokio::time::sleep(standby).await;
                    continue;
                }
            }
            tokio::select! {
                () = self.watch_while_held(&mut state) => {
                    self.push_lease.release(&self.org, &self.account).await;
                    return;
                }
                () = self.push_lease.keep(&self.org, &self.account) => {
                    bump(&self.stats.leases_lost, 1);
                    // What the other node did meanwhile is not known here.
                    state.next_full = Instant::now();
                    state.seen.clear();
                }
            }
        }
    }

    /// Connections, one after another, until the account is no longer to
    /// be watched.
    async fn watch_while_held(&self, state: &mut WatchState) {
        let mut failures = 0u32;
        loop {
            match self.connection(state).await {
                Ok(ConnectionEnd::Stop) => return,
                Ok(ConnectionEnd::Yielded) => failures = 0,
                Err(e) => {
                    bump(&self.stats.errors, 1);
                    failures = failures.saturating_add(1);
                    tracing::warn!(org = %self.org, account = %self.account, error = %e, "push connection failed");
                    self.record_error(&e).await;
                    // Whatever happened while disconnected is caught up by
                    // a full sync on the next connection.
                    state.next_full = Instant::now();
                    state.seen.clear();
                    let wait = self.backoff.delay(failures);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// The account, or `None` when it is gone, disabled, not IMAP, or not
    /// to be synced (see `SyncStop`).
    async fn account_to_watch(&self) -> SyncResult<Option<Account>> {
        let account = match self.store.get_account(&self.org, &self.account).await {
            Ok(a) => a,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let watchable = account.protocol == Protocol::Imap
            && account.status != AccountStatus::Disabled
            && self
                .store
                .sync_stopped(&self.org, &self.account)
                .await?
                .is_none();
        Ok(watchable.then_some(account))
    }

    /// One connection, from login to an error or a yield.
    async fn connection(&self, state: &mut WatchState) -> SyncResult<ConnectionEnd> {
        let Some(account) = self.account_to_watch().await? else {
            return Ok(ConnectionEnd::Stop);
        };
        let _connection = self.slot.connection().await;
        let mut session = open_imap_session(&self.store, &account, self.options.timeouts).await?;
        bump(&self.stats.connects, 1);
        let push = session.has_capability("IDLE");
        let mut inbox_selected = false;
        loop {
            if Instant::now() >= state.next_full {
                inbox_selected = false;
                if self
                    .sync(&mut session, Scope::All(self.mapper.as_ref()))
                    .await?
                    .is_some()
                {
                    bump(&self.stats.full_syncs, 1);
                    let now = Instant::now();
                    state.next_full = now + self.settings.full_sync_interval;
                    state.next_poll = now + self.settings.poll_interval;
                    state.seen.clear();
                    state.inbox_dirty = false;
                } else {
                    // Another node is syncing the account: try again at
                    // the next poll rather than at once.
                    state.next_full = Instant::now() + self.settings.poll_interval;
                }
            }
            if Instant::now() >= state.next_poll {
                if self.poll(&mut session, state, !push).await? {
                    inbox_selected = false;
                }
                state.next_poll = Instant::now() + self.settings.poll_interval;
            }
            let wake = state.next_poll.min(state.next_full);
            if !push {
                tokio::select! {
                    () = tokio::time::sleep_until(wake) => continue,
                    () = self.slot.contended() => return Ok(self.step_aside(session).await),
                    () = self.changes_waiting() => {
                        self.write_back(&mut session).await?;
                        inbox_selected = false;
                        continue;
                    }
                }
            }
            if state.inbox_dirty || !inbox_selected {
                // INBOX is selected by a sync, never a bare SELECT: mail
                // arriving between a sync and IDLE would go unnoticed.
                let pushed = state.inbox_dirty;
                if self.sync_inbox(&mut session).await? {
                    state.inbox_dirty = false;
                    if pushed {
                        bump(&self.stats.pushes, 1);
                    }
                }
                inbox_selected = true;
            }
            // Changes the server reported during the INBOX sync.
            if session.take_mailbox_changes() {
                state.inbox_dirty = true;
                continue;
            }
            bump(&self.stats.idles, 1);
            let restart_at = Instant::now() + self.idle_restart;
            let until = wake.min(restart_at);
            let changes = AtomicBool::new(false);
            let interrupt = async {
                tokio::select! {
                    () = self.slot.contended() => {}
                    () = self.changes_waiting() => changes.store(true, Ordering::SeqCst),
                }
            };
            let (back, end) = session
                .idle(
                    until.saturating_duration_since(Instant::now()),
                    self.settings.keepalive.min(self.idle_restart),
                    interrupt,
                )
                .await?;
            session = back;
            match end {
                IdleEnd::Changed => {
                    tokio::time::sleep(self.settings.debounce).await;
                    state.inbox_dirty = true;
                }
                IdleEnd::TimeUp if restart_at <= wake => bump(&self.stats.idle_restarts, 1),
                IdleEnd::TimeUp => {}
                IdleEnd::Interrupted if changes.load(Ordering::SeqCst) => {
                    self.write_back(&mut session).await?;
                    inbox_selected = false;
                }
                IdleEnd::Interrupted => return Ok(self.step_aside(session).await),
            }
        }
    }

    /// Resolves once the user's changes to this account wait to be
    /// written to the server and are due.
    async fn changes_waiting(&self) {
        loop {
            tokio::time::sleep(self.settings.writeback_check).await;
            match self
                .store
                .server_changes_due(&self.org, &self.account)
                .await
            {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => {
                    tracing::debug!(account = %self.account, error = %e, "cannot look for changes to write back");
                }
            }
        }
    }

    /// Writes the user's waiting changes on this connection (a sync of no
    /// folder: write-back alone), under the account's turn and lease.
    async fn write_back(&self, session: &mut ImapSession) -> SyncResult<()> {
        self.sync(session, Scope::Only(self.mapper.as_ref(), &[]))
            .await?;
        Ok(())
    }

    async fn step_aside(&self, session: ImapSession) -> ConnectionEnd {
        session.logout().await;
        bump(&self.stats.yields, 1);
        ConnectionEnd::Yielded
    }

    /// One STATUS per folder (INBOX too when `with_inbox`), then one sync
    /// of the folders that changed. Returns whether anything was synced
    /// (and so another folder is selected now).
    async fn poll(
        &self,
        session: &mut ImapSession,
        state: &mut WatchState,
        with_inbox: bool,
    ) -> SyncResult<bool> {
        let folders = self.store.list_folders(&self.org, &self.account).await?;
        let mut changed = Vec::new();
        let mut observed = Vec::new();
        for folder in folders.iter().filter(|f| with_inbox || !is_inbox(f)) {
            let status = match session.status(&folder.name).await {
                Ok(s) => s,
                // Refused (e.g. deleted meanwhile): the next full sync
                // brings the folder list up to date.
                Err(NetError::Protocol(why)) => {
                    tracing::debug!(account = %self.account, folder = %folder.name, why, "STATUS refused");
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let seen = state.seen.get(&folder.id);
            let stored = match seen {
                Some(_) => 0,
                None => self.store.count_folder_uids(&self.org, &folder.id).await?,
            };
            if folder_changed(&status, seen, folder, stored) {
                changed.push(folder.id.clone());
            }
            observed.push((folder.id.clone(), status));
        }
        bump(&self.stats.polls, 1);
        let synced = changed.is_empty()
            || self
                .sync(session, Scope::Only(self.mapper.as_ref(), &changed))
                .await?
                .is_some();
        if !synced {
            // Another node holds the lease: the changed folders stay
            // unseen and are synced at a later poll.
            observed.retain(|(id, _)| !changed.contains(id));
        } else {
            bump(&self.stats.folders_synced_by_polls, changed.len() as u64);
        }
        state.seen.extend(observed);
        Ok(synced && !changed.is_empty())
    }

    /// A sync on the watcher's session under the account's turn and lease;
    /// `None` when another node holds the lease.
    async fn sync(
        &self,
        session: &mut ImapSession,
        scope: Scope<'_>,
    ) -> SyncResult<Option<SyncReport>> {
        let _turn = self.slot.sync_turn().await;
        if !self.lease.take(&self.org, &self.account).await? {
            return Ok(None);
        }
        // The account as it is now, not as it was when this connection
        // opened: a folder mapping (or any setting) changed since must hold
        // for this sync, or its roles would be reset from a stale copy.
        let current = match self.store.get_account(&self.org, &self.account).await {
            Ok(current) => current,
            Err(e) => {
                self.lease.release(&self.org, &self.account).await;
                return Err(e.into());
            }
        };
        let account = &current;
        let mut progress = |_| {};
        let work = super::sync_on_session(
            session,
            &self.store,
            account,
            scope,
            &self.options,
            &mut progress,
        );
        let Some(result) = self.lease.holding(&self.org, &self.account, work).await else {
            // Another node took the account over; it syncs it now.
            return Ok(None);
        };
        super::record_outcome(&self.store, account, &result).await?;
        result.map(Some)
    }

    /// Syncs INBOX and leaves it selected; false (INBOX selected, not
    /// synced) when another node holds the lease or INBOX is not known yet.
    async fn sync_inbox(&self, session: &mut ImapSession) -> SyncResult<bool> {
        // Whatever the server said about earlier folders is done with.
        session.take_mailbox_changes();
        let folders = self.store.list_folders(&self.org, &self.account).await?;
        if let Some(inbox) = folders.into_iter().find(is_inbox) {
            let only = [inbox.id];
            if self
                .sync(session, Scope::Only(self.mapper.as_ref(), &only))
                .await?
                .is_some()
            {
                return Ok(true);
            }
        }
        let condstore = session.has_capability("CONDSTORE");
        session.select("INBOX", condstore).await?;
        Ok(false)
    }

    /// Puts a connection failure on the account, where admins look.
    async fn record_error(&self, e: &SyncError) {
        if let Err(store_error) = self
            .store
            .set_account_status(
                &self.org,
                &self.account,
                AccountStatus::Error,
                Some(&e.to_string()),
            )
            .await
        {
            tracing::error!(account = %self.account, error = %store_error, "could not record the push error");
        }
    }
}

fn is_inbox(folder: &Folder) -> bool {
    folder.name.eq_ignore_ascii_case("INBOX")
}
