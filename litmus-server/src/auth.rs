//! Who is calling: a Bearer key (or, for browsers' EventSource, which cannot set headers, an
//! `sdk_key` query parameter on SDK routes), resolved to a [`Principal`] with scopes. 401 when
//! the key is missing, unknown or revoked; 403 when it lacks the scope. A key acts in its own
//! project (`crate::projects`); a request naming another project is 403 `wrong_project`. The
//! bootstrap key acts in the project a request names, the default one otherwise.

use axum::http::{HeaderMap, header};

use crate::error::ApiError;
pub use crate::keys::KEY_CACHE_TTL;
use crate::keys::{self, Principal, Scope};
use std::sync::Arc;

use crate::keys::KeyCache;
use crate::projects::DEFAULT_PROJECT;
use crate::store::{KeyStore, ProjectStore};

/// Who may call: the admin key and the API keys in the store (looked up through a cache). A
/// part of the state (`crate::state`), cheap to clone.
pub struct Access<S> {
    store: Arc<S>,
    admin_key: Arc<str>,
    keys: KeyCache,
}

impl<S> Clone for Access<S> {
    fn clone(&self) -> Self {
        Access {
            store: Arc::clone(&self.store),
            admin_key: Arc::clone(&self.admin_key),
            keys: self.keys.clone(),
        }
    }
}

impl<S> Access<S> {
    /// Access by `admin_key` (the bootstrap key, compared in constant time) and the keys in
    /// `store`, remembered in `keys`.
    pub fn new(store: Arc<S>, admin_key: String, keys: KeyCache) -> Self {
        Access {
            store,
            admin_key: admin_key.into(),
            keys,
        }
    }

    /// The key store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Forgets what the cache knows of the key `id` (it was created or revoked here).
    pub fn forget(&self, id: &str) {
        self.keys.forget(id);
    }
}

impl<S: KeyStore + ProjectStore> Access<S> {
    /// The caller, who must hold `scope`, in the project its request names (see
    /// [`authorize_in`]).
    pub async fn authorize(
        &self,
        headers: &HeaderMap,
        query_key: Option<&str>,
        scope: Scope,
    ) -> Result<Principal, ApiError> {
        authorize(self, headers, query_key, scope).await
    }

    /// The caller, who must hold `scope`, in `project` when one is named (see
    /// [`authorize_in`]).
    pub async fn authorize_in(
        &self,
        headers: &HeaderMap,
        query_key: Option<&str>,
        project: Option<&str>,
        scope: Scope,
    ) -> Result<Principal, ApiError> {
        authorize_in(self, headers, query_key, project, scope).await
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

/// The project a request names in its `Litmus-Project` header, if any.
pub fn named_project(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(crate::projects::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

/// The caller, who must hold `scope`, acting in the project its request names (header).
pub async fn authorize<S: KeyStore + ProjectStore>(
    state: &Access<S>,
    headers: &HeaderMap,
    query_key: Option<&str>,
    scope: Scope,
) -> Result<Principal, ApiError> {
    authorize_in(state, headers, query_key, named_project(headers), scope).await
}

/// The caller, who must hold `scope`, acting in `project` when one is named: the bootstrap
/// key in any project that exists (404 otherwise), another key only in its own (403
/// `wrong_project` otherwise). Without a name, the bootstrap key acts in the default project
/// and another key in its own.
pub async fn authorize_in<S: KeyStore + ProjectStore>(
    state: &Access<S>,
    headers: &HeaderMap,
    query_key: Option<&str>,
    project: Option<&str>,
    scope: Scope,
) -> Result<Principal, ApiError> {
    let key = presented(headers, query_key).ok_or(ApiError::Unauthorized)?;
    let principal = if keys::constant_time_eq(key.as_bytes(), state.admin_key.as_bytes()) {
        let project = project.unwrap_or(DEFAULT_PROJECT);
        if project != DEFAULT_PROJECT
            && !state
                .store
                .projects()
                .await?
                .iter()
                .any(|p| p.key == project)
        {
            return Err(ApiError::not_found(format!("no project {project:?}")));
        }
        Principal::bootstrap(project)
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
        if project.is_some_and(|p| p != record.project) {
            return Err(ApiError::WrongProject(record.project));
        }
        Principal {
            name: record.name,
            scopes: record.scopes,
            project: record.project,
            environment: record.environment,
        }
    };
    if principal.may(scope) {
        Ok(principal)
    } else {
        Err(ApiError::Forbidden(scope.as_str()))
    }
}
