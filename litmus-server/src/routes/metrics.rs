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
use crate::store::Store;

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

/// `GET /metrics`.
pub async fn metrics<S: Store>(
    State(snapshots): State<Snapshots<S>>,
    State(counters): State<Metrics>,
    State(SharedCache(cache)): State<SharedCache>,
    State(live): State<LiveHub>,
) -> Response {
    let version = snapshots.store().version().await.unwrap_or(0);
    let mut body = counters.render(version, cache.fallbacks());
    body.push_str(&live.render());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
