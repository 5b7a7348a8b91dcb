//! Related lists: the mail of a CRM record cut into the tabs a CRM page
//! shows (sent through the CRM, seen through IMAP accounts, through POP3
//! accounts, through one user's accounts) and counted per tab. A tab only
//! narrows the one visibility rule every read follows (`mailbox_state`):
//! it never shows a caller mail they could not see in the full list.

use super::db::SqlBuilder;
use super::mailbox_state::{Access, push_visible};
use super::message_query::MessageFilter;
use super::{Store, StoreError, StoreResult};
use mailroom_core::ids::{OrgId, UserId};
use serde::Serialize;
use sqlx::Row;

/// Which of the record's mail a related list shows (`None`: all of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelatedSource {
    /// Sent with Mailroom's send route (the outbox's stored copy).
    CrmSent,
    /// Seen through an IMAP account.
    Imap,
    /// Downloaded by a POP3 account.
    Pop,
    /// Seen through an account this user owns.
    User(UserId),
}

/// List order by sort time (the Date header, else arrival).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    Newest,
    Oldest,
}

/// How many of the record's messages each tab holds for the caller (a
/// message seen through several accounts counts once per tab).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RelatedCounts {
    pub all: i64,
    pub crm_sent: i64,
    pub imap: i64,
    pub pop: i64,
    /// Per owner of the accounts the caller sees the mail through, by user
    /// id; only users with mail are listed.
    pub by_user: Vec<UserCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UserCount {
    pub user: UserId,
    pub count: i64,
}

/// The condition under which mailbox row `ms` (of account `a`) holds a
/// message sent through the CRM from that account.
const CRM_SENT_SQL: &str = "EXISTS (SELECT 1 FROM outbox o WHERE o.org_id = ms.org_id \
     AND o.stored_message_id = ms.message_id AND o.account_id = ms.account_id)";

/// Appends the condition of `source` on the mailbox row `ms` joined with
/// its account `a`.
pub(crate) fn push_source(q: &mut SqlBuilder, source: &RelatedSource) {
    match source {
        RelatedSource::CrmSent => {
            q.push(" AND ").push(CRM_SENT_SQL);
        }
        RelatedSource::Imap => {
            q.push(" AND a.protocol = 'imap'");
        }
        RelatedSource::Pop => {
            q.push(" AND a.protocol = 'pop3'");
        }
        RelatedSource::User(user) => {
            q.push(" AND a.owner_id = ").bind_text(user.as_str());
        }
    }
}

/// Appends "`message` is related to the filter's contact and lead" (any of
/// the record's emails in any address field); `org` is the SQL of the org
/// id column beside it.
pub(crate) fn push_records(q: &mut SqlBuilder, filter: &MessageFilter, message: &str, org: &str) {
    for record in [
        filter.contact.as_ref().map(|c| c.as_str()),
        filter.lead.as_ref().map(|l| l.as_str()),
    ]
    .into_iter()
    .flatten()
    {
        q.push(&format!(
            " AND {message} IN (SELECT x.message_id FROM crm_emails e JOIN message_addresses x \
             ON x.org_id = e.org_id AND x.address = e.email WHERE e.org_id = {org} AND e.record_id = "
        ))
        .bind_text(record)
        .push(")");
    }
}

impl Store {
    /// The tab counts of the related list of the filter's contact or lead,
    /// as `filter.visible_to` sees it (the list's other conditions do not
    /// narrow the counts: tabs count the whole record).
    pub async fn related_counts(
        &self,
        org: &OrgId,
        filter: &MessageFilter,
    ) -> StoreResult<RelatedCounts> {
        if filter.contact.is_none() && filter.lead.is_none() {
            return Err(StoreError::Invalid(
                "related counts are for a contact or a lead".into(),
            ));
        }
        let scope = |select: &str| {
            let mut q = SqlBuilder::new(&format!(
                "SELECT {select} FROM mailbox_state ms JOIN mail_accounts a ON a.id = ms.account_id \
                 WHERE ms.org_id = "
            ));
            q.bind_text(org.as_str());
            push_records(&mut q, filter, "ms.message_id", "ms.org_id");
            let access = filter.visible_to.as_ref().map_or(Access::Org, Access::User);
            push_visible(&mut q, access, "ms");
            q
        };
        let totals = scope(&format!(
            "COUNT(DISTINCT ms.message_id) AS all_n, \
             COUNT(DISTINCT CASE WHEN {CRM_SENT_SQL} THEN ms.message_id END) AS crm_sent_n, \
             COUNT(DISTINCT CASE WHEN a.protocol = 'imap' THEN ms.message_id END) AS imap_n, \
             COUNT(DISTINCT CASE WHEN a.protocol = 'pop3' THEN ms.message_id END) AS pop_n"
        ))
        .into_query()
        .fetch_one(self.pool())
        .await?;
        let mut by_user = scope("a.owner_id, COUNT(DISTINCT ms.message_id) AS n");
        by_user.push(" GROUP BY a.owner_id ORDER BY a.owner_id");
        let by_user = by_user
            .into_query()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(UserCount {
                    user: UserId(r.try_get("owner_id")?),
                    count: r.try_get("n")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(RelatedCounts {
            all: totals.try_get("all_n")?,
            crm_sent: totals.try_get("crm_sent_n")?,
            imap: totals.try_get("imap_n")?,
            pop: totals.try_get("pop_n")?,
            by_user,
        })
    }
}
