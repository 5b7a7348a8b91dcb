//! Folder roles for servers that do not (or not fully) advertise RFC 6154
//! special-use attributes.
//!
//! Order of trust: a special-use attribute; then the name, with an `INBOX`
//! parent (`INBOX.Sent`, `INBOX/Sent Items`) or a `[Gmail]` parent removed,
//! decoded from IMAP's modified UTF-7 ([`crate::utf7`]) and compared
//! case-insensitively, first with the calling service's own names (so a
//! service's meaning wins where it differs), then with the names common
//! clients and servers create in English, German, French, Spanish, Italian,
//! Portuguese, Dutch and the Nordic languages. Anything else gets no opinion
//! (`None`), so the user's own mapping applies.

use crate::utf7::decode_modified_utf7;
use mailroom_plugin_sdk::types::{FolderRole, Mailbox};

/// A service's folder names by role, e.g. `(FolderRole::Sent, &["sent items"])`.
/// Compared case-insensitively with the decoded leaf name.
pub type FolderNames = &'static [(FolderRole, &'static [&'static str])];

/// The role of `mailbox`: special-use, then `service` names, then the common ones.
pub fn map_folder(mailbox: &Mailbox, service: FolderNames) -> Option<FolderRole> {
    // A `\Noselect` mailbox holds no mail; `\NonExistent` is not even there.
    if has_attr(mailbox, "\\Noselect") || has_attr(mailbox, "\\NonExistent") {
        return None;
    }
    if let Some(role) = special_use(mailbox) {
        return Some(role);
    }
    let name = decode_modified_utf7(&mailbox.name);
    if name.eq_ignore_ascii_case("INBOX") {
        return Some(FolderRole::Inbox);
    }
    let leaf = strip_parent(&name, mailbox.delimiter.as_deref()).to_lowercase();
    lookup(service, &leaf).or_else(|| lookup(COMMON, &leaf))
}

/// A mailbox as the host passes it, for tests: `mailbox("Sent", Some("/"), &["\\Sent"])`.
pub fn mailbox(name: &str, delimiter: Option<&str>, attributes: &[&str]) -> Mailbox {
    Mailbox {
        name: name.to_string(),
        delimiter: delimiter.map(str::to_string),
        attributes: attributes.iter().map(|a| a.to_string()).collect(),
    }
}

fn has_attr(mailbox: &Mailbox, attr: &str) -> bool {
    mailbox
        .attributes
        .iter()
        .any(|a| a.eq_ignore_ascii_case(attr))
}

/// The RFC 6154 special-use attribute (and RFC 8457's `\Important`), if any.
pub fn special_use(mailbox: &Mailbox) -> Option<FolderRole> {
    const SPECIAL_USE: &[(&str, FolderRole)] = &[
        ("\\Sent", FolderRole::Sent),
        ("\\Junk", FolderRole::Spam),
        ("\\Trash", FolderRole::Trash),
        ("\\Drafts", FolderRole::Drafts),
        ("\\Archive", FolderRole::Archive),
        ("\\All", FolderRole::AllMail),
        ("\\Flagged", FolderRole::Starred),
        ("\\Important", FolderRole::Important),
    ];
    SPECIAL_USE
        .iter()
        .find(|(attr, _)| has_attr(mailbox, attr))
        .map(|(_, role)| *role)
}

/// `INBOX.Sent Items` → `Sent Items`, `[Gmail]/Sent Mail` → `Sent Mail`.
/// Deeper names (`Projects/Sent`) keep their path and will not match.
fn strip_parent<'a>(name: &'a str, delimiter: Option<&str>) -> &'a str {
    let Some(delim) = delimiter.filter(|d| !d.is_empty()) else {
        return name;
    };
    for parent in ["INBOX", "[Gmail]", "[Google Mail]"] {
        if name.len() > parent.len() + delim.len()
            && name.is_char_boundary(parent.len())
            && name[..parent.len()].eq_ignore_ascii_case(parent)
            && name[parent.len()..].starts_with(delim)
        {
            return &name[parent.len() + delim.len()..];
        }
    }
    name
}

