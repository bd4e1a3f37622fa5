//! Who is calling: a Bearer key (or, for browsers' EventSource, which cannot set headers, an
//! `sdk_key` query parameter on SDK routes), resolved to a [`Principal`] with scopes. 401 when
//! the key is missing, unknown or revoked; 403 when it lacks the scope.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};

use crate::error::ApiError;
use crate::keys::{self, KeyRecord, Principal, Scope};
use crate::state::AppState;
use crate::store::Store;

/// How long a key looked up in the store is trusted before it is looked up again: a key
/// revoked through another instance stops working within this time (at once on the instance
/// that revoked it).
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// The most keys (and unknown key ids) remembered; the cache is emptied when it is full.
const KEY_CACHE_CAPACITY: usize = 100_000;

/// Keys looked up recently, found or not, so a request costs no store query.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, (Option<KeyRecord>, Instant)>>,
}

impl KeyCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Option<KeyRecord>, Instant)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The record (or `Some(None)`: no such key) looked up less than [`KEY_CACHE_TTL`] ago.
    pub fn get(&self, id: &str) -> Option<Option<KeyRecord>> {
        let entries = self.lock();
        let (record, at) = entries.get(id)?;
        (at.elapsed() < KEY_CACHE_TTL).then(|| record.clone())
    }

    /// Remembers what the store said about `id`.
    pub fn put(&self, id: &str, record: Option<KeyRecord>) {
        let mut entries = self.lock();
        if entries.len() >= KEY_CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(id.to_owned(), (record, Instant::now()));
    }

    /// Forgets `id` (it was created or revoked here).
    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }
}

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
        let record = match state.keys.get(id) {
            Some(known) => known,
            None => {
                let found = state.store.key(id).await?;
                state.keys.put(id, found.clone());
                found
            }
        }
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
