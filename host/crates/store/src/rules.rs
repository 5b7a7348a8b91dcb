//! The native rule engine's rules: per org or per mail account, ordered
//! within their scope, enabled or not, with their source, checked by the
//! engine before they are saved, and every change recorded in the audit log
//! in the transaction that makes it.

use super::audit::insert_audit;
use super::db::{Arg, SqlBuilder, from_json, get_bool, to_json};
use super::{Store, StoreError, StoreResult};
use mailroom_core::clock::now_ms;
use mailroom_core::ids::{AccountId, OrgId, RuleId, UserId};
use mailroom_rules::{Rule, RuleSource};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// Rules one scope (an org's, or one account's) may hold.
pub const MAX_RULES_PER_SCOPE: usize = 1000;

/// Whose rules: the org's (they run for every account, after the
/// account's own) or one mail account's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleScope {
    /// The org's rules.
    Org,
    /// One mail account's rules.
    Account(AccountId),
}

impl RuleScope {
    fn account(&self) -> Option<&AccountId> {
        match self {
            RuleScope::Org => None,
            RuleScope::Account(a) => Some(a),
        }
    }
}

/// A stored rule.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StoredRule {
    pub id: RuleId,
    /// The account whose rule it is; `null` for an org rule.
    pub account: Option<AccountId>,
    /// Its place in its scope's order (smaller runs first).
    pub position: i64,
    #[serde(flatten)]
    pub rule: Rule,
    pub created_by: Option<UserId>,
    /// Unix ms.
    pub created_at: i64,
    pub updated_by: Option<UserId>,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, account_id, position, name, enabled, conditions, actions, \
    source_format, source_sha256, source_filter_id, source_line, source_column, \
    created_by, created_at, updated_by, updated_at";

fn from_row(r: &AnyRow) -> StoreResult<StoredRule> {
    let source = match r.try_get::<Option<String>, _>("source_format")? {
        Some(format) => Some(RuleSource {
            format,
            file_sha256: r
                .try_get::<Option<String>, _>("source_sha256")?
                .unwrap_or_default(),
            filter_id: r.try_get("source_filter_id")?,
            line: r
                .try_get::<Option<i64>, _>("source_line")?
                .and_then(|v| u32::try_from(v).ok()),
            column: r
                .try_get::<Option<i64>, _>("source_column")?
                .and_then(|v| u32::try_from(v).ok()),
        }),
        None => None,
    };
    Ok(StoredRule {
        id: RuleId(r.try_get("id")?),
        account: r.try_get::<Option<String>, _>("account_id")?.map(AccountId),
        position: r.try_get("position")?,
        rule: Rule {
            name: r.try_get("name")?,
            enabled: get_bool(r, "enabled")?,
            conditions: from_json(&r.try_get::<String, _>("conditions")?)?,
            actions: from_json(&r.try_get::<String, _>("actions")?)?,
            source,
        },
        created_by: r.try_get::<Option<String>, _>("created_by")?.map(UserId),
        created_at: r.try_get("created_at")?,
        updated_by: r.try_get::<Option<String>, _>("updated_by")?.map(UserId),
        updated_at: r.try_get("updated_at")?,
    })
}

