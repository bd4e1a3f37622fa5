//! The HTTP routes: health, SDK delivery, assignment and the admin API.

use serde::de::DeserializeOwned;

use crate::auth::Access;
use crate::error::ApiError;

/// A JSON body as `T`, or 400 naming what is wrong (`what`: "request", "environment", …).
pub(crate) fn json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("invalid {what}: {e}")))
}

/// Whether a request reached the server over TLS (its cookies are then `Secure`, its links
/// https), as the people settings say to judge it.
pub(crate) fn over_tls<S>(access: &Access<S>, headers: &axum::http::HeaderMap) -> bool {
    let people = access.people();
    crate::people::session::over_tls(headers, people.trust_proxy, people.public_url.as_deref())
}

pub mod admin;
pub mod assign;
pub mod auth;
pub mod dashboard;
pub mod environments;
pub mod events;
pub mod health;
pub mod keys;
pub mod live;
pub mod metrics;
pub mod projects;
pub mod results;
pub mod sdk;
pub mod sso;
pub mod usage;
pub mod users;
pub mod webhooks;
