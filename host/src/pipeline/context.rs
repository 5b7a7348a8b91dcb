//! Everything the pipeline needs to know about one message, loaded once:
//! the parsed message as plugins see it, the account it came through, where
//! it sits, the user's state, whether it is outgoing or a reply to us, and
//! the CRM records it concerns.

use crate::ids::{AccountId, FolderId, MessageId, OrgId};
use crate::mime;
use crate::plugin::bindings::latest::types::{CrmRecordKind, FolderRole, Message};
use crate::plugin::bindings::latest::workflow::{CrmLink, Trigger};
use crate::plugin::convert::{MessageContext, plugin_message};
use crate::store::accounts::Account;
use crate::store::message_query::MessageState;
use crate::store::{Folder, Store, StoreError};
use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::collections::HashMap;
use std::sync::Arc;

pub(super) struct PipelineContext {
    pub org: OrgId,
    pub account: Account,
    pub state: MessageState,
    pub message: Message,
    /// Every address in the message, lower-cased.
    addresses: BTreeSet<String>,
}

/// Accounts and folders read once per batch of runs: a batch from one sync
/// is mostly one account and a few folders.
#[derive(Default)]
pub(super) struct BatchCache {
    accounts: Mutex<HashMap<AccountId, Account>>,
    folders: Mutex<HashMap<FolderId, Folder>>,
}

impl BatchCache {
    async fn account(
        &self,
        store: &Store,
        org: &OrgId,
        id: &AccountId,
    ) -> Result<Account, StoreError> {
        if let Some(a) = self.accounts.lock().get(id) {
            return Ok(a.clone());
        }
        let account = store.get_account(org, id).await?;
        self.accounts.lock().insert(id.clone(), account.clone());
        Ok(account)
    }

    async fn folder(
        &self,
        store: &Store,
        org: &OrgId,
        id: &FolderId,
    ) -> Result<Folder, StoreError> {
        if let Some(f) = self.folders.lock().get(id) {
            return Ok(f.clone());
        }
        let folder = store.get_folder(org, id).await?;
        self.folders.lock().insert(id.clone(), folder.clone());
        Ok(folder)
    }
}

pub(super) async fn load(
    store: &Store,
    cache: &BatchCache,
    org: &OrgId,
    id: &MessageId,
) -> Result<PipelineContext, StoreError> {
    let parsed_at_ingest = store.recently_parsed().take(org, id);
    let source = store
        .pipeline_source(org, id, parsed_at_ingest.is_none())
        .await?;
    let account = cache.account(store, org, &source.account).await?;
    let folder = match &source.folder {
        Some(folder) => Some(cache.folder(store, org, folder).await?),
        None => None,
    };
    let role = folder
        .as_ref()
        .and_then(|f| f.role.as_deref())
        .map(folder_role);
    let parsed = match (parsed_at_ingest, &source.raw) {
        (Some(parsed), _) => parsed,
        (None, Some(raw)) => Arc::new(mime::parse(raw)),
        (None, None) => return Err(StoreError::NotFound("message bytes")),
    };
    let ours = own_addresses(&account);
    let from_us = parsed
        .from
        .iter()
        .any(|a| ours.contains(&a.email.to_lowercase()));
    let outgoing = from_us
        || matches!(
            role,
            Some(FolderRole::Sent | FolderRole::Drafts | FolderRole::Outbox)
        );
    let addresses = [
        &parsed.from,
        &parsed.to,
        &parsed.cc,
        &parsed.bcc,
        &parsed.reply_to,
    ]
    .into_iter()
    .flatten()
    .map(|a| a.email.to_lowercase())
    .collect();
    let message = plugin_message(
        &parsed,
        MessageContext {
            id: id.as_str().to_owned(),
            outgoing,
            account: account.email.clone(),
            folder: folder.map(|f| f.name),
            folder_role: role,
            seen: source.state.read,
            flagged: source.state.starred,
            answered: false,
            labels: source.state.labels.clone(),
        },
    );
    Ok(PipelineContext {
        org: org.clone(),
        account,
        state: source.state,
        message,
        addresses,
    })
}

impl PipelineContext {
    /// The provider plugin for the account: its service's, else the generic one.
    pub fn provider_plugin(&self) -> String {
        format!(
            "provider-{}",
            self.account.provider_id.as_deref().unwrap_or("generic")
        )
    }

    /// Outgoing mail, a reply to mail this account sent, or other incoming mail.
    pub async fn trigger(&self, store: &Store) -> Result<Trigger, StoreError> {
        use crate::plugin::bindings::latest::types::Direction;
        if self.message.direction == Direction::Outgoing {
            return Ok(Trigger::Outgoing);
        }
        let Some(parent) = &self.message.in_reply_to else {
            return Ok(Trigger::Incoming);
        };
        let ours = own_addresses(&self.account);
        let parent_from = store.message_from_by_header_id(&self.org, parent).await?;
        Ok(
            if parent_from
                .iter()
                .any(|from| ours.contains(&from.to_lowercase()))
            {
                Trigger::ReplyReceived
            } else {
                Trigger::Incoming
            },
        )
    }

    /// Contacts and leads having any of the message's addresses.
    pub async fn crm_links(&self, store: &Store) -> Result<Vec<CrmLink>, StoreError> {
        let emails: Vec<String> = self.addresses.iter().cloned().collect();
        Ok(store
            .crm_matches(&self.org, &emails)
            .await?
            .into_iter()
            .map(|m| CrmLink {
                kind: if m.kind == "lead" {
                    CrmRecordKind::Lead
                } else {
                    CrmRecordKind::Contact
                },
                id: m.id,
                email: m.email,
                name: Some(m.name),
            })
            .collect())
    }
}

/// A normalised message with the host's own facts restored.
pub(super) fn keep_identity(mut normalized: Message, original: &Message) -> Message {
    normalized.id = original.id.clone();
    normalized.account = original.account.clone();
    normalized.direction = original.direction;
    normalized.folder = original.folder.clone();
    normalized.folder_role = original.folder_role;
    normalized.size = original.size;
    normalized.flags = original.flags;
    normalized.labels = original.labels.clone();
    normalized
}

fn own_addresses(account: &Account) -> BTreeSet<String> {
    std::iter::once(account.email.to_lowercase())
        .chain(
            account
                .from_addresses
                .iter()
                .map(|f| f.address.to_lowercase()),
        )
        .collect()
}

/// The store's role names (`sent`, `custom:Projects` …) as the contract's roles.
pub(super) fn folder_role(role: &str) -> FolderRole {
    match role {
        "inbox" => FolderRole::Inbox,
        "drafts" => FolderRole::Drafts,
        "sent" => FolderRole::Sent,
        "outbox" => FolderRole::Outbox,
        "spam" => FolderRole::Spam,
        "trash" => FolderRole::Trash,
        "archive" => FolderRole::Archive,
        "all-mail" | "all_mail" => FolderRole::AllMail,
        "important" => FolderRole::Important,
        "starred" => FolderRole::Starred,
        _ => FolderRole::Custom,
    }
}
