//! The account's folders as a user sees and corrects them: each server
//! folder with its SalesInbox role, where that role came from, and how many
//! stored messages it holds; and the manual mapping that overrides the
//! automatic role on a non-standard server, applied to the stored folder at
//! once (the next sync would apply it anyway).

use super::folders::{resolve_role, server_role};
use super::session::MailboxInfo;
use crate::store::{Account, Folder, Store, StoreResult};
use crate::sync::FolderMapper;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Why a folder has its role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleSource {
    /// The server said so: `INBOX`, or a special-use attribute (RFC 6154).
    Server,
    /// The provider plugin recognised the folder's name.
    Provider,
    /// The account's manual mapping.
    Manual,
}

/// One server folder of the account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FolderView {
    pub id: String,
    /// The server's name, as the manual mapping refers to it.
    pub name: String,
    pub delimiter: Option<String>,
    /// RFC 6154 attribute, e.g. `\Sent`.
    pub special_use: Option<String>,
    /// The SalesInbox role (`inbox`, `sent`, …, `custom:NAME`), if any.
    pub role: Option<String>,
    pub role_source: Option<RoleSource>,
    /// Stored messages in this folder on the server.
    pub messages: u64,
    pub last_synced_at: Option<i64>,
}

/// The account's folders and message counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct AccountFolders {
    /// Distinct stored messages in the account (a message in two folders
    /// counts once).
    pub messages: u64,
    /// Server folders, INBOX first, then by name.
    pub folders: Vec<FolderView>,
    /// Server folder name → role, set by hand; it may name folders the
    /// server does not have (yet).
    pub manual_mapping: BTreeMap<String, String>,
}

/// A change to the manual mapping: `role` null removes the folder's entry,
/// giving it back its automatic role.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderMappingChange {
    /// The server's folder name, e.g. `INBOX.Sent Items`.
    pub folder: String,
    pub role: Option<String>,
}

/// Where the folder's current role came from.
pub fn role_source(folder: &Folder, account: &Account) -> Option<RoleSource> {
    folder.role.as_ref()?;
    if account.folder_overrides.contains_key(&folder.name) {
        return Some(RoleSource::Manual);
    }
    if server_role(&stored_mailbox(folder)) == folder.role.as_deref() {
        return Some(RoleSource::Server);
    }
    Some(RoleSource::Provider)
}

/// The account's folders with their roles and counts.
pub async fn account_folders(store: &Store, account: &Account) -> StoreResult<AccountFolders> {
    let counts = store
        .account_message_counts(&account.org, &account.id)
        .await?;
    let mut folders: Vec<FolderView> = store
        .list_folders(&account.org, &account.id)
        .await?
        .into_iter()
        .map(|f| FolderView {
            role_source: role_source(&f, account),
            messages: counts.by_folder.get(&f.id).copied().unwrap_or(0),
            id: f.id.0,
            name: f.name,
            delimiter: f.delimiter,
            special_use: f.special_use,
            role: f.role,
            last_synced_at: f.last_synced_at,
        })
        .collect();
    folders.sort_by_key(|f| (!f.name.eq_ignore_ascii_case("INBOX"), f.name.clone()));
    Ok(AccountFolders {
        messages: counts.messages,
        folders,
        manual_mapping: account.folder_overrides.clone(),
    })
}

/// Changes the manual mapping and gives the stored folder of that name
/// its new role now: the manual one, or the automatic one again.
pub async fn change_folder_mapping(
    store: &Store,
    account: &Account,
    mapper: &dyn FolderMapper,
    change: &FolderMappingChange,
) -> StoreResult<AccountFolders> {
    let account = store
        .set_folder_override(
            &account.org,
            &account.id,
            &change.folder,
            change.role.as_deref(),
        )
        .await?;
    let stored = store.list_folders(&account.org, &account.id).await?;
    if let Some(folder) = stored.iter().find(|f| f.name == change.folder.trim()) {
        let role = resolve_role(&stored_mailbox(folder), mapper, &account).await;
        store
            .set_folder_role(&account.org, &folder.id, role.as_deref())
            .await?;
    }
    account_folders(store, &account).await
}

/// The LIST entry a stored folder came from, as far as roles need it.
fn stored_mailbox(folder: &Folder) -> MailboxInfo {
    MailboxInfo {
        name: folder.name.clone(),
        delimiter: folder.delimiter.clone(),
        attributes: folder.special_use.iter().cloned().collect(),
    }
}
