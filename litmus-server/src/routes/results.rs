//! `GET /results/{experiment}`: an experiment's results and their series (see
//! [`crate::results`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::authorize;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::results::{DEFAULT_POINTS, experiment_results};
use crate::state::AppState;
use crate::store::Store;

/// The query string.
#[derive(Debug, Deserialize)]
pub struct ResultsQuery {
    /// Points in the series (1 to 500; default 60).
    points: Option<usize>,
}

/// `GET /results/{experiment}?points=N`: needs `admin:read`.
pub async fn results<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(query): Query<ResultsQuery>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, None, Scope::AdminRead).await?;
    let engine = state.engine().await?;
    let points = query.points.unwrap_or(DEFAULT_POINTS).clamp(1, 500);
    Ok(Json(
        experiment_results(&state, &engine, &key, points).await?,
    ))
}
