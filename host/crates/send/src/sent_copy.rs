//! After the SMTP server took a message: its copy in the account's Sent
//! folder, and the message in the store (so it goes through the pipeline as
//! outgoing mail).
//!
//! Whether Mailroom appends the copy:
//! - the account says `store_sent = no`: never (stored locally);
//! - `store_sent = yes`: always (an explicit choice beats provider lore);
//! - `auto`: not when the provider plugin's quirks say its SMTP files sent
//!   mail itself (Gmail); otherwise by what was learned for the account: the
//!   first time, look for the Message-ID in Sent — found means the server
//!   files copies itself, absent means Mailroom must — and remember it.
//!
//! Before every APPEND the Sent folder is searched for the Message-ID, so a
//! crash after APPEND but before the state change was committed, or a
//! server that filed the copy anyway, never yields a second copy. The same
//! search answers, for a provider that files its own copies, whether an
//! SMTP attempt cut short by a crash went out
//! ([`find_copy_of_interrupted_send`]). The
//! message is ingested at its Sent-folder location when the server's copy
//! has exactly our bytes, else as a local message with the role `sent`.

use super::SendOptions;
use super::error::SendResult;
use mailroom_core::ids::MessageId;
use mailroom_net::ImapSession;
use mailroom_plugin_host::PluginKind;
use mailroom_plugin_host::registry::PluginRegistry;
use mailroom_store::{
    Account, Folder, Location, OutboxEntry, Protocol, SentCopy, Store, StoreSent,
};
use mailroom_sync::credentials::open_imap_session;
use mailroom_sync::imap::folders::discover_folders;
use mailroom_sync::{FolderMapper, NoFolderMapper, PluginProvider};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

/// Flags of the appended copy: the sender has read their own mail.
const SEEN: &str = "\\Seen";

/// What became of the copy, and the stored message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyResult {
    pub copy: SentCopy,
    pub stored: MessageId,
}

/// What to do for this account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    /// No IMAP work: store locally, recording why.
    Skip(SentCopy),
    /// Append unless the Message-ID is already in Sent.
    Append,
    /// Unknown yet: look first, learn, then append if absent.
    Learn,
}

/// The org's provider plugin for the account, as the provider's id or
/// `provider-<id>`, says its SMTP files sent mail itself. No plugin, or one
/// that fails, is no opinion.
async fn provider_saves_copy(registry: Option<&Arc<PluginRegistry>>, account: &Account) -> bool {
    let (Some(registry), Some(id)) = (registry, account.provider_id.as_deref()) else {
        return false;
    };
    let plugins = match registry
        .plugins_for(&account.org, PluginKind::Provider, None)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(account = %account.id, error = %e, "cannot list provider plugins");
            return false;
        }
    };
    let wanted = format!("provider-{id}");
    let Some(plugin) = plugins
        .iter()
        .find(|p| p.name() == wanted || p.name() == id)
    else {
        return false;
    };
    match registry.provider_info(plugin).await {
        Ok(info) => info.quirks.smtp_saves_sent_copy,
        Err(e) => {
            tracing::warn!(account = %account.id, plugin = plugin.name(), error = %e, "provider_info failed");
            false
        }
    }
}

/// Whether the provider is known to file what its SMTP server accepts in
/// Sent: its plugin's quirk, or what was learned for the account. IMAP only.
async fn provider_files_copies(registry: Option<&Arc<PluginRegistry>>, account: &Account) -> bool {
    account.protocol == Protocol::Imap
        && (account.store_sent_learned == Some(true)
            || provider_saves_copy(registry, account).await)
}

