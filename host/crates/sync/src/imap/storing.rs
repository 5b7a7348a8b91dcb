//! Storing fetched batches while the session goes on fetching. A batch is
//! parsed, hashed and committed (with its folder checkpoint) in a task of
//! its own; meanwhile the session fetches the next batch — or, for a
//! folder's last batch, selects and reads the next folder: in a first sync
//! most folders fit in one batch, and waiting for each one's commit before
//! the next SELECT left the machine idle a quarter of the time.
//!
//! At most one batch is committing at a time (the [`Carry`]), so batches
//! commit in order and memory stays bounded by two batches. Anything that
//! reads what the last batch stored, or writes to the store itself, settles
//! the carry first: SQLite makes a second writer wait by sleeping.

use super::super::error::SyncResult;
use super::super::report::{FolderReport, SyncProgress};
use mailroom_net::NetError;
use mailroom_net::imap::FetchedMessage;
use mailroom_store::{Account, Folder, FolderCheckpoint, IncomingMessage, Location, Store};

/// One fetched batch being stored. Dropping it, as when the sync is
/// cancelled, aborts the task: the transaction rolls back and the batch is
/// fetched again next time.
pub(super) struct StoringBatch {
    task: tokio::task::JoinHandle<SyncResult<StoredBatch>>,
}

/// What a committed batch adds to its folder's report.
pub(super) struct StoredBatch {
    messages: u64,
    new: u64,
    bytes: u64,
}

impl StoringBatch {
    pub(super) fn start(
        store: &Store,
        account: &Account,
        folder: &Folder,
        messages: Vec<FetchedMessage>,
        checkpoint: FolderCheckpoint,
    ) -> StoringBatch {
        let (store, org, account, folder_id) = (
            store.clone(),
            account.org.clone(),
            account.id.clone(),
            folder.id.clone(),
        );
        let task = tokio::spawn(async move {
            let items: Vec<IncomingMessage<'_>> = messages
                .iter()
                .filter_map(|m| {
                    Some(IncomingMessage {
                        location: Location::Imap {
                            folder: folder_id.clone(),
                            uidvalidity: checkpoint.uidvalidity,
                            uid: m.uid,
                            flags: m.flags.clone(),
                            modseq: m.modseq,
                        },
                        raw: m.body.as_deref()?,
                        received_at: m.internal_date_ms,
                    })
                })
                .collect();
            let ingested = store
                .ingest_batch(&org, &account, &items, Some(&checkpoint))
                .await?;
            Ok(StoredBatch {
                messages: items.len() as u64,
                new: ingested.iter().filter(|i| i.new).count() as u64,
                bytes: items.iter().map(|i| i.raw.len() as u64).sum(),
            })
        });
        StoringBatch { task }
    }

    /// Waits for the batch to commit.
    async fn committed(mut self) -> SyncResult<StoredBatch> {
        (&mut self.task)
            .await
            .map_err(|e| NetError::Protocol(format!("storing a batch failed: {e}")))?
    }
}

impl Drop for StoringBatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StoredBatch {
    fn credit(&self, report: &mut FolderReport) {
        report.new_messages += self.new;
        report.fetched += self.messages;
        report.bytes += self.bytes;
    }
}

/// The batch committing while the sync goes on, and the commits whose
/// folder report is no longer at hand (an earlier folder's, credited by the
/// account loop with [`Carry::credit_earlier`]).
#[derive(Default)]
pub struct Carry {
    committing: Option<Carried>,
    /// Index, in the account's report, of the folder being synced.
    folder_index: usize,
    earlier: Vec<(usize, StoredBatch)>,
}

struct Carried {
    batch: StoringBatch,
    folder_index: usize,
    folder_name: String,
}

impl Carry {
    /// The account loop starts syncing the folder whose report will have
    /// this index.
    pub fn start_folder(&mut self, folder_index: usize) {
        self.folder_index = folder_index;
    }

    /// Whether the batch still committing belongs to that folder (its
    /// report is not complete yet).
    pub fn holds(&self, folder_index: usize) -> bool {
        self.committing
            .as_ref()
            .is_some_and(|c| c.folder_index == folder_index)
    }

    /// Hands over a batch that has started committing; the previous one
    /// must have been settled.
    pub(super) fn hand_over(&mut self, batch: StoringBatch, folder: &Folder) {
        debug_assert!(self.committing.is_none(), "settle before handing over");
        self.committing = Some(Carried {
            batch,
            folder_index: self.folder_index,
            folder_name: folder.name.clone(),
        });
    }

    /// Waits for the committing batch, if any; credits it to `current` when
    /// it is that folder's, else keeps it for [`Self::credit_earlier`].
    pub(super) async fn settle(
        &mut self,
        current: &mut FolderReport,
        progress: &mut (dyn FnMut(SyncProgress) + Send),
    ) -> SyncResult<()> {
        let Some(carried) = self.committing.take() else {
            return Ok(());
        };
        let stored = carried.batch.committed().await?;
        progress(SyncProgress::BatchCommitted {
            folder: carried.folder_name,
            messages: stored.messages,
            bytes: stored.bytes,
        });
        if carried.folder_index == self.folder_index {
            stored.credit(current);
        } else {
            self.earlier.push((carried.folder_index, stored));
        }
        Ok(())
    }

    /// Settles the committing batch at the end of the folders.
    pub async fn settle_last(
        &mut self,
        progress: &mut (dyn FnMut(SyncProgress) + Send),
    ) -> SyncResult<()> {
        // Nothing is being synced now: every commit goes to `earlier`.
        self.folder_index = usize::MAX;
        self.settle(&mut FolderReport::default(), progress).await
    }

    /// Credits the commits of earlier folders to their reports; returns the
    /// indexes of those folders, now complete.
    pub fn credit_earlier(&mut self, reports: &mut [FolderReport]) -> Vec<usize> {
        let mut completed = Vec::new();
        for (index, stored) in self.earlier.drain(..) {
            if let Some(report) = reports.get_mut(index) {
                stored.credit(report);
                completed.push(index);
            }
        }
        completed
    }
}
