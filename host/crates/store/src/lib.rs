//! The persistent core: one repository API over SQLite (default, a file in
//! the data directory) or PostgreSQL (`postgres://…`), through sqlx's `Any`
//! driver so every query is written once. Each submodule adds the methods of
//! one concern to [`Store`]; every method that touches org data takes the
//! [`OrgId`](mailroom_core::ids::OrgId) and filters by it.

// Not every public item has its doc comment yet (the workspace warns on
// missing docs; the module docs say what each part owns).
#![allow(missing_docs)]

pub mod accounts;
pub mod action_queue;
pub mod audit;
mod automation;
pub mod contacts;
pub mod crm_fields;
mod db;
mod destinations;
mod error;
pub mod folders;
pub mod locations;
pub mod mailbox_state;
pub mod message_query;
pub mod messages;
pub mod notifications;
/// The index lives beside the parser in `mailroom-core` (pure, so it is
/// fuzzed without a database); the store keeps its old path.
pub use mailroom_core::mime_index;
pub mod oauth;
mod org_policy;
pub mod orgs;
pub mod outbox;
pub mod pipeline;
pub mod pipeline_results;
mod plugins;
pub mod recently_parsed;
pub mod related;
pub mod rule_imports;
pub mod rules;
pub mod secrets;
pub mod server_changes;
pub mod tasks;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tokens;
pub mod user_mail;
pub mod users;
pub mod webhook_subscriptions;

#[cfg(test)]
mod tests;

pub use accounts::{
    Account, AccountLease, AccountSecrets, AccountStatus, AccountUpdate, AuthKind, Credentials,
    FilterImport, FromAddress, NewAccount, Protocol, Security, ServerSettings, Sharing, StoreSent,
    SyncLease, SyncStop,
};
pub use action_queue::{ActionContext, ActionEffect, ActionOutcome, ClaimedAction};
pub use audit::AuditEntry;
pub use contacts::{
    Contact, CrmFilter, CrmId, CrmPage, CrmRecord, CrmRecordUpdate, Lead, NewCrmRecord,
};
pub use crm_fields::CrmFieldChange;
pub use error::{StoreError, StoreResult};
pub use folders::{AccountMessageCounts, Folder, FolderCheckpoint, FolderInfo};
pub use locations::{MessageFingerprint, MovedTo, RelocatedUid, ServerFlags, StoredUid};
pub use mailbox_state::{Access, MailboxState};
pub use mailroom_core::clock::now_ms;
pub use message_query::{
    MessageAddress, MessageDetail, MessageFilter, MessageLocation, MessagePage, MessageState,
    MessageStateUpdate, MessageSummary,
};
pub use messages::{IncomingMessage, Ingested, Location};
pub use notifications::{NewNotification, Notification};
pub use oauth::{OAuthClient, OAuthClientInput, OAuthGrant, PendingAuthorization};
pub use orgs::Org;
pub use outbox::{NewOutboxEntry, OutboxEntry, OutboxRaw, OutboxState, SentCopy};
pub use pipeline::PendingRun;
pub use rules::{RuleScope, StoredRule};
pub use secrets::{Cipher, LoadedKey, Secret, SecretKey};
pub use server_changes::{ChangeOutcome, ServerChange, ServerChangeKind, ServerChangesStatus};
pub use tasks::{NewTask, Task, TaskPriority, TaskRecord, TaskStatus, TaskUpdate};
pub use tokens::{AuthContext, NewToken, TokenInfo};
pub use users::{NewUser, Role, User, UserUpdate, normalize_email};
pub use webhook_subscriptions::{NewWebhookSubscription, WebhookSubscription};

use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// File name of the default SQLite database inside the data directory.
pub const SQLITE_FILE: &str = "mailroom.db";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The back end a database URL names.
    pub fn of_url(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Invalid(
                "database URL must start with sqlite: or postgres://".into(),
            ))
        }
    }
}

