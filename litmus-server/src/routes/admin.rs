//! The admin API for experiments, layers and holdouts. Each handler parses its request and
//! calls one function of `crate::service::changes`, where a change is validated by core
//! against the whole config it would produce (unknown fields rejected, with the field named)
//! and the lifecycle rules, stored with an audit entry and published as the next snapshot
//! version.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::service::changes;
use crate::snapshots::Snapshots;
use crate::store::{Object, Store};

/// `GET /admin/{collection}`: every experiment, layer or holdout, by key.
pub async fn list<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path(collection): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::AdminRead)
        .await?
        .project;
    let kind = changes::kind_of(&collection)?;
    Ok(Json(
        changes::list(snapshots.store(), &project, kind).await?,
    ))
}

/// `GET /admin/{collection}/{key}`.
pub async fn get<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path((collection, key)): Path<(String, String)>,
) -> Result<Json<Object>, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::AdminRead)
        .await?
        .project;
    let kind = changes::kind_of(&collection)?;
    Ok(Json(
        changes::get(snapshots.store(), &project, kind, &key).await?,
    ))
}

/// `PUT /admin/{collection}/{key}`: creates or replaces an experiment, layer or holdout. 200
/// with the stored object (defaults filled in) and the new config version; 422 with core's
/// code and field path when the config it would produce is invalid; 409
/// `invalid_transition` for a change the lifecycle forbids.
pub async fn put<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path((collection, key)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let principal = access.authorize(&headers, None, Scope::AdminWrite).await?;
    let kind = changes::kind_of(&collection)?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let config = snapshots.of(&principal.project);
    let changed = changes::put(&config, &principal.actor(), kind, &key, value).await?;
    Ok(Json(
        json!({ kind.as_str(): changed.object, "version": changed.version }),
    ))
}

/// `DELETE /admin/{collection}/{key}`: removes an experiment (a draft or stopped one: a
/// running or paused experiment is stopped first), a layer or a holdout (when no experiment
/// refers to it, and a holdout only when it covers no started experiment). 200 with the new
/// config version and the deleted object; 404 when there is none; 409 `invalid_transition`.
pub async fn delete<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path((collection, key)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let principal = access.authorize(&headers, None, Scope::AdminWrite).await?;
    let kind = changes::kind_of(&collection)?;
    let config = snapshots.of(&principal.project);
    let changed = changes::delete(&config, &principal.actor(), kind, &key).await?;
    Ok(Json(
        json!({ "deleted": changed.object, "version": changed.version }),
    ))
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
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::AdminRead)
        .await?
        .project;
    let entries = changes::audit(snapshots.store(), &project, q.limit, q.key).await?;
    Ok(Json(json!({ "entries": entries })))
}
