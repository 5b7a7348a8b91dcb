//! The HTTP API: an axum router under `/v1`, plus `/healthz`, `/metrics` and
//! `/openapi.json` (OpenAPI 3.1, generated from the handlers' annotations).
//!
//! Handlers are thin: they take the caller from an auth extractor, parse the
//! request with the extractors of [`extract`] (errors in the API's shape),
//! call the store or the plugin registry, and map errors with [`ApiError`].
//! One file per resource.

pub mod account_deactivation;
pub mod account_folders;
pub mod account_sync;
pub mod accounts;
pub mod audit;
pub mod automation;
pub mod bundled_plugins;
pub mod contacts;
pub mod destinations;
pub mod error;
pub mod export;
pub mod extract;
pub mod mbox_export;
pub mod messages;
pub mod metrics;
pub mod new_account;
pub mod notifications;
pub mod oauth;
pub mod openapi;
pub mod plugin_outbound;
pub mod plugin_shadow;
pub mod plugins;
pub mod providers;
pub mod related;
pub mod request_head;
pub mod rule_import;
pub mod rules;
pub mod send;
pub mod tasks;
pub mod tokens;
pub mod users;

pub use error::{ApiError, ApiResult};

use crate::auth::failures::{AuthFailures, FailureBudget};
use crate::config::Settings;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use mailroom_pipeline::health::PipelineHealth;
use mailroom_plugin_host::registry::PluginRegistry;
use mailroom_store::Store;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub registry: Arc<PluginRegistry>,
    pub settings: Arc<Settings>,
    pub http_metrics: Arc<metrics::HttpMetrics>,
    /// Wakes the outbox worker when a message is queued, so it goes out now
    /// rather than at the worker's next poll.
    pub outbox_wakeup: Arc<tokio::sync::Notify>,
    /// Syncs and push watchers; one per process so every sync of an
    /// account shares its connection budget.
    pub sync: mailroom_sync::scheduler::SyncScheduler,
    /// Failed authentications per client address (429 past the budget).
    pub auth_failures: Arc<AuthFailures>,
}

impl AppState {
    pub fn new(store: Store, registry: Arc<PluginRegistry>, settings: Settings) -> Self {
        let sync = mailroom_sync::scheduler::SyncScheduler::new(
            store.clone(),
            registry.clone(),
            crate::config::scheduler_settings(&settings),
        );
        let auth_failures = Arc::new(AuthFailures::new(FailureBudget {
            per_minute: settings.http.auth_failures_per_minute,
            burst: settings.http.auth_failure_burst,
        }));
        Self {
            auth_failures,
            sync,
            store,
            registry,
            settings: Arc::new(settings),
            http_metrics: Arc::default(),
            outbox_wakeup: Arc::default(),
        }
    }
}

impl FromRef<AppState> for Arc<AuthFailures> {
    fn from_ref(state: &AppState) -> Arc<AuthFailures> {
        state.auth_failures.clone()
    }
}

impl AppState {
    /// The same state with its scheduler taking leases as `node`, the
    /// identity this server keeps across restarts (see
    /// [`SyncScheduler::recover`](mailroom_sync::scheduler::SyncScheduler::recover)).
    pub fn with_node_identity(mut self, node: String) -> Self {
        self.sync = mailroom_sync::scheduler::SyncScheduler::new(
            self.store.clone(),
            self.registry.clone(),
            mailroom_sync::scheduler::SchedulerSettings {
                node: Some(node),
                ..crate::config::scheduler_settings(&self.settings)
            },
        );
        self
    }
}

impl FromRef<AppState> for Store {
    fn from_ref(state: &AppState) -> Store {
        state.store.clone()
    }
}

/// The `/v1` routes with their OpenAPI description.
fn v1(settings: &Settings) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(users::routes())
        .merge(audit::routes())
        .merge(destinations::routes())
        .merge(automation::routes())
        .merge(tokens::routes())
        .merge(accounts::routes())
        .merge(account_sync::routes())
        .merge(account_folders::routes())
        .merge(account_deactivation::routes())
        .merge(mbox_export::routes())
        .merge(providers::routes())
        .merge(contacts::routes(settings.limits.import_bytes))
        .merge(rule_import::routes(settings.limits.import_bytes))
        .merge(plugins::routes(settings.limits.plugin_upload_bytes))
        .merge(plugin_shadow::routes(settings.limits.plugin_upload_bytes))
        .merge(plugin_outbound::routes())
        .merge(bundled_plugins::routes())
        .merge(messages::routes())
        .merge(send::routes())
        .merge(oauth::routes())
        .merge(rules::routes())
        .merge(tasks::routes())
        .merge(notifications::routes())
}

/// The OpenAPI document and the router it describes.
pub fn api(settings: &Settings) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/v1", v1(settings))
        .routes(routes!(healthz))
        .routes(routes!(metrics::metrics))
        .split_for_parts();
    openapi::document_stack_answers(&mut doc);
    (router, doc)
}

/// The whole application, ready to serve.
pub fn router(state: AppState) -> Router {
    let (routes, doc) = api(&state.settings);
    // Serialised once: the document only changes with the code.
    let doc: Arc<str> = match doc.to_json() {
        Ok(json) => json.into(),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialise the OpenAPI document");
            "{}".into()
        }
    };
    routes
        .route(
            "/openapi.json",
            get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    doc.to_string(),
                )
            }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_head::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        // Every route but the upload and import ones (which set their own) takes
        // at most this much body.
        .layer(DefaultBodyLimit::max(state.settings.limits.json_bytes))
        .with_state(state)
}

/// The answer of `/healthz`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` (answered with 503) when the pipeline is behind.
    pub status: &'static str,
    /// The message pipeline's backlog.
    pub pipeline: PipelineHealth,
}

/// Liveness: the process serves, its database answers, and the message
/// pipeline keeps up (its oldest waiting message is younger than
/// `pipeline.stale_after_seconds`).
#[utoipa::path(
    get, path = "/healthz", tag = "system", security(()),
    responses(
        (status = 200, description = "serving", body = Health),
        (status = 503, description = "the database does not answer (an error body), or the pipeline is behind (`degraded`, a Health body)", body = HealthOrError),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.pipeline_backlog().await {
        Ok(backlog) => {
            let pipeline = PipelineHealth::of(
                &backlog,
                mailroom_store::now_ms(),
                state.settings.pipeline.stale_after_seconds,
            );
            let (code, status) = if pipeline.behind {
                (StatusCode::SERVICE_UNAVAILABLE, "degraded")
            } else {
                (StatusCode::OK, "ok")
            };
            (code, axum::Json(Health { status, pipeline })).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "health check: database does not answer");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database does not answer",
            )
            .into_response()
        }
    }
}

/// What `/healthz` answers with 503: a degraded `Health`, or the error body
/// when the database does not answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // A schema only: the handler answers one of the two.
pub enum HealthOrError {
    Degraded(Health),
    Down(error::ErrorBody),
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see /openapi.json",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}
