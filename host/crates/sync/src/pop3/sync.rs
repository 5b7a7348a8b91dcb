//! A POP3 account's sync, in this order:
//!
//! 1. UIDL and LIST: every message's unique id and size. Stored UIDLs that
//!    the server no longer lists lose their location; the messages stay
//!    (their identity is their content, not where they were).
//! 2. Messages whose UIDL is not stored are downloaded with RETR in batches
//!    bounded by count and bytes; each batch is stored, with its UIDL
//!    locations and queued pipeline runs, in one transaction. A download
//!    cut anywhere resumes at the first uncommitted message; a message
//!    fetched twice matches the stored one by content hash.
//! 3. With "keep messages on server" off, each stored message (this batch,
//!    or committed by an earlier sync) gets a DELE, and QUIT applies them.
//!    DELE never precedes the commit, and a session that ends without QUIT
//!    deletes nothing, so no message is ever deleted that is not stored.

use super::super::SyncOptions;
use super::super::batch::plan_batches;
use super::super::credentials::{incoming_login, incoming_target, login_with_refresh};
use super::super::error::SyncResult;
use super::super::report::{FolderReport, SyncProgress, SyncReport};
use mailroom_net::pop3::{MAX_MESSAGE_BYTES, Pop3Session, ServerMessage};
use mailroom_store::{Account, IncomingMessage, Location, Store};
use std::collections::HashSet;

/// The one folder POP3 has, as reports name it.
pub const INBOX: &str = "INBOX";

/// Connects, downloads what is new, deletes what is stored when the account
/// does not keep mail on the server, and quits.
pub async fn sync_account(
    store: &Store,
    account: &Account,
    options: &SyncOptions,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> SyncResult<SyncReport> {
    let target = incoming_target(store, account).await?;
    let auth = incoming_login(store, account).await?;
    let mut session = login_with_refresh(store, account, auth, |auth| {
        let target = target.clone();
        async move { Ok(Pop3Session::open(&target, &auth, options.timeouts).await?) }
    })
    .await?;
    progress(SyncProgress::Folders { total: 1 });
    let mut report = FolderReport {
        folder: INBOX.into(),
        role: Some("inbox".into()),
        ..Default::default()
    };
    let deleted = sync_inbox(&mut session, store, account, options, &mut report, progress).await?;
    if deleted.is_empty() {
        // Nothing to apply: a failed QUIT loses nothing.
        if let Err(e) = session.quit().await {
            tracing::debug!(account = %account.id, error = %e, "POP3 QUIT failed");
        }
    } else {
        session.quit().await?;
        // The server has applied the deletions; their UIDLs may be reused.
        for uidl in &deleted {
            store
                .remove_pop3_uidl(&account.org, &account.id, uidl)
                .await?;
        }
        report.deleted_from_server = deleted.len() as u64;
    }
    progress(SyncProgress::FolderDone(report.clone()));
    // POP3 has no server-side state to write back.
    Ok(SyncReport {
        folders: vec![report],
        ..Default::default()
    })
}

/// Steps 1 to 3 up to QUIT. Returns the UIDLs marked for deletion.
async fn sync_inbox(
    session: &mut Pop3Session,
    store: &Store,
    account: &Account,
    options: &SyncOptions,
    report: &mut FolderReport,
    progress: &mut (dyn FnMut(SyncProgress) + Send),
) -> SyncResult<Vec<String>> {
    let org = &account.org;
    let listing = session.listing().await?;
    let stored: HashSet<String> = store
        .pop3_uidls(org, &account.id)
        .await?
        .into_iter()
        .collect();
    let on_server: HashSet<&str> = listing.iter().map(|m| m.uidl.as_str()).collect();
    for gone in stored.iter().filter(|u| !on_server.contains(u.as_str())) {
        store.remove_pop3_uidl(org, &account.id, gone).await?;
        report.expunged += 1;
    }

    let mut seen = HashSet::new();
    let new: Vec<&ServerMessage> = listing
        .iter()
        .filter(|m| !stored.contains(&m.uidl) && seen.insert(m.uidl.as_str()))
        .collect();
    let (pending, too_large): (Vec<&ServerMessage>, Vec<&ServerMessage>) =
        new.into_iter().partition(|m| m.size <= MAX_MESSAGE_BYTES);
    if !too_large.is_empty() {
        report.error = Some(too_large_words(&too_large));
    }

    let keep = account.pop3_keep_on_server;
    let mut deleted = Vec::new();
    if !keep {
        // Committed by an earlier sync whose QUIT never came.
        for m in listing.iter().filter(|m| stored.contains(&m.uidl)) {
            session.dele(m.number).await?;
            deleted.push(m.uidl.clone());
        }
    }
    if pending.is_empty() {
        return Ok(deleted);
    }
    progress(SyncProgress::FolderStarted {
        folder: INBOX.into(),
        messages: pending.len() as u64,
        bytes: pending.iter().map(|m| m.size).sum(),
    });
    let sizes: Vec<(usize, u64)> = pending
        .iter()
        .enumerate()
        .map(|(i, m)| (i, m.size))
        .collect();
    for batch in plan_batches(&sizes, options) {
        let mut fetched = Vec::with_capacity(batch.len());
        for i in &batch {
            let m = pending[*i];
            fetched.push((m, session.retr(m.number).await?));
        }
        let items: Vec<IncomingMessage<'_>> = fetched
            .iter()
            .map(|(m, raw)| IncomingMessage {
                location: Location::Pop3 {
                    uidl: m.uidl.clone(),
                },
                raw,
                received_at: None,
            })
            .collect();
        let ingested = store.ingest_batch(org, &account.id, &items, None).await?;
        let bytes: u64 = items.iter().map(|i| i.raw.len() as u64).sum();
        report.new_messages += ingested.iter().filter(|i| i.new).count() as u64;
        report.fetched += items.len() as u64;
        report.bytes += bytes;
        progress(SyncProgress::BatchCommitted {
            folder: INBOX.into(),
            messages: items.len() as u64,
            bytes,
        });
        if !keep {
            for (m, _) in &fetched {
                session.dele(m.number).await?;
                deleted.push(m.uidl.clone());
            }
        }
    }
    Ok(deleted)
}

fn too_large_words(messages: &[&ServerMessage]) -> String {
    let largest = messages.iter().map(|m| m.size).max().unwrap_or(0);
    format!(
        "{} message(s) of up to {} MiB are larger than this POP3 client can download \
         ({} MiB); they stay on the server (use IMAP for this account to get them)",
        messages.len(),
        largest.div_ceil(1024 * 1024),
        MAX_MESSAGE_BYTES / (1024 * 1024)
    )
}
