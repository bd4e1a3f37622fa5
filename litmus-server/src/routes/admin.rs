//! The admin API for experiments: every change is validated by core against the whole config
//! it would produce (unknown fields rejected, with the field named), checked against the
//! lifecycle rules, stored with an audit entry and published as the next snapshot version.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use litmus_core::config::wire::WireExperiment;
use litmus_core::{Status, config};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::authorize;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::state::AppState;
use crate::store::{AuditEntry, Change, Store, StoreError};

/// How often a change is recomputed when another change lands first.
const RETRIES: usize = 3;

/// `GET /admin/experiments`: every experiment, by key.
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, None, Scope::AdminRead).await?;
    let experiments = state.store.experiments().await?;
    Ok(Json(json!({ "experiments": experiments })))
}

/// `GET /admin/experiments/{key}`.
pub async fn get<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Json<WireExperiment>, ApiError> {
    authorize(&state, &headers, None, Scope::AdminRead).await?;
    state
        .store
        .experiment(&key)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no experiment {key:?}")))
}

/// `PUT /admin/experiments/{key}`: creates or replaces the experiment. 200 with the stored
/// experiment (defaults filled in) and the new config version; 422 with core's code and field
/// path for an invalid experiment; 409 `invalid_transition` for a change the lifecycle forbids.
pub async fn put<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let actor = authorize(&state, &headers, None, Scope::AdminWrite)
        .await?
        .name;
    let mut value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("an experiment is a JSON object"))?;
    match object.get("key") {
        None => {
            object.insert("key".into(), Value::String(key.clone()));
        }
        Some(Value::String(k)) if *k == key => {}
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                format!("the body's key must be the path's, {key:?}"),
            ));
        }
    }
    for _ in 0..RETRIES {
        let base = state.store.snapshot().await?;
        let mut experiments = state.store.experiments().await?;
        let before = experiments.iter().position(|e| e.key == key);
        let previous = before.map(|i| experiments.remove(i));
        let mut list: Vec<Value> = experiments
            .iter()
            .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
            .collect();
        list.push(value.clone());
        let document = json!({"schema_version": config::SCHEMA_VERSION, "experiments": list});
        // Core validates what the admin wrote (unknown fields are errors); SDKs get the
        // validated form, with defaults filled in.
        let validated = config::validate_strict(&document.to_string())?;
        let stored = validated
            .experiments
            .iter()
            .find(|e| e.key == key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("no experiment {key:?}")))?;
        let document = serde_json::to_value(&validated).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?;
        if let Some(previous) = &previous {
            check_transition(previous, &stored)?;
        }
        let change = Change {
            base_version: base.version,
            actor: actor.clone(),
            action: if previous.is_some() {
                "experiment.update"
            } else {
                "experiment.create"
            }
            .into(),
            experiment: stored.clone(),
            document,
            at_ms: crate::now_ms(),
        };
        match state.store.apply(change).await {
            Ok(snapshot) => {
                tracing::info!(%key, version = snapshot.version, %actor, "experiment saved");
                state.announce(snapshot.version);
                return Ok(Json(
                    json!({"experiment": stored, "version": snapshot.version}),
                ));
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

/// The lifecycle rules between a stored experiment and its replacement.
fn check_transition(before: &WireExperiment, after: &WireExperiment) -> Result<(), ApiError> {
    let invalid =
        |message: String| ApiError::new(StatusCode::CONFLICT, "invalid_transition", message);
    let allowed = match before.status {
        Status::Draft => true,
        Status::Running | Status::Paused => after.status != Status::Draft,
        Status::Stopped => after.status == Status::Stopped,
    };
    if !allowed {
        return Err(invalid(format!(
            "status {} cannot become {} (draft -> running -> paused/stopped; stopped is final)",
            before.status.as_str(),
            after.status.as_str()
        )));
    }
    let live = matches!(before.status, Status::Running | Status::Paused);
    if live {
        if before.salt != after.salt
            || before.hash_version != after.hash_version
            || before.kind != after.kind
        {
            return Err(invalid(
                "the salt, hash_version and kind of a started experiment are fixed: changing them would reshuffle its units".into(),
            ));
        }
        let kept = |key: &str| after.variants.iter().any(|v| v.key == key);
        if let Some(gone) = before.variants.iter().find(|v| !kept(&v.key)) {
            return Err(invalid(format!(
                "variant {:?} cannot be removed from a started experiment (set its weight to 0)",
                gone.key
            )));
        }
    }
    if before.status == Status::Stopped && before != after {
        return Err(invalid("a stopped experiment cannot change".into()));
    }
    Ok(())
}

/// The audit query: `?limit=N` (1 to 1000, default 100).
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    limit: Option<u32>,
}

/// `GET /admin/audit`: the newest changes first, with who, when, before and after.
pub async fn audit<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, None, Scope::AdminRead).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let entries: Vec<AuditEntry> = state.store.audit(limit).await?;
    Ok(Json(json!({ "entries": entries })))
}
