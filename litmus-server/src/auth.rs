//! Who is calling: a Bearer key (or, for browsers' EventSource, which cannot set headers, an
//! `sdk_key` query parameter on SDK routes), resolved to a [`Principal`] with scopes. 401 when
//! the key is missing, unknown or revoked; 403 when it lacks the scope.

use axum::http::{HeaderMap, StatusCode, header};

use crate::error::ApiError;
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
    let key = presented(headers, query_key).ok_or_else(ApiError::unauthorized)?;
    let principal = if keys::constant_time_eq(key.as_bytes(), state.admin_key.as_bytes()) {
        Principal::bootstrap()
    } else {
        let (id, secret) = keys::split(key).ok_or_else(ApiError::unauthorized)?;
        let record = state
            .store
            .key(id)
            .await?
            .filter(|r| r.revoked_ms.is_none())
            .ok_or_else(ApiError::unauthorized)?;
        if !keys::constant_time_eq(keys::hash(secret).as_bytes(), record.hash.as_bytes()) {
            return Err(ApiError::unauthorized());
        }
        Principal {
            name: record.name,
            scopes: record.scopes,
        }
    };
    if principal.may(scope) {
        Ok(principal)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this key lacks the scope {}", scope.as_str()),
        ))
    }
}
