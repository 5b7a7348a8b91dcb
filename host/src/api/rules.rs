//! `/v1/rules`: the native rule engine's rules, per org (admins change
//! them) or per mail account (its owner or an admin), ordered,
//! enabled/disabled, and a dry run of stored or unsaved rules over the
//! last stored messages, which changes nothing. The store checks each rule
//! with the engine before saving it and records every change in the audit
//! log; the dry run is `mailroom_pipeline::rules::dry_run`.

use super::AppState;
use super::accounts::visible;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Json, Path, Query};
use crate::auth::{AuthUser, Principal};
use axum::extract::State;
use axum::http::StatusCode;
use mailroom_core::ids::{AccountId, MessageId, RuleId, UserId};
use mailroom_pipeline::rules::{DRY_RUN_MAX_MESSAGES, DryRunMessage, dry_run, dry_run_set};
use mailroom_rules::Rule;
use mailroom_store::rules::{RuleScope, StoredRule};
use mailroom_store::{Account, MessageFilter};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(get_rule, replace_rule, delete_rule))
        .routes(routes!(enable_rule))
        .routes(routes!(disable_rule))
        .routes(routes!(reorder_rules))
        .routes(routes!(dry_run_rules))
}

/// Who may change rules of a scope: an org's rules, its admins; an
/// account's rules, its owner or an admin.
/// `account_owner` is the owner of the account whose rules they are
/// (`None`: the org's rules).
pub fn check_change(p: &Principal, account_owner: Option<&UserId>) -> ApiResult<()> {
    match account_owner {
        _ if p.is_admin() => Ok(()),
        None => Err(ApiError::forbidden(
            "only an org admin may change the org's rules",
        )),
        Some(owner) if *owner == p.user => Ok(()),
        Some(_) => Err(ApiError::forbidden(
            "only the account's owner or an org admin may change its rules",
        )),
    }
}

/// The scope named by `account`, if the caller may see it (404 otherwise),
/// with the account.
pub(super) async fn scope(
    state: &AppState,
    p: &Principal,
    account: Option<&AccountId>,
) -> ApiResult<(RuleScope, Option<Account>)> {
    match account {
        None => Ok((RuleScope::Org, None)),
        Some(id) => {
            let account = visible(state, p, id).await?;
            Ok((RuleScope::Account(account.id.clone()), Some(account)))
        }
    }
}

/// A stored rule the caller may see, with its account.
async fn visible_rule(
    state: &AppState,
    p: &Principal,
    id: &RuleId,
) -> ApiResult<(StoredRule, Option<Account>)> {
    let rule = state.store.get_rule(&p.org, id).await?;
    let (_, account) = scope(state, p, rule.account.as_ref())
        .await
        .map_err(|_| ApiError::not_found("rule"))?;
    Ok((rule, account))
}

/// A stored rule the caller may change.
async fn changeable_rule(state: &AppState, p: &Principal, id: &RuleId) -> ApiResult<StoredRule> {
    let (rule, account) = visible_rule(state, p, id).await?;
    check_change(p, account.as_ref().map(|a| &a.owner))?;
    Ok(rule)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ScopeQuery {
    /// A mail account's rules; without it, the org's.
    pub account: Option<AccountId>,
}

/// The org's rules, or one account's, in the order they run.
#[utoipa::path(get, path = "/rules", tag = "rules", params(ScopeQuery),
    responses((status = 200, body = Vec<StoredRule>), (status = 404, body = ErrorBody)))]
pub async fn list_rules(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Query(q): Query<ScopeQuery>,
) -> ApiResult<Json<Vec<StoredRule>>> {
    let (scope, _) = scope(&state, &p, q.account.as_ref()).await?;
    Ok(Json(state.store.list_rules(&p.org, &scope).await?))
}

/// A new rule, with the account it belongs to (none: the org's).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewRule {
    /// The mail account whose rule it is; absent: an org rule.
    #[serde(default)]
    pub account: Option<AccountId>,
    #[serde(flatten)]
    pub rule: Rule,
}

