//! Filter files imported for preview: what an importer made of a file (the
//! rules, the warnings), for an org or one account, kept until it is
//! applied (`Store::replace_imported_rules`) or for [`KEPT_FOR_MS`]. A
//! preview changes nothing; applying it is a separate, deliberate step.

use super::db::{from_json, to_json};
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, ImportId, OrgId, UserId};
use mailroom_rules::Rule;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// How long an unapplied preview is kept.
pub const KEPT_FOR_MS: i64 = 24 * 60 * 60 * 1000;

/// Something of the file the importer could not represent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportWarning {
    /// Where in the file, in words (`filter 3`).
    pub location: Option<String>,
    pub message: String,
    /// 1-based.
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// The original filter's id.
    pub filter_id: Option<String>,
    /// The imported rule it concerns; `null` when the filter was left out.
    pub rule_index: Option<u32>,
}

/// A preview as stored.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RuleImport {
    pub id: ImportId,
    /// The account whose rules these become; `null`: the org's.
    pub account: Option<AccountId>,
    /// The importer's format id (`gmail-xml`, `zoho-json`, `sieve`).
    pub format: String,
    /// SHA-256 of the file, lowercase hex.
    pub file_sha256: String,
    pub rules: Vec<Rule>,
    pub warnings: Vec<ImportWarning>,
    pub created_by: Option<UserId>,
    /// Unix ms.
    pub created_at: i64,
    /// When it was applied (unix ms); `null` while it is a preview.
    pub applied_at: Option<i64>,
}

/// What a preview is made of.
#[derive(Clone, Debug)]
pub struct NewRuleImport {
    pub account: Option<AccountId>,
    pub format: String,
    pub file_sha256: String,
    pub rules: Vec<Rule>,
    pub warnings: Vec<ImportWarning>,
}

impl Store {
    /// Keeps a preview (and forgets unapplied ones older than a day).
    pub async fn save_rule_import(
        &self,
        org: &OrgId,
        new: &NewRuleImport,
        created_by: Option<&UserId>,
    ) -> StoreResult<RuleImport> {
        let now = now_ms();
        sqlx::query("DELETE FROM rule_imports WHERE created_at < $1 AND applied_at IS NULL")
            .bind(now - KEPT_FOR_MS)
            .execute(self.pool())
            .await?;
        let import = RuleImport {
            id: ImportId::generate(),
            account: new.account.clone(),
            format: new.format.clone(),
            file_sha256: new.file_sha256.clone(),
            rules: new.rules.clone(),
            warnings: new.warnings.clone(),
            created_by: created_by.cloned(),
            created_at: now,
            applied_at: None,
        };
        sqlx::query(
            "INSERT INTO rule_imports (id, org_id, account_id, format, file_sha256, rules, \
             warnings, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(import.id.as_str())
        .bind(org.as_str())
        .bind(import.account.as_ref().map(|a| a.as_str().to_owned()))
        .bind(import.format.as_str())
        .bind(import.file_sha256.as_str())
        .bind(to_json(&import.rules)?)
        .bind(to_json(&import.warnings)?)
        .bind(created_by.map(|u| u.as_str().to_owned()))
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(import)
    }

    /// One preview of the org.
    pub async fn get_rule_import(&self, org: &OrgId, id: &ImportId) -> StoreResult<RuleImport> {
        let r = sqlx::query(
            "SELECT id, account_id, format, file_sha256, rules, warnings, created_by, created_at, \
             applied_at FROM rule_imports WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("rule import"))?;
        Ok(RuleImport {
            id: ImportId(r.try_get("id")?),
            account: r.try_get::<Option<String>, _>("account_id")?.map(AccountId),
            format: r.try_get("format")?,
            file_sha256: r.try_get("file_sha256")?,
            rules: from_json(&r.try_get::<String, _>("rules")?)?,
            warnings: from_json(&r.try_get::<String, _>("warnings")?)?,
            created_by: r.try_get::<Option<String>, _>("created_by")?.map(UserId),
            created_at: r.try_get("created_at")?,
            applied_at: r.try_get("applied_at")?,
        })
    }

    /// Notes when a preview was applied.
    pub async fn mark_rule_import_applied(&self, org: &OrgId, id: &ImportId) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE rule_imports SET applied_at = $1 WHERE org_id = $2 AND id = $3")
                .bind(now_ms())
                .bind(org.as_str())
                .bind(id.as_str())
                .execute(self.pool())
                .await?;
        super::db::expect_found(&done, "rule import")
    }

    /// Records how an account's filter import step ended.
    pub async fn set_filter_import(
        &self,
        org: &OrgId,
        account: &AccountId,
        state: crate::FilterImport,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE mail_accounts SET filter_import = $1, updated_at = $2 WHERE org_id = $3 AND id = $4",
        )
        .bind(state.as_str())
        .bind(now_ms())
        .bind(org.as_str())
        .bind(account.as_str())
        .execute(self.pool())
        .await?;
        super::db::expect_found(&done, "account")
    }
}
