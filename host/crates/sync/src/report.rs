//! What a sync did, for the caller (CLI progress bar, API status, tests):
//! per folder, how many messages were new, re-seen, re-flagged or gone, and
//! how many bytes came over the wire; what writing the user's changes back
//! did; and the progress events on the way. Plain data: this module
//! depends on no other part of sync (the protocols fill it in).

use serde::Serialize;

/// One folder's sync.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FolderReport {
    /// The server's name of the folder.
    pub folder: String,
    pub role: Option<String>,
    /// Messages the store did not have before (each goes through the
    /// pipeline once).
    pub new_messages: u64,
    /// Messages downloaded, including ones the store already had (after a
    /// UIDVALIDITY change, or mail that is in several folders).
    pub fetched: u64,
    /// Known messages whose flags changed on the server.
    pub updated_flags: u64,
    /// Known messages no longer in the folder on the server.
    pub expunged: u64,
    /// How the folder was checked for expunged messages: `qresync` (the
    /// server listed what vanished since the last sync) or `uid-search`
    /// (the folder's UIDs compared with the stored ones). None when the
    /// folder was not checked (first sync, or the folder was renumbered).
    pub expunge_detection: Option<ExpungeDetection>,
    /// POP3 with "keep messages on server" off: messages deleted from the
    /// server after they were stored.
    pub deleted_from_server: u64,
    /// Raw message bytes downloaded.
    pub bytes: u64,
    /// The server renumbered the folder; its messages were matched again.
    pub uidvalidity_changed: bool,
    /// After a renumbering, stored messages found again by Message-ID and
    /// size without downloading them.
    pub rematched: u64,
    /// Why this folder was skipped, when the server refused it (the others
    /// still synced).
    pub error: Option<String>,
}

/// How a folder sync finds known messages that left the folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExpungeDetection {
    /// QRESYNC (RFC 7162): the SELECT itself reports the UIDs that
    /// vanished and the flags that changed since the last sync.
    Qresync,
    /// `UID SEARCH` of the folder's UIDs, compared with the stored ones
    /// (skipped when the message counts show nothing went).
    UidSearch,
}

/// What writing the user's changes back did (IMAP's `writeback`, before
/// the pull).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WriteBackReport {
    /// Changes the server now has (and that left the queue).
    pub applied: u64,
    /// Changes that failed this time and are retried later.
    pub retried: u64,
    /// Changes waiting for the pull to find their message again.
    pub deferred: u64,
    /// Changes the server cannot take as things are (see the account's
    /// server-changes status for why).
    pub failed: u64,
}

/// A whole account's sync.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SyncReport {
    pub folders: Vec<FolderReport>,
    /// The user's changes written to the server before the pull.
    pub write_back: WriteBackReport,
}

impl SyncReport {
    pub fn new_messages(&self) -> u64 {
        self.folders.iter().map(|f| f.new_messages).sum()
    }

    pub fn fetched(&self) -> u64 {
        self.folders.iter().map(|f| f.fetched).sum()
    }

    pub fn updated_flags(&self) -> u64 {
        self.folders.iter().map(|f| f.updated_flags).sum()
    }

    pub fn expunged(&self) -> u64 {
        self.folders.iter().map(|f| f.expunged).sum()
    }

    pub fn deleted_from_server(&self) -> u64 {
        self.folders.iter().map(|f| f.deleted_from_server).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.folders.iter().map(|f| f.bytes).sum()
    }

    /// The report of the folder with this server name.
    pub fn folder(&self, name: &str) -> Option<&FolderReport> {
        self.folders.iter().find(|f| f.folder == name)
    }
}

/// Progress events, in order: the folder list, then per folder a start,
/// one event per committed batch, and its report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncProgress {
    Folders {
        total: usize,
    },
    FolderStarted {
        folder: String,
        /// Messages to download in this folder and their announced size.
        messages: u64,
        bytes: u64,
    },
    /// A batch was committed (stored and checkpointed).
    BatchCommitted {
        folder: String,
        messages: u64,
        bytes: u64,
    },
    FolderDone(FolderReport),
}
