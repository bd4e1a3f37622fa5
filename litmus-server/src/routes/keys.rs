//! Key management: make a key (its secret is shown once), list keys, revoke one.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::authorize;
use crate::error::ApiError;
use crate::keys::{self, KeyRecord, Scope};
use crate::state::AppState;
use crate::store::Store;

/// `POST /admin/keys` body: a name and scopes (an SDK key's by default).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    #[serde(default)]
    scopes: Option<Vec<Scope>>,
}

/// `POST /admin/keys`: 201 with `{id, name, scopes, key}`; `key` is the only time the secret
/// is shown (the store keeps its hash).
pub async fn create<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let actor = authorize(&state, &headers, None, Scope::KeysWrite)
        .await?
        .name;
    let req: NewKey = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid key request: {e}")))?;
    if req.name.trim().is_empty() || req.name.len() > 200 || req.name.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(
            "name must be 1 to 200 characters, none of them a control character",
        ));
    }
    let scopes = req.scopes.unwrap_or_else(|| Scope::SDK.to_vec());
    if scopes.is_empty() {
        return Err(ApiError::bad_request("a key needs at least one scope"));
    }
    let random = |n| {
        keys::random_hex(n).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })
    };
    let (id, secret) = (random(6)?, random(24)?);
    let record = KeyRecord {
        id: id.clone(),
        name: req.name,
        scopes,
        hash: keys::hash(&secret),
        created_ms: crate::now_ms(),
        revoked_ms: None,
    };
    state.store.create_key(record.clone(), actor).await?;
    state.keys.forget(&record.id);
    let mut out = serde_json::to_value(&record).unwrap_or_default();
    if let Some(o) = out.as_object_mut() {
        o.insert("key".into(), Value::String(format!("lit_{id}_{secret}")));
    }
    Ok((StatusCode::CREATED, Json(out)))
}

/// `GET /admin/keys`: every key, without secrets or hashes.
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, None, Scope::KeysWrite).await?;
    Ok(Json(json!({ "keys": state.store.keys().await? })))
}

/// `DELETE /admin/keys/{id}`: revokes the key at once; 404 when there is no live key.
pub async fn revoke<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let actor = authorize(&state, &headers, None, Scope::KeysWrite)
        .await?
        .name;
    let revoked = state.store.revoke_key(&id, actor, crate::now_ms()).await?;
    state.keys.forget(&id);
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no live key {id:?}")))
    }
}
