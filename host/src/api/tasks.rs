//! `/v1/tasks`: the CRM tasks the `create-task` actions of rules and
//! workflows made. A task is its assignee's alone (admins included): its
//! title and notes come from mail that only some people may read.

use super::AppState;
use super::error::{ApiResult, ErrorBody};
use super::extract::{Json, Path, Query};
use crate::auth::AuthUser;
use axum::extract::State;
use mailroom_core::ids::TaskId;
use mailroom_store::{Task, TaskStatus, TaskUpdate};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks))
        .routes(routes!(get_task, update_task))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    /// Only `open` or only `done` tasks.
    #[param(inline)]
    pub status: Option<TaskStatus>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// The caller's tasks: open ones first, soonest due first; then done ones.
#[utoipa::path(get, path = "/tasks", tag = "tasks", params(TaskQuery),
    responses((status = 200, body = Vec<Task>)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Query(q): Query<TaskQuery>,
) -> ApiResult<Json<Vec<Task>>> {
    Ok(Json(
        state
            .store
            .list_tasks(&p.org, &p.user, q.status, q.limit.unwrap_or(100))
            .await?,
    ))
}

/// One of the caller's tasks (another person's is 404).
#[utoipa::path(get, path = "/tasks/{id}", tag = "tasks",
    params(("id" = TaskId, Path, description = "The task")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody)))]
pub async fn get_task(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<TaskId>,
) -> ApiResult<Json<Task>> {
    Ok(Json(state.store.get_task(&p.org, &p.user, &id).await?))
}

/// Changes one of the caller's tasks: done or open again, due date, priority.
#[utoipa::path(patch, path = "/tasks/{id}", tag = "tasks",
    params(("id" = TaskId, Path, description = "The task")),
    request_body = TaskUpdate,
    responses((status = 200, body = Task), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_task(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<TaskId>,
    Json(update): Json<TaskUpdate>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        state
            .store
            .update_task(&p.org, &p.user, &id, &update)
            .await?,
    ))
}
