//! HTTP request metrics (count and latency by method, route and status) and
//! the one request log line, recorded by a middleware around every route,
//! and `/metrics`: those series plus every plugin's, in Prometheus text.
//!
//! `/metrics` spans all orgs (plugin series are labelled by org), so it is an
//! operator's endpoint, not an org admin's: it answers peers on a loopback
//! address, and others only with `Authorization: Bearer <metrics_token>`
//! when the operator configured one.

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::auth::bearer_token;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mailroom_pipeline::health::PipelineHealth;
use mailroom_plugin_host::metrics::prometheus_header;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Instant;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS_S: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    /// Not cumulative; one per bucket plus one for slower requests.
    buckets: [u64; BUCKETS_S.len() + 1],
    sum_s: f64,
}

/// Counters keyed by (method, route template, status).
#[derive(Debug, Default)]
pub struct HttpMetrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl HttpMetrics {
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut series = self.series.lock();
        let s = series
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum_s += seconds;
        let bucket = BUCKETS_S
            .iter()
            .position(|&b| seconds <= b)
            .unwrap_or(BUCKETS_S.len());
        s.buckets[bucket] += 1;
    }

    /// Appends the HTTP series in Prometheus text format.
    pub fn write_prometheus(&self, out: &mut String) {
        out.push_str(
            "# HELP mailroom_http_requests_total HTTP requests by method, route and status.\n\
             # TYPE mailroom_http_requests_total counter\n",
        );
        let series = self.series.lock().clone();
        for ((method, route, status), s) in &series {
            let _ = writeln!(
                out,
                "mailroom_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str(
            "# HELP mailroom_http_request_duration_seconds HTTP request latency.\n\
             # TYPE mailroom_http_request_duration_seconds histogram\n",
        );
        for ((method, route, status), s) in &series {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            let mut cumulative = 0;
            for (i, n) in s.buckets.iter().enumerate() {
                cumulative += n;
                let le = BUCKETS_S
                    .get(i)
                    .map_or("+Inf".to_owned(), |b| b.to_string());
                let _ = writeln!(
                    out,
                    "mailroom_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "mailroom_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_s
            );
            let _ = writeln!(
                out,
                "mailroom_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The method as a label: the standard ones by name, any other string a
/// client makes up as `other`, so clients cannot mint series (routes are
/// bounded the same way: templates only, `(unmatched)` for the rest).
pub fn method_label(method: &axum::http::Method) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
    ];
    STANDARD
        .into_iter()
        .find(|m| *m == method.as_str())
        .unwrap_or("other")
}

/// Middleware: times the request, records it under its route template (never
/// the concrete path, which holds ids) and logs one line. Headers and bodies
/// are never logged: they carry tokens and credentials.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state.http_metrics.record(method, &route, status, elapsed);
    let ms = (elapsed * 100_000.0).round() / 100.0;
    if route == "/healthz" || route == "/metrics" {
        tracing::debug!(%method, %route, status, ms, "request");
    } else {
        tracing::info!(%method, %route, status, ms, "request");
    }
    response
}

/// Whether the caller may read `/metrics` (see the module doc).
fn may_scrape(state: &AppState, request: &Request) -> ApiResult<()> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if peer.is_some_and(|p| p.ip().is_loopback()) {
        return Ok(());
    }
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match (&state.settings.metrics_token, presented) {
        (Some(expected), Some(header)) => {
            let token = bearer_token(header).map_err(ApiError::from)?;
            // Compare digests so the comparison time says nothing about the token.
            if Sha256::digest(token.as_bytes()) == Sha256::digest(expected.as_bytes()) {
                Ok(())
            } else {
                Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "wrong metrics token",
                ))
            }
        }
        (Some(_), None) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "/metrics needs `Authorization: Bearer <metrics_token>` from a non-loopback address",
        )),
        (None, _) => Err(ApiError::forbidden(
            "/metrics is served to loopback addresses only; set metrics_token to scrape it remotely",
        )),
    }
}

/// Prometheus text for the HTTP series, the pipeline's backlog and every org's plugins.
pub async fn render(state: &AppState) -> ApiResult<String> {
    let mut out = String::new();
    state.http_metrics.write_prometheus(&mut out);
    let backlog = state.store.pipeline_backlog().await?;
    PipelineHealth::write_prometheus(&backlog, mailroom_store::now_ms(), &mut out);
    state.registry.budgets().write_prometheus(&mut out);
    prometheus_header(&mut out);
    for org in state.store.list_orgs().await? {
        for view in state.registry.list(&org.id).await? {
            view.metrics.write_prometheus(
                &mut out,
                org.id.as_str(),
                &view.record.name,
                &view.active_version.metadata.version,
            );
        }
    }
    Ok(out)
}

/// Prometheus metrics: HTTP requests and plugin calls.
#[utoipa::path(
    get, path = "/metrics", tag = "system", security(()),
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "wrong or missing metrics token", body = super::error::ErrorBody),
        (status = 403, description = "not loopback and no metrics token configured", body = super::error::ErrorBody),
    )
)]
pub async fn metrics(State(state): State<AppState>, request: Request) -> ApiResult<Response> {
    may_scrape(&state, &request)?;
    let body = render(&state).await?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_labelled() {
        let m = HttpMetrics::default();
        m.record("GET", "/v1/users/{id}", 200, 0.0005);
        m.record("GET", "/v1/users/{id}", 200, 0.3);
        let mut out = String::new();
        m.write_prometheus(&mut out);
        assert!(out.contains("mailroom_http_requests_total{method=\"GET\",route=\"/v1/users/{id}\",status=\"200\"} 2"), "{out}");
        assert!(out.contains("le=\"0.001\"} 1"), "{out}");
        assert!(out.contains("le=\"0.5\"} 2"), "{out}");
        assert!(out.contains("le=\"+Inf\"} 2"), "{out}");
    }
}
