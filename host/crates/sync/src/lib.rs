//! Mail sync: keeps each connected mailbox's messages, flags and folders in
//! the store, never losing or duplicating a message (see DESIGN.md,
//! principles 3 and 4). `imap` and `pop3` hold each protocol's sync (over
//! the protocol clients of `mailroom-net`), `credentials` how an account
//! logs in; this module runs an account's sync from start to end, by its
//! protocol, and records its outcome on the account.
//!
//! Entry points: [`sync_account`] (one full incremental pass over every
//! folder), [`sync_folders_with`] (chosen folders only),
//! [`watch::Watcher`] (push and STATUS polling on one long-lived
//! connection) and [`diagnose::test_account`] (the connection test).

// Not every public item has its doc comment yet (the workspace warns on
// missing docs; the module docs say what each part owns).
#![allow(missing_docs)]

mod batch;
pub mod coordination;
pub mod credentials;
pub mod diagnose;
mod error;
pub mod imap;
pub mod pop3;
pub mod provider;
pub mod report;
pub mod scheduler;
pub mod watch;

pub use error::{SyncError, SyncErrorKind, SyncResult};
pub use mailroom_net::{ImapSession, Timeouts};
pub use provider::{
    ConnectionQuirks, Diagnoser, Diagnosis, FolderMapper, NoDiagnoser, NoFolderMapper,
    PluginProvider,
};
pub use report::{ExpungeDetection, FolderReport, SyncProgress, SyncReport, WriteBackReport};

use mailroom_core::ids::{AccountId, FolderId, OrgId};
use mailroom_net::NetError;
use mailroom_store::{Account, AccountStatus, Protocol, Store, now_ms};

/// How a sync runs. The defaults suit real servers; tests shrink batches
/// and timeouts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncOptions {
    /// Most messages per FETCH batch (one transaction each).
    pub batch_messages: usize,
    /// About this many bytes per batch (a bigger message goes alone).
    pub batch_bytes: u64,
    /// Without CONDSTORE, how many of a folder's newest messages get their
    /// flags re-read on each sync.
    pub flag_window: usize,
    pub timeouts: Timeouts,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            batch_messages: 200,
            batch_bytes: 16 << 20,
            flag_window: 2000,
            timeouts: Timeouts::default(),
        }
    }
}

/// Syncs every folder of an account with the default options. See
/// [`sync_account_with`].
pub async fn sync_account(
    store: &Store,
    org: &OrgId,
    account: &AccountId,
    folder_mapper: &dyn FolderMapper,
    progress: impl FnMut(SyncProgress) + Send,
) -> SyncResult<SyncReport> {
    sync_account_with(
        store,
        org,
        account,
        folder_mapper,
        &SyncOptions::default(),
        progress,
    )
    .await
}

/// Connects, discovers the folders (roles: special-use, then
/// `folder_mapper`, with the account's manual mapping overriding), syncs
/// each folder, and records the outcome on the account (status, last
/// error, last sync time). A folder the server refuses is reported and
/// skipped; a broken connection, a login failure or a store failure ends
/// the sync with an error. Dropping the future at any point is safe: what
/// was committed stays, the rest is fetched next time. A POP3 account
/// syncs its one mailbox instead (see [`pop3::sync`]).
pub async fn sync_account_with(
    store: &Store,
    org: &OrgId,
    account: &AccountId,
    folder_mapper: &dyn FolderMapper,
    options: &SyncOptions,
    progress: impl FnMut(SyncProgress) + Send,
) -> SyncResult<SyncReport> {
    sync_scope(
        store,
        org,
        account,
        Scope::All(folder_mapper),
        options,
        progress,
    )
    .await
}

/// Like [`sync_account_with`], but only the stored folders `only` (no
/// folder discovery): what a change seen by STATUS or IDLE needs. Ids of
/// folders the account no longer has are ignored.
pub async fn sync_folders_with(
    store: &Store,
    org: &OrgId,
    account: &AccountId,
    folder_mapper: &dyn FolderMapper,
    only: &[FolderId],
    options: &SyncOptions,
    progress: impl FnMut(SyncProgress) + Send,
) -> SyncResult<SyncReport> {
    let scope = Scope::Only(folder_mapper, only);
    sync_scope(store, org, account, scope, options, progress).await
}

/// Which folders a sync covers; the provider's mapper either way (it also
/// says how the user's changes are written back).
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    /// Every folder the server lists, roles decided by the mapper.
    All(&'a dyn FolderMapper),
    /// These stored folders only.
    Only(&'a dyn FolderMapper, &'a [FolderId]),
}

impl<'a> Scope<'a> {
    fn mapper(&self) -> &'a dyn FolderMapper {
        match *self {
            Scope::All(mapper) | Scope::Only(mapper, _) => mapper,
        }
    }
}

