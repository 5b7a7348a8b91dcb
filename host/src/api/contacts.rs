//! CRM contacts and leads over HTTP: CRUD, CSV import, and the mail related
//! to a record. Both kinds share one generic implementation (as in the
//! store); a macro stamps out the two sets of documented handlers.
//!
//! Any user of the org reads, creates, updates and imports records; deleting
//! one is for its owner or an admin. The related mail a user sees is limited
//! to accounts they may see.

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, body_bytes, media_type};
use super::import::{RowError, parse_csv};
use crate::auth::{AuthUser, Principal};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use mailroom_core::ids::{ContactId, LeadId, UserId};
use mailroom_store::contacts::CrmId;
use mailroom_store::message_query::{MessageFilter, MessagePage};
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
        .routes(routes!(lead::list, lead::create))
        .routes(routes!(lead::get, lead::update, lead::delete))
        .routes(routes!(lead::import).layer(DefaultBodyLimit::max(import_limit)))
        .routes(routes!(lead::messages))
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

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub cursor: Option<String>,
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

/// Deleting is for the record's owner (or anyone, when it has none) and admins.
fn check_delete<Id>(p: &Principal, record: &CrmRecord<Id>) -> ApiResult<()> {
    match &record.owner {
        Some(owner) if owner != &p.user && !p.is_admin() => Err(ApiError::forbidden(
            "only the record's owner or an org admin may delete it",
        )),
        _ => Ok(()),
    }
}

async fn delete<Id: CrmId>(state: &AppState, p: &Principal, id: Id) -> ApiResult<StatusCode> {
    let record = state.store.crm_get::<Id>(&p.org, &id).await?;
    check_delete(p, &record)?;
    state.store.crm_delete::<Id>(&p.org, &id).await?;
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
    let (good, errors) = parse_csv(&bytes, &users)?;
    let records: Vec<NewCrmRecord> = good.into_iter().map(|g| g.record).collect();
    let ids = if records.is_empty() {
        Vec::new()
    } else {
        state.store.crm_import::<Id>(&p.org, &records).await?
    };
    tracing::info!(org = %p.org, actor = %p.user, kind = Id::KIND, imported = ids.len(), rejected = errors.len(), "CSV import");
    Ok(ImportReport {
        imported: ids.len(),
        ids,
        errors,
    })
}

/// Mail related to a record, limited for non-admins to accounts they see.
async fn messages(
    state: &AppState,
    p: &Principal,
    mut filter: MessageFilter,
    q: PageQuery,
) -> ApiResult<MessagePage> {
    filter.visible_to = (!p.is_admin()).then(|| p.user.clone());
    Ok(state
        .store
        .list_messages(&p.org, &filter, q.cursor.as_deref(), q.limit)
        .await?)
}

/// Stamps out the documented handlers of one record kind.
macro_rules! crm_handlers {
    ($module:ident, $id:ident, $what:tt, $filter:ident,
     $list:tt, $one:tt, $import:tt, $messages:tt) => {
        pub mod $module {
            use super::*;

            #[doc = concat!("Lists ", $what, "s by name, with an optional text and owner filter.")]
            #[utoipa::path(get, path = $list, tag = "contacts", params(ListQuery),
                responses((status = 200, body = CrmPage<$id>),
                          (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
            pub async fn list(State(state): State<AppState>, AuthUser(p): AuthUser, Query(q): Query<ListQuery>)
                -> ApiResult<Json<CrmPage<$id>>> {
                Ok(Json(super::list::<$id>(&state, &p, q).await?))
            }

            #[doc = concat!("Creates a ", $what, ".")]
            #[utoipa::path(post, path = $list, tag = "contacts",
                request_body = NewCrmRecord,
                responses((status = 201, body = CrmRecord<$id>),
                    (status = 401, body = ErrorBody),
                    (status = 422, body = ErrorBody)))]
            pub async fn create(State(state): State<AppState>, AuthUser(p): AuthUser, Json(new): Json<NewCrmRecord>)
                -> ApiResult<(StatusCode, Json<CrmRecord<$id>>)> {
                Ok((StatusCode::CREATED, Json(state.store.crm_create::<$id>(&p.org, &new).await?)))
            }

            #[doc = concat!("One ", $what, ".")]
            #[utoipa::path(get, path = $one, tag = "contacts", params(("id" = String, Path)),
                responses((status = 200, body = CrmRecord<$id>), (status = 404, body = ErrorBody)))]
            pub async fn get(State(state): State<AppState>, AuthUser(p): AuthUser, Path(id): Path<String>)
                -> ApiResult<Json<CrmRecord<$id>>> {
                Ok(Json(state.store.crm_get::<$id>(&p.org, &<$id as CrmId>::from_string(id)).await?))
            }

            #[doc = concat!("Changes a ", $what, "; `null` clears `primary_email` or `owner`.")]
            #[utoipa::path(patch, path = $one, tag = "contacts", params(("id" = String, Path)),
                request_body = CrmRecordUpdate,
                responses((status = 200, body = CrmRecord<$id>),
                    (status = 404, body = ErrorBody),
                    (status = 422, body = ErrorBody)))]
            pub async fn update(State(state): State<AppState>, AuthUser(p): AuthUser, Path(id): Path<String>,
                Json(update): Json<CrmRecordUpdate>) -> ApiResult<Json<CrmRecord<$id>>> {
                Ok(Json(state.store.crm_update::<$id>(&p.org, &<$id as CrmId>::from_string(id), &update).await?))
            }

            #[doc = concat!("Deletes a ", $what, " (its owner or an admin).")]
            #[utoipa::path(delete, path = $one, tag = "contacts", params(("id" = String, Path)),
                responses((status = 204, description = "deleted"),
                    (status = 403, body = ErrorBody),
                    (status = 404, body = ErrorBody)))]
            pub async fn delete(State(state): State<AppState>, AuthUser(p): AuthUser, Path(id): Path<String>)
                -> ApiResult<StatusCode> {
                super::delete::<$id>(&state, &p, <$id as CrmId>::from_string(id)).await
            }

            #[doc = concat!("Imports ", $what, "s from a CSV file (`Content-Type: text/csv`): good rows are \
                imported, bad ones reported by line number.")]
            #[utoipa::path(post, path = $import, tag = "contacts",
                request_body(content = String, content_type = "text/csv",
                    example = "name,email,secondary_emails,owner,company\nAnn Smith,ann@example.com,ann@home.example,,Acme"),
                responses((status = 200, body = ImportReport<String>),
                    (status = 413, body = ErrorBody),
                          (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
            pub async fn import(State(state): State<AppState>, AuthUser(p): AuthUser, request: Request)
                -> ApiResult<Json<ImportReport<$id>>> {
                Ok(Json(super::import::<$id>(&state, &p, request).await?))
            }

            #[doc = concat!("Mail to or from any email of the ", $what, ", newest first.")]
            #[utoipa::path(get, path = $messages, tag = "contacts",
                params(("id" = String, Path), PageQuery),
                responses((status = 200, body = MessagePage),
                          (status = 404, body = ErrorBody)))]
            pub async fn messages(State(state): State<AppState>, AuthUser(p): AuthUser, Path(id): Path<String>,
                Query(q): Query<PageQuery>) -> ApiResult<Json<MessagePage>> {
                let id = <$id as CrmId>::from_string(id);
                state.store.crm_get::<$id>(&p.org, &id).await?;
                let filter = MessageFilter { $filter: Some(id), ..Default::default() };
                Ok(Json(super::messages(&state, &p, filter, q).await?))
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
    "/leads/{id}/messages"
);
