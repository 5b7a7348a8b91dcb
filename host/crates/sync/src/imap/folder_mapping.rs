//! The account's folders as a user sees and corrects them: each server
//! folder with its SalesInbox role, where that role came from, and how many
//! stored messages it holds; and the manual mapping that overrides the
//! automatic role on a non-standard server, applied to the stored folder at
//! once (the next sync would apply it anyway).

use super::folders::{display_name, manual_role, resolve_role, server_role};
use crate::FolderMapper;
use mailroom_net::imap::MailboxInfo;
use mailroom_store::{Account, Folder, Store, StoreResult};
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
    /// The server's name (non-ASCII in modified UTF-7, e.g. `Entw&APw-rfe`).
    pub name: String,
    /// The name as people read it (`Entwürfe`); the manual mapping takes
    /// either.
    pub display_name: String,
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
    /// Folder name (the server's or the displayed one) → role, set by
    /// hand; it may name folders the server does not have (yet).
    pub manual_mapping: BTreeMap<String, String>,
}

/// A change to the manual mapping: `role` null removes the folder's entry,
/// giving it back its automatic role.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderMappingChange {
    /// The folder's name as the server spells it (`INBOX.Entw&APw-rfe`) or
    /// as it is displayed (`INBOX.Entwürfe`).
    pub folder: String,
    pub role: Option<String>,
}

/// Where the folder's current role came from, given the account's manual
/// mapping (`overrides`).
pub fn role_source(folder: &Folder, overrides: &BTreeMap<String, String>) -> Option<RoleSource> {
    folder.role.as_ref()?;
    if manual_role(overrides, &folder.name).is_some() {
        return Some(RoleSource::Manual);
    }
    if server_role(&stored_mailbox(folder)) == folder.role.as_deref() {
        return Some(RoleSource::Server);
    }
    Some(RoleSource::Provider)
}

/// Orders folders so that, of two with one role (say two `sent` folders),
/// the one a move goes to comes first: the one mapped to it by hand, else
/// the one the server marks with it (INBOX, special-use), else the first
/// by name. Map a folder to choose.
pub fn by_preference(folders: &mut [Folder], account: &Account) {
    sort_by_preference(folders, &account.folder_overrides);
}

fn sort_by_preference(folders: &mut [Folder], overrides: &BTreeMap<String, String>) {
    folders.sort_by_key(|f| {
        let rank = match role_source(f, overrides) {
            Some(RoleSource::Manual) => 0,
            Some(RoleSource::Server) => 1,
            _ => 2,
        };
        (rank, f.name.clone())
    });
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
            role_source: role_source(&f, &account.folder_overrides),
            messages: counts.by_folder.get(&f.id).copied().unwrap_or(0),
            id: f.id.0,
            display_name: display_name(&f.name),
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
    let (org, id) = (&account.org, &account.id);
    let stored = store.list_folders(org, id).await?;
    let named = change.folder.trim();
    let folder = stored
        .iter()
        .find(|f| f.name == named || display_name(&f.name) == named);
    // A known folder is keyed by the server's spelling, and an entry under
    // its other spelling goes, so one folder never has two manual roles.
    let key = folder.map_or(named, |f| f.name.as_str());
    let other = display_name(key);
    if other != key {
        store.set_folder_override(org, id, &other, None).await?;
    }
    let account = store
        .set_folder_override(org, id, key, change.role.as_deref())
        .await?;
    if let Some(folder) = folder {
        let role = resolve_role(&stored_mailbox(folder), mapper, &account).await;
        store
            .set_folder_role(org, &folder.id, role.as_deref())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sent_folder(name: &str, special_use: Option<&str>) -> Folder {
        Folder {
            id: name.into(),
            org: "org_1".into(),
            account: "acc_1".into(),
            name: name.into(),
            delimiter: Some(".".into()),
            special_use: special_use.map(str::to_owned),
            role: Some("sent".into()),
            uidvalidity: None,
            last_uid: 0,
            highestmodseq: None,
            last_synced_at: None,
        }
    }

    fn order(folders: &mut [Folder], overrides: &BTreeMap<String, String>) -> Vec<String> {
        sort_by_preference(folders, overrides);
        folders.iter().map(|f| f.name.clone()).collect()
    }

    /// Of several `sent` folders, a move to `sent` goes to the one mapped by
    /// hand, else the one the server marks `\Sent`, else the first by name
    /// of those a provider recognised.
    #[test]
    fn the_mapped_folder_wins_then_the_servers_then_the_first_by_name() {
        let mut folders = vec![
            sent_folder("INBOX.Sent Items", None),
            sent_folder("INBOX.Gesendete Objekte", None),
            sent_folder("INBOX.Sent", Some("\\Sent")),
        ];
        assert_eq!(
            order(&mut folders, &BTreeMap::new()),
            ["INBOX.Sent", "INBOX.Gesendete Objekte", "INBOX.Sent Items"]
        );
        let mapped = BTreeMap::from([("INBOX.Sent Items".to_owned(), "sent".to_owned())]);
        assert_eq!(
            order(&mut folders, &mapped),
            ["INBOX.Sent Items", "INBOX.Sent", "INBOX.Gesendete Objekte"]
        );
        assert_eq!(role_source(&folders[0], &mapped), Some(RoleSource::Manual));
        assert_eq!(role_source(&folders[1], &mapped), Some(RoleSource::Server));
        assert_eq!(
            role_source(&folders[2], &mapped),
            Some(RoleSource::Provider)
        );
    }
}
