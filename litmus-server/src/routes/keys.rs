//! Key management: make a key (its secret is shown once), list keys, revoke one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::service::{self, keys::NewKey};
use crate::store::Store;

/// `POST /admin/keys`: 201 with `{id, name, scopes, key}`; `key` is the only time the secret
/// is shown (the store keeps its hash).
pub async fn create<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = access.authorize(&headers, None, Scope::KeysWrite).await?;
    let request: NewKey = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid key request: {e}")))?;
    let created = service::keys::create(&access, &who.project, who.actor(), request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /admin/keys`: every key, without secrets or hashes.
pub async fn list<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let project = access
        .authorize(&headers, None, Scope::KeysWrite)
        .await?
        .project;
    Ok(Json(
        json!({ "keys": service::keys::list(&access, &project).await? }),
    ))
}

/// `DELETE /admin/keys/{id}`: revokes the key at once; 404 when there is no live key.
pub async fn revoke<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let who = access.authorize(&headers, None, Scope::KeysWrite).await?;
    service::keys::revoke(&access, &who.project, who.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