/// After an SMTP attempt cut short by a crash: when the provider files its
/// own copies, a copy with the entry's Message-ID in Sent means the attempt
/// went out; it is stored at that location. `None` when the provider is not
/// known to file copies, or there is no such copy: nothing says it went out.
pub async fn find_copy_of_interrupted_send(
    store: &Store,
    registry: Option<&Arc<PluginRegistry>>,
    entry: &OutboxEntry,
    options: &SendOptions,
) -> SendResult<Option<CopyResult>> {
    let account = store.get_account(&entry.org, &entry.account).await?;
    if !provider_files_copies(registry, &account).await {
        return Ok(None);
    }
    let raw = store.outbox_raw(&entry.org, &entry.id).await?;
    let mut session = open_imap_session(store, &account, options.imap_timeouts).await?;
    let result = async {
        let session = &mut session;
        let Some(sent) = sent_folder(session, store, registry, &account).await? else {
            return Ok(None);
        };
        let found =
            find_message(session, &sent.name, &entry.message_id, options.learn_wait).await?;
        let Some((uidvalidity, uids)) = found else {
            return Ok(None);
        };
        let stored =
            store_found(session, store, entry, &sent, uidvalidity, &uids, raw.copy()).await?;
        Ok(Some(CopyResult {
            copy: SentCopy::Found,
            stored,
        }))
    }
    .await;
    session.logout().await;
    result
}

async fn policy(registry: Option<&Arc<PluginRegistry>>, account: &Account) -> Policy {
    if account.protocol == Protocol::Pop3 {
        // POP3 has one mailbox and no Sent folder to append to.
        return Policy::Skip(SentCopy::NoSentFolder);
    }
    match account.store_sent {
        StoreSent::No => Policy::Skip(SentCopy::Disabled),
        StoreSent::Yes => Policy::Append,
        StoreSent::Auto if provider_saves_copy(registry, account).await => {
            Policy::Skip(SentCopy::Provider)
        }
        StoreSent::Auto => match account.store_sent_learned {
            Some(true) => Policy::Skip(SentCopy::Provider),
            Some(false) => Policy::Append,
            None => Policy::Learn,
        },
    }
}

/// Files the copy of a sent entry and stores the message.
pub async fn file_sent_copy(
    store: &Store,
    registry: Option<&Arc<PluginRegistry>>,
    entry: &OutboxEntry,
    options: &SendOptions,
) -> SendResult<CopyResult> {
    let account = store.get_account(&entry.org, &entry.account).await?;
    let raw = store.outbox_raw(&entry.org, &entry.id).await?;
    let copy = raw.copy();
    let policy = policy(registry, &account).await;
    if let Policy::Skip(kind) = policy {
        let stored = store_locally(store, entry, copy).await?;
        return Ok(CopyResult { copy: kind, stored });
    }
    let mut session = open_imap_session(store, &account, options.imap_timeouts).await?;
    let result = with_session(
        &mut session,
        store,
        registry,
        &account,
        entry,
        copy,
        policy == Policy::Learn,
        options,
    )
    .await;
    session.logout().await;
    result
}

/// Stores the message as composed here, with the role `sent`. Keyed by the
/// outbox entry, so doing it twice stores it once.
pub async fn store_locally(
    store: &Store,
    entry: &OutboxEntry,
    copy: &[u8],
) -> SendResult<MessageId> {
    let location = Location::Local {
        key: format!("outbox:{}", entry.id),
        role: "sent".into(),
    };
    let ingested = store
        .ingest_message(&entry.org, &entry.account, &location, copy)
        .await?;
    Ok(ingested.message_id)
}

#[allow(clippy::too_many_arguments)]
async fn with_session(
    session: &mut ImapSession,
    store: &Store,
    registry: Option<&Arc<PluginRegistry>>,
    account: &Account,
    entry: &OutboxEntry,
    copy: &[u8],
    learn: bool,
    options: &SendOptions,
) -> SendResult<CopyResult> {
    let Some(sent) = sent_folder(session, store, registry, account).await? else {
        tracing::warn!(account = %account.id, "no Sent folder found; the sent message is stored locally only");
        let stored = store_locally(store, entry, copy).await?;
        return Ok(CopyResult {
            copy: SentCopy::NoSentFolder,
            stored,
        });
    };
    // A server that files copies itself may take a moment to do so: while
    // learning, look a few times before concluding it does not.
    let wait = if learn {
        options.learn_wait
    } else {
        std::time::Duration::ZERO
    };
    let found = find_message(session, &sent.name, &entry.message_id, wait).await?;
    let org = &account.org;
    if let Some((uidvalidity, uids)) = found {
        if learn {
            store
                .set_store_sent_learned(org, &account.id, Some(true))
                .await?;
            tracing::info!(account = %account.id, "learned: the server files sent mail in Sent itself");
        }
        let stored = store_found(session, store, entry, &sent, uidvalidity, &uids, copy).await?;
        return Ok(CopyResult {
            copy: SentCopy::Found,
            stored,
        });
    }
    if learn {
        // Committed before the APPEND: if we crash after it, the resumed
        // step appends only after searching again, so there is one copy.
        store
            .set_store_sent_learned(org, &account.id, Some(false))
            .await?;
        tracing::info!(account = %account.id, "learned: the server does not file sent mail; Mailroom appends it");
    }
    session
        .append(&sent.name, &format!("({SEEN})"), copy)
        .await?;
    let found = find_message(
        session,
        &sent.name,
        &entry.message_id,
        std::time::Duration::ZERO,
    )
    .await?;
    let stored = match found {
        Some((uidvalidity, uids)) => {
            store_found(session, store, entry, &sent, uidvalidity, &uids, copy).await?
        }
        // A server that does not show the appended message at once: the
        // next sync of Sent will bring its location.
        None => store_locally(store, entry, copy).await?,
    };
    Ok(CopyResult {
        copy: SentCopy::Appended,
        stored,
    })
}

