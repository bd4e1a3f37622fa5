//! Projects: list them (`admin:read`; a key sees its own, one with `projects:write` every
//! project) and create one (`projects:write`). Each handler parses its request and calls one function of `crate::service::projects`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::service::projects::{self, NewProject};
use crate::store::Store;

/// `GET /admin/projects`: the projects the key may see (every one with `projects:write`).
pub async fn list<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let who = access.authorize(&headers, None, Scope::AdminRead).await?;
    let all = projects::list(access.store(), &who).await?;
    Ok(Json(json!({ "projects": all })))
}

/// `POST /admin/projects`: `{"key", "name"?}` to 201 with the stored project (with its
/// `production` environment); scope `projects:write`; 422 for an invalid key, 409
/// `already_exists`.
pub async fn create<S: Store>(
    State(access): State<Access<S>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = access
        .authorize(&headers, None, Scope::ProjectsWrite)
        .await?;
    let request: NewProject = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid project: {e}")))?;
    let created = projects::create(access.store(), &who, request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "project": created }))))
}