/// `lower` is already lower-case; table entries are lowered here, so a
/// service may write names as the service spells them.
fn lookup(table: FolderNames, lower: &str) -> Option<FolderRole> {
    table
        .iter()
        .find(|(_, names)| names.iter().any(|n| n.to_lowercase() == lower))
        .map(|(role, _)| *role)
}

/// The names common clients and servers create, by role.
const COMMON: FolderNames = &[
    (
        FolderRole::Sent,
        &[
            "sent",
            "sent items",
            "sent messages",
            "sent mail",
            "sent-mail",
            "gesendet",
            "gesendete elemente",
            "gesendete objekte",
            "gesendete nachrichten",
            "envoyés",
            "envoyes",
            "éléments envoyés",
            "elements envoyes",
            "messages envoyés",
            "enviados",
            "elementos enviados",
            "mensajes enviados",
            "correo enviado",
            "posta inviata",
            "inviati",
            "elementi inviati",
            "posta in uscita inviata",
            "itens enviados",
            "mensagens enviadas",
            "enviadas",
            "verzonden",
            "verzonden items",
            "verzonden berichten",
            "skickat",
            "skickade objekt",
            "sendt",
            "sendte elementer",
            "sendte",
            "lähetetyt",
            "wysłane",
        ],
    ),
    (
        FolderRole::Spam,
        &[
            "junk",
            "spam",
            "junk e-mail",
            "junk email",
            "junk mail",
            "bulk mail",
            "bulk",
            "spamverdacht",
            "junk-e-mail",
            "unerwünscht",
            "indésirables",
            "courrier indésirable",
            "pourriel",
            "correo no deseado",
            "no deseado",
            "posta indesiderata",
            "lixo eletrônico",
            "lixo eletronico",
            "ongewenste e-mail",
            "ongewenst",
            "skräppost",
            "søppelpost",
            "uønsket e-post",
            "roskaposti",
        ],
    ),
    (
        FolderRole::Trash,
        &[
            "trash",
            "deleted items",
            "deleted messages",
            "deleted",
            "bin",
            "papierkorb",
            "gelöschte elemente",
            "gelöschte objekte",
            "corbeille",
            "éléments supprimés",
            "elements supprimes",
            "papelera",
            "elementos eliminados",
            "cestino",
            "posta eliminata",
            "elementi eliminati",
            "lixeira",
            "lixo",
            "itens excluídos",
            "itens eliminados",
            "prullenbak",
            "verwijderde items",
            "papperskorgen",
            "borttagna objekt",
            "slettet",
            "slettede elementer",
        ],
    ),
    (
        FolderRole::Drafts,
        &[
            "drafts",
            "draft",
            "entwürfe",
            "entwurf",
            "brouillons",
            "borradores",
            "bozze",
            "rascunhos",
            "concepten",
            "utkast",
            "kladder",
            "luonnokset",
        ],
    ),
    (
        FolderRole::Archive,
        &[
            "archive", "archives", "archiv", "archivo", "archivio", "arquivo", "archief", "arkiv",
            "arkisto",
        ],
    ),
    (
        FolderRole::AllMail,
        &[
            "all mail",
            "alle nachrichten",
            "tous les messages",
            "todos",
            "tutti i messaggi",
        ],
    ),
    (
        FolderRole::Starred,
        &["starred", "flagged", "markiert", "suivis"],
    ),
    (FolderRole::Important, &["important", "wichtig"]),
    (
        FolderRole::Outbox,
        &[
            "outbox",
            "postausgang",
            "boîte d'envoi",
            "bandeja de salida",
            "posta in uscita",
            "caixa de saída",
            "postvak uit",
            "utkorgen",
        ],
    ),
    (
        FolderRole::Inbox,
        &["posteingang", "boîte de réception", "bandeja de entrada"],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str, delimiter: Option<&str>, attributes: &[&str]) -> Option<FolderRole> {
        map_folder(&mailbox(name, delimiter, attributes), &[])
    }

    #[test]
    fn special_use_wins() {
        assert_eq!(
            role("Whatever", Some("/"), &["\\HasNoChildren", "\\Sent"]),
            Some(FolderRole::Sent)
        );
        assert_eq!(
            role("Trash", Some("/"), &["\\junk"]),
            Some(FolderRole::Spam)
        );
        assert_eq!(role("X", Some("/"), &["\\All"]), Some(FolderRole::AllMail));
        assert_eq!(
            role("X", Some("/"), &["\\Flagged"]),
            Some(FolderRole::Starred)
        );
        assert_eq!(
            role("X", Some("/"), &["\\Important"]),
            Some(FolderRole::Important)
        );
        assert_eq!(
            role("X", Some("/"), &["\\Archive"]),
            Some(FolderRole::Archive)
        );
    }

    #[test]
    fn names_in_many_languages() {
        for (name, expected) in [
            ("Sent", FolderRole::Sent),
            ("SENT ITEMS", FolderRole::Sent),
            ("Sent Messages", FolderRole::Sent),
            ("Gesendet", FolderRole::Sent),
            ("Gesendete Elemente", FolderRole::Sent),
            ("Envoyés", FolderRole::Sent),
            ("Enviados", FolderRole::Sent),
            ("Posta inviata", FolderRole::Sent),
            ("Verzonden items", FolderRole::Sent),
            ("Junk", FolderRole::Spam),
            ("Spam", FolderRole::Spam),
            ("Junk E-mail", FolderRole::Spam),
            ("Trash", FolderRole::Trash),
            ("Deleted Items", FolderRole::Trash),
            ("Papierkorb", FolderRole::Trash),
            ("Corbeille", FolderRole::Trash),
            ("Papelera", FolderRole::Trash),
            ("Drafts", FolderRole::Drafts),
            ("Entwürfe", FolderRole::Drafts),
            ("Brouillons", FolderRole::Drafts),
            ("Borradores", FolderRole::Drafts),
            ("Archive", FolderRole::Archive),
            ("Archiv", FolderRole::Archive),
            ("inbox", FolderRole::Inbox),
        ] {
            assert_eq!(role(name, Some("/"), &[]), Some(expected), "{name}");
        }
    }

    #[test]
    fn inbox_prefix_and_utf7() {
        assert_eq!(
            role("INBOX.Sent Items", Some("."), &[]),
            Some(FolderRole::Sent)
        );
        assert_eq!(
            role("INBOX/Drafts", Some("/"), &[]),
            Some(FolderRole::Drafts)
        );
        assert_eq!(role("Inbox.Trash", Some("."), &[]), Some(FolderRole::Trash));
        assert_eq!(
            role("INBOX.Entw&APw-rfe", Some("."), &[]),
            Some(FolderRole::Drafts)
        );
        assert_eq!(
            role("[Gmail]/Sent Mail", Some("/"), &[]),
            Some(FolderRole::Sent)
        );
        // A nested user folder that happens to be called Sent is not Sent.
        assert_eq!(role("Projects/Sent", Some("/"), &[]), None);
        assert_eq!(role("INBOX.Sent", None, &[]), None);
        assert_eq!(role("Customers", Some("/"), &[]), None);
        assert_eq!(role("Sent", Some("/"), &["\\Noselect"]), None);
    }

    #[test]
    fn service_names_come_before_common_ones() {
        // "Bin" is Trash in the common table; a service may say otherwise.
        const SERVICE: FolderNames = &[(FolderRole::Archive, &["Bin"])];
        let bin = mailbox("Bin", Some("/"), &[]);
        assert_eq!(map_folder(&bin, &[]), Some(FolderRole::Trash));
        assert_eq!(map_folder(&bin, SERVICE), Some(FolderRole::Archive));
        // ... but never before special-use.
        let flagged = mailbox("Bin", Some("/"), &["\\Junk"]);
        assert_eq!(map_folder(&flagged, SERVICE), Some(FolderRole::Spam));
    }
}
