//! The state of a message in one mailbox: read, starred, folder, labels and
//! reminder, one row per account that holds the message (`mailbox_state`).
//!
//! Content identity is org-wide (a message is stored once per org, CRM links
//! are shared), but state is the mailbox's own: a user sees the mailboxes of
//! accounts they may see that still hold the message, changes only those of
//! accounts they own (an admin or the org's own pipeline: every mailbox),
//! and only the servers of the mailboxes changed hear of it. A row is made
//! when an account first holds the message and outlives its server
//! locations, so a server-side move, a UIDVALIDITY change or a POP3
//! download deleted from the server keep what the user set.

use super::accounts::visible_to_sql;
use super::db::{Arg, SqlBuilder, from_json, get_bool};
use super::message_query::{MessageState, MessageStateUpdate};
use super::messages::Location;
use super::server_changes::{ServerChangeKind, enqueue_for_update};
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, FolderId, MessageId, OrgId, UserId};
use mailroom_core::text;
use serde::Serialize;
use sqlx::any::{Any, AnyRow};
use sqlx::{Row, Transaction};

/// Whose view of mailbox state a read or change is. One rule for every
/// person: a mailbox is seen through an account visible to them (their
/// own, a Public one, a Custom one listing them). Private means the owner
/// alone, also for admins; an admin differs only in what it may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access<'a> {
    /// The org's own processes (the pipeline, sync): every mailbox.
    Org,
    /// A user: sees the mailboxes of accounts visible to them that hold the
    /// message; changes only those of accounts they own.
    User(&'a UserId),
    /// An admin: sees what a user sees, and changes every mailbox it sees.
    Admin(&'a UserId),
}

impl<'a> Access<'a> {
    /// How a person sees mail: `Admin(user)` or `User(user)`.
    pub fn of(user: &'a UserId, is_admin: bool) -> Self {
        if is_admin {
            Access::Admin(user)
        } else {
            Access::User(user)
        }
    }

    /// The person whose sight limits this access (`None`: the org's own).
    fn viewer(self) -> Option<&'a UserId> {
        match self {
            Access::Org => None,
            Access::User(user) | Access::Admin(user) => Some(user),
        }
    }
}

/// A message's state in one mailbox, as a caller may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MailboxState {
    /// The account whose mailbox this is.
    pub account: AccountId,
    #[serde(flatten)]
    pub state: MessageState,
    /// Whether the caller may change it (the account's owner, or an admin).
    pub can_change: bool,
}

/// Whether the account (`a`) still holds the message of mailbox row
/// `alias`: an IMAP or local location of it, or any POP3 download (a
/// downloaded POP3 message belongs to its account for good, also once the
/// server deleted it).
pub(crate) fn held_sql(alias: &str) -> String {
    format!(
        "(a.protocol = 'pop3' OR EXISTS (SELECT 1 FROM message_locations hl \
         WHERE hl.org_id = {alias}.org_id AND hl.account_id = {alias}.account_id \
         AND hl.message_id = {alias}.message_id))"
    )
}

/// Whether the mail of account `a` is shown to people: its owner is
/// active, or an admin backed the account up into the org archive. A
/// deactivated user's mail is hidden from everyone (admins included) until
/// then; the org's own processes still reach it.
pub(crate) const SHOWN_SQL: &str = "(a.backed_up_at IS NOT NULL OR EXISTS (SELECT 1 FROM users ou \
     WHERE ou.id = a.owner_id AND ou.active = TRUE))";

/// Appends the conditions under which `access` sees the mailbox row
/// `alias` (joined with its account as `a`).
pub(crate) fn push_visible(q: &mut SqlBuilder, access: Access<'_>, alias: &str) {
    if let Some(user) = access.viewer() {
        let n = q.arg(Arg::Text(user.as_str().to_owned()));
        q.push(&format!(
            " AND {} AND {} AND {SHOWN_SQL}",
            visible_to_sql(n),
            held_sql(alias)
        ));
    }
}

