//! `/v1/notifications`: what the `notify` actions of rules and workflows
//! told a user, listed, marked read, and sent live to an open page as
//! server-sent events. A notification is its user's alone.

use super::AppState;
use super::error::{ApiResult, ErrorBody};
use super::extract::{Json, Path, Query};
use crate::auth::AuthUser;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use mailroom_core::ids::{NotificationId, OrgId, UserId};
use mailroom_store::{Notification, Store};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How often an open stream looks for new notifications.
const STREAM_POLL: Duration = Duration::from_secs(1);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(stream_notifications))
        .routes(routes!(mark_read))
        .routes(routes!(mark_unread))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// Only unread ones.
    #[serde(default)]
    pub unread: bool,
    /// Page size (default 50, at most 1000).
    pub limit: Option<u32>,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/notifications", tag = "notifications", params(NotificationQuery),
    responses((status = 200, body = Vec<Notification>)))]
pub async fn list_notifications(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Query(q): Query<NotificationQuery>,
) -> ApiResult<Json<Vec<Notification>>> {
    Ok(Json(
        state
            .store
            .list_notifications(&p.org, &p.user, q.unread, q.limit.unwrap_or(50))
            .await?,
    ))
}

/// Marks one of the caller's notifications read.
#[utoipa::path(post, path = "/notifications/{id}/read", tag = "notifications",
    params(("id" = NotificationId, Path, description = "The notification")),
    responses((status = 200, body = Notification), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<NotificationId>,
) -> ApiResult<Json<Notification>> {
    Ok(Json(
        state
            .store
            .mark_notification(&p.org, &p.user, &id, true)
            .await?,
    ))
}

/// Marks one of the caller's notifications unread again.
#[utoipa::path(post, path = "/notifications/{id}/unread", tag = "notifications",
    params(("id" = NotificationId, Path, description = "The notification")),
    responses((status = 200, body = Notification), (status = 404, body = ErrorBody)))]
pub async fn mark_unread(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    Path(id): Path<NotificationId>,
) -> ApiResult<Json<Notification>> {
    Ok(Json(
        state
            .store
            .mark_notification(&p.org, &p.user, &id, false)
            .await?,
    ))
}

/// The caller's new notifications as they arrive, as server-sent events
/// (`event: notification`, `id:` its `seq`, `data:` the notification as
/// JSON). A page that reconnects with `Last-Event-ID` gets what it missed;
/// without one the stream starts with what arrives next.
#[utoipa::path(get, path = "/notifications/stream", tag = "notifications",
    params(("Last-Event-ID" = Option<i64>, Header, description = "Resume after this notification's seq")),
    responses((status = 200, content_type = "text/event-stream",
        description = "one `notification` event per new notification; a comment every 15 s keeps the connection open")))]
pub async fn stream_notifications(
    State(state): State<AppState>,
    AuthUser(p): AuthUser,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let after = match resume {
        Some(seq) => seq,
        None => state.store.last_notification_seq(&p.org, &p.user).await?,
    };
    let stream = live(state.store.clone(), p.org, p.user, after);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Notifications after `after`, forever: a poll of the store each
/// [`STREAM_POLL`] (cheap: one indexed range), so it works whichever server
/// process made them.
fn live(
    store: Store,
    org: OrgId,
    user: UserId,
    after: i64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(
        (store, org, user, after, Vec::<Notification>::new()),
        |(store, org, user, mut after, mut ready)| async move {
            loop {
                if !ready.is_empty() {
                    let n = ready.remove(0);
                    after = n.seq;
                    let event = Event::default()
                        .event("notification")
                        .id(n.seq.to_string())
                        .json_data(&n)
                        .unwrap_or_else(|_| Event::default().comment("unserialisable"));
                    return Some((Ok(event), (store, org, user, after, ready)));
                }
                match store.notifications_after(&org, &user, after, 100).await {
                    Ok(found) if !found.is_empty() => ready = found,
                    Ok(_) => tokio::time::sleep(STREAM_POLL).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "notification stream: cannot read; trying again");
                        tokio::time::sleep(STREAM_POLL).await;
                    }
                }
            }
        },
    )
}
