//! CRM contacts and leads. Both have the same shape (name, primary and
//! secondary emails, owner, free-form fields), so one generic implementation
//! serves both, told apart by their id type. Every email of a record is also
//! a row of `crm_emails` (lower-cased, indexed) so "who is this address"
//! and "this contact's mail" are index lookups.

use super::db::{SqlBuilder, from_json, like_escape, to_json};
use super::message_query::{MessageFilter, MessagePage};
use super::{Store, StoreError, StoreResult};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{ContactId, LeadId, OrgId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::any::{Any, AnyRow};
use sqlx::{Row, Transaction};

/// The id type of a CRM record kind.
pub trait CrmId: Clone + Send + Sync + 'static {
    const KIND: &'static str;
    const WHAT: &'static str;
    fn generate() -> Self;
    fn from_string(s: String) -> Self;
    fn as_str(&self) -> &str;
}

impl CrmId for ContactId {
    const KIND: &'static str = "contact";
    const WHAT: &'static str = "contact";
    fn generate() -> Self {
        ContactId::generate()
    }
    fn from_string(s: String) -> Self {
        ContactId(s)
    }
    fn as_str(&self) -> &str {
        &self.0
    }
}

impl CrmId for LeadId {
    const KIND: &'static str = "lead";
    const WHAT: &'static str = "lead";
    fn generate() -> Self {
        LeadId::generate()
    }
    fn from_string(s: String) -> Self {
        LeadId(s)
    }
    fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CrmRecord<Id> {
    pub id: Id,
    pub org: OrgId,
    pub name: String,
    /// Lower-cased.
    pub primary_email: Option<String>,
    /// Lower-cased, without the primary one, no duplicates.
    pub secondary_emails: Vec<String>,
    pub owner: Option<UserId>,
    /// Free-form CRM fields (a JSON object).
    pub fields: serde_json::Value,
    pub created_at: i64,
    pub updated_at: i64,
}

pub type Contact = CrmRecord<ContactId>;
pub type Lead = CrmRecord<LeadId>;

use mailroom_crm::CheckedRecord as Checked;
/// A new record and its checks live in `mailroom-crm` (pure, shared with
/// CSV import); the store keeps their old paths.
pub use mailroom_crm::NewCrmRecord;

fn some<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A partial update; `Some(None)` clears an optional field.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CrmRecordUpdate {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "some")]
    pub primary_email: Option<Option<String>>,
    pub secondary_emails: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some")]
    pub owner: Option<Option<UserId>>,
    pub fields: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrmFilter {
    /// Case-insensitive substring of the name or any email.
    pub text: Option<String>,
    pub owner: Option<UserId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CrmPage<Id> {
    pub items: Vec<CrmRecord<Id>>,
    pub next_cursor: Option<String>,
}

fn check(new: &NewCrmRecord) -> StoreResult<Checked> {
    Ok(mailroom_crm::check_record(new)?)
}

const RECORD_COLUMNS: &str =
    "r.id, r.org_id, r.name, r.primary_email, r.owner_id, r.fields, r.created_at, r.updated_at";

fn record_from_row<Id: CrmId>(row: &AnyRow, secondary: Vec<String>) -> StoreResult<CrmRecord<Id>> {
    Ok(CrmRecord {
        id: Id::from_string(row.try_get("id")?),
        org: OrgId(row.try_get("org_id")?),
        name: row.try_get("name")?,
        primary_email: row.try_get("primary_email")?,
        secondary_emails: secondary,
        owner: row.try_get::<Option<String>, _>("owner_id")?.map(UserId),
        fields: from_json(&row.try_get::<String, _>("fields")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn write_emails(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    id: &str,
    c: &Checked,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM crm_emails WHERE record_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let all = c
        .primary
        .iter()
        .map(|e| (e, true))
        .chain(c.secondary.iter().map(|e| (e, false)));
    for (position, (email, primary)) in all.enumerate() {
        sqlx::query("INSERT INTO crm_emails (org_id, record_id, email, is_primary, position) VALUES ($1, $2, $3, $4, $5)")
            .bind(org.as_str())
            .bind(id)
            .bind(email.as_str())
            .bind(primary)
            .bind(position as i64)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn encode_cursor(name: &str, id: &str) -> StoreResult<String> {
    Ok(B64.encode(to_json(&(name, id))?))
}

fn decode_cursor(cursor: &str) -> StoreResult<(String, String)> {
    let bad = || StoreError::Invalid("invalid pagination cursor".into());
    let bytes = B64.decode(cursor.trim()).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// A CRM record found by one of a message's addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrmMatch {
    /// `contact` or `lead`.
    pub kind: String,
    pub id: String,
    pub name: String,
    pub email: String,
}

impl Store {
    async fn check_owner(&self, org: &OrgId, owner: Option<&UserId>) -> StoreResult<()> {
        if let Some(o) = owner
            && let Err(StoreError::NotFound(_)) = self.get_user(org, o).await
        {
            return Err(StoreError::Invalid(format!("unknown user {o}")));
        }
        Ok(())
    }

    async fn crm_insert<Id: CrmId>(
        &self,
        tx: &mut Transaction<'static, Any>,
        org: &OrgId,
        c: &Checked,
    ) -> StoreResult<Id> {
        let id = Id::generate();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO crm_records (id, org_id, kind, name, primary_email, owner_id, fields, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(Id::KIND)
        .bind(c.name.as_str())
        .bind(c.primary.clone())
        .bind(c.owner.as_ref().map(|o| o.as_str().to_owned()))
        .bind(c.fields.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await?;
        write_emails(tx, org, id.as_str(), c).await?;
        Ok(id)
    }

    pub async fn crm_create<Id: CrmId>(
        &self,
        org: &OrgId,
        new: &NewCrmRecord,
    ) -> StoreResult<CrmRecord<Id>> {
        let c = check(new)?;
        self.get_org(org).await?;
        self.check_owner(org, c.owner.as_ref()).await?;
        let mut tx = self.begin_write().await?;
        let id = self.crm_insert::<Id>(&mut tx, org, &c).await?;
        tx.commit().await?;
        self.crm_get(org, &id).await
    }

    /// Creates many records in one transaction (a CSV import): all or none.
    /// An invalid record fails the import with its index in the message.
    pub async fn crm_import<Id: CrmId>(
        &self,
        org: &OrgId,
        records: &[NewCrmRecord],
    ) -> StoreResult<Vec<Id>> {
        let mut checked = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            let c = check(r).map_err(|e| StoreError::Invalid(format!("record {}: {e}", i + 1)))?;
            self.check_owner(org, c.owner.as_ref())
                .await
                .map_err(|e| StoreError::Invalid(format!("record {}: {e}", i + 1)))?;
            checked.push(c);
        }
        self.get_org(org).await?;
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(checked.len());
        for c in &checked {
            ids.push(self.crm_insert::<Id>(&mut tx, org, c).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    pub async fn crm_get<Id: CrmId>(&self, org: &OrgId, id: &Id) -> StoreResult<CrmRecord<Id>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM crm_records r WHERE r.org_id = $1 AND r.kind = $2 AND r.id = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(Id::KIND)
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound(Id::WHAT))?;
        let mut records = self.with_secondary::<Id>(vec![row]).await?;
        records.pop().ok_or(StoreError::NotFound(Id::WHAT))
    }

    /// Attaches each record's secondary emails (one query for the batch).
    async fn with_secondary<Id: CrmId>(
        &self,
        rows: Vec<AnyRow>,
    ) -> StoreResult<Vec<CrmRecord<Id>>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let secondary: Vec<String> = sqlx::query_scalar(
                "SELECT email FROM crm_emails WHERE record_id = $1 AND is_primary = FALSE ORDER BY position",
            )
            .bind(id)
            .fetch_all(self.pool())
            .await?;
            out.push(record_from_row(row, secondary)?);
        }
        Ok(out)
    }

    /// A page of records ordered by name, then id.
    pub async fn crm_list<Id: CrmId>(
        &self,
        org: &OrgId,
        filter: &CrmFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> StoreResult<CrmPage<Id>> {
        let limit = limit.unwrap_or(50).clamp(1, 500);
        let mut q = SqlBuilder::new(&format!(
            "SELECT {RECORD_COLUMNS} FROM crm_records r WHERE r.org_id = "
        ));
        q.bind_text(org.as_str())
            .push(" AND r.kind = ")
            .bind_text(Id::KIND);
        if let Some(owner) = &filter.owner {
            q.push(" AND r.owner_id = ").bind_text(owner.as_str());
        }
        if let Some(text) = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let n = q.arg(super::db::Arg::Text(format!(
                "%{}%",
                like_escape(&text.to_lowercase())
            )));
            q.push(&format!(
                " AND (LOWER(r.name) LIKE ${n} ESCAPE '\\' OR EXISTS (SELECT 1 FROM crm_emails e \
                 WHERE e.record_id = r.id AND e.email LIKE ${n} ESCAPE '\\'))"
            ));
        }
        if let Some(cursor) = cursor {
            let (name, id) = decode_cursor(cursor)?;
            let n = q.arg(super::db::Arg::Text(name));
            let i = q.arg(super::db::Arg::Text(id));
            q.push(&format!(
                " AND (r.name > ${n} OR (r.name = ${n} AND r.id > ${i}))"
            ));
        }
        q.push(" ORDER BY r.name, r.id LIMIT ")
            .bind_i64(i64::from(limit) + 1);
        let rows = q.query().fetch_all(self.pool()).await?;
        let mut items = self.with_secondary::<Id>(rows).await?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items
                .last()
                .map(|r| encode_cursor(&r.name, r.id.as_str()))
                .transpose()?
        } else {
            None
        };
        Ok(CrmPage { items, next_cursor })
    }

    pub async fn crm_update<Id: CrmId>(
        &self,
        org: &OrgId,
        id: &Id,
        update: &CrmRecordUpdate,
    ) -> StoreResult<CrmRecord<Id>> {
        let current = self.crm_get(org, id).await?;
        let merged = NewCrmRecord {
            name: update.name.clone().unwrap_or(current.name),
            primary_email: update
                .primary_email
                .clone()
                .unwrap_or(current.primary_email),
            secondary_emails: update
                .secondary_emails
                .clone()
                .unwrap_or(current.secondary_emails),
            owner: update.owner.clone().unwrap_or(current.owner),
            fields: update.fields.clone().unwrap_or(current.fields),
        };
        let c = check(&merged)?;
        self.check_owner(org, c.owner.as_ref()).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE crm_records SET name = $1, primary_email = $2, owner_id = $3, fields = $4, updated_at = $5 \
             WHERE org_id = $6 AND kind = $7 AND id = $8",
        )
        .bind(c.name.as_str())
        .bind(c.primary.clone())
        .bind(c.owner.as_ref().map(|o| o.as_str().to_owned()))
        .bind(c.fields.as_str())
        .bind(now_ms())
        .bind(org.as_str())
        .bind(Id::KIND)
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        write_emails(&mut tx, org, id.as_str(), &c).await?;
        tx.commit().await?;
        self.crm_get(org, id).await
    }

    pub async fn crm_delete<Id: CrmId>(&self, org: &OrgId, id: &Id) -> StoreResult<()> {
        let done =
            sqlx::query("DELETE FROM crm_records WHERE org_id = $1 AND kind = $2 AND id = $3")
                .bind(org.as_str())
                .bind(Id::KIND)
                .bind(id.as_str())
                .execute(self.pool())
                .await?;
        crate::db::expect_found(&done, Id::WHAT)?;
        Ok(())
    }

    /// The records having `email` as primary or secondary address.
    pub async fn crm_find_by_email<Id: CrmId>(
        &self,
        org: &OrgId,
        email: &str,
    ) -> StoreResult<Vec<CrmRecord<Id>>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM crm_records r WHERE r.org_id = $1 AND r.kind = $2 AND r.id IN \
             (SELECT e.record_id FROM crm_emails e WHERE e.org_id = $1 AND e.email = $3) ORDER BY r.name, r.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(Id::KIND)
            .bind(email.trim().to_lowercase())
            .fetch_all(self.pool())
            .await?;
        self.with_secondary(rows).await
    }

    /// Every contact and lead having any of `emails` (lower-cased), in one
    /// query: (kind, record id, record name, the email that matched). What
    /// the pipeline links a message to.
    pub async fn crm_matches(&self, org: &OrgId, emails: &[String]) -> StoreResult<Vec<CrmMatch>> {
        if emails.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = SqlBuilder::new(
            "SELECT r.kind, r.id, r.name, e.email FROM crm_emails e \
             JOIN crm_records r ON r.id = e.record_id AND r.org_id = e.org_id \
             WHERE e.org_id = ",
        );
        q.bind_text(org.as_str());
        q.push(" AND e.email IN ")
            .bind_list(emails.iter().map(|e| e.trim().to_lowercase()))
            .push(" ORDER BY e.email, r.kind, r.name, r.id");
        let rows = q.query().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(CrmMatch {
                    kind: r.try_get("kind")?,
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    email: r.try_get("email")?,
                })
            })
            .collect()
    }

    // Named entry points, so callers need no turbofish.

    pub async fn create_contact(&self, org: &OrgId, new: &NewCrmRecord) -> StoreResult<Contact> {
        self.crm_create(org, new).await
    }
    pub async fn get_contact(&self, org: &OrgId, id: &ContactId) -> StoreResult<Contact> {
        self.crm_get(org, id).await
    }
    pub async fn list_contacts(
        &self,
        org: &OrgId,
        f: &CrmFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> StoreResult<CrmPage<ContactId>> {
        self.crm_list(org, f, cursor, limit).await
    }
    pub async fn update_contact(
        &self,
        org: &OrgId,
        id: &ContactId,
        u: &CrmRecordUpdate,
    ) -> StoreResult<Contact> {
        self.crm_update(org, id, u).await
    }
    pub async fn delete_contact(&self, org: &OrgId, id: &ContactId) -> StoreResult<()> {
        self.crm_delete(org, id).await
    }
    pub async fn create_lead(&self, org: &OrgId, new: &NewCrmRecord) -> StoreResult<Lead> {
        self.crm_create(org, new).await
    }
    pub async fn get_lead(&self, org: &OrgId, id: &LeadId) -> StoreResult<Lead> {
        self.crm_get(org, id).await
    }
    pub async fn list_leads(
        &self,
        org: &OrgId,
        f: &CrmFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> StoreResult<CrmPage<LeadId>> {
        self.crm_list(org, f, cursor, limit).await
    }
    pub async fn update_lead(
        &self,
        org: &OrgId,
        id: &LeadId,
        u: &CrmRecordUpdate,
    ) -> StoreResult<Lead> {
        self.crm_update(org, id, u).await
    }
    pub async fn delete_lead(&self, org: &OrgId, id: &LeadId) -> StoreResult<()> {
        self.crm_delete(org, id).await
    }

    /// The contact's mail: messages with any of its emails in any address
    /// field (NotFound for a contact of another org).
    pub async fn messages_for_contact(
        &self,
        org: &OrgId,
        id: &ContactId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> StoreResult<MessagePage> {
        self.get_contact(org, id).await?;
        let filter = MessageFilter {
            contact: Some(id.clone()),
            ..Default::default()
        };
        self.list_messages(org, &filter, cursor, limit).await
    }

    pub async fn messages_for_lead(
        &self,
        org: &OrgId,
        id: &LeadId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> StoreResult<MessagePage> {
        self.get_lead(org, id).await?;
        let filter = MessageFilter {
            lead: Some(id.clone()),
            ..Default::default()
        };
        self.list_messages(org, &filter, cursor, limit).await
    }
}
