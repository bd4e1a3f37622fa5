//! The transactions that write the config, API keys and the audit log, written once over the
//! primitives each backend offers inside one transaction ([`ConfigTx`]). A backend opens the
//! transaction, hands it to [`apply`], [`create_key`] or [`revoke_key`], and nothing else:
//! the order of the steps, the conflict check, the audit entry and the snapshot are here.

use serde_json::Value;

use super::{Change, Edit, Kind, Snapshot, StoreError, publish};
use crate::environments::EnvironmentRecord;
use crate::keys::KeyRecord;

/// An audit entry to append.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewAudit<'a> {
    /// When, in milliseconds since the Unix epoch.
    pub(crate) at_ms: i64,
    /// Who.
    pub(crate) actor: &'a str,
    /// What kind of change, e.g. `experiment.update`.
    pub(crate) action: &'a str,
    /// The object's key (or the API key's id).
    pub(crate) key: &'a str,
    /// The object before (absent when created).
    pub(crate) before: Option<&'a Value>,
    /// The object after (absent when deleted).
    pub(crate) after: Option<&'a Value>,
    /// The config version the entry belongs to.
    pub(crate) version: u64,
}

/// An object to write: its kind and key, its body, and when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ObjectRow<'a> {
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
    /// Deletes the object of `kind` with `key`.
    DeleteObject {
        /// Its kind.
        kind: Kind,
        /// Its key.
        key: &'a str,
    },
    /// Stores `snapshot` as the current config version.
    Snapshot {
        /// The snapshot.
        snapshot: &'a Snapshot,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
    /// Appends an entry to the audit log.
    Audit(NewAudit<'a>),
    /// Stores a new API key.
    InsertKey(&'a KeyRecord),
    /// Marks the live key `id` revoked (no row changes when there is no such live key).
    RevokeKey {
        /// The key's id.
        id: &'a str,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
    /// Stores a new environment (no row changes when its key is taken).
    InsertEnvironment(&'a EnvironmentRecord),
    /// Deletes an environment (no row changes when there is none, or it is production).
    DeleteEnvironment(&'a str),
}

/// What a backend does inside one open transaction. The transaction ends with
/// [`ConfigTx::commit`]; dropped before, it rolls back.
pub(crate) trait ConfigTx {
    /// The current config version, locked against concurrent writers until the end of the
    /// transaction.
    async fn lock_version(&mut self) -> Result<u64, StoreError>;
    /// The current config version (not locked).
    async fn version(&mut self) -> Result<u64, StoreError>;
    /// The stored body of the object of `kind` with `key`, if there is one.
    async fn object(&mut self, kind: Kind, key: &str) -> Result<Option<Value>, StoreError>;
    /// Performs `write`; answers how many rows it changed.
    async fn write(&mut self, write: Write<'_>) -> Result<u64, StoreError>;
    /// Commits the transaction.
    async fn commit(self) -> Result<(), StoreError>;
}

/// Applies a config change in `tx`: refuses it when the version moved past its base
/// ([`StoreError::Conflict`]), writes or deletes each object with its audit entry (before and
/// after), stores the next snapshot, then commits. Answers the new snapshot.
pub(crate) async fn apply<T: ConfigTx>(mut tx: T, change: Change) -> Result<Snapshot, StoreError> {
    let head = tx.lock_version().await?;
    if head != change.base_version {
        return Err(StoreError::Conflict);
    }
    let version = head + 1;
    let mut entries = Vec::with_capacity(change.edits.len());
    for edit in &change.edits {
        let (kind, key) = (edit.kind(), edit.key());
        let before = tx.object(kind, key).await?;
        let after = match edit {
            Edit::Put(object) => {
                let body = serde_json::to_value(object).map_err(backend)?;
                tx.write(Write::PutObject(ObjectRow {
                    kind,
                    key,
                    body: &body,
                    at_ms: change.at_ms,
                }))
                .await?;
                Some(body)
            }
            Edit::Delete { .. } => {
                tx.write(Write::DeleteObject { kind, key }).await?;
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
        snapshot: &snapshot,
        at_ms: change.at_ms,
    })
    .await?;
    for (key, before, after) in &entries {
        tx.write(Write::Audit(NewAudit {
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

/// Stores a new key in `tx` with its audit entry (`key.create` by `actor`), then commits.
pub(crate) async fn create_key<T: ConfigTx>(
    mut tx: T,
    key: KeyRecord,
    actor: String,
) -> Result<(), StoreError> {
    tx.write(Write::InsertKey(&key)).await?;
    let version = tx.version().await?;
    let after = serde_json::to_value(&key).map_err(backend)?;
    tx.write(Write::Audit(NewAudit {
        at_ms: key.created_ms,
        actor: &actor,
        action: "key.create",
        key: &key.id,
        before: None,
        after: Some(&after),
        version,
    }))
    .await?;
    tx.commit().await
}

/// Revokes the live key `id` in `tx` with its audit entry (`key.revoke` by `actor`), then
/// commits; false (and no entry) when there is no such live key.
pub(crate) async fn revoke_key<T: ConfigTx>(
    mut tx: T,
    id: &str,
    actor: String,
    at_ms: i64,
) -> Result<bool, StoreError> {
    let revoked = tx.write(Write::RevokeKey { id, at_ms }).await? > 0;
    if revoked {
        let version = tx.version().await?;
        tx.write(Write::Audit(NewAudit {
            at_ms,
            actor: &actor,
            action: "key.revoke",
            key: id,
            before: None,
            after: None,
            version,
        }))
        .await?;
    }
    tx.commit().await?;
    Ok(revoked)
}

/// Stores a new environment in `tx` with its audit entry (`environment.create` by `actor`),
/// then commits; false (and no entry) when its key is taken.
pub(crate) async fn create_environment<T: ConfigTx>(
    mut tx: T,
    environment: EnvironmentRecord,
    actor: String,
) -> Result<bool, StoreError> {
    let created = tx.write(Write::InsertEnvironment(&environment)).await? > 0;
    if created {
        let version = tx.version().await?;
        let after = serde_json::to_value(&environment).map_err(backend)?;
        tx.write(Write::Audit(NewAudit {
            at_ms: environment.created_ms,
            actor: &actor,
            action: "environment.create",
            key: &environment.key,
            before: None,
            after: Some(&after),
            version,
        }))
        .await?;
    }
    tx.commit().await?;
    Ok(created)
}

/// Deletes the environment `key` in `tx` with its audit entry (`environment.delete` by
/// `actor`), then commits; false (and no entry) when there is no such environment.
pub(crate) async fn delete_environment<T: ConfigTx>(
    mut tx: T,
    key: &str,
    actor: String,
    at_ms: i64,
) -> Result<bool, StoreError> {
    let deleted = tx.write(Write::DeleteEnvironment(key)).await? > 0;
    if deleted {
        let version = tx.version().await?;
        tx.write(Write::Audit(NewAudit {
            at_ms,
            actor: &actor,
            action: "environment.delete",
            key,
            before: None,
            after: None,
            version,
        }))
        .await?;
    }
    tx.commit().await?;
    Ok(deleted)
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}
