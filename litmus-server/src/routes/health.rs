//! `/healthz` (the process answers), `/readyz` (and so does its store), and the API's
//! OpenAPI document.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Store;

/// Liveness: always 200 while the process serves requests.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: 200 when the store answers, else 503 `store_unavailable`.
pub async fn readyz<S: Store>(
    State(state): State<Arc<AppState<S>>>,
) -> Result<Json<Value>, ApiError> {
    state.store.ping().await?;
    Ok(Json(json!({"status": "ready"})))
}

/// The OpenAPI 3.1 document of this API (`litmus-server/openapi.json`).
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// `GET /openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