pub(crate) fn state_from_row(row: &AnyRow) -> StoreResult<MessageState> {
    Ok(MessageState {
        folder: row.try_get("folder")?,
        labels: from_json(&row.try_get::<String, _>("labels")?)?,
        read: get_bool(row, "is_read")?,
        starred: get_bool(row, "is_starred")?,
        reminder_at: row.try_get("reminder_at")?,
    })
}

fn flag_set(flags: &[String], flag: &str) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case(flag))
}

pub(crate) const STATE_INSERT: &str = "INSERT INTO mailbox_state (org_id, account_id, message_id, \
     folder, is_read, is_starred, updated_at)";

/// A mailbox already holding the message keeps its state.
pub(crate) const STATE_KEEP: &str = " ON CONFLICT (account_id, message_id) DO NOTHING";

/// The state a mailbox starts with when it first holds a message seen at
/// `location` (a row for [`STATE_INSERT`]): read and starred from the
/// server's flags, in `folder` (see [`folder_of`]).
pub(crate) fn initial_state_row(
    org: &OrgId,
    account: &AccountId,
    id: &MessageId,
    location: &Location,
    folder: &str,
    now: i64,
) -> Vec<Arg> {
    let (read, starred) = match location {
        Location::Imap { flags, .. } => (flag_set(flags, "\\Seen"), flag_set(flags, "\\Flagged")),
        Location::Local { .. } => (true, false),
        Location::Pop3 { .. } => (false, false),
    };
    vec![
        Arg::Text(org.as_str().to_owned()),
        Arg::Text(account.as_str().to_owned()),
        Arg::Text(id.as_str().to_owned()),
        Arg::Text(folder.to_owned()),
        Arg::Bool(read),
        Arg::Bool(starred),
        Arg::I64(now),
    ]
}

fn check_labels(labels: &[String]) -> StoreResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for l in labels {
        if let Some(problem) = text::label_problem(l) {
            return Err(StoreError::Invalid(format!(
                "label {:?} {problem}; a label is 1 to {} printable characters",
                text::loggable(l),
                text::MAX_LABEL_BYTES
            )));
        }
        let l = l.trim();
        if !out.iter().any(|o| o == l) {
            out.push(l.to_owned());
        }
    }
    if out.len() > text::MAX_LABELS {
        return Err(StoreError::Invalid(format!(
            "at most {} labels per message",
            text::MAX_LABELS
        )));
    }
    Ok(out)
}

/// The parts of a state update the servers holding the message must
/// hear of: read, starred and the folder (labels and reminders are
/// Mailroom's own).
pub(crate) fn server_change_kinds(
    update: &MessageStateUpdate,
) -> StoreResult<Vec<ServerChangeKind>> {
    let mut kinds = Vec::new();
    if let Some(read) = update.read {
        kinds.push(ServerChangeKind::Read(read));
    }
    if let Some(starred) = update.starred {
        kinds.push(ServerChangeKind::Starred(starred));
    }
    if let Some(folder) = &update.folder {
        kinds.push(ServerChangeKind::Folder(super::folders::check_role(
            folder,
        )?));
    }
    Ok(kinds)
}