/// The account's Sent folder: as the store knows it, else discovered now
/// (an account may send before its first sync).
async fn sent_folder(
    session: &mut ImapSession,
    store: &Store,
    registry: Option<&Arc<PluginRegistry>>,
    account: &Account,
) -> SendResult<Option<Folder>> {
    let is_sent = |f: &Folder| f.role.as_deref() == Some("sent");
    let known = store.list_folders(&account.org, &account.id).await?;
    if let Some(f) = known.into_iter().find(is_sent) {
        return Ok(Some(f));
    }
    let mapper: Box<dyn FolderMapper> = match registry {
        Some(r) => Box::new(PluginProvider::new(
            r.clone(),
            account.org.clone(),
            account.provider_id.as_deref(),
        )),
        None => Box::new(NoFolderMapper),
    };
    let folders = discover_folders(session, store, account, mapper.as_ref()).await?;
    Ok(folders.into_iter().find(is_sent))
}

/// Selects `mailbox` and searches it for `message_id`, again and again
/// until `wait` has passed. Returns the mailbox's UIDVALIDITY and the UIDs
/// found.
async fn find_message(
    session: &mut ImapSession,
    mailbox: &str,
    message_id: &str,
    wait: std::time::Duration,
) -> SendResult<Option<(u32, BTreeSet<u32>)>> {
    let started = Instant::now();
    let step = (wait / 4).max(std::time::Duration::from_millis(50));
    loop {
        // SELECT again each time: it is what shows mail filed since.
        let selected = session.select(mailbox, false).await?;
        let uids = session.search_header("Message-ID", message_id).await?;
        if !uids.is_empty() {
            return Ok(Some((selected.uidvalidity, uids)));
        }
        if started.elapsed() >= wait {
            return Ok(None);
        }
        tokio::time::sleep(step).await;
    }
}

/// Stores the message for a copy found in Sent: at that location when one
/// of the found messages is byte for byte ours (our APPEND, or a server
/// that files exactly what it got), else locally — a rewritten server copy
/// is another message, which sync brings in on its own.
async fn store_found(
    session: &mut ImapSession,
    store: &Store,
    entry: &OutboxEntry,
    sent: &Folder,
    uidvalidity: u32,
    uids: &BTreeSet<u32>,
    copy: &[u8],
) -> SendResult<MessageId> {
    let set = uids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let fetched = session
        .uid_fetch(&set, "(UID FLAGS BODY.PEEK[])", |uid| uids.contains(&uid))
        .await?;
    let ours = fetched
        .into_iter()
        .find(|m| m.body.as_deref() == Some(copy));
    let Some(ours) = ours else {
        return store_locally(store, entry, copy).await;
    };
    let location = Location::Imap {
        folder: sent.id.clone(),
        uidvalidity,
        uid: ours.uid,
        flags: ours.flags,
        modseq: ours.modseq,
    };
    let ingested = store
        .ingest_message(&entry.org, &entry.account, &location, copy)
        .await?;
    Ok(ingested.message_id)
}
