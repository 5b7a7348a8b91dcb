//! Folder discovery: LIST (with RFC 6154 special-use where the server has
//! it), a SalesInbox role for each folder, and the account's folders table
//! brought in line with the server (new folders added, attributes and roles
//! refreshed, folders gone from the server forgotten — their messages and
//! the user's state on them stay).
//!
//! A folder's role: `INBOX` is the inbox (RFC 3501 reserves the name); else
//! its special-use attribute; else the provider's `map_folder` (names in
//! many languages, `INBOX.` prefixes); else none. The account's manual
//! mapping, where the user set one for a folder, overrides all of these: it
//! exists to correct the automatic guess on non-standard servers.

use super::super::error::SyncResult;
use super::super::provider::FolderMapper;
use mailroom_core::ids::{AccountId, OrgId};
use mailroom_net::imap::{ImapSession, MailboxInfo};
use mailroom_store::{Account, Folder, FolderInfo, Store};
use std::collections::{BTreeMap, HashSet};

/// RFC 6154 attributes that name a SalesInbox folder. `\All`, `\Flagged`
/// and `\Important` are views over other folders, with no folder of their own.
const SPECIAL_USE_ROLES: [(&str, &str); 5] = [
    ("\\Sent", "sent"),
    ("\\Drafts", "drafts"),
    ("\\Junk", "spam"),
    ("\\Trash", "trash"),
    ("\\Archive", "archive"),
];

/// Every special-use attribute (RFC 6154, and `\Important` from RFC 8457),
/// kept on the folder row even when it names no role.
const SPECIAL_USE: [&str; 8] = [
    "\\All",
    "\\Archive",
    "\\Drafts",
    "\\Flagged",
    "\\Important",
    "\\Junk",
    "\\Sent",
    "\\Trash",
];

/// The folder's special-use attribute, if any.
pub fn special_use(mailbox: &MailboxInfo) -> Option<String> {
    SPECIAL_USE
        .iter()
        .find(|a| mailbox.has_attribute(a))
        .map(|a| (*a).to_owned())
}

/// The role from the server's own words (INBOX, special-use), if they say.
pub fn server_role(mailbox: &MailboxInfo) -> Option<&'static str> {
    if mailbox.name.eq_ignore_ascii_case("INBOX") {
        return Some("inbox");
    }
    SPECIAL_USE_ROLES
        .iter()
        .find(|(attr, _)| mailbox.has_attribute(attr))
        .map(|(_, role)| *role)
}

/// The role a manual mapping (`overrides`, an account's) gives the folder
/// `name` (the server's spelling), keyed by that or by its decoded form
/// (`Entwürfe` for `Entw&APw-rfe`), as people type it.
pub fn manual_role<'a>(overrides: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    overrides
        .get(name)
        .or_else(|| overrides.get(&display_name(name)))
        .map(String::as_str)
}

/// A server folder name as people read it: modified UTF-7 decoded.
pub fn display_name(name: &str) -> String {
    imap_utf7::decode_modified_utf7(name)
}

/// The folder's role, by the order described at the top of this file.
pub async fn resolve_role(
    mailbox: &MailboxInfo,
    mapper: &dyn FolderMapper,
    account: &Account,
) -> Option<String> {
    if let Some(manual) = manual_role(&account.folder_overrides, &mailbox.name) {
        return Some(manual.to_owned());
    }
    if let Some(role) = server_role(mailbox) {
        return Some(role.to_owned());
    }
    mapper.map_folder(mailbox).await
}

/// Lists the server's folders and records them with their roles. Returns
/// the account's selectable folders as stored, INBOX first.
pub async fn discover_folders(
    session: &mut ImapSession,
    store: &Store,
    account: &Account,
    mapper: &dyn FolderMapper,
) -> SyncResult<Vec<Folder>> {
    let listed = session.list().await?;
    let (org, account_id): (&OrgId, &AccountId) = (&account.org, &account.id);
    let mut seen = HashSet::new();
    let mut folders = Vec::new();
    for mailbox in listed.iter().filter(|m| m.selectable()) {
        if !seen.insert(mailbox.name.clone()) {
            continue;
        }
        let role = resolve_role(mailbox, mapper, account).await;
        let info = FolderInfo {
            name: mailbox.name.clone(),
            delimiter: mailbox.delimiter.clone(),
            special_use: special_use(mailbox),
        };
        folders.push(
            store
                .upsert_folder(org, account_id, &info, role.as_deref())
                .await?,
        );
    }
    // An empty listing is a server hiccup (INBOX always exists), not a
    // reason to forget every folder.
    if !seen.is_empty() {
        for stale in store.list_folders(org, account_id).await? {
            if !seen.contains(&stale.name) {
                store.delete_folder(org, &stale.id).await?;
            }
        }
    }
    folders.sort_by_key(|f| (!f.name.eq_ignore_ascii_case("INBOX"), f.name.clone()));
    Ok(folders)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(name: &str, attrs: &[&str]) -> MailboxInfo {
        MailboxInfo {
            name: name.into(),
            delimiter: Some("/".into()),
            attributes: attrs.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    #[test]
    fn a_manual_mapping_takes_either_spelling_of_a_name() {
        let overrides: BTreeMap<String, String> = [
            ("INBOX.Entwürfe", "archive"),
            ("Sent Items", "sent"),
            ("Gel&APY-scht", "trash"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            manual_role(&overrides, "INBOX.Entw&APw-rfe"),
            Some("archive")
        );
        assert_eq!(manual_role(&overrides, "Sent Items"), Some("sent"));
        assert_eq!(manual_role(&overrides, "Gel&APY-scht"), Some("trash"));
        assert_eq!(
            manual_role(&overrides, "Entw&APw-rfe"),
            None,
            "whole names only"
        );
        assert_eq!(display_name("&kAFP4W4IMH8wojCkMMYw4A-"), "送信済みアイテム");
    }

    #[test]
    fn server_words_decide_before_any_guess() {
        assert_eq!(server_role(&mb("inbox", &[])), Some("inbox"));
        assert_eq!(
            server_role(&mb("Gesendet", &["\\HasNoChildren", "\\Sent"])),
            Some("sent")
        );
        assert_eq!(server_role(&mb("Spam", &["\\Junk"])), Some("spam"));
        assert_eq!(server_role(&mb("All Mail", &["\\All"])), None);
        assert_eq!(server_role(&mb("Sent Items", &[])), None);
        assert_eq!(
            special_use(&mb("All Mail", &["\\All"])).as_deref(),
            Some("\\All")
        );
        assert!(!mb("x", &["\\NoSelect"]).selectable());
    }
}
