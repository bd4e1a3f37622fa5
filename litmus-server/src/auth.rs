//! Who is calling: a Bearer key (or, for browsers' EventSource, which cannot set headers, an
//! `sdk_key` query parameter on SDK routes), resolved to a [`Principal`] with scopes. 401 when
//! the key is missing, unknown or revoked; 403 when it lacks the scope.

use axum::http::{HeaderMap, header};

use crate::error::ApiError;
pub use crate::keys::KEY_CACHE_TTL;
use crate::keys::{self, Principal, Scope};
use crate::state::AppState;
use crate::store::Store;

/// The key a request presents: the Bearer token, else the `sdk_key` query parameter.
fn presented<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<&'a str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or(query)
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// The caller, who must hold `scope`.
pub async fn authorize<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    query_key: Option<&str>,
    scope: Scope,
) -> Result<Principal, ApiError> {
    let key = presented(headers, query_key).ok_or(ApiError::Unauthorized)?;
    let principal = if keys::constant_time_eq(key.as_bytes(), state.admin_key.as_bytes()) {
        Principal::bootstrap()
    } else {
        let (id, secret) = keys::split(key).ok_or(ApiError::Unauthorized)?;
        let record = match state.keys.get(id) {
            Some(known) => known,
            None => {
                let found = state.store.key(id).await?;
                state.keys.put(id, found.clone());
                found
            }
        }
        .filter(|r| r.revoked_ms.is_none())
        .ok_or(ApiError::Unauthorized)?;
        if !keys::constant_time_eq(keys::hash(secret).as_bytes(), record.hash.as_bytes()) {
            return Err(ApiError::Unauthorized);
        }
        Principal {
            name: record.name,
            scopes: record.scopes,
        }
    };
    if principal.may(scope) {
        Ok(principal)
    } else {
        Err(ApiError::Forbidden(scope.as_str()))
    }
}
