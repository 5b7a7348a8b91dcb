//! CRM contacts and leads over HTTP: CRUD, CSV import, and the mail related
//! to a record. Both kinds share one generic implementation (as in the
//! store); a macro stamps out the two sets of documented handlers.
//!
//! Any user of the org reads, creates, updates, imports and exports records;
//! deleting one, or giving it to another owner, is for its owner (anyone,
//! when it has none) or an admin. Every write goes to the audit log. The
//! related mail a user sees is limited to accounts they may see.

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, body_bytes, media_type};
use super::related::{RelatedPage, RelatedQuery};
use crate::auth::{AuthUser, Principal};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailroom_core::ids::{ContactId, LeadId, UserId};
use mailroom_crm::csv_import::{Owners, RowError, emails_of, parse_csv, reject_duplicates};
use mailroom_store::contacts::CrmId;
use mailroom_store::message_query::MessageFilter;
use mailroom_store::{CrmFilter, CrmPage, CrmRecord, CrmRecordUpdate, NewCrmRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

type ErrorBody = super::error::ErrorBody;

pub fn routes(import_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(contact::list, contact::create))
        .routes(routes!(contact::get, contact::update, contact::delete))
        .routes(routes!(contact::import).layer(DefaultBodyLimit::max(import_limit)))
        .routes(routes!(contact::messages))
        .routes(routes!(contact::export))
        .routes(routes!(lead::list, lead::create))
        .routes(routes!(lead::get, lead::update, lead::delete))
        .routes(routes!(lead::import).layer(DefaultBodyLimit::max(import_limit)))
        .routes(routes!(lead::messages))
        .routes(routes!(lead::export))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Case-insensitive part of the name or of any email.
    pub text: Option<String>,
    pub owner: Option<UserId>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport<Id: Serialize> {
    /// How many rows were imported.
    pub imported: usize,
    #[schema(value_type = Vec<String>)]
    pub ids: Vec<Id>,
    /// Rows not imported, by line number (the header is line 1).
    pub errors: Vec<RowError>,
}

async fn list<Id: CrmId>(state: &AppState, p: &Principal, q: ListQuery) -> ApiResult<CrmPage<Id>> {
    let filter = CrmFilter {
        text: q.text,
        owner: q.owner,
    };
    Ok(state
        .store
        .crm_list::<Id>(&p.org, &filter, q.cursor.as_deref(), q.limit)
        .await?)
}

/// Deleting a record or changing its owner is for the record's owner (or
/// anyone, when it has none) and admins; `act` says which, for the message.
pub fn check_owner_act<Id>(p: &Principal, record: &CrmRecord<Id>, act: &str) -> ApiResult<()> {
    match &record.owner {
        Some(owner) if owner != &p.user && !p.is_admin() => Err(ApiError::forbidden(format!(
            "only the record's owner or an org admin may {act}"
        ))),
        _ => Ok(()),
    }
}

/// The names of the fields an update sets, for the audit log (values may be
/// personal data, so they stay out of it).
fn changed_fields(update: &CrmRecordUpdate) -> Vec<&'static str> {
    [
        ("name", update.name.is_some()),
        ("primary_email", update.primary_email.is_some()),
        ("secondary_emails", update.secondary_emails.is_some()),
        ("owner", update.owner.is_some()),
        ("fields", update.fields.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

async fn create<Id: CrmId>(
    state: &AppState,
    p: &Principal,
    new: &NewCrmRecord,
) -> ApiResult<CrmRecord<Id>> {
    let record = state.store.crm_create::<Id>(&p.org, new).await?;
    let detail = serde_json::json!({ "owner": record.owner });
    super::audit::record(
        state,
        p,
        &format!("{}.create", Id::KIND),
        record.id.as_str(),
        detail,
    )
    .await;
    Ok(record)
}

async fn update<Id: CrmId>(
    state: &AppState,
    p: &Principal,
    id: Id,
    update: &CrmRecordUpdate,
) -> ApiResult<CrmRecord<Id>> {
    let current = state.store.crm_get::<Id>(&p.org, &id).await?;
    if let Some(owner) = &update.owner
        && owner != &current.owner
    {
        check_owner_act(p, &current, "give it to another owner")?;
    }
    let record = state.store.crm_update::<Id>(&p.org, &id, update).await?;
    let mut detail = serde_json::json!({ "changed": changed_fields(update) });
    if record.owner != current.owner {
        detail["owner"] = serde_json::json!({ "from": current.owner, "to": record.owner });
    }
    super::audit::record(
        state,
        p,
        &format!("{}.update", Id::KIND),
        id.as_str(),
        detail,
    )
    .await;
    Ok(record)
}

async fn delete<Id: CrmId>(state: &AppState, p: &Principal, id: Id) -> ApiResult<StatusCode> {
    let record = state.store.crm_get::<Id>(&p.org, &id).await?;
    check_owner_act(p, &record, "delete it")?;
    state.store.crm_delete::<Id>(&p.org, &id).await?;
    let detail = serde_json::json!({ "name": record.name });
    super::audit::record(
        state,
        p,
        &format!("{}.delete", Id::KIND),
        id.as_str(),
        detail,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

async fn import<Id: CrmId + Serialize>(
    state: &AppState,
    p: &Principal,
    request: Request,
) -> ApiResult<ImportReport<Id>> {
    match media_type(request.headers()).as_deref() {
        Some("text/csv" | "application/csv") => {}
        other => {
            return Err(ApiError::unsupported_media_type(format!(
                "send the CSV file as the body with `Content-Type: text/csv`, not {}",
                other.unwrap_or("a body without Content-Type")
            )));
        }
    }
    let bytes = body_bytes(request, state).await?;
    let users = state.store.list_users(&p.org).await?;
    let owners = Owners::new(users.iter().map(|u| (&u.id, u.email.as_str())));
    let parsed = parse_csv(&bytes, &owners).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let (good, mut errors) = (parsed.good, parsed.errors);
    let emails: Vec<String> = good.iter().flat_map(|g| emails_of(&g.record)).collect();
    let existing: Vec<(String, String)> = state
        .store
        .crm_matches(&p.org, &emails)
        .await?
        .into_iter()
        .filter(|m| m.kind == Id::KIND)
        .map(|m| (m.email, m.id))
        .collect();
    let (good, duplicates) = reject_duplicates(good, &existing, Id::WHAT);
    errors.extend(duplicates);
    errors.sort_by_key(|e| e.row);
    let records: Vec<NewCrmRecord> = good.into_iter().map(|g| g.record).collect();
    let ids = if records.is_empty() {
        Vec::new()
    } else {
        state.store.crm_import::<Id>(&p.org, &records).await?
    };
    tracing::info!(org = %p.org, actor = %p.user, kind = Id::KIND, imported = ids.len(), rejected = errors.len(), "CSV import");
    let detail = serde_json::json!({ "imported": ids.len(), "rejected": errors.len() });
    super::audit::record(state, p, &format!("{}.import", Id::KIND), "csv", detail).await;
    Ok(ImportReport {
        imported: ids.len(),
        ids,
        errors,
    })
}

/// Every record of the kind as CSV (see [`super::export`]).
async fn export<Id: CrmId>(state: &AppState, p: &Principal) -> ApiResult<Response> {
    let mut records = Vec::new();
    let mut cursor = None;
    loop {
        let page = state
            .store
            .crm_list::<Id>(&p.org, &CrmFilter::default(), cursor.as_deref(), Some(500))
            .await?;
        records.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let users = state.store.list_users(&p.org).await?;
    let csv = super::export::records_csv(&records, &users).map_err(|e| ApiError::internal(&e))?;
    let disposition = format!("attachment; filename=\"{}s.csv\"", Id::KIND);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

/// Stamps out the documented handlers of one record kind.
macro_rules! crm_handlers {
    ($module:ident, $id:ident, $what:tt, $filter:ident,
     $list:tt, $one:tt, $import:tt, $export:tt, $messages:tt) => {
        pub mod $module {
            use super::*;

            #[doc = concat!("Lists ", $what, "s by name, with an optional text and owner filter.")]
            #[utoipa::path(get, path = $list, tag = "contacts", operation_id = concat!("list_", $what, "s"), params(ListQuery),
                responses((status = 200, body = CrmPage<$id>),
                          (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
            pub async fn list(State(state): State<AppState>, AuthUser(p): AuthUser, Query(q): Query<ListQuery>)
                -> ApiResult<Json<CrmPage<$id>>> {
                Ok(Json(super::list::<$id>(&state, &p, q).await?))
            }

            #[doc = concat!("Creates a ", $what, ".")]
            #[utoipa::path(post, path = $list, tag = "contacts", operation_id = concat!("create_", $what),
                request_body = NewCrmRecord,
                responses((status = 201, body = CrmRecord<$id>),
                    (status = 401, body = ErrorBody),
                    (status = 422, body = ErrorBody)))]
            pub async fn create(State(state): State<AppState>, AuthUser(p): AuthUser, Json(new): Json<NewCrmRecord>)
                -> ApiResult<(StatusCode, Json<CrmRecord<$id>>)> {
                Ok((StatusCode::CREATED, Json(super::create::<$id>(&state, &p, &new).await?)))
            }

            #[doc = concat!("One ", $what, ".")]
            #[utoipa::path(get, path = $one, tag = "contacts", operation_id = concat!("get_", $what), params(("id" = String, Path)),
                responses((status = 200, body = CrmRecord<$id>), (status = 404, body = ErrorBody)))]
            pub async fn get(State(state): State<AppState>, AuthUser(p): AuthUser, Path(id): Path<String>)
                -> ApiResult<Json<CrmRecord<$id>>> {
                Ok(Json(state.store.crm_get::<$id>(&p.org, &<$id as CrmId>::from_string(id)).await?))
            }

            #[doc = concat!("Changes a ", $what, "; `null` clears `primary_email` or `owner`. \
                Changing the owner is for the current owner or an admin.")]
            #[utoipa::path(patch, path = $one, tag = "contacts", operation_id = concat!("update_", $what), params(("id" = String, Path)),
                request_body = CrmRecordUpdate,
                responses((status = 200, body = CrmRecord<$id>),
                    (status = 403, body = ErrorBody),
                    (status = 404, body = ErrorBody),
                    (status = 422, body = ErrorBody)))]
            pub async fn update(State(state): State<AppState>, AuthUser(p): AuthUser, Path(id): Path<String>,
                Json(update): Json<CrmRecordUpdate>) -> ApiResult<Json<CrmRecord<$id>>> {
                Ok(Json(super::update::<$id>(&state, &p, <$id as CrmId>::from_string(id), &update).await?))
            }

            #[doc = concat!("Deletes a ", $what, " (its owner or an admin).")]
            #[utoipa::path(delete, path = $one, tag = "contacts", operation_id = concat!("delete_", $what), params(("id" = String, Path)),
                responses((status = 204, description = "deleted"),
                    (status = 403, body = ErrorBody),
                    (status = 404, body = ErrorBody)))]
            pub async fn delete(State(state): State<AppState>, AuthUser(p): AuthUser, Path(id): Path<String>)
                -> ApiResult<StatusCode> {
                super::delete::<$id>(&state, &p, <$id as CrmId>::from_string(id)).await
            }

            #[doc = concat!("Imports ", $what, "s from a CSV file (`Content-Type: text/csv`): good rows are \
                imported, bad ones reported by line number.")]
            #[utoipa::path(post, path = $import, tag = "contacts", operation_id = concat!("import_", $what, "s"),
                request_body(content = String, content_type = "text/csv",
                    example = "name,email,secondary_emails,owner,company\nAnn Smith,ann@example.com,ann@home.example,,Acme"),
                responses((status = 200, body = ImportReport<String>),
                    (status = 413, body = ErrorBody),
                          (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
            pub async fn import(State(state): State<AppState>, AuthUser(p): AuthUser, request: Request)
                -> ApiResult<Json<ImportReport<$id>>> {
                Ok(Json(super::import::<$id>(&state, &p, request).await?))
            }

            #[doc = concat!("Every ", $what, " as a CSV file in the import's columns; cells a \
                spreadsheet would run as formulas start with `'`.")]
            #[utoipa::path(get, path = $export, tag = "contacts", operation_id = concat!("export_", $what, "s"),
                responses((status = 200, description = "the CSV file", body = String, content_type = "text/csv"),
                          (status = 401, body = ErrorBody)))]
            pub async fn export(State(state): State<AppState>, AuthUser(p): AuthUser) -> ApiResult<Response> {
                super::export::<$id>(&state, &p).await
            }

            #[doc = concat!("Mail to or from any email (primary or secondary) of the ", $what,
                ", through the accounts the caller sees (a Private account's mail is its owner's \
                alone, admins included), by tab (`filter`), newest or oldest first, with every \
                tab's count.")]
            #[utoipa::path(get, path = $messages, tag = "contacts", operation_id = concat!($what, "_messages"),
                params(("id" = String, Path), RelatedQuery),
                responses((status = 200, body = RelatedPage),
                          (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
            pub async fn messages(State(state): State<AppState>, AuthUser(p): AuthUser, Path(id): Path<String>,
                Query(q): Query<RelatedQuery>) -> ApiResult<Json<RelatedPage>> {
                let id = <$id as CrmId>::from_string(id);
                state.store.crm_get::<$id>(&p.org, &id).await?;
                let record = MessageFilter { $filter: Some(id), ..Default::default() };
                Ok(Json(super::super::related::page(&state, &p, record, q).await?))
            }
        }
    };
}

crm_handlers!(
    contact,
    ContactId,
    "contact",
    contact,
    "/contacts",
    "/contacts/{id}",
    "/contacts/import",
    "/contacts/export",
    "/contacts/{id}/messages"
);
crm_handlers!(
    lead,
    LeadId,
    "lead",
    lead,
    "/leads",
    "/leads/{id}",
    "/leads/import",
    "/leads/export",
    "/leads/{id}/messages"
);
