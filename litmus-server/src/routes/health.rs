//! `/healthz` (the process answers), `/readyz` (and so does its store), and the API's
//! OpenAPI document.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cache::SharedCache;
use crate::error::ApiError;
use crate::snapshots::Snapshots;
use crate::store::Store;

/// Liveness: always 200 while the process serves requests.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The readiness query: `?cache=optional` reports a cache failure without failing (for
/// deployments that would rather serve from in-process state than drain every instance when
/// Redis is down).
#[derive(Debug, Default, Deserialize)]
pub struct ReadyQuery {
    cache: Option<String>,
}

/// Readiness: 200 when the store and the cache answer; else 503 with the code
/// `store_unavailable` or `cache_unavailable`. The body also says how far the rollups (and so
/// the results) are behind ingestion: `rollups.backlog` (batches, events, the oldest's age).
/// A backlog does not make an instance unready: it still takes events and serves configs.
pub async fn readyz<S: Store>(
    State(snapshots): State<Snapshots<S>>,
    State(SharedCache(shared)): State<SharedCache>,
    Query(q): Query<ReadyQuery>,
) -> Result<Json<Value>, ApiError> {
    snapshots.store().ping().await?;
    let cache = match shared.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) if q.cache.as_deref() == Some("optional") => format!("degraded: {e}"),
        Err(e) => {
            return Err(ApiError::CacheUnavailable(format!(
                "the {} cache does not answer: {e}",
                shared.name()
            )));
        }
    };
    let backlog = snapshots.store().rollup_backlog().await?;
    Ok(Json(json!({
        "status": "ready",
        "store": "ok",
        "cache": { "kind": shared.name(), "status": cache },
        "rollups": { "backlog": {
            "batches": backlog.batches,
            "events": backlog.events,
            "oldest_age_ms": backlog.age_ms(crate::now_ms()),
        }},
    })))
}

/// The OpenAPI 3.1 document of this API (`litmus-server/openapi.json`).
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// `GET /openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
