//! The transactions that write the config, API keys, environments, projects and the audit log,
//! written once over the primitives each backend offers inside one transaction ([`ConfigTx`]).
//! A backend opens the transaction, hands it to one of the functions here, and nothing else:
//! the order of the steps, the conflict check, the audit entry and the snapshot are here.
//! Every write names its project (`crate::projects`).

use serde_json::Value;

use super::{Actor, Change, Edit, Kind, Snapshot, StoreError, publish};
use crate::environments::EnvironmentRecord;
use crate::keys::KeyRecord;
use crate::projects::ProjectRecord;

/// An audit entry to append.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewAudit<'a> {
    /// The project it belongs to.
    pub(crate) project: &'a str,
    /// When, in milliseconds since the Unix epoch.
    pub(crate) at_ms: i64,
    /// Who.
    pub(crate) actor: &'a Actor,
    /// What kind of change, e.g. `experiment.update`.
    pub(crate) action: &'a str,
    /// The object's key (or the API key's id).
    pub(crate) key: &'a str,
    /// The object before (absent when created).
    pub(crate) before: Option<&'a Value>,
    /// The object after (absent when deleted).
    pub(crate) after: Option<&'a Value>,
    /// The project's config version the entry belongs to.
    pub(crate) version: u64,
}

/// An object to write: its project, kind and key, its body, and when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ObjectRow<'a> {
    /// Its project.
    pub(crate) project: &'a str,
    /// Its kind (the table).
    pub(crate) kind: Kind,
    /// Its key.
    pub(crate) key: &'a str,
    /// Its body, as stored.
    pub(crate) body: &'a Value,
    /// When, in milliseconds since the Unix epoch.
    pub(crate) at_ms: i64,
}

