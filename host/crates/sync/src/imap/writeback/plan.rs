//! Which IMAP commands a queued change needs: pure planning over the
//! message's stored locations in the account and the account's folders.
//! Flags go to every location; a move goes from every location not yet in
//! the target folder. On Gmail-like servers (labels as folders) the
//! All Mail folder holds every message anyway: a move takes the message out
//! of its label folders only, and "archive" may be All Mail itself.

use mailroom_core::ids::FolderId;
use mailroom_store::{ChangeOutcome, Folder, ServerChange, ServerChangeKind};

/// Where a message sits in one of the account's folders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    pub folder: FolderId,
    pub uidvalidity: u32,
    pub uid: u32,
}

/// One command on one UID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Flag { flag: &'static str, set: bool },
    Move { target: FolderId },
}

/// An [`Op`] on a location, for the change at index `change`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub change: usize,
    pub at: Loc,
    pub op: Op,
}

/// The steps of every change, and the outcome of those that need none.
#[derive(Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub settled: Vec<(usize, ChangeOutcome)>,
}

/// Plans `changes`; `locations[i]` are the locations of change `i`'s message.
pub fn plan(
    changes: &[ServerChange],
    locations: &[Vec<Loc>],
    folders: &[Folder],
    labels_as_folders: bool,
) -> Plan {
    let mut out = Plan::default();
    for (i, (change, locs)) in changes.iter().zip(locations).enumerate() {
        if locs.is_empty() {
            // The message left the server meanwhile: nothing to change there.
            out.settled.push((i, ChangeOutcome::Done));
            continue;
        }
        let flag = |flag, set| Op::Flag { flag, set };
        match &change.kind {
            ServerChangeKind::Read(set) => out.steps.extend(locs.iter().map(|at| Step {
                change: i,
                at: at.clone(),
                op: flag("\\Seen", *set),
            })),
            ServerChangeKind::Starred(set) => out.steps.extend(locs.iter().map(|at| Step {
                change: i,
                at: at.clone(),
                op: flag("\\Flagged", *set),
            })),
            ServerChangeKind::Folder(role) => {
                let Some(target) = target_folder(role, folders, labels_as_folders) else {
                    out.settled.push((
                        i,
                        ChangeOutcome::Failed(format!(
                            "the server has no {} folder; map one of the account's folders to it (PUT /v1/accounts/{{id}}/folders/mapping)",
                            role_label(role)
                        )),
                    ));
                    continue;
                };
                let sources = move_sources(locs, &target.id, folders, labels_as_folders);
                if sources.is_empty() {
                    out.settled.push((i, ChangeOutcome::Done));
                }
                out.steps.extend(sources.into_iter().map(|at| Step {
                    change: i,
                    at,
                    op: Op::Move {
                        target: target.id.clone(),
                    },
                }));
            }
        }
    }
    out
}

fn is_all_mail(f: &Folder) -> bool {
    f.special_use
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("\\All"))
}

/// The account's folder for a SalesInbox role: the folder mapped to it; for
/// `custom:NAME` also a folder named NAME; on Gmail-like servers, archiving
/// without an archive folder means All Mail.
pub fn target_folder<'a>(
    role: &str,
    folders: &'a [Folder],
    labels_as_folders: bool,
) -> Option<&'a Folder> {
    folders
        .iter()
        .find(|f| f.role.as_deref() == Some(role))
        .or_else(|| {
            let name = role.strip_prefix("custom:")?;
            folders.iter().find(|f| f.name == name)
        })
        .or_else(|| {
            (labels_as_folders && role == "archive")
                .then(|| folders.iter().find(|f| is_all_mail(f)))
                .flatten()
        })
}

/// The locations to move: all not in the target. With labels as folders,
/// All Mail is not a place the message can leave (it is the message), so it
/// moves from its label folders; only a message in All Mail alone moves from
/// there (e.g. to Trash).
fn move_sources(
    locs: &[Loc],
    target: &FolderId,
    folders: &[Folder],
    labels_as_folders: bool,
) -> Vec<Loc> {
    let candidates: Vec<Loc> = locs
        .iter()
        .filter(|l| &l.folder != target)
        .cloned()
        .collect();
    if !labels_as_folders {
        return candidates;
    }
    let all_mail = |id: &FolderId| folders.iter().any(|f| &f.id == id && is_all_mail(f));
    let labels: Vec<Loc> = candidates
        .iter()
        .filter(|l| !all_mail(&l.folder))
        .cloned()
        .collect();
    if all_mail(target) {
        // Archiving: out of every label folder; All Mail keeps it anyway.
        return labels;
    }
    if locs.iter().any(|l| &l.folder == target) {
        // In a label folder that is the target: that is one message.
        return Vec::new();
    }
    if labels.is_empty() {
        candidates
    } else {
        labels
    }
}

