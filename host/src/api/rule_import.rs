//! `/v1/rules/import`: a filter file from another system (Gmail's
//! `mailFilters.xml`, Zoho Mail JSON, a Sieve script) turned into rules by
//! the org's filter-importer plugin for its format, shown as a preview
//! (the rules, what could not be represented, and a dry run over the
//! scope's latest mail) and stored only when the caller applies it. The
//! format is the one given, or the one `filter-detect` reads off the
//! content. Applying replaces the rules an earlier import of the same file
//! left, so importing a file twice does not duplicate its rules.

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Json, Path, Query, body_bytes};
use super::rules::{DryRunReport, check_change, last_messages, scope};
use crate::auth::{AuthUser, Principal};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use mailroom_core::ids::{AccountId, ImportId};
use mailroom_pipeline::contract::rule_from_contract;
use mailroom_pipeline::rules::{dry_run, dry_run_set};
use mailroom_plugin_host::PluginKind;
use mailroom_plugin_host::bindings::latest::filter_importer::ImportWarning as WitWarning;
use mailroom_rules::Rule;
use mailroom_store::FilterImport;
use mailroom_store::rule_imports::{ImportWarning, NewRuleImport, RuleImport};
use mailroom_store::rules::{RuleScope, StoredRule};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub fn routes(import_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_rules).layer(DefaultBodyLimit::max(import_limit)))
        .routes(routes!(get_import))
        .routes(routes!(apply_import))
        .routes(routes!(skip_filter_import))
}

/// Where the rules go and how to read the file.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `gmail-xml`, `zoho-json`, `sieve`, or another format an installed
    /// importer declares; read off the content when absent.
    pub format: Option<String>,
    /// The account whose rules these become; the org's when absent.
    pub account: Option<AccountId>,
    /// How many of the scope's newest messages the dry run reads (default
    /// 50, at most 500).
    pub limit: Option<u32>,
}

/// A preview: what the file became, and what it would do.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportPreview {
    #[serde(flatten)]
    pub import: RuleImport,
    /// The rules over the scope's newest mail; nothing was changed.
    pub dry_run: DryRunReport,
}

/// What applying stored.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AppliedImport {
    /// Rules of an earlier import of the same file, replaced.
    pub replaced: usize,
    pub rules: Vec<StoredRule>,
}

/// Imports a filter file for preview: send the file as the body (any
/// content type). Answers with the rules, the warnings (what could not be
/// represented, with line and column) and a dry run; stores nothing until
/// `…/import/{id}/apply`. The org's rules are for admins, an account's for
/// its owner or an admin. A file that is no known format, or that its
/// importer refuses, is 422 with the reason and position; too large, 413.
#[utoipa::path(post, path = "/rules/import", tag = "rules", params(ImportQuery),
    request_body(content = String, content_type = "application/octet-stream",
        description = "the filter file, as exported"),
    responses((status = 201, body = ImportPreview), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn import_rules(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Query(q): Query<ImportQuery>,
    request: Request,
) -> ApiResult<(StatusCode, Json<ImportPreview>)> {
    let (_, account) = scope(&state, &p, q.account.as_ref()).await?;
    check_change(&p, account.as_ref().map(|a| &a.owner))?;
    let bytes = body_bytes(request, &state).await?;
    if bytes.is_empty() {
        return Err(ApiError::unprocessable(
            "the body is empty: send the filter file as the request body",
        ));
    }
    let format = match q.format {
        Some(f) => f,
        None => filter_detect::detect(&bytes)
            .map_err(|unknown| {
                ApiError::unprocessable(format!(
                    "cannot tell what kind of filter file this is: {unknown}; give \
                     ?format=gmail-xml, zoho-json or sieve"
                ))
            })?
            .id()
            .to_owned(),
    };
    let sha = hex::encode(Sha256::digest(&bytes));
    let (rules, warnings) = run_importer(&state, &p, &format, &sha, bytes.to_vec()).await?;
    let import = state
        .store
        .save_rule_import(
            &p.org,
            &NewRuleImport {
                account: q.account.clone(),
                format,
                file_sha256: sha,
                rules,
                warnings,
            },
            Some(&p.user),
        )
        .await?;
    let dry_run = preview(&state, &p, &import, q.limit).await?;
    Ok((StatusCode::CREATED, Json(ImportPreview { import, dry_run })))
}

/// A preview made earlier (without its dry run), applied or not.
#[utoipa::path(get, path = "/rules/import/{id}", tag = "rules", params(("id" = String, Path)),
    responses((status = 200, body = RuleImport), (status = 404, body = ErrorBody)))]
