//! Who is calling: a Bearer key (or, for browsers' EventSource, which cannot set headers, an
//! `sdk_key` query parameter on SDK routes), or else a person's session cookie
//! (`crate::people`), resolved to a [`Principal`] with scopes: a key's own, a person's role's
//! in the project (`crate::people::Role::scopes`). This is the one authorization check: every
//! route calls it with the scope it needs. 401 when the key or session is missing, unknown,
//! revoked or expired; 403 when the scope is lacking. A key acts in its own project
//! (`crate::projects`); a request naming another project is 403 `wrong_project`. The bootstrap
//! key and people act in the project a request names, the default one otherwise.

use axum::http::{HeaderMap, header};

use crate::error::ApiError;
pub use crate::keys::KEY_CACHE_TTL;
use crate::keys::{self, Principal, Scope};
use std::sync::Arc;

use crate::keys::{KeyCache, LookupCache, Person};
use crate::people::throttle::AddressLimiter;
use crate::people::{PeopleSettings, SessionRecord, UserRecord, session};
use crate::projects::DEFAULT_PROJECT;
use crate::store::{KeyStore, PeopleStore, ProjectStore};

/// A session with its person, as looked up.
pub type SignedIn = (SessionRecord, UserRecord);

/// Who may call: the admin key, the API keys in the store, and people's sessions (each looked
/// up through a cache), with how people sign in. A part of the state (`crate::state`), cheap
/// to clone.
pub struct Access<S> {
    store: Arc<S>,
    admin_key: Arc<str>,
    keys: KeyCache,
    sessions: LookupCache<SignedIn>,
    limiter: AddressLimiter,
    people: Arc<PeopleSettings>,
    sso: Option<Arc<crate::oidc::discovery::Provider>>,
}

impl<S> Clone for Access<S> {
    fn clone(&self) -> Self {
        Access {
            store: Arc::clone(&self.store),
            admin_key: Arc::clone(&self.admin_key),
            keys: self.keys.clone(),
            sessions: self.sessions.clone(),
            limiter: self.limiter.clone(),
            people: Arc::clone(&self.people),
            sso: self.sso.clone(),
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
            sessions: LookupCache::default(),
            limiter: AddressLimiter::default(),
            people: Arc::default(),
            sso: None,
        }
    }

    /// This access with people signing in as `settings` say.
    pub fn with_people(mut self, settings: PeopleSettings) -> Self {
        self.sso = settings.sso.clone().and_then(|s| {
            crate::oidc::discovery::Provider::new(s)
                .map_err(|e| tracing::error!(error = %e, "single sign-on is off"))
                .ok()
                .map(Arc::new)
        });
        self.people = Arc::new(settings);
        self
    }

    /// The single sign-on provider, when set up.
    pub fn sso(&self) -> Option<&crate::oidc::discovery::Provider> {
        self.sso.as_deref()
    }

    /// How people sign in.
    pub fn people(&self) -> &PeopleSettings {
        &self.people
    }

    /// The sign-in attempts of each client address.
    pub fn limiter(&self) -> &AddressLimiter {
        &self.limiter
    }

    /// The sessions looked up recently.
    pub fn sessions(&self) -> &LookupCache<SignedIn> {
        &self.sessions
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

impl<S: KeyStore + ProjectStore + PeopleStore> Access<S> {
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
pub async fn authorize<S: KeyStore + ProjectStore + PeopleStore>(
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
pub async fn authorize_in<S: KeyStore + ProjectStore + PeopleStore>(
    state: &Access<S>,
    headers: &HeaderMap,
    query_key: Option<&str>,
    project: Option<&str>,
    scope: Scope,
) -> Result<Principal, ApiError> {
    let Some(key) = presented(headers, query_key) else {
        let token = session::presented(headers).ok_or(ApiError::Unauthorized)?;
        let (session, user) = signed_in(state, token)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let project = project.unwrap_or(DEFAULT_PROJECT);
        exists(state, project).await?;
        let principal = Principal {
            scopes: user.scopes_in(project),
            name: user.email,
            project: project.to_owned(),
            environment: litmus_core::config::environments::DEFAULT_ENVIRONMENT.into(),
            person: Some(Person {
                user_id: user.id,
                ip: session.ip,
                user_agent: session.user_agent,
            }),
        };
        return if principal.may(scope) {
            Ok(principal)
        } else {
            Err(ApiError::Forbidden(scope.as_str()))
        };
    };
    let principal = if keys::constant_time_eq(key.as_bytes(), state.admin_key.as_bytes()) {
        let project = project.unwrap_or(DEFAULT_PROJECT);
        exists(state, project).await?;
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
            person: None,
        }
    };
    if principal.may(scope) {
        Ok(principal)
    } else {
        Err(ApiError::Forbidden(scope.as_str()))
    }
}

/// 404 unless `project` exists (the default one always does).
async fn exists<S: ProjectStore>(state: &Access<S>, project: &str) -> Result<(), ApiError> {
    if project == DEFAULT_PROJECT
        || state
            .store
            .projects()
            .await?
            .iter()
            .any(|p| p.key == project)
    {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no project {project:?}")))
    }
}

/// The live session whose token is `token`, with its person (none when it is unknown, has
/// expired, or its person is disabled). A session's use is written at most once a
/// [`session::TOUCH_MS`], each use pushing its idle expiry back (never past its absolute end).
pub async fn signed_in<S: PeopleStore>(
    state: &Access<S>,
    token: &str,
) -> Result<Option<SignedIn>, ApiError> {
    let hash = session::token_hash(token);
    let found = match state.sessions.get(&hash) {
        Some(known) => known,
        None => {
            let found = match state.store.session(&hash).await? {
                Some(s) => state.store.user(&s.user_id).await?.map(|u| (s, u)),
                None => None,
            };
            state.sessions.put(&hash, found.clone());
            found
        }
    };
    let now = crate::now_ms();
    let Some((mut s, user)) = found else {
        return Ok(None);
    };
    if s.expires_ms <= now || user.disabled_ms.is_some() {
        return Ok(None);
    }
    if now - s.last_seen_ms >= session::TOUCH_MS {
        let expires = (now + session::IDLE_MS).min(s.created_ms + session::ABSOLUTE_MS);
        state.store.touch_session(&hash, now, expires).await?;
        s.last_seen_ms = now;
        s.expires_ms = expires;
        state.sessions.put(&hash, Some((s.clone(), user.clone())));
    }
    Ok(Some((s, user)))
}