/// The engine's verdict on `rule`, as the store's error.
fn check(index: usize, rule: &Rule) -> StoreResult<()> {
    mailroom_rules::check(index, rule).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// What the audit log keeps of a rule: its name and shape, not its values
/// (a condition may hold a customer's address).
fn audit_detail(rule: &Rule) -> serde_json::Value {
    serde_json::json!({
        "name": rule.name,
        "enabled": rule.enabled,
        "conditions": rule.conditions.len(),
        "actions": rule.actions.len(),
        "source": rule.source.as_ref().map(|s| &s.format),
    })
}

impl Store {
    /// Appends `rules` to the end of `scope`'s order, in the order given,
    /// after checking each with the engine (the first bad one is refused
    /// with its place in `rules`, and nothing is saved).
    pub async fn create_rules(
        &self,
        org: &OrgId,
        scope: &RuleScope,
        rules: &[Rule],
        actor: Option<&UserId>,
    ) -> StoreResult<Vec<StoredRule>> {
        Ok(self.write_rules(org, scope, rules, actor, None).await?.1)
    }

    /// Stores the rules of an imported file in place of the ones an
    /// earlier import of the same file (`format`, `file_sha256`) left in
    /// `scope`, in one transaction, so importing a file again does not
    /// duplicate its rules. Returns how many were replaced, and the new ones.
    pub async fn replace_imported_rules(
        &self,
        org: &OrgId,
        scope: &RuleScope,
        source: (&str, &str),
        rules: &[Rule],
        actor: Option<&UserId>,
    ) -> StoreResult<(usize, Vec<StoredRule>)> {
        self.write_rules(org, scope, rules, actor, Some(source))
            .await
    }

    async fn write_rules(
        &self,
        org: &OrgId,
        scope: &RuleScope,
        rules: &[Rule],
        actor: Option<&UserId>,
        replacing: Option<(&str, &str)>,
    ) -> StoreResult<(usize, Vec<StoredRule>)> {
        for (i, rule) in rules.iter().enumerate() {
            check(i, rule)?;
        }
        let mut tx = self.begin_write().await?;
        check_scope(&mut tx, org, scope).await?;
        let mut replaced = 0;
        if let Some((format, sha)) = replacing {
            let mut q = SqlBuilder::new("DELETE FROM rules WHERE org_id = ");
            q.bind_text(org.as_str());
            match scope.account() {
                Some(a) => q.push(" AND account_id = ").bind_text(a.as_str()),
                None => q.push(" AND account_id IS NULL"),
            };
            q.push(" AND source_format = ")
                .bind_text(format)
                .push(" AND source_sha256 = ")
                .bind_text(sha);
            replaced =
                usize::try_from(q.query().execute(&mut *tx).await?.rows_affected()).unwrap_or(0);
            if replaced > 0 {
                insert_audit(
                    &mut *tx,
                    org,
                    actor,
                    "rule.import.replace",
                    None,
                    &serde_json::json!({"format": format, "file_sha256": sha, "replaced": replaced}),
                )
                .await?;
            }
        }
        let (count, last) = scope_extent(&mut tx, org, scope).await?;
        if count + rules.len() > MAX_RULES_PER_SCOPE {
            return Err(StoreError::Invalid(format!(
                "a scope holds at most {MAX_RULES_PER_SCOPE} rules; it has {count}, and {} more would be too many",
                rules.len()
            )));
        }
        let now = now_ms();
        let mut ids = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let id = RuleId::generate();
            let source = rule.source.as_ref();
            let mut q = SqlBuilder::new(&format!("INSERT INTO rules (org_id, {COLUMNS}) VALUES ("));
            q.bind_text(org.as_str())
                .push(", ")
                .bind_text(id.as_str())
                .push(", ")
                .bind(scope.account().map(|a| a.0.clone()).into())
                .push(", ")
                .bind_i64(last + 1 + i as i64)
                .push(", ")
                .bind_text(rule.name.trim())
                .push(", ")
                .bind(Arg::Bool(rule.enabled))
                .push(", ")
                .bind_text(to_json(&rule.conditions)?)
                .push(", ")
                .bind_text(to_json(&rule.actions)?);
            bind_source(&mut q, source);
            q.push(", ")
                .bind(actor.map(|a| a.0.clone()).into())
                .push(", ")
                .bind_i64(now)
                .push(", ")
                .bind(actor.map(|a| a.0.clone()).into())
                .push(", ")
                .bind_i64(now)
                .push(")");
            q.into_query().execute(&mut *tx).await?;
            insert_audit(
                &mut *tx,
                org,
                actor,
                "rule.create",
                Some(id.as_str()),
                &audit_detail(rule),
            )
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        let mut stored = Vec::with_capacity(ids.len());
        for id in &ids {
            stored.push(self.get_rule(org, id).await?);
        }
        Ok((replaced, stored))
    }

    /// One rule of the org.
    pub async fn get_rule(&self, org: &OrgId, id: &RuleId) -> StoreResult<StoredRule> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM rules WHERE org_id = $1 AND id = $2"
        )))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("rule"))?;
        from_row(&row)
    }

    /// `scope`'s rules in their order.
    pub async fn list_rules(&self, org: &OrgId, scope: &RuleScope) -> StoreResult<Vec<StoredRule>> {
        let mut q = SqlBuilder::new(&format!("SELECT {COLUMNS} FROM rules WHERE org_id = "));
        q.bind_text(org.as_str());
        match scope.account() {
            Some(a) => q.push(" AND account_id = ").bind_text(a.as_str()),
            None => q.push(" AND account_id IS NULL"),
        };
        q.push(" ORDER BY position, id");
        let rows = q.into_query().fetch_all(self.pool()).await?;
        rows.iter().map(from_row).collect()
    }

    /// The rules that run on mail of `account`: the account's own, then the
    /// org's, each in order (disabled ones included; the engine skips them).
    pub async fn rules_for_account(
        &self,
        org: &OrgId,
        account: &AccountId,
    ) -> StoreResult<Vec<StoredRule>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM rules WHERE org_id = $1 \
             AND (account_id = $2 OR account_id IS NULL) \
             ORDER BY CASE WHEN account_id IS NULL THEN 1 ELSE 0 END, position, id"
        )))
        .bind(org.as_str())
        .bind(account.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces a rule's name, conditions, actions, enabled flag and
    /// source (its scope and place stay), after the engine checked it.
    pub async fn update_rule(
        &self,
        org: &OrgId,
        id: &RuleId,
        rule: &Rule,
        actor: Option<&UserId>,
    ) -> StoreResult<StoredRule> {
        check(0, rule)?;
        let mut tx = self.begin_write().await?;
        let mut q = SqlBuilder::new("UPDATE rules SET name = ");
        q.bind_text(rule.name.trim())
            .push(", enabled = ")
            .bind(Arg::Bool(rule.enabled))
            .push(", conditions = ")
            .bind_text(to_json(&rule.conditions)?)
            .push(", actions = ")
            .bind_text(to_json(&rule.actions)?)
            .push(", source_format = ");
        let source = rule.source.as_ref();
        q.bind(source.map(|s| s.format.clone()).into());
        bind_source_tail(&mut q, source, true);
        q.push(", updated_by = ")
            .bind(actor.map(|a| a.0.clone()).into())
            .push(", updated_at = ")
            .bind_i64(now_ms())
            .push(" WHERE org_id = ")
            .bind_text(org.as_str())
            .push(" AND id = ")
            .bind_text(id.as_str());
        let done = q.into_query().execute(&mut *tx).await?;
        super::db::expect_found(&done, "rule")?;
        insert_audit(
            &mut *tx,
            org,
            actor,
            "rule.update",
            Some(id.as_str()),
            &audit_detail(rule),
        )
        .await?;
        tx.commit().await?;
        self.get_rule(org, id).await
    }

    /// Turns a rule on or off.
    pub async fn set_rule_enabled(
        &self,
        org: &OrgId,
        id: &RuleId,
        enabled: bool,
        actor: Option<&UserId>,
    ) -> StoreResult<StoredRule> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE rules SET enabled = $1, updated_by = $2, updated_at = $3 WHERE org_id = $4 AND id = $5",
        )
        .bind(enabled)
        .bind(actor.map(|a| a.0.clone()))
        .bind(now_ms())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        super::db::expect_found(&done, "rule")?;
        let action = if enabled {
            "rule.enable"
        } else {
            "rule.disable"
        };
        insert_audit(
            &mut *tx,
            org,
            actor,
            action,
            Some(id.as_str()),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.get_rule(org, id).await
    }

    /// Deletes a rule.
    pub async fn delete_rule(
        &self,
        org: &OrgId,
        id: &RuleId,
        actor: Option<&UserId>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM rules WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        super::db::expect_found(&done, "rule")?;
        insert_audit(
            &mut *tx,
            org,
            actor,
            "rule.delete",
            Some(id.as_str()),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Puts `scope`'s rules in the order of `ids`, which must name each of
    /// them exactly once.
    pub async fn reorder_rules(
        &self,
        org: &OrgId,
        scope: &RuleScope,
        ids: &[RuleId],
        actor: Option<&UserId>,
    ) -> StoreResult<Vec<StoredRule>> {
        let mut tx = self.begin_write().await?;
        check_scope(&mut tx, org, scope).await?;
        let mut q = SqlBuilder::new("SELECT id FROM rules WHERE org_id = ");
        q.bind_text(org.as_str());
        match scope.account() {
            Some(a) => q.push(" AND account_id = ").bind_text(a.as_str()),
            None => q.push(" AND account_id IS NULL"),
        };
        let mut current: Vec<String> = q
            .into_query()
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
        let mut wanted: Vec<String> = ids.iter().map(|i| i.0.clone()).collect();
        current.sort();
        wanted.sort();
        if current != wanted {
            return Err(StoreError::Invalid(format!(
                "the new order must name each of the scope's {} rules exactly once (it named {} ids); list them with GET /v1/rules",
                current.len(),
                ids.len()
            )));
        }
        let now = now_ms();
        for (position, id) in ids.iter().enumerate() {
            sqlx::query(
                "UPDATE rules SET position = $1, updated_by = $2, updated_at = $3 WHERE org_id = $4 AND id = $5",
            )
            .bind(position as i64)
            .bind(actor.map(|a| a.0.clone()))
            .bind(now)
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let ids_json: Vec<&str> = ids.iter().map(RuleId::as_str).collect();
        insert_audit(
            &mut *tx,
            org,
            actor,
            "rule.reorder",
            scope.account().map(AccountId::as_str),
            &serde_json::json!({ "order": ids_json }),
        )
        .await?;
        tx.commit().await?;
        self.list_rules(org, scope).await
    }
}

fn bind_source(q: &mut SqlBuilder, source: Option<&RuleSource>) {
    q.push(", ").bind(source.map(|s| s.format.clone()).into());
    bind_source_tail(q, source, false);
}

/// The source's fields after its format, as `, col = value` for an
/// UPDATE (`named`) or `, value` for an INSERT.
fn bind_source_tail(q: &mut SqlBuilder, source: Option<&RuleSource>, named: bool) {
    let position = |v: Option<u32>| v.map_or(Arg::NullI64, |v| Arg::I64(i64::from(v)));
    let values: [(&str, Arg); 4] = [
        (
            "source_sha256",
            source.map(|s| s.file_sha256.clone()).into(),
        ),
        (
            "source_filter_id",
            source.and_then(|s| s.filter_id.clone()).into(),
        ),
        ("source_line", position(source.and_then(|s| s.line))),
        ("source_column", position(source.and_then(|s| s.column))),
    ];
    for (column, value) in values {
        q.push(", ");
        if named {
            q.push(column).push(" = ");
        }
        q.bind(value);
    }
}

/// An account scope must be an account of the org.
async fn check_scope(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    scope: &RuleScope,
) -> StoreResult<()> {
    if let Some(account) = scope.account() {
        sqlx::query("SELECT id FROM mail_accounts WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(account.as_str())
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound("account"))?;
    }
    Ok(())
}

/// How many rules `scope` holds and its last position (-1 when empty).
async fn scope_extent(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    scope: &RuleScope,
) -> StoreResult<(usize, i64)> {
    let mut q =
        SqlBuilder::new("SELECT COUNT(*) AS n, MAX(position) AS last FROM rules WHERE org_id = ");
    q.bind_text(org.as_str());
    match scope.account() {
        Some(a) => q.push(" AND account_id = ").bind_text(a.as_str()),
        None => q.push(" AND account_id IS NULL"),
    };
    let row = q.into_query().fetch_one(&mut **tx).await?;
    let n: i64 = row.try_get("n")?;
    let last: Option<i64> = row.try_get("last")?;
    Ok((usize::try_from(n).unwrap_or(0), last.unwrap_or(-1)))
}
