//! The admin API for experiments, layers and holdouts: every change is validated by core
//! against the whole config it would produce (unknown fields rejected, with the field named),
//! checked against the lifecycle rules, stored with an audit entry and published as the next
//! snapshot version.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use litmus_core::config::wire::{WireConfig, WireExperiment, WireHoldout};
use litmus_core::{Status, config};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::authorize;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::state::AppState;
use crate::store::{AuditEntry, Change, Edit, Kind, Object, Store, StoreError};

/// How often a change is recomputed when another change lands first.
const RETRIES: usize = 3;

/// The kind of a collection in the path (`experiments`, `layers`, `holdouts`).
fn kind_of(collection: &str) -> Result<Kind, ApiError> {
    [Kind::Experiment, Kind::Layer, Kind::Holdout]
        .into_iter()
        .find(|k| k.table() == collection)
        .ok_or_else(|| ApiError::not_found(format!("no collection {collection:?}")))
}

/// The objects of one kind in a document, as JSON.
fn of_kind(doc: &WireConfig, kind: Kind) -> Vec<Value> {
    let all = match kind {
        Kind::Experiment => serde_json::to_value(&doc.experiments),
        Kind::Layer => serde_json::to_value(&doc.layers),
        Kind::Holdout => serde_json::to_value(&doc.holdouts),
    };
    match all {
        Ok(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// The object of `kind` with `key` in a document.
fn find(doc: &WireConfig, kind: Kind, key: &str) -> Option<Object> {
    match kind {
        Kind::Experiment => doc
            .experiments
            .iter()
            .find(|e| e.key == key)
            .cloned()
            .map(Object::Experiment),
        Kind::Layer => doc
            .layers
            .iter()
            .find(|l| l.key == key)
            .cloned()
            .map(Object::Layer),
        Kind::Holdout => doc
            .holdouts
            .iter()
            .find(|h| h.key == key)
            .cloned()
            .map(Object::Holdout),
    }
}

/// `GET /admin/{collection}`: every experiment, layer or holdout, by key.
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(collection): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, None, Scope::AdminRead).await?;
    let kind = kind_of(&collection)?;
    let doc = state.store.objects().await?;
    Ok(Json(json!({ kind.table(): of_kind(&doc, kind) })))
}

/// `GET /admin/{collection}/{key}`.
pub async fn get<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path((collection, key)): Path<(String, String)>,
) -> Result<Json<Object>, ApiError> {
    authorize(&state, &headers, None, Scope::AdminRead).await?;
    let kind = kind_of(&collection)?;
    let doc = state.store.objects().await?;
    find(&doc, kind, &key)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no {} {key:?}", kind.as_str())))
}

/// `PUT /admin/{collection}/{key}`: creates or replaces an experiment, layer or holdout. 200
/// with the stored object (defaults filled in) and the new config version; 422 with core's
/// code and field path when the config it would produce is invalid; 409
/// `invalid_transition` for a change the lifecycle forbids.
pub async fn put<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path((collection, key)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let actor = authorize(&state, &headers, None, Scope::AdminWrite)
        .await?
        .name;
    let kind = kind_of(&collection)?;
    let mut value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request(format!("a {} is a JSON object", kind.as_str())))?;
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
    let (stored, version) = change(&state, &actor, kind, &key, Some(value)).await?;
    Ok(Json(json!({ kind.as_str(): stored, "version": version })))
}

/// `DELETE /admin/{collection}/{key}`: removes an experiment (a draft or stopped one: a
/// running or paused experiment is stopped first), a layer or a holdout (when no experiment
/// refers to it, and a holdout only when it covers no started experiment). 200 with the new
/// config version and the deleted object; 404 when there is none; 409 `invalid_transition`.
pub async fn delete<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path((collection, key)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let actor = authorize(&state, &headers, None, Scope::AdminWrite)
        .await?
        .name;
    let kind = kind_of(&collection)?;
    let (deleted, version) = change(&state, &actor, kind, &key, None).await?;
    Ok(Json(json!({ "deleted": deleted, "version": version })))
}