pub async fn get_import(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<RuleImport>> {
    Ok(Json(changeable_import(&state, &p, &ImportId(id)).await?.0))
}

/// Stores a preview's rules at the end of its scope's order, in place of
/// the rules an earlier import of the same file (format and SHA-256) left
/// there. Every rule is checked again; the first that no longer passes
/// refuses the whole import (422) and nothing changes.
#[utoipa::path(post, path = "/rules/import/{id}/apply", tag = "rules",
    params(("id" = String, Path)),
    responses((status = 200, body = AppliedImport), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn apply_import(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<AppliedImport>> {
    let (import, scope) = changeable_import(&state, &p, &ImportId(id)).await?;
    let (replaced, rules) = state
        .store
        .replace_imported_rules(
            &p.org,
            &scope,
            (&import.format, &import.file_sha256),
            &import.rules,
            Some(&p.user),
        )
        .await?;
    state
        .store
        .mark_rule_import_applied(&p.org, &import.id)
        .await?;
    if let RuleScope::Account(account) = &scope {
        state
            .store
            .set_filter_import(&p.org, account, FilterImport::Imported)
            .await?;
    }
    Ok(Json(AppliedImport { replaced, rules }))
}

/// A preview the caller may see and apply, with the scope it is for.
async fn changeable_import(
    state: &AppState,
    p: &Principal,
    id: &ImportId,
) -> ApiResult<(RuleImport, RuleScope)> {
    let import = state.store.get_rule_import(&p.org, id).await?;
    let (scope, account) = scope(state, p, import.account.as_ref()).await?;
    check_change(p, account.as_ref().map(|a| &a.owner))?;
    Ok((import, scope))
}

/// The importer plugin for `format` turns the file into rules. A rule the
/// engine refuses (a pattern too large, say) is left out with a warning
/// naming it, like anything else the file holds that cannot be represented.
async fn run_importer(
    state: &AppState,
    p: &Principal,
    format: &str,
    sha: &str,
    data: Vec<u8>,
) -> ApiResult<(Vec<Rule>, Vec<ImportWarning>)> {
    let importers = state
        .registry
        .plugins_for(&p.org, PluginKind::FilterImporter, Some(&p.user))
        .await?;
    let mut known = Vec::new();
    let mut chosen = None;
    for plugin in &importers {
        let formats = state.registry.filter_formats(plugin).await?;
        if formats.iter().any(|f| f.id == format) {
            chosen = Some(plugin.clone());
            break;
        }
        known.extend(formats.into_iter().map(|f| f.id));
    }
    let Some(plugin) = chosen else {
        return Err(ApiError::unprocessable(if known.is_empty() {
            format!(
                "no filter-importer plugin is installed to read {format}; an admin uploads one \
                 (the bundled filter_gmail.wasm, filter_zoho.wasm, filter_sieve.wasm)"
            )
        } else {
            format!(
                "no installed filter-importer reads {format}; the installed ones read {}",
                known.join(", ")
            )
        }));
    };
    let imported = state
        .registry
        .import_filters(&plugin, format.to_owned(), data)
        .await?
        .map_err(|e| {
            let at = match (e.line, e.column) {
                (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
                (Some(l), None) => format!(" (line {l})"),
                _ => String::new(),
            };
            ApiError::unprocessable(format!(
                "the {format} file cannot be imported{at}: {}",
                e.message
            ))
        })?;
    let mut rules = Vec::with_capacity(imported.rules.len());
    // The importer's rule index → the preview's (`None`: left out).
    let mut kept: Vec<Option<u32>> = Vec::with_capacity(imported.rules.len());
    let mut left_out = Vec::new();
    for (i, r) in imported.rules.iter().enumerate() {
        let mut rule = rule_from_contract(r);
        let source = rule
            .source
            .get_or_insert_with(|| mailroom_rules::RuleSource {
                format: format.to_owned(),
                file_sha256: String::new(),
                filter_id: None,
                line: None,
                column: None,
            });
        // The host has the bytes; the replacement on apply keys on them.
        source.format = format.to_owned();
        source.file_sha256 = sha.to_owned();
        match mailroom_rules::check(rules.len(), &rule) {
            Ok(()) => {
                kept.push(u32::try_from(rules.len()).ok());
                rules.push(rule);
            }
            Err(e) => {
                kept.push(None);
                let at = rule.source.as_ref();
                left_out.push(ImportWarning {
                    location: Some(format!("rule {} ({:?})", i + 1, rule.name)),
                    message: format!("left out: {e}"),
                    line: at.and_then(|s| s.line),
                    column: at.and_then(|s| s.column),
                    filter_id: at.and_then(|s| s.filter_id.clone()),
                    rule_index: None,
                });
            }
        }
    }
    let mut warnings: Vec<ImportWarning> = imported
        .warnings
        .iter()
        .map(|w| {
            let mut w = warning(w);
            w.rule_index = w
                .rule_index
                .and_then(|i| kept.get(usize::try_from(i).ok()?).copied().flatten());
            w
        })
        .collect();
    warnings.extend(left_out);
    Ok((rules, warnings))
}

fn warning(w: &WitWarning) -> ImportWarning {
    ImportWarning {
        location: w.location.clone(),
        message: w.message.clone(),
        line: w.line,
        column: w.column,
        filter_id: w.filter_id.clone(),
        rule_index: w.rule_index,
    }
}

/// The preview's rules over the scope's newest mail the caller sees.
async fn preview(
    state: &AppState,
    p: &Principal,
    import: &RuleImport,
    limit: Option<u32>,
) -> ApiResult<DryRunReport> {
    let set = dry_run_set(import.rules.iter().cloned().map(|r| (None, r)).collect())
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let messages = last_messages(state, p, import.account.clone(), limit).await?;
    let report = dry_run(&state.store, &p.org, &set, &messages).await?;
    Ok(DryRunReport {
        rules: set.len(),
        messages: report,
    })
}

/// Skips a new account's filter import step (its owner or an admin): the
/// account's `filter_import` becomes `skipped`. Filters can still be
/// imported later.
#[utoipa::path(post, path = "/accounts/{id}/filter-import/skip", tag = "rules",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn skip_filter_import(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = AccountId(id);
    let (_, account) = scope(&state, &p, Some(&id)).await?;
    check_change(&p, account.as_ref().map(|a| &a.owner))?;
    state
        .store
        .set_filter_import(&p.org, &id, FilterImport::Skipped)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