/// Adds a rule at the end of its scope's order. The engine checks it first:
/// a bad tree, value or pattern is refused (422) saying where.
#[utoipa::path(post, path = "/rules", tag = "rules", request_body = NewRule,
    responses((status = 201, body = StoredRule),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "the rule is refused, with where (node, action, position in a pattern)", body = ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Json(new): Json<NewRule>,
) -> ApiResult<(StatusCode, Json<StoredRule>)> {
    let (scope, account) = scope(&state, &p, new.account.as_ref()).await?;
    check_change(&p, account.as_ref().map(|a| &a.owner))?;
    let mut stored = state
        .store
        .create_rules(&p.org, &scope, &[new.rule], Some(&p.user))
        .await?;
    let rule = stored
        .pop()
        .ok_or_else(|| ApiError::internal(&"the new rule was not stored"))?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// One rule.
#[utoipa::path(get, path = "/rules/{id}", tag = "rules", params(("id" = String, Path)),
    responses((status = 200, body = StoredRule), (status = 404, body = ErrorBody)))]
pub async fn get_rule(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<StoredRule>> {
    Ok(Json(visible_rule(&state, &p, &RuleId(id)).await?.0))
}

/// Replaces a rule (its scope and place stay).
#[utoipa::path(put, path = "/rules/{id}", tag = "rules", params(("id" = String, Path)),
    request_body = Rule,
    responses((status = 200, body = StoredRule),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn replace_rule(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
    Json(rule): Json<Rule>,
) -> ApiResult<Json<StoredRule>> {
    let stored = changeable_rule(&state, &p, &RuleId(id)).await?;
    Ok(Json(
        state
            .store
            .update_rule(&p.org, &stored.id, &rule, Some(&p.user))
            .await?,
    ))
}

/// Deletes a rule.
#[utoipa::path(delete, path = "/rules/{id}", tag = "rules", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let stored = changeable_rule(&state, &p, &RuleId(id)).await?;
    state
        .store
        .delete_rule(&p.org, &stored.id, Some(&p.user))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_enabled(
    state: &AppState,
    p: &Principal,
    id: String,
    enabled: bool,
) -> ApiResult<Json<StoredRule>> {
    let stored = changeable_rule(state, p, &RuleId(id)).await?;
    Ok(Json(
        state
            .store
            .set_rule_enabled(&p.org, &stored.id, enabled, Some(&p.user))
            .await?,
    ))
}

/// Turns a rule on.
#[utoipa::path(post, path = "/rules/{id}/enable", tag = "rules", params(("id" = String, Path)),
    responses((status = 200, body = StoredRule), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn enable_rule(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<StoredRule>> {
    set_enabled(&state, &p, id, true).await
}

/// Turns a rule off (kept, never run).
#[utoipa::path(post, path = "/rules/{id}/disable", tag = "rules", params(("id" = String, Path)),
    responses((status = 200, body = StoredRule), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn disable_rule(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<StoredRule>> {
    set_enabled(&state, &p, id, false).await
}

/// A new order for a scope's rules.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleOrder {
    /// The account whose rules these are; absent: the org's.
    #[serde(default)]
    pub account: Option<AccountId>,
    /// Every rule of the scope, each once, in the order they should run.
    pub ids: Vec<RuleId>,
}

/// Puts a scope's rules in a new order.
#[utoipa::path(post, path = "/rules/reorder", tag = "rules", request_body = RuleOrder,
    responses((status = 200, body = Vec<StoredRule>),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "the ids are not exactly the scope's rules", body = ErrorBody)))]
pub async fn reorder_rules(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Json(order): Json<RuleOrder>,
) -> ApiResult<Json<Vec<StoredRule>>> {
    let (scope, account) = scope(&state, &p, order.account.as_ref()).await?;
    check_change(&p, account.as_ref().map(|a| &a.owner))?;
    Ok(Json(
        state
            .store
            .reorder_rules(&p.org, &scope, &order.ids, Some(&p.user))
            .await?,
    ))
}

/// A dry run: which rules, over which mail.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    /// The account's last messages, with its rules then the org's; absent:
    /// the org's last messages with the org's rules (admins only).
    #[serde(default)]
    pub account: Option<AccountId>,
    /// Rules to try instead of the stored ones (not saved).
    #[serde(default)]
    pub rules: Option<Vec<Rule>>,
    /// How many of the newest messages (default 50, at most 500).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// What the rule set did to each message.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DryRunReport {
    /// How many rules were evaluated.
    pub rules: usize,
    /// Newest first.
    pub messages: Vec<DryRunMessage>,
}

/// Runs stored or unsaved rules over the last stored messages of an
/// account or the org, and says per message which rules matched and what
/// they would do. Nothing is changed.
#[utoipa::path(post, path = "/rules/dry-run", tag = "rules", request_body = DryRunRequest,
    responses((status = 200, body = DryRunReport),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn dry_run_rules(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Json(req): Json<DryRunRequest>,
) -> ApiResult<Json<DryRunReport>> {
    let (scope, _) = scope(&state, &p, req.account.as_ref()).await?;
    if scope == RuleScope::Org && !p.is_admin() {
        return Err(ApiError::forbidden(
            "a dry run over the whole org's mail is for org admins; name an account you can see",
        ));
    }
    let rules = match req.rules {
        Some(rules) => rules.into_iter().map(|r| (None, r)).collect(),
        None => stored_rules(&state, &p, &scope).await?,
    };
    let set = dry_run_set(rules).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let messages = last_messages(&state, &p, req.account, req.limit).await?;
    let report = dry_run(&state.store, &p.org, &set, &messages).await?;
    Ok(Json(DryRunReport {
        rules: set.len(),
        messages: report,
    }))
}

/// The rules that run on `scope`'s mail: an account's own then the org's;
/// the org's alone.
async fn stored_rules(
    state: &AppState,
    p: &Principal,
    scope: &RuleScope,
) -> ApiResult<Vec<(Option<RuleId>, Rule)>> {
    let stored = match scope {
        RuleScope::Org => state.store.list_rules(&p.org, scope).await?,
        RuleScope::Account(a) => state.store.rules_for_account(&p.org, a).await?,
    };
    Ok(stored.into_iter().map(|r| (Some(r.id), r.rule)).collect())
}

/// The ids of the newest `limit` messages the caller sees (of `account`).
pub(super) async fn last_messages(
    state: &AppState,
    p: &Principal,
    account: Option<AccountId>,
    limit: Option<u32>,
) -> ApiResult<Vec<MessageId>> {
    let limit = limit.unwrap_or(50).clamp(1, DRY_RUN_MAX_MESSAGES);
    let filter = MessageFilter {
        account,
        visible_to: (!p.is_admin()).then(|| p.user.clone()),
        ..MessageFilter::default()
    };
    let page = state
        .store
        .list_messages(&p.org, &filter, None, Some(limit))
        .await?;
    Ok(page.items.into_iter().map(|m| m.id).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::ids::{OrgId, TokenId, UserId};
    use mailroom_store::Role;

    fn principal(user: &str, role: Role) -> Principal {
        Principal {
            org: OrgId("org_1".into()),
            user: UserId(user.into()),
            role,
            token: TokenId("tok_1".into()),
        }
    }

    #[test]
    fn org_rules_are_for_admins_account_rules_for_owners_too() {
        let admin = principal("usr_admin", Role::Admin);
        let owner = principal("usr_owner", Role::User);
        let other = principal("usr_other", Role::User);
        assert!(check_change(&admin, None).is_ok());
        assert_eq!(
            check_change(&owner, None).map_err(|e| e.status),
            Err(StatusCode::FORBIDDEN)
        );
        assert!(check_change(&admin, Some(&owner.user)).is_ok());
        assert!(check_change(&owner, Some(&owner.user)).is_ok());
        assert_eq!(
            check_change(&other, Some(&owner.user)).map_err(|e| e.status),
            Err(StatusCode::FORBIDDEN)
        );
    }
}