/// Where the store lives.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Holds the SQLite file (unless `database_url` says otherwise) and the
    /// secret key file (unless `MAILROOM_SECRET_KEY` is set).
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite:…`; `None` = `<data_dir>/mailroom.db`.
    pub database_url: Option<String>,
}

/// The repository. Cheap to clone (a pool and a key behind `Arc`s).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    cipher: Arc<Cipher>,
    recently_parsed: Arc<recently_parsed::RecentlyParsed>,
    /// One plugin key-value save at a time (see `plugins::kv_apply`).
    kv_gate: Arc<tokio::sync::Mutex<()>>,
}

/// Creates the SQLite file of `url` owner-only before SQLite opens it (its
/// WAL and SHM files then get the same mode); in-memory databases have none.
fn make_sqlite_file_private(url: &str) -> StoreResult<()> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    let file = options.get_filename();
    if file.as_os_str().is_empty() || file.as_os_str() == ":memory:" {
        return Ok(());
    }
    for path in [
        file.to_owned(),
        with_suffix(file, "-wal"),
        with_suffix(file, "-shm"),
    ] {
        if path == file || path.exists() {
            mailroom_core::private_fs::make_private_file(&path).map_err(|e| {
                StoreError::Invalid(format!("cannot make {} owner-only: {e}", path.display()))
            })?;
        }
    }
    Ok(())
}

fn with_suffix(file: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

impl Store {
    /// Opens (creating on first start) the data directory, the secret key
    /// and the database, and applies pending migrations.
    pub async fn open(config: &StoreConfig) -> StoreResult<Store> {
        mailroom_core::private_fs::create_private_dir(&config.data_dir).map_err(|e| {
            StoreError::Invalid(format!(
                "cannot create data directory {}: {e}",
                config.data_dir.display()
            ))
        })?;
        let key = LoadedKey::load_or_create(&config.data_dir)?;
        let url = match &config.database_url {
            Some(url) => url.clone(),
            None => sqlite_url(&config.data_dir.join(SQLITE_FILE))?,
        };
        Self::connect(&url, key).await
    }

    /// Connects to `url`, migrates, and checks that `key` is the key the
    /// database's secrets were sealed with.
    pub async fn connect(url: &str, key: LoadedKey) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let url = match backend {
            // rwc: create the file on first start.
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        if backend == Backend::Sqlite {
            make_sqlite_file_private(&url)?;
        }
        let options = match backend {
            Backend::Sqlite => AnyPoolOptions::new()
                // WAL lets readers run beside the one writer; writers queue
                // on the busy timeout (sqlx default 5 s). `synchronous` stays
                // FULL: "durable before acknowledged" (e.g. POP3 DELE).
                .max_connections(8)
                // A local file does not go stale: skip the ping before each
                // checkout, which would double the round trips to the
                // connection's worker thread.
                .test_before_acquire(false)
                .after_connect(|conn: &mut AnyConnection, _| {
                    Box::pin(async move {
                        // Before WAL, so a new database gets it (an existing
                        // one keeps its page size). Raw messages average tens
                        // of KB: with 4 KB pages each spans a chain of
                        // overflow pages, written, checkpointed and read back
                        // one syscall per page (measured: a third of the
                        // sync's system time).
                        conn.execute("PRAGMA page_size = 32768").await?;
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        Ok(())
                    })
                }),
            Backend::Postgres => AnyPoolOptions::new().max_connections(16),
        };
        let pool = options
            .acquire_timeout(Duration::from_secs(30))
            .connect(&url)
            .await?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        let store = Store {
            pool,
            backend,
            cipher: Arc::new(Cipher::new(&key)),
            recently_parsed: Arc::default(),
            kv_gate: Arc::default(),
        };
        store.check_key().await?;
        Ok(store)
    }

    /// Messages ingestion parsed, for the pipeline (see the module).
    pub fn recently_parsed(&self) -> &recently_parsed::RecentlyParsed {
        &self.recently_parsed
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for diagnostics and tests (e.g. reading a raw
    /// column); application code goes through the typed methods.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) fn cipher(&self) -> &Cipher {
        &self.cipher
    }

    /// Closes every connection (waits for them to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction that will write. On SQLite it takes the write
    /// lock up front (`BEGIN IMMEDIATE`): a deferred transaction that reads
    /// first and writes later fails with SQLITE_BUSY instead of waiting when
    /// another writer got in between.
    pub(crate) async fn begin_write(&self) -> StoreResult<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// A sealed known value in `meta` tells at start-up whether the key is
    /// the one the database was set up with, instead of failing later on the
    /// first account login.
    async fn check_key(&self) -> StoreResult<()> {
        use base64::Engine as _;
        use base64::engine::general_purpose::STANDARD as B64;
        const AAD: &[u8] = b"mailroom:key-check";
        const PLAIN: &[u8] = b"mailroom secret key check v1";
        let sealed = B64.encode(self.cipher.seal(PLAIN, AAD)?);
        // ON CONFLICT: several nodes may start at once; the first one wins.
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING",
        )
        .bind(sealed)
        .execute(&self.pool)
        .await?;
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'key_check'")
            .fetch_one(&self.pool)
            .await?;
        let bytes = B64
            .decode(stored)
            .map_err(|_| StoreError::Crypto("the stored key check value is corrupted".into()))?;
        match self.cipher.open(&bytes, AAD) {
            Ok(p) if p == PLAIN => Ok(()),
            _ => Err(StoreError::Crypto(format!(
                "the secret key from {} is not the key this database was set up with; \
                 start with the original key (the data directory's {} or {}), \
                 otherwise stored mail credentials cannot be decrypted",
                self.cipher.key_source(),
                secrets::KEY_FILE,
                secrets::KEY_ENV
            ))),
        }
    }
}

/// `sqlite:` URL of a database file. sqlx percent-decodes the path, so `%`,
/// `?` and `#` in it are encoded.
pub fn sqlite_url(path: &Path) -> StoreResult<String> {
    let text = path.to_str().ok_or_else(|| {
        StoreError::Invalid(format!("database path {} is not UTF-8", path.display()))
    })?;
    let encoded = text
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    Ok(format!("sqlite://{encoded}"))
}