/// Puts `value` as the object of `kind` with `key` (or deletes that object when `value` is
/// `None`): computes the config document that would result, has core validate it, checks the
/// lifecycle rules, stores it with an audit entry and publishes it. Answers the object as
/// stored (or as it was, when deleted) and the new version. Recomputed when another change
/// lands first.
pub(crate) async fn change<S: Store>(
    state: &AppState<S>,
    actor: &str,
    kind: Kind,
    key: &str,
    value: Option<Value>,
) -> Result<(Object, u64), ApiError> {
    for _ in 0..RETRIES {
        // The version first: if a change lands before the objects are read, applying this
        // one fails as a conflict and it is recomputed.
        let base = state.store.version().await?;
        let current = state.store.objects().await?;
        let previous = find(&current, kind, key);
        if value.is_none() && previous.is_none() {
            return Err(ApiError::not_found(format!("no {} {key:?}", kind.as_str())));
        }
        // The document this change would publish: the others as stored, this one as written.
        let [experiments, layers, holdouts] =
            [Kind::Experiment, Kind::Layer, Kind::Holdout].map(|k| {
                let mut items = of_kind(&current, k);
                if k == kind {
                    items.retain(|o| o.get("key").and_then(Value::as_str) != Some(key));
                    items.extend(value.clone());
                }
                items
            });
        let document = json!({
            "schema_version": config::SCHEMA_VERSION,
            "experiments": experiments, "layers": layers, "holdouts": holdouts,
        });
        // Core validates what the admin wrote (unknown fields are errors); SDKs get the
        // validated form, with defaults filled in.
        let validated = config::validate_strict(&document.to_string())?;
        let (edit, verb, object) = match (&previous, &value) {
            (_, Some(_)) => {
                let stored = find(&validated, kind, key)
                    .ok_or_else(|| ApiError::not_found(format!("no {} {key:?}", kind.as_str())))?;
                if let Some(previous) = &previous {
                    check_change(previous, &stored, &validated)?;
                }
                let verb = if previous.is_some() {
                    "update"
                } else {
                    "create"
                };
                (Edit::Put(Box::new(stored.clone())), verb, stored)
            }
            (Some(previous), None) => {
                check_delete(previous, &current)?;
                let edit = Edit::Delete {
                    kind,
                    key: key.to_owned(),
                };
                (edit, "delete", previous.clone())
            }
            (None, None) => {
                return Err(ApiError::not_found(format!("no {} {key:?}", kind.as_str())));
            }
        };
        let document = serde_json::to_value(&validated).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?;
        let change = Change {
            base_version: base,
            actor: actor.to_owned(),
            action: format!("{}.{verb}", kind.as_str()),
            edit,
            document,
            at_ms: crate::now_ms(),
        };
        match state.store.apply(change).await {
            Ok(snapshot) => {
                let version = snapshot.version;
                tracing::info!(%key, kind = kind.as_str(), version, %actor, action = verb, "saved");
                state.published(snapshot).await;
                return Ok((object, version));
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

/// The rules for deleting a stored object: a started experiment must be stopped first (its
/// units would lose their variant mid-test); a holdout that covers started experiments stays
/// (deleting it would move its units into them). References (an experiment's layer or
/// holdout) are checked by core's validation of the resulting config.
fn check_delete(before: &Object, doc: &WireConfig) -> Result<(), ApiError> {
    let invalid =
        |message: String| ApiError::new(StatusCode::CONFLICT, "invalid_transition", message);
    match before {
        Object::Experiment(e) if started(e) => Err(invalid(format!(
            "experiment {:?} is {}: stop it before deleting it",
            e.key,
            e.status.as_str()
        ))),
        Object::Holdout(h) => {
            if doc.experiments.iter().any(|e| started(e) && covers(h, e)) {
                return Err(invalid(format!(
                    "holdout {:?} covers started experiments: it cannot be deleted",
                    h.key
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether a holdout applies to an experiment.
fn covers(h: &WireHoldout, e: &WireExperiment) -> bool {
    h.all
        || h.experiments.contains(&e.key)
        || e.layer
            .as_ref()
            .is_some_and(|slot| h.layers.contains(&slot.key))
}

/// Whether an experiment has started (its assignments are in use).
fn started(e: &WireExperiment) -> bool {
    matches!(e.status, Status::Running | Status::Paused)
}

/// The rules for replacing a stored object: an experiment's lifecycle; a layer's salt, and a
/// holdout's salt and share, stay fixed while a started experiment depends on them (changing
/// them would move its units).
fn check_change(before: &Object, after: &Object, doc: &WireConfig) -> Result<(), ApiError> {
    let invalid =
        |message: String| ApiError::new(StatusCode::CONFLICT, "invalid_transition", message);
    match (before, after) {
        (Object::Experiment(b), Object::Experiment(a)) => check_transition(b, a),
        (Object::Layer(b), Object::Layer(a)) => {
            let in_use = doc
                .experiments
                .iter()
                .any(|e| started(e) && e.layer.as_ref().is_some_and(|slot| slot.key == b.key));
            if in_use && b.salt != a.salt {
                return Err(invalid(format!(
                    "layer {:?} has started experiments: its salt is fixed",
                    b.key
                )));
            }
            Ok(())
        }
        (Object::Holdout(b), Object::Holdout(a)) => {
            let in_use = doc.experiments.iter().any(|e| started(e) && covers(b, e));
            if in_use && (b.salt != a.salt || b.share != a.share) {
                return Err(invalid(format!(
                    "holdout {:?} covers started experiments: its salt and share are fixed",
                    b.key
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
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
    /// How many entries (1 to 1,000; default 100).
    limit: Option<u32>,
    /// Only the changes of this object.
    key: Option<String>,
}

/// `GET /admin/audit?limit=N&key=K`: the newest changes first (of object `K` only, when
/// given), with who, when, before and after.
pub async fn audit<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, None, Scope::AdminRead).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let entries: Vec<AuditEntry> = state.store.audit(limit, q.key).await?;
    Ok(Json(json!({ "entries": entries })))
}
