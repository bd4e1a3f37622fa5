//! `POST /assign`: assignment for clients that cannot embed core (another language, an edge
//! worker). Core decides; the server compiles each config version once and keeps it.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use litmus_core::{Assignment, Engine, Reason, Status, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::authorize;
use crate::cache::sticky_key;
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

/// The longest unit id accepted, in characters: as on `/events` (`litmus_core::events`), so
/// every unit assigned here can be counted, and the sticky cache's keys stay small.
pub const MAX_UNIT_ID_CHARS: usize = 256;

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
///
/// Assignments are sticky: a unit's first variant in an experiment is kept in the cache
/// (`SET NX`: the first instance to assign it decides), and later requests answer it with the
/// reason `sticky` while the unit still qualifies, even after the weights or the traffic
/// changed (as a bandit's do). Only a cache read and one write per new assignment are added.
pub async fn assign<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Query(q): Query<SdkQuery>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, q.sdk_key.as_deref(), Scope::Assign).await?;
    let req: AssignRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid request: {e}")))?;
    if req.unit_id.len() > MAX_UNIT_ID_CHARS && req.unit_id.chars().count() > MAX_UNIT_ID_CHARS {
        return Err(ApiError::bad_request(format!(
            "unit_id is longer than {MAX_UNIT_ID_CHARS} characters"
        )));
    }
    let engine = state.engine().await?;
    let attrs = Value::Object(req.attributes.unwrap_or_default());
    let keys: Vec<&str> = match &req.experiment {
        Some(key) => vec![key.as_str()],
        None => engine
            .experiments()
            .filter(|(_, e)| e.is_ok_and(|e| e.status() == Status::Running))
            .map(|(k, _)| k)
            .collect(),
    };
    let assignments = sticky(&state, &engine, &keys, &req.unit_id, &attrs).await?;
    let described = keys.iter().zip(&assignments).map(|(k, a)| describe(k, a));
    Ok(Json(match req.experiment {
        Some(_) => described.into_iter().next().unwrap_or(Value::Null),
        None => json!({ "assignments": described.collect::<Vec<_>>() }),
    }))
}

/// The unit's assignments to `experiments`, keeping the variants remembered in the cache and
/// remembering new ones.
async fn sticky<'e, S: Store>(
    state: &AppState<S>,
    engine: &'e Engine,
    experiments: &[&str],
    unit: &str,
    attrs: &Value,
) -> Result<Vec<Assignment<'e>>, ApiError> {
    let now = Some(now());
    let keys: Vec<String> = experiments.iter().map(|e| sticky_key(e, unit)).collect();
    let remembered = state.cache.remembered(&keys).await.map_err(cache_error)?;
    let mut out: Vec<Assignment<'e>> = experiments
        .iter()
        .zip(&remembered)
        .map(|(e, r)| engine.assign_sticky_at(e, unit, attrs, now, r.as_deref()))
        .collect();
    // New assignments: remember them; where another request got there first, keep its variant.
    let (fresh, entries): (Vec<usize>, Vec<(String, String)>) = out
        .iter()
        .zip(&keys)
        .enumerate()
        .filter(|(_, (a, _))| a.reason() == Reason::Assigned)
        .filter_map(|(i, (a, k))| Some((i, (k.clone(), a.variant_key()?.to_owned()))))
        .unzip();
    let first = state.cache.remember(&entries).await.map_err(cache_error)?;
    for (&i, earlier) in fresh.iter().zip(first) {
        if let (Some(earlier), Some(e), Some(slot)) = (earlier, experiments.get(i), out.get_mut(i))
        {
            *slot = engine.assign_sticky_at(e, unit, attrs, now, Some(&earlier));
        }
    }
    Ok(out)
}

fn cache_error(e: crate::cache::CacheError) -> ApiError {
    ApiError::CacheUnavailable(e.to_string())
}

fn now() -> Timestamp {
    Timestamp::from_unix_millis(crate::now_ms())
}
