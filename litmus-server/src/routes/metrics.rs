//! `GET /metrics` and the middleware that counts every request (`crate::metrics::Metrics`).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;
use crate::store::Store;

/// Middleware: times each request and counts it under its route pattern (never the raw
/// path, so experiment keys do not multiply the series).
pub async fn track<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(request).await;
    state.metrics.record(
        &method,
        &route,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
pub async fn metrics<S: Store>(State(state): State<Arc<AppState<S>>>) -> Response {
    let version = state.store.version().await.unwrap_or(0);
    let mut body = state.metrics.render(version, state.cache.fallbacks());
    body.push_str(&state.live.render());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