/// Applies a state update to the message's mailboxes in `accounts`, and
/// queues its server side for those accounts, inside the caller's
/// transaction. Shared by the API's update and the pipeline's actions.
pub(crate) async fn apply_update(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    id: &MessageId,
    update: &MessageStateUpdate,
    accounts: &[AccountId],
) -> StoreResult<()> {
    if accounts.is_empty() {
        return Ok(());
    }
    let folder = update
        .folder
        .as_deref()
        .map(super::folders::check_role)
        .transpose()?;
    let labels = update.labels.as_deref().map(check_labels).transpose()?;
    let labels_json = labels.as_ref().map(super::db::to_json).transpose()?;
    let kinds = server_change_kinds(update)?;
    let mut q = SqlBuilder::new("UPDATE mailbox_state SET updated_at = ");
    q.bind_i64(now_ms());
    if let Some(folder) = folder {
        q.push(", folder = ").bind_text(folder);
    }
    if let Some(labels) = labels_json {
        q.push(", labels = ").bind_text(labels);
    }
    if let Some(read) = update.read {
        q.push(", is_read = ").bind(Arg::Bool(read));
    }
    if let Some(starred) = update.starred {
        q.push(", is_starred = ").bind(Arg::Bool(starred));
    }
    if let Some(reminder) = update.reminder_at {
        q.push(", reminder_at = ")
            .bind(reminder.map_or(Arg::NullI64, Arg::I64));
    }
    q.push(" WHERE org_id = ")
        .bind_text(org.as_str())
        .push(" AND message_id = ")
        .bind_text(id.as_str())
        .push(" AND account_id IN ")
        .bind_list(accounts.iter().map(AccountId::as_str));
    q.into_query().execute(&mut **tx).await?;
    enqueue_for_update(tx, org, id, &kinds, accounts).await
}

/// The message's mailboxes `access` may see, in account order.
async fn mailboxes_in(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    id: &MessageId,
    access: Access<'_>,
) -> StoreResult<Vec<MailboxState>> {
    let mut q = SqlBuilder::new(
        "SELECT ms.account_id, ms.folder, ms.labels, ms.is_read, ms.is_starred, ms.reminder_at, \
         a.owner_id FROM mailbox_state ms JOIN mail_accounts a ON a.id = ms.account_id \
         WHERE ms.org_id = ",
    );
    q.bind_text(org.as_str())
        .push(" AND ms.message_id = ")
        .bind_text(id.as_str());
    push_visible(&mut q, access, "ms");
    q.push(" ORDER BY ms.account_id");
    q.into_query()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            let owner: String = r.try_get("owner_id")?;
            Ok(MailboxState {
                account: AccountId(r.try_get("account_id")?),
                state: state_from_row(r)?,
                can_change: match access {
                    Access::Org | Access::Admin(_) => true,
                    Access::User(user) => owner == user.as_str(),
                },
            })
        })
        .collect()
}

