//! Everything the pipeline needs to know about one message, loaded once:
//! the parsed message as plugins see it, the account it came through, where
//! it sits, the user's state, whether it is outgoing or a reply to us, and
//! the CRM records it concerns.

use crate::rules::AccountRules;
use mailroom_core::ids::{AccountId, FolderId, MessageId, OrgId};
use mailroom_core::mime;
use mailroom_core::mime::ParsedMessage;
use mailroom_plugin_host::bindings::latest::types::{CrmRecordKind, FolderRole, Message};
use mailroom_plugin_host::bindings::latest::workflow::{CrmLink, Trigger};
use mailroom_plugin_host::convert::{MessageContext, plugin_message};
use mailroom_store::accounts::Account;
use mailroom_store::contacts::CrmMatch;
use mailroom_store::message_query::MessageState;
use mailroom_store::message_query::PipelineSource;
use mailroom_store::{ActionContext, Folder, Store, StoreError};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub(super) struct PipelineContext {
    pub org: OrgId,
    pub account: Account,
    pub state: MessageState,
    pub message: Message,
    crm_links: Vec<CrmLink>,
}

/// What a batch of runs reads from the store, read once for the batch:
/// each message's state and location and the CRM records of all their
/// addresses in one query each ([`BatchCache::prefetch`]); accounts and
/// folders once each (a batch from one sync is mostly one account and a
/// few folders).
#[derive(Default)]
pub(super) struct BatchCache {
    accounts: Mutex<HashMap<AccountId, Account>>,
    folders: Mutex<HashMap<FolderId, Folder>>,
    messages: Mutex<HashMap<(OrgId, MessageId), Prefetched>>,
    /// By org, then lower-cased address.
    crm: HashMap<OrgId, HashMap<String, Vec<CrmLink>>>,
    /// The rules of each account, read once per batch ([`crate::rules::RuleSets`]).
    rules: Mutex<HashMap<AccountId, AccountRules>>,
}

struct Prefetched {
    source: PipelineSource,
    parsed: Arc<ParsedMessage>,
}

impl BatchCache {
    /// Reads what `runs` need. A message ingestion has just parsed is taken
    /// from `RecentlyParsed`; the others (after a restart, or when the
    /// pipeline fell far behind) are read and parsed here, on all cores.
    pub async fn prefetch(
        store: &Store,
        runs: &[(OrgId, MessageId)],
    ) -> Result<BatchCache, StoreError> {
        let mut by_org: BTreeMap<&OrgId, Vec<MessageId>> = BTreeMap::new();
        for (org, id) in runs {
            by_org.entry(org).or_default().push(id.clone());
        }
        let mut cache = BatchCache::default();
        for (org, ids) in by_org {
            let mut sources = store.pipeline_sources(org, &ids).await?;
            let mut parsed = Vec::new();
            let mut unparsed = Vec::new();
            for id in ids {
                let Some(source) = sources.remove(&id) else {
                    continue; // `load` reports it
                };
                match store.recently_parsed().take(org, &id) {
                    Some(p) => parsed.push((id, source, p)),
                    None => {
                        let raw = store.get_raw_message(org, &id).await?;
                        unparsed.push((id, source, raw));
                    }
                }
            }
            let fresh =
                mailroom_core::parallel::map_on_cores(&unparsed, |(_, _, raw)| mime::parse(raw));
            parsed.extend(
                unparsed
                    .into_iter()
                    .zip(fresh)
                    .map(|((id, source, _), p)| (id, source, Arc::new(p))),
            );
            let emails: BTreeSet<String> = parsed
                .iter()
                .flat_map(|(_, _, p)| addresses_of(p))
                .collect();
            let emails: Vec<String> = emails.into_iter().collect();
            let mut links: HashMap<String, Vec<CrmLink>> = HashMap::new();
            for m in store.crm_matches(org, &emails).await? {
                links.entry(m.email.clone()).or_default().push(crm_link(m));
            }
            cache.crm.insert(org.clone(), links);
            let messages = cache.messages.get_mut();
            for (id, source, parsed) in parsed {
                messages.insert((org.clone(), id), Prefetched { source, parsed });
            }
        }
        Ok(cache)
    }

    pub(crate) fn account_rules(&self, account: &AccountId) -> Option<AccountRules> {
        self.rules.lock().get(account).cloned()
    }

    pub(crate) fn keep_account_rules(&self, account: &AccountId, rules: AccountRules) {
        self.rules.lock().insert(account.clone(), rules);
    }

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

/// The context of one prefetched message (taken out of the cache).
pub(super) async fn load(
    store: &Store,
    cache: &BatchCache,
    org: &OrgId,
    id: &MessageId,
) -> Result<PipelineContext, StoreError> {
    let Prefetched { source, parsed } = cache
        .messages
        .lock()
        .remove(&(org.clone(), id.clone()))
        .ok_or(StoreError::NotFound("message with a location"))?;
    let account = cache.account(store, org, &source.account).await?;
    let folder = match &source.folder {
        Some(folder) => Some(cache.folder(store, org, folder).await?),
        None => None,
    };
    let role = folder
        .as_ref()
        .and_then(|f| f.role.as_deref())
        .map(folder_role);
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
    let addresses: BTreeSet<String> = addresses_of(&parsed).collect();
    let no_links = HashMap::new();
    let known = cache.crm.get(org).unwrap_or(&no_links);
    let crm_links = addresses
        .iter()
        .filter_map(|a| known.get(a))
        .flatten()
        .cloned()
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
        crm_links,
    })
}

/// Every address in the message, lower-cased.
fn addresses_of(parsed: &ParsedMessage) -> impl Iterator<Item = String> + '_ {
    [
        &parsed.from,
        &parsed.to,
        &parsed.cc,
        &parsed.bcc,
        &parsed.reply_to,
    ]
    .into_iter()
    .flatten()
    .map(|a| a.email.trim().to_lowercase())
}

fn crm_link(m: CrmMatch) -> CrmLink {
    CrmLink {
        kind: if m.kind == "lead" {
            CrmRecordKind::Lead
        } else {
            CrmRecordKind::Contact
        },
        id: m.id,
        email: m.email,
        name: Some(m.name),
    }
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
        use mailroom_plugin_host::bindings::latest::types::Direction;
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

    /// Contacts and leads having any of the message's addresses, ordered
    /// by address.
    /// What the executors of this run's pending actions need: the account,
    /// its owner, and the CRM records, in the order plugins saw them.
    pub fn action_context(&self) -> ActionContext {
        ActionContext {
            account: Some(self.account.id.clone()),
            account_owner: Some(self.account.owner.clone()),
            links: self
                .crm_links
                .iter()
                .map(|l| {
                    let kind = match l.kind {
                        CrmRecordKind::Lead => "lead",
                        CrmRecordKind::Contact => "contact",
                    };
                    (kind.to_owned(), l.id.clone())
                })
                .collect(),
        }
    }

    pub fn crm_links(&self) -> Vec<CrmLink> {
        self.crm_links.clone()
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
