//! `GET /results/{experiment}`: an experiment's results and their series (see
//! [`crate::results`]).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::results::{self, DEFAULT_POINTS};
use crate::snapshots::Snapshots;
use crate::store::Store;

/// The query string.
#[derive(Debug, Deserialize)]
pub struct ResultsQuery {
    /// Points in the series (1 to 500; default 60).
    points: Option<usize>,
}

/// `GET /results/{experiment}?points=N`: needs `admin:read`.
pub async fn results<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(query): Query<ResultsQuery>,
) -> Result<Json<Value>, ApiError> {
    access.authorize(&headers, None, Scope::AdminRead).await?;
    let points = query.points.unwrap_or(DEFAULT_POINTS).clamp(1, 500);
    Ok(Json(results::current(&snapshots, &key, points).await?))
}

/// The replay query string.
#[derive(Debug, Deserialize)]
pub struct ReplayQuery {
    /// Comma-separated policy names (default `thompson,ucb1,epsilon_greedy,uniform`).
    policies: Option<String>,
    /// The random seed (default 1).
    seed: Option<u64>,
}

/// `GET /results/{experiment}/replay?policies=thompson,uniform&seed=1`: policies replayed
/// offline on the experiment's logged units; needs `admin:read`.
pub async fn replay<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(query): Query<ReplayQuery>,
) -> Result<Json<Value>, ApiError> {
    access.authorize(&headers, None, Scope::AdminRead).await?;
    let names = query
        .policies
        .unwrap_or_else(|| "thompson,ucb1,epsilon_greedy,uniform".to_owned());
    let policies: Vec<&str> = names
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if policies.is_empty() || policies.len() > 10 {
        return Err(ApiError::bad_request("name 1 to 10 policies"));
    }
    let seed = query.seed.unwrap_or(1);
    Ok(Json(
        results::replay_current(&snapshots, &key, &policies, seed).await?,
    ))
}
