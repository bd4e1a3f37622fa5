//! API keys: a new key's name and scopes are checked, its secret drawn and only its hash
//! stored (with an audit entry); revoking one is audited too. The instance's key cache forgets
//! the key at once, so a revoked key stops working here immediately (and on the other
//! instances within `crate::auth::KEY_CACHE_TTL`).

use serde::Deserialize;
use serde_json::Value;

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::{self, KeyRecord, Scope};
use crate::store::Actor;
use crate::store::{EnvironmentStore, KeyStore};
use litmus_core::config::environments::DEFAULT_ENVIRONMENT;

/// A key request: a name, scopes (an SDK key's by default) and an environment (production
/// by default).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    #[serde(default)]
    scopes: Option<Vec<Scope>>,
    #[serde(default)]
    environment: Option<String>,
}

/// Makes a key of `project` for `actor`: answers the stored record with `key`, the secret,
/// shown this once.
pub async fn create<S: KeyStore + EnvironmentStore>(
    access: &Access<S>,
    project: &str,
    actor: Actor,
    request: NewKey,
) -> Result<Value, ApiError> {
    let name = request.name;
    if name.trim().is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "name must be 1 to 200 characters, none of them a control character",
        ));
    }
    let scopes = request.scopes.unwrap_or_else(|| Scope::SDK.to_vec());
    if scopes.is_empty() {
        return Err(ApiError::bad_request("a key needs at least one scope"));
    }
    let environment = request
        .environment
        .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_owned());
    if !access
        .store()
        .environments(project)
        .await?
        .iter()
        .any(|e| e.key == environment)
    {
        return Err(ApiError::Invalid(litmus_core::Error::UnknownReference {
            path: litmus_core::FieldPath::root().field("environment"),
            key: environment,
        }));
    }
    let random = |n| keys::random_hex(n).map_err(ApiError::internal);
    let (id, secret) = (random(6)?, random(24)?);
    let record = KeyRecord {
        id: id.clone(),
        name,
        scopes,
        project: project.to_owned(),
        environment,
        hash: keys::hash(&secret),
        created_ms: crate::now_ms(),
        revoked_ms: None,
    };
    access.store().create_key(record.clone(), actor).await?;
    access.forget(&record.id);
    let mut out = serde_json::to_value(&record).map_err(ApiError::internal)?;
    if let Some(o) = out.as_object_mut() {
        o.insert("key".into(), Value::String(format!("lit_{id}_{secret}")));
    }
    Ok(out)
}

/// Every key of `project`, newest first, without secrets or hashes.
pub async fn list<S: KeyStore>(
    access: &Access<S>,
    project: &str,
) -> Result<Vec<KeyRecord>, ApiError> {
    Ok(access.store().keys(project).await?)
}

/// Revokes the key `id` of `project` at once; 404 when the project has no live key with that
/// id (another project's keys are not its to revoke).
pub async fn revoke<S: KeyStore>(
    access: &Access<S>,
    project: &str,
    actor: Actor,
    id: &str,
) -> Result<(), ApiError> {
    let revoked = access
        .store()
        .revoke_key(project, id, actor, crate::now_ms())
        .await?;
    access.forget(id);
    if revoked {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no live key {id:?}")))
    }
}
