//! `GET /metrics` and the middleware that counts every request (`crate::metrics::Metrics`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::cache::SharedCache;
use crate::live::LiveHub;
use crate::metrics::Metrics;
use crate::snapshots::Snapshots;
use crate::store::{Backlog, Store};

/// Middleware: times each request and counts it under its route pattern (never the raw
/// path, so experiment keys do not multiply the series).
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(request).await;
    metrics.record(
        &method,
        &route,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// The rollup backlog in Prometheus text: how far results are behind ingestion.
fn render_backlog(backlog: &Backlog, now_ms: i64) -> String {
    format!(
        "# HELP litmus_rollup_backlog_batches Event batches stored but not yet in the rollups.\n\
         # TYPE litmus_rollup_backlog_batches gauge\n\
         litmus_rollup_backlog_batches {}\n\
         # HELP litmus_rollup_backlog_events Events stored but not yet in the rollups.\n\
         # TYPE litmus_rollup_backlog_events gauge\n\
         litmus_rollup_backlog_events {}\n\
         # HELP litmus_rollup_backlog_age_seconds How long the oldest batch not yet in the rollups has waited (results lag by this much).\n\
         # TYPE litmus_rollup_backlog_age_seconds gauge\n\
         litmus_rollup_backlog_age_seconds {}\n",
        backlog.batches,
        backlog.events,
        backlog.age_ms(now_ms) as f64 / 1000.0
    )
}

/// `GET /metrics`.
pub async fn metrics<S: Store>(
    State(snapshots): State<Snapshots<S>>,
    State(counters): State<Metrics>,
    State(SharedCache(cache)): State<SharedCache>,
    State(live): State<LiveHub>,
) -> Response {
    let store = snapshots.store();
    // The default project's config version (each project has its own).
    let version = store
        .version(crate::projects::DEFAULT_PROJECT)
        .await
        .unwrap_or(0);
    let mut body = counters.render(version, cache.fallbacks());
    if let Ok(backlog) = store.rollup_backlog().await {
        body.push_str(&render_backlog(&backlog, crate::now_ms()));
    }
    body.push_str(&live.render());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
