//! Environments: listing, creating and deleting them, and promoting one environment's flag
//! rules to another (`docs/flags.md`, Environments). The rules: keys are lower-case names,
//! `production` always exists and is never deleted, an environment still named by an overlay
//! or by a live key cannot be deleted, and a promotion is one config change (one version, an
//! audit entry per flag) whose differences can be previewed without storing anything.

use litmus_core::config::environments::{self as core_environments, DEFAULT_ENVIRONMENT};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::environments::{self, EnvironmentRecord, MAX_ENVIRONMENTS};
use crate::error::ApiError;
use crate::service::changes::{self, Plan};
use crate::snapshots::ProjectConfig;
use crate::store::Actor;
use crate::store::{ConfigStore, EnvironmentStore, KeyStore, Kind};

/// A new environment: its key and a name for people (the key when absent).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEnvironment {
    key: String,
    #[serde(default)]
    name: Option<String>,
}

/// A promotion request: the target environment, the flags (every flag when absent), and
/// whether to only preview the differences.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoteRequest {
    to: String,
    #[serde(default)]
    flags: Option<Vec<String>>,
    #[serde(default)]
    dry_run: bool,
}

/// 422 `invalid_value` at `path`.
fn invalid(path: litmus_core::FieldPath, message: impl Into<String>) -> litmus_core::Error {
    litmus_core::Error::InvalidValue {
        path,
        message: message.into(),
    }
}

/// Every environment of `project`, production first.
pub async fn list<S: EnvironmentStore>(
    store: &S,
    project: &str,
) -> Result<Vec<EnvironmentRecord>, ApiError> {
    Ok(store.environments(project).await?)
}

/// 404 unless `project` has the environment `key`.
pub async fn require<S: EnvironmentStore>(
    store: &S,
    project: &str,
    key: &str,
) -> Result<(), ApiError> {
    let environments = store.environments(project).await?;
    if environments.iter().any(|e| e.key == key) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no environment {key:?}")))
    }
}

/// Creates an environment of `project` for `actor`: 422 for an invalid key or name, 409 when
/// it exists.
pub async fn create<S: EnvironmentStore>(
    store: &S,
    project: &str,
    actor: Actor,
    request: NewEnvironment,
) -> Result<EnvironmentRecord, ApiError> {
    let root = litmus_core::FieldPath::root();
    if !environments::is_key(&request.key) {
        return Err(ApiError::Invalid(invalid(
            root.field("key"),
            format!(
                "{:?} is not an environment key: 1 to {} lower-case letters, digits, '-' or '_', starting with a letter",
                request.key,
                environments::MAX_KEY_LEN
            ),
        )));
    }
    let name = request.name.unwrap_or_else(|| request.key.clone());
    if name.trim().is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::Invalid(invalid(
            root.field("name"),
            "a name is 1 to 100 characters, none of them a control character",
        )));
    }
    if store.environments(project).await?.len() >= MAX_ENVIRONMENTS {
        return Err(ApiError::Invalid(litmus_core::Error::LimitExceeded {
            path: root.field("key"),
            message: format!("a project has at most {MAX_ENVIRONMENTS} environments"),
        }));
    }
    let record = EnvironmentRecord {
        key: request.key,
        name,
        created_ms: crate::now_ms(),
    };
    if store
        .create_environment(project, record.clone(), actor)
        .await?
    {
        Ok(record)
    } else {
        Err(ApiError::Exists(format!(
            "environment {:?} exists",
            record.key
        )))
    }
}

/// Deletes the environment `key` of `project` for `actor`: 422 for production, 409 while an
/// overlay or a live key names it (the message says which), 404 when there is none.
pub async fn delete<S: ConfigStore + EnvironmentStore + KeyStore>(
    store: &S,
    project: &str,
    actor: Actor,
    key: &str,
) -> Result<(), ApiError> {
    if key == DEFAULT_ENVIRONMENT {
        return Err(ApiError::Invalid(invalid(
            litmus_core::FieldPath::root().field("key"),
            "production is every server's default environment: it cannot be deleted",
        )));
    }
    require(store, project, key).await?;
    let objects = store.objects(project).await?;
    let mut users: Vec<String> = objects
        .flags
        .iter()
        .filter(|f| f.environments.contains_key(key))
        .map(|f| format!("flag {:?}", f.key))
        .chain(
            objects
                .experiments
                .iter()
                .filter(|e| e.environments.contains_key(key))
                .map(|e| format!("experiment {:?}", e.key)),
        )
        .collect();
    users.extend(
        store
            .keys(project)
            .await?
            .into_iter()
            .filter(|k| k.revoked_ms.is_none() && k.environment == key)
            .map(|k| format!("key {:?}", k.id)),
    );
    if !users.is_empty() {
        return Err(ApiError::InUse(format!(
            "environment {key:?} is still used by {}: remove its overlays and revoke its keys first",
            users.join(", ")
        )));
    }
    if store
        .delete_environment(project, key, actor, crate::now_ms())
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no environment {key:?}")))
    }
}

/// Promotes environment `from`'s flag states (switch, rules, schedule) to `request.to`: with
/// `dry_run`, answers the differences and stores nothing; else applies them as one change
/// (audited as `flag.promote`, one entry per flag) and answers them with the new version. A
/// promotion that changes nothing publishes no version.
pub async fn promote<S: ConfigStore + EnvironmentStore>(
    snapshots: &ProjectConfig<S>,
    actor: &Actor,
    from: &str,
    request: PromoteRequest,
) -> Result<Value, ApiError> {
    let (store, project) = (snapshots.store(), snapshots.project());
    require(store, project, from).await?;
    if require(store, project, &request.to).await.is_err() {
        return Err(ApiError::Invalid(litmus_core::Error::UnknownReference {
            path: litmus_core::FieldPath::root().field("to"),
            key: request.to,
        }));
    }
    let only = request.flags.as_deref();
    let answer = |differences: &[core_environments::Difference], version: Option<u64>| {
        json!({
            "from": from, "to": request.to, "dry_run": request.dry_run,
            "differences": differences, "version": version,
        })
    };
    if request.dry_run {
        let current = store.objects(project).await?;
        let promotion = core_environments::promote(&current, from, &request.to, only)?;
        return Ok(answer(&promotion.differences, None));
    }
    let mut differences = Vec::new();
    let outcome = changes::commit(snapshots, actor, |current| {
        let promotion = core_environments::promote(current, from, &request.to, only)?;
        let mut flags: Vec<String> = promotion
            .differences
            .iter()
            .map(|d| d.flag.clone())
            .collect();
        flags.dedup();
        differences = promotion.differences;
        Ok(Plan {
            document: serde_json::to_value(&promotion.document).map_err(ApiError::internal)?,
            objects: flags.into_iter().map(|f| (Kind::Flag, f, true)).collect(),
            action: "flag.promote".into(),
        })
    })
    .await?;
    Ok(answer(&differences, outcome.map(|(_, version)| version)))
}
