//! Environments: list, create and delete them, and promote one environment's flag rules to
//! another. Each handler parses its request and calls one function of
//! `crate::service::environments`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::service::environments::{self, NewEnvironment, PromoteRequest};
use crate::snapshots::Snapshots;
use crate::store::Store;

/// `GET /admin/environments`: every environment, production first.
pub async fn list<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::AdminRead)
        .await?
        .project;
    let all = environments::list(access.store(), &project).await?;
    Ok(Json(json!({ "environments": all })))
}

/// `POST /admin/environments`: `{"key", "name"?}` to 201 with the stored environment; 422 for
/// an invalid key, 409 `already_exists`.
pub async fn create<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = access.authorize(&headers, None, Scope::AdminWrite).await?;
    let request: NewEnvironment = super::json(&bytes, "environment")?;
    let created = environments::create(access.store(), &who.project, who.actor(), request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "environment": created }))))
}

/// `DELETE /admin/environments/{key}`: 204; 422 for production, 409 `in_use` while an overlay
/// or a live key names it, 404 when there is none.
pub async fn delete<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    let who = access.authorize(&headers, None, Scope::AdminWrite).await?;
    environments::delete(access.store(), &who.project, who.actor(), &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /admin/environments/{from}/promote`: `{"to", "flags"?, "dry_run"?}` to the
/// differences (and, unless `dry_run`, the version that applied them).
pub async fn promote<S: Store>(
    State(access): State<Access<S>>,
    State(snapshots): State<Snapshots<S>>,
    headers: HeaderMap,
    Path(from): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = access.authorize(&headers, None, Scope::AdminWrite).await?;
    let request: PromoteRequest = super::json(&bytes, "promotion")?;
    let config = snapshots.of(&who.project);
    Ok(Json(
        environments::promote(&config, &who.actor(), &from, request).await?,
    ))
}
