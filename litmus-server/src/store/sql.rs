//! The SQL both backends run as written: the config's tables have the same columns in SQLite
//! and PostgreSQL, and both read `$1`, `$2`, ... as positional parameters (SQLite numbers
//! each `$N` by its first appearance, so every statement here names them in order). What
//! differs (types, keys, events, rollups) stays in each backend's module.

use super::Kind;

/// The rollup backlog: pending batches (not yet applied), their events, the oldest one's
/// arrival.
pub(crate) const ROLLUP_BACKLOG: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(events), 0) AS BIGINT), MIN(received_ms) FROM pending_batches WHERE applied IS NULL";

/// The rollups' version (how many rounds have been applied).
pub(crate) const ROLLUP_VERSION: &str = "SELECT version FROM rollup_head";

/// Counts a round applied: the rollups' new version.
pub(crate) const NEXT_ROLLUP_VERSION: &str =
    "UPDATE rollup_head SET version = version + 1 RETURNING version";

/// The oldest queued batches not applied yet, at most `$1`, with their events.
pub(crate) const ROLLUP_QUEUE: &str =
    "SELECT batch, events FROM pending_batches WHERE applied IS NULL ORDER BY batch LIMIT $1";

/// Drops the queue entries of the batches applied before a checkpoint (their units' records
/// now hold them).
pub(crate) const DROP_CHECKPOINTED: &str = "DELETE FROM pending_batches WHERE applied IS NOT NULL";

/// The newest snapshot.
pub(crate) const CURRENT_SNAPSHOT: &str =
    "SELECT version, etag, body FROM snapshots ORDER BY version DESC LIMIT 1";

/// Stores a snapshot: version, body, ETag, when.
pub(crate) const INSERT_SNAPSHOT: &str =
    "INSERT INTO snapshots (version, body, etag, created_ms) VALUES ($1, $2, $3, $4)";

/// Appends an audit entry: when, who, what, which key, before, after, version.
pub(crate) const INSERT_AUDIT: &str =
    "INSERT INTO audit (at_ms, actor, action, key, before, after, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// The body of the object of `kind` with key `$1`.
pub(crate) fn object_sql(kind: Kind) -> String {
    format!("SELECT body FROM {} WHERE key = $1", kind.table())
}

/// Every body of `kind`, by key.
pub(crate) fn objects_sql(kind: Kind) -> String {
    format!("SELECT body FROM {} ORDER BY key", kind.table())
}

/// Writes the object of `kind`: key, body, when.
pub(crate) fn upsert_object_sql(kind: Kind) -> String {
    format!(
        "INSERT INTO {} (key, body, updated_ms) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms",
        kind.table()
    )
}

/// Deletes the object of `kind` with key `$1`.
pub(crate) fn delete_object_sql(kind: Kind) -> String {
    format!("DELETE FROM {} WHERE key = $1", kind.table())
}
