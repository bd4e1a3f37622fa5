//! `POST /assign`: assignment for clients that cannot embed core (another language, an edge
//! worker). Core decides; the server compiles each config version once and keeps it.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use litmus_core::{Assignment, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::authorize;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::routes::sdk::SdkQuery;
use crate::state::AppState;
use crate::store::Store;

/// The request: a unit, its attributes, and one experiment (or every running one when absent).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The unit (user, device, ...).
    unit_id: String,
    /// Targeting attributes (a JSON object).
    #[serde(default)]
    attributes: Option<serde_json::Map<String, Value>>,
    /// The experiment's key; every running experiment when absent.
    #[serde(default)]
    experiment: Option<String>,
}

fn describe(experiment: &str, a: &Assignment<'_>) -> Value {
    json!({
        "experiment": experiment,
        "variant": a.variant_key(),
        "in_experiment": a.in_experiment(),
        "reason": a.reason().code(),
        "miss": a.miss().map(|m| m.code()),
        "payload": a.payload(),
    })
}

/// `POST /assign`: `{"unit_id", "attributes"?, "experiment"?}` to one assignment, or to
/// `{"assignments": [...]}` for every running experiment.
pub async fn assign<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Query(q): Query<SdkQuery>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, q.sdk_key.as_deref(), Scope::Assign).await?;
    let req: AssignRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid request: {e}")))?;
    let engine = state.engine().await?;
    let attrs = Value::Object(req.attributes.unwrap_or_default());
    let now = Some(now());
    Ok(Json(match &req.experiment {
        Some(key) => describe(key, &engine.assign_at(key, &req.unit_id, &attrs, now)),
        None => {
            let all: Vec<Value> = engine
                .assign_all_at(&req.unit_id, &attrs, now)
                .map(|a| describe(a.experiment().map_or("", |e| e.key()), &a))
                .collect();
            json!({ "assignments": all })
        }
    }))
}

fn now() -> Timestamp {
    Timestamp::from_unix_millis(crate::now_ms())
}