/// `archive` → `Archive`, `custom:Deals` → `"Deals"`, for messages.
pub fn role_label(role: &str) -> String {
    match role.strip_prefix("custom:") {
        Some(name) => format!("{name:?}"),
        None => {
            let mut c = role.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::ids::{AccountId, MessageId, OrgId};

    fn folder(id: &str, name: &str, role: Option<&str>, special_use: Option<&str>) -> Folder {
        Folder {
            id: FolderId(id.into()),
            org: OrgId("org".into()),
            account: AccountId("acc".into()),
            name: name.into(),
            delimiter: Some("/".into()),
            special_use: special_use.map(str::to_owned),
            role: role.map(str::to_owned),
            uidvalidity: Some(1),
            last_uid: 0,
            highestmodseq: None,
            last_synced_at: None,
        }
    }

    fn change(kind: ServerChangeKind) -> ServerChange {
        ServerChange {
            account: AccountId("acc".into()),
            message: MessageId("m".into()),
            kind,
            attempts: 0,
            updated_at: 1,
        }
    }

    fn at(folder: &str, uid: u32) -> Loc {
        Loc {
            folder: FolderId(folder.into()),
            uidvalidity: 1,
            uid,
        }
    }

    fn move_targets(p: &Plan) -> Vec<(String, String)> {
        p.steps
            .iter()
            .filter_map(|s| match &s.op {
                Op::Move { target } => Some((s.at.folder.0.clone(), target.0.clone())),
                Op::Flag { .. } => None,
            })
            .collect()
    }

    #[test]
    fn flags_go_to_every_location_and_moves_need_a_folder_of_the_role() {
        let folders = [folder("in", "INBOX", Some("inbox"), None)];
        let changes = [
            change(ServerChangeKind::Read(true)),
            change(ServerChangeKind::Folder("archive".into())),
        ];
        let locs = vec![vec![at("in", 3), at("in", 9)], vec![at("in", 3)]];
        let p = plan(&changes, &locs, &folders, false);
        assert_eq!(p.steps.len(), 2);
        assert!(p.steps.iter().all(|s| s.op
            == Op::Flag {
                flag: "\\Seen",
                set: true
            }));
        assert_eq!(
            p.settled,
            vec![(
                1,
                ChangeOutcome::Failed(
                    "the server has no Archive folder; map one of the account's folders to it (PUT /v1/accounts/{id}/folders/mapping)"
                        .into()
                )
            )]
        );
    }

    #[test]
    fn a_message_already_in_the_target_or_gone_needs_nothing() {
        let folders = [folder("ar", "Archive", Some("archive"), Some("\\Archive"))];
        let changes = [
            change(ServerChangeKind::Folder("archive".into())),
            change(ServerChangeKind::Starred(true)),
        ];
        let p = plan(&changes, &[vec![at("ar", 1)], vec![]], &folders, false);
        assert!(p.steps.is_empty());
        assert_eq!(
            p.settled,
            vec![(0, ChangeOutcome::Done), (1, ChangeOutcome::Done)]
        );
    }

    #[test]
    fn custom_roles_find_a_folder_by_name() {
        let folders = [
            folder("in", "INBOX", Some("inbox"), None),
            folder("deals", "Deals", None, None),
        ];
        let changes = [change(ServerChangeKind::Folder("custom:Deals".into()))];
        let p = plan(&changes, &[vec![at("in", 4)]], &folders, false);
        assert_eq!(
            move_targets(&p),
            vec![("in".to_owned(), "deals".to_owned())]
        );
    }

    #[test]
    fn gmail_archives_to_all_mail_and_moves_out_of_labels_only() {
        let folders = [
            folder("in", "INBOX", Some("inbox"), None),
            folder("all", "[Gmail]/All Mail", None, Some("\\All")),
            folder("tr", "[Gmail]/Trash", Some("trash"), Some("\\Trash")),
        ];
        let archive = [change(ServerChangeKind::Folder("archive".into()))];
        let both = vec![vec![at("in", 5), at("all", 50)]];
        let p = plan(&archive, &both, &folders, true);
        assert_eq!(move_targets(&p), vec![("in".to_owned(), "all".to_owned())]);
        let p = plan(&archive, &both, &folders, false);
        assert!(
            matches!(p.settled[..], [(0, ChangeOutcome::Failed(_))]),
            "no Archive folder outside Gmail"
        );

        let trash = [change(ServerChangeKind::Folder("trash".into()))];
        let p = plan(&trash, &both, &folders, true);
        assert_eq!(move_targets(&p), vec![("in".to_owned(), "tr".to_owned())]);
        let p = plan(&trash, &[vec![at("all", 50)]], &folders, true);
        assert_eq!(
            move_targets(&p),
            vec![("all".to_owned(), "tr".to_owned())],
            "archived mail is deleted from All Mail"
        );
        let p = plan(&archive, &[vec![at("all", 50)]], &folders, true);
        assert_eq!(
            p.settled,
            vec![(0, ChangeOutcome::Done)],
            "already archived"
        );
    }

    #[test]
    fn role_labels_read_well() {
        assert_eq!(role_label("archive"), "Archive");
        assert_eq!(role_label("custom:Deals"), "\"Deals\"");
    }
}