/// A write inside a config transaction: each backend turns it into its SQL.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Write<'a> {
    /// Writes (inserts or replaces) an object.
    PutObject(ObjectRow<'a>),
    /// Deletes the object of `kind` with `key` in `project`.
    DeleteObject {
        /// Its project.
        project: &'a str,
        /// Its kind.
        kind: Kind,
        /// Its key.
        key: &'a str,
    },
    /// Stores `snapshot` as the current config version of `project`.
    Snapshot {
        /// The project.
        project: &'a str,
        /// The snapshot.
        snapshot: &'a Snapshot,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
    /// Appends an entry to the audit log.
    Audit(NewAudit<'a>),
    /// Stores a new API key (of the project its record names).
    InsertKey(&'a KeyRecord),
    /// Marks the live key `id` of `project` revoked (no row changes when there is no such live
    /// key in that project).
    RevokeKey {
        /// The project.
        project: &'a str,
        /// The key's id.
        id: &'a str,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
    /// Stores a new environment of `project` (no row changes when its key is taken).
    InsertEnvironment {
        /// The project.
        project: &'a str,
        /// The environment.
        environment: &'a EnvironmentRecord,
    },
    /// Deletes an environment of `project` (no row changes when there is none, or it is
    /// production).
    DeleteEnvironment {
        /// The project.
        project: &'a str,
        /// The environment's key.
        key: &'a str,
    },
    /// Stores a new project, at config version 0 (no row changes when its key is taken).
    InsertProject(&'a ProjectRecord),
}

/// What a backend does inside one open transaction. The transaction ends with
/// [`ConfigTx::commit`]; dropped before, it rolls back.
pub(crate) trait ConfigTx {
    /// The current config version of `project`, locked against concurrent writers of that
    /// project until the end of the transaction.
    async fn lock_version(&mut self, project: &str) -> Result<u64, StoreError>;
    /// The current config version of `project` (not locked).
    async fn version(&mut self, project: &str) -> Result<u64, StoreError>;
    /// The stored body of the object of `kind` with `key` in `project`, if there is one.
    async fn object(
        &mut self,
        project: &str,
        kind: Kind,
        key: &str,
    ) -> Result<Option<Value>, StoreError>;
    /// Performs `write`; answers how many rows it changed.
    async fn write(&mut self, write: Write<'_>) -> Result<u64, StoreError>;
    /// Commits the transaction.
    async fn commit(self) -> Result<(), StoreError>;
}

/// Applies a config change in `tx`: refuses it when its project's version moved past its base
/// ([`StoreError::Conflict`]), writes or deletes each object with its audit entry (before and
/// after), stores the next snapshot, then commits. Answers the new snapshot.
pub(crate) async fn apply<T: ConfigTx>(mut tx: T, change: Change) -> Result<Snapshot, StoreError> {
    let project = change.project.as_str();
    let head = tx.lock_version(project).await?;
    if head != change.base_version {
        return Err(StoreError::Conflict);
    }
    let version = head + 1;
    let mut entries = Vec::with_capacity(change.edits.len());
    for edit in &change.edits {
        let (kind, key) = (edit.kind(), edit.key());
        let before = tx.object(project, kind, key).await?;
        let after = match edit {
            Edit::Put(object) => {
                let body = serde_json::to_value(object).map_err(backend)?;
                tx.write(Write::PutObject(ObjectRow {
                    project,
                    kind,
                    key,
                    body: &body,
                    at_ms: change.at_ms,
                }))
                .await?;
                Some(body)
            }
            Edit::Delete { .. } => {
                tx.write(Write::DeleteObject { project, kind, key }).await?;
                None
            }
        };
        entries.push((key, before, after));
    }
    let (body, etag) = publish(change.document, version)?;
    let snapshot = Snapshot {
        version,
        etag,
        body,
    };
    tx.write(Write::Snapshot {
        project,
        snapshot: &snapshot,
        at_ms: change.at_ms,
    })
    .await?;
    for (key, before, after) in &entries {
        tx.write(Write::Audit(NewAudit {
            project,
            at_ms: change.at_ms,
            actor: &change.actor,
            action: &change.action,
            key,
            before: before.as_ref(),
            after: after.as_ref(),
            version,
        }))
        .await?;
    }
    tx.commit().await?;
    Ok(snapshot)
}

/// Appends an audit entry of `project` at its current version, for a change that is not a
/// config version (a key, an environment, a project).
async fn audit<T: ConfigTx>(
    tx: &mut T,
    project: &str,
    entry: (&str, &str, i64, Option<&Value>),
    actor: &Actor,
) -> Result<(), StoreError> {
    let (action, key, at_ms, after) = entry;
    let version = tx.version(project).await?;
    tx.write(Write::Audit(NewAudit {
        project,
        at_ms,
        actor,
        action,
        key,
        before: None,
        after,
        version,
    }))
    .await?;
    Ok(())
}

/// Stores a new key in `tx` with its audit entry (`key.create` by `actor`, in the key's
/// project), then commits.
pub(crate) async fn create_key<T: ConfigTx>(
    mut tx: T,
    key: KeyRecord,
    actor: Actor,
) -> Result<(), StoreError> {
    tx.write(Write::InsertKey(&key)).await?;
    let after = serde_json::to_value(&key).map_err(backend)?;
    let entry = ("key.create", key.id.as_str(), key.created_ms, Some(&after));
    audit(&mut tx, &key.project, entry, &actor).await?;
    tx.commit().await
}

/// Revokes the live key `id` of `project` in `tx` with its audit entry (`key.revoke` by
/// `actor`), then commits; false (and no entry) when that project has no such live key.
pub(crate) async fn revoke_key<T: ConfigTx>(
    mut tx: T,
    project: &str,
    id: &str,
    actor: Actor,
    at_ms: i64,
) -> Result<bool, StoreError> {
    let revoked = tx.write(Write::RevokeKey { project, id, at_ms }).await? > 0;
    if revoked {
        audit(&mut tx, project, ("key.revoke", id, at_ms, None), &actor).await?;
    }
    tx.commit().await?;
    Ok(revoked)
}

/// Stores a new environment of `project` in `tx` with its audit entry (`environment.create`
/// by `actor`), then commits; false (and no entry) when its key is taken.
pub(crate) async fn create_environment<T: ConfigTx>(
    mut tx: T,
    project: &str,
    environment: EnvironmentRecord,
    actor: Actor,
) -> Result<bool, StoreError> {
    let created = tx
        .write(Write::InsertEnvironment {
            project,
            environment: &environment,
        })
        .await?
        > 0;
    if created {
        let after = serde_json::to_value(&environment).map_err(backend)?;
        let entry = (
            "environment.create",
            environment.key.as_str(),
            environment.created_ms,
            Some(&after),
        );
        audit(&mut tx, project, entry, &actor).await?;
    }
    tx.commit().await?;
    Ok(created)
}

/// Deletes the environment `key` of `project` in `tx` with its audit entry
/// (`environment.delete` by `actor`), then commits; false (and no entry) when there is no such
/// environment.
pub(crate) async fn delete_environment<T: ConfigTx>(
    mut tx: T,
    project: &str,
    key: &str,
    actor: Actor,
    at_ms: i64,
) -> Result<bool, StoreError> {
    let deleted = tx.write(Write::DeleteEnvironment { project, key }).await? > 0;
    if deleted {
        audit(
            &mut tx,
            project,
            ("environment.delete", key, at_ms, None),
            &actor,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(deleted)
}

/// Stores a new project in `tx` with its `production` environment and its audit entry
/// (`project.create` by `actor`, in the new project's log), then commits; false (and nothing
/// stored) when its key is taken.
pub(crate) async fn create_project<T: ConfigTx>(
    mut tx: T,
    project: ProjectRecord,
    actor: Actor,
) -> Result<bool, StoreError> {
    if tx.write(Write::InsertProject(&project)).await? == 0 {
        return Ok(false);
    }
    let production = EnvironmentRecord {
        key: litmus_core::config::environments::DEFAULT_ENVIRONMENT.to_owned(),
        name: "Production".to_owned(),
        created_ms: project.created_ms,
    };
    tx.write(Write::InsertEnvironment {
        project: &project.key,
        environment: &production,
    })
    .await?;
    let after = serde_json::to_value(&project).map_err(backend)?;
    let entry = (
        "project.create",
        project.key.as_str(),
        project.created_ms,
        Some(&after),
    );
    audit(&mut tx, &project.key, entry, &actor).await?;
    tx.commit().await?;
    Ok(true)
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}