async fn sync_scope(
    store: &Store,
    org: &OrgId,
    account: &AccountId,
    scope: Scope<'_>,
    options: &SyncOptions,
    mut progress: impl FnMut(SyncProgress) + Send,
) -> SyncResult<SyncReport> {
    let account = store.get_account(org, account).await?;
    store
        .set_account_status(org, &account.id, AccountStatus::Syncing, None)
        .await?;
    let result = match account.protocol {
        Protocol::Imap => {
            async {
                let mut session =
                    credentials::open_imap_session(store, &account, options.timeouts).await?;
                let report =
                    sync_on_session(&mut session, store, &account, scope, options, &mut progress)
                        .await?;
                session.logout().await;
                Ok(report)
            }
            .await
        }
        Protocol::Pop3 => pop3::sync::sync_account(store, &account, options, &mut progress).await,
    };
    record_outcome(store, &account, &result).await?;
    result
}

/// Records a sync's outcome on the account: on success the time and the
/// folders the server refused (if any), on failure the error.
pub(crate) async fn record_outcome(
    store: &Store,
    account: &Account,
    result: &SyncResult<SyncReport>,
) -> SyncResult<()> {
    let org = &account.org;
    match result {
        Ok(report) => {
            store
                .record_account_synced(org, &account.id, now_ms())
                .await?;
            let failed: Vec<String> = report
                .folders
                .iter()
                .filter_map(|f| Some(format!("{}: {}", f.folder, f.error.as_deref()?)))
                .collect();
            if !failed.is_empty() {
                store
                    .set_account_status(
                        org,
                        &account.id,
                        AccountStatus::Ok,
                        Some(&failed.join("; ")),
                    )
                    .await?;
            }
        }
        Err(e) => {
            // The sync error is what the caller needs; a failure to record
            // it is only logged.
            if let Err(store_error) = store
                .set_account_status(org, &account.id, AccountStatus::Error, Some(&e.to_string()))
                .await
            {
                tracing::error!(account = %account.id, error = %store_error, "could not record the sync error");
            }
        }
    }
    Ok(())
}

/// Syncs the folders of `scope` over an open session (which stays open:
/// the push watcher goes on using it).
pub(crate) async fn sync_on_session(
    session: &mut ImapSession,
    store: &Store,
    account: &Account,
    scope: Scope<'_>,
    options: &SyncOptions,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> SyncResult<SyncReport> {
    let folders = match scope {
        Scope::All(mapper) => {
            imap::folders::discover_folders(session, store, account, mapper).await?
        }
        Scope::Only(_, ids) => store
            .list_folders(&account.org, &account.id)
            .await?
            .into_iter()
            .filter(|f| ids.contains(&f.id))
            .collect(),
    };
    // The user's changes first, so the pull sees them on the server.
    // Gmail says so itself (`X-GM-EXT-1`), also for a Workspace domain
    // that suggested no provider plugin.
    let labels_as_folders =
        scope.mapper().labels_as_folders().await || session.has_capability("X-GM-EXT-1");
    let quirks = imap::sync::FolderQuirks {
        labels_as_folders,
        qresync_broken: scope.mapper().qresync_broken().await,
    };
    let mut report = SyncReport {
        write_back: imap::writeback::write_back(session, store, account, labels_as_folders).await?,
        ..Default::default()
    };
    progress(SyncProgress::Folders {
        total: folders.len(),
    });
    // A folder's last batch may still be committing while the next folder
    // is read; its report is complete (and announced) once it has.
    let mut carry = imap::storing::Carry::default();
    for folder in &folders {
        let index = report.folders.len();
        carry.start_folder(index);
        let done = imap::sync::sync_folder(
            session, store, account, folder, quirks, options, &mut carry, progress,
        )
        .await;
        let folder_report = match done {
            Ok(r) => r,
            // The server refused this folder (e.g. NO to SELECT): the
            // session is still fine, the other folders go on.
            Err(SyncError::Net(NetError::Protocol(why))) => FolderReport {
                folder: folder.name.clone(),
                role: folder.role.clone(),
                error: Some(why),
                ..Default::default()
            },
            Err(e) => {
                // What was fetched is stored before giving up.
                if let Err(store_error) = carry.settle_last(progress).await {
                    tracing::warn!(account = %account.id, error = %store_error, "the last batch could not be stored");
                }
                return Err(e);
            }
        };
        report.folders.push(folder_report);
        for done in carry.credit_earlier(&mut report.folders) {
            progress(SyncProgress::FolderDone(report.folders[done].clone()));
        }
        if !carry.holds(index) {
            progress(SyncProgress::FolderDone(report.folders[index].clone()));
        }
    }
    carry.settle_last(progress).await?;
    for done in carry.credit_earlier(&mut report.folders) {
        progress(SyncProgress::FolderDone(report.folders[done].clone()));
    }
    if report.write_back.deferred > 0 {
        // Their folders were renumbered; the pull has found the messages
        // again at their new UIDs.
        let again = imap::writeback::write_back(session, store, account, labels_as_folders).await?;
        report.write_back.applied += again.applied;
        report.write_back.retried += again.retried;
        report.write_back.failed += again.failed;
        report.write_back.deferred = again.deferred;
    }
    Ok(report)
}