impl Store {
    /// The message's state in each mailbox `access` may see (empty when
    /// the caller may see none, or the message is not the org's).
    pub async fn message_mailboxes(
        &self,
        org: &OrgId,
        id: &MessageId,
        access: Access<'_>,
    ) -> StoreResult<Vec<MailboxState>> {
        let mut tx = self.pool().begin().await?;
        let out = mailboxes_in(&mut tx, org, id, access).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Changes the message's state in every mailbox of the org that holds
    /// it (the org's own act, e.g. an admin tool or a test); see
    /// [`update_message_state_as`](Self::update_message_state_as).
    pub async fn update_message_state(
        &self,
        org: &OrgId,
        id: &MessageId,
        update: &MessageStateUpdate,
    ) -> StoreResult<MessageState> {
        self.update_message_state_as(org, id, update, Access::Org)
            .await
    }

    /// Changes the message's state in the mailboxes `access` may change,
    /// and queues the read, starred and folder parts for those accounts'
    /// servers only, in one transaction. Returns the state of the first
    /// mailbox changed; `NotFound` when `access` may change none (the API
    /// tells "may see but not change" apart first).
    pub async fn update_message_state_as(
        &self,
        org: &OrgId,
        id: &MessageId,
        update: &MessageStateUpdate,
        access: Access<'_>,
    ) -> StoreResult<MessageState> {
        let mut tx = self.begin_write().await?;
        let accounts: Vec<AccountId> = mailboxes_in(&mut tx, org, id, access)
            .await?
            .into_iter()
            .filter(|m| m.can_change)
            .map(|m| m.account)
            .collect();
        if accounts.is_empty() {
            return Err(StoreError::NotFound("message"));
        }
        apply_update(&mut tx, org, id, update, &accounts).await?;
        let changed = mailboxes_in(&mut tx, org, id, Access::Org).await?;
        tx.commit().await?;
        changed
            .into_iter()
            .find(|m| accounts.contains(&m.account))
            .map(|m| m.state)
            .ok_or(StoreError::NotFound("message"))
    }
}

/// Every account whose mailbox holds the message (for the org's pipeline,
/// which acts on all of them).
pub(crate) async fn mailbox_accounts(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    id: &MessageId,
) -> StoreResult<Vec<AccountId>> {
    Ok(mailboxes_in(tx, org, id, Access::Org)
        .await?
        .into_iter()
        .map(|m| m.account)
        .collect())
}

/// The mailbox folder of a message in a server folder: the folder's role,
/// or, for a folder without one, the folder itself (`custom:<its server
/// name>`, which write-back finds by name), never `inbox`.
pub fn folder_of(name: &str, role: Option<&str>) -> String {
    role.map_or_else(|| format!("custom:{name}"), str::to_owned)
}

/// Follows moves made on the server: when a message's mailbox folder is no
/// longer one of the server folders the account holds it in, the mailbox
/// takes the folder of its newest location there. A message in no folder
/// (between a move's expunge and the destination's sync) keeps its folder,
/// and a move the user made in Mailroom that still waits to be written
/// wins over the server.
pub(crate) async fn follow_server_folders(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    account: &AccountId,
    messages: &[MessageId],
) -> StoreResult<()> {
    for message in messages {
        // Failed moves count too: they are tried again at each sync.
        let user_move: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM server_changes WHERE org_id = $1 AND account_id = $2 \
             AND message_id = $3 AND kind = 'folder'",
        )
        .bind(org.as_str())
        .bind(account.as_str())
        .bind(message.as_str())
        .fetch_one(&mut **tx)
        .await?;
        if user_move > 0 {
            continue;
        }
        let current: Option<String> = sqlx::query_scalar(
            "SELECT folder FROM mailbox_state WHERE org_id = $1 AND account_id = $2 AND message_id = $3",
        )
        .bind(org.as_str())
        .bind(account.as_str())
        .bind(message.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        let Some(current) = current else { continue };
        let held: Vec<String> = sqlx::query(
            "SELECT f.name, f.role FROM message_locations l JOIN folders f ON f.id = l.folder_id \
             WHERE l.org_id = $1 AND l.account_id = $2 AND l.message_id = $3 \
             ORDER BY l.seen_at DESC, l.location_key",
        )
        .bind(org.as_str())
        .bind(account.as_str())
        .bind(message.as_str())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            let name: String = r.try_get("name")?;
            let role: Option<String> = r.try_get("role")?;
            Ok(folder_of(&name, role.as_deref()))
        })
        .collect::<StoreResult<_>>()?;
        let Some(newest) = held.first() else { continue };
        if held.contains(&current) {
            continue;
        }
        sqlx::query(
            "UPDATE mailbox_state SET folder = $1, updated_at = $2 \
             WHERE org_id = $3 AND account_id = $4 AND message_id = $5",
        )
        .bind(newest)
        .bind(now_ms())
        .bind(org.as_str())
        .bind(account.as_str())
        .bind(message.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A folder's role changed (a manual mapping, or the automatic one): the
/// messages stored from it that sit in its old mailbox folder move to the
/// new one, in the caller's transaction. Messages the user filed elsewhere
/// stay where they put them.
pub(crate) async fn refile_folder(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    folder: &FolderId,
    old: &str,
    new: &str,
) -> StoreResult<()> {
    if old == new {
        return Ok(());
    }
    sqlx::query(
        "UPDATE mailbox_state SET folder = $1, updated_at = $2 \
         WHERE org_id = $3 AND folder = $4 AND EXISTS (SELECT 1 FROM message_locations l \
         WHERE l.org_id = mailbox_state.org_id AND l.account_id = mailbox_state.account_id \
         AND l.message_id = mailbox_state.message_id AND l.folder_id = $5)",
    )
    .bind(new)
    .bind(now_ms())
    .bind(org.as_str())
    .bind(old)
    .bind(folder.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
