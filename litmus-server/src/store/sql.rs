//! The SQL both backends run as written: the config's tables have the same columns in SQLite
//! and PostgreSQL, and both read `$1`, `$2`, ... as positional parameters (SQLite numbers
//! each `$N` by its first appearance, so every statement here names them in order). What
//! differs (types, keys, events, rollups) stays in each backend's module.

use super::Kind;

/// Every environment of project `$1`, production first, then by key.
pub(crate) const ENVIRONMENTS: &str = "SELECT key, name, created_ms FROM environments
     WHERE project = $1 ORDER BY key <> 'production', key";

/// Stores a new environment of project `$1`: `($2, $3, $4)`; no row when the key is taken.
pub(crate) const INSERT_ENVIRONMENT: &str =
    "INSERT INTO environments (project, key, name, created_ms)
     VALUES ($1, $2, $3, $4) ON CONFLICT (project, key) DO NOTHING";

/// Deletes the environment `$2` of project `$1` (never production).
pub(crate) const DELETE_ENVIRONMENT: &str =
    "DELETE FROM environments WHERE project = $1 AND key = $2 AND key <> 'production'";

/// Adds `$4` evaluations of flag `$3` in project `$1`'s environment `$2` at `$5`.
pub(crate) const RECORD_USAGE: &str =
    "INSERT INTO flag_usage (project, environment, flag, evaluations, last_ms)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (project, environment, flag) DO UPDATE SET
         evaluations = flag_usage.evaluations + excluded.evaluations,
         last_ms = CASE WHEN excluded.last_ms > flag_usage.last_ms
                   THEN excluded.last_ms ELSE flag_usage.last_ms END";

/// Every flag's usage in project `$1`'s environment `$2`, by key.
pub(crate) const FLAG_USAGE: &str = "SELECT flag, evaluations, last_ms FROM flag_usage
     WHERE project = $1 AND environment = $2 ORDER BY flag";

/// Every project, by key.
pub(crate) const PROJECTS: &str = "SELECT key, name, created_ms FROM projects ORDER BY key";

/// Stores a new project `($1, $2, $3)`; no row when the key is taken.
pub(crate) const INSERT_PROJECT: &str = "INSERT INTO projects (key, name, created_ms)
     VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING";

/// The rollup backlog: pending batches (not yet applied), their events, the oldest one's
/// arrival.
pub(crate) const ROLLUP_BACKLOG: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(events), 0) AS BIGINT), MIN(received_ms) FROM pending_batches WHERE applied IS NULL";

/// The rollups' version (how many rounds have been applied).
pub(crate) const ROLLUP_VERSION: &str = "SELECT version FROM rollup_head";

/// Where the unit records stand: the rollups' version, and the batches applied since the last
/// checkpoint (0 right after one), which together change whenever a record may have.
pub(crate) const RECORDS_VERSION: &str = "SELECT (SELECT version FROM rollup_head),
    (SELECT COUNT(*) FROM pending_batches WHERE applied IS NOT NULL)";

/// Counts a round applied: the rollups' new version.
pub(crate) const NEXT_ROLLUP_VERSION: &str =
    "UPDATE rollup_head SET version = version + 1 RETURNING version";

/// The oldest queued batches not applied yet, at most `$1`, with their events.
pub(crate) const ROLLUP_QUEUE: &str =
    "SELECT batch, events FROM pending_batches WHERE applied IS NULL ORDER BY batch LIMIT $1";

/// Drops the queue entries of the batches applied before a checkpoint (their units' records
/// now hold them).
/// Records a segment whose subject the rollups hold.
pub(crate) const ADD_SEGMENT_SUBJECT: &str =
    "INSERT INTO segment_subjects (experiment, dimension, value)
     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// Every segment with rows: (experiment, dimension, value).
pub(crate) const SEGMENT_SUBJECTS: &str =
    "SELECT experiment, dimension, value FROM segment_subjects";

/// An experiment's segments with rows: (dimension, value), in order.
pub(crate) const EXPERIMENT_SEGMENTS: &str = "SELECT dimension, value FROM segment_subjects
     WHERE experiment = $1 ORDER BY dimension, value";

pub(crate) const DROP_CHECKPOINTED: &str = "DELETE FROM pending_batches WHERE applied IS NOT NULL";

/// The derived metrics' rows the rollups hold: experiment, metric (`store::backfill`).
pub(crate) const KNOWN_METRIC_ROWS: &str = "SELECT experiment, metric FROM metric_rows";

/// The derived metrics' rows of experiment `$1`, with the retention cutoff when recomputed.
pub(crate) const METRIC_ROWS_OF: &str =
    "SELECT metric, since_ms FROM metric_rows WHERE experiment = $1";

/// Forgets the rows of metric `$2` in experiment `$1`.
pub(crate) const FORGET_METRIC_ROWS: &str =
    "DELETE FROM metric_rows WHERE experiment = $1 AND metric = $2";

/// Records the rows of metric `$2` in experiment `$1`, recomputed with retention cutoff `$3`.
pub(crate) const REMEMBER_METRIC_ROWS: &str =
    "INSERT INTO metric_rows (experiment, metric, since_ms) VALUES ($1, $2, $3)
     ON CONFLICT (experiment, metric) DO UPDATE SET since_ms = excluded.since_ms";

/// Deletes the rollup rows of metric row id `$2` in experiment `$1`.
pub(crate) const DELETE_METRIC_ROLLUPS: &str =
    "DELETE FROM rollup_metrics WHERE experiment = $1 AND metric = $2";

/// [`DELETE_METRIC_ROLLUPS`] in the hourly copies.
pub(crate) const DELETE_METRIC_ROLLUPS_HOURLY: &str =
    "DELETE FROM rollup_metrics_hourly WHERE experiment = $1 AND metric = $2";

/// [`DELETE_SKETCH_ROLLUPS`] in the daily copies.
pub(crate) const DELETE_SKETCH_ROLLUPS_DAILY: &str =
    "DELETE FROM rollup_sketches_daily WHERE experiment = $1 AND metric = $2";

/// Deletes the sketch rows of metric `$2` in experiment `$1`.
pub(crate) const DELETE_SKETCH_ROLLUPS: &str =
    "DELETE FROM rollup_sketches WHERE experiment = $1 AND metric = $2";

/// The newest retention cutoff (events before it were deleted), if any.
pub(crate) const RETENTION_CUTOFF: &str = "SELECT cutoff_ms FROM retention_head WHERE id = 1";

/// Records retention cutoff `$1` (keeping the newest).
pub(crate) const SET_RETENTION_CUTOFF: &str =
    "INSERT INTO retention_head (id, cutoff_ms) VALUES (1, $1)
     ON CONFLICT (id) DO UPDATE SET cutoff_ms = CASE WHEN excluded.cutoff_ms > retention_head.cutoff_ms
         THEN excluded.cutoff_ms ELSE retention_head.cutoff_ms END";

/// The newest snapshot of project `$1`.
pub(crate) const CURRENT_SNAPSHOT: &str = "SELECT version, etag, body FROM snapshots
     WHERE project = $1 ORDER BY version DESC LIMIT 1";

/// Stores a snapshot of project `$1`: version, body, ETag, when.
pub(crate) const INSERT_SNAPSHOT: &str =
    "INSERT INTO snapshots (project, version, body, etag, created_ms) VALUES ($1, $2, $3, $4, $5)";

/// Appends an audit entry of project `$1`: when, who, what, which key, before, after, version.
pub(crate) const INSERT_AUDIT: &str =
    "INSERT INTO audit (project, at_ms, actor, action, key, before, after, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// The newest audit entries of project `$1` (of the object `$2` only, when not null), at most
/// `$3`, newest first.
pub(crate) const AUDIT: &str = "SELECT id, at_ms, actor, action, key, before, after, version
     FROM audit WHERE project = $1 AND (CAST($2 AS TEXT) IS NULL OR key = $2)
     ORDER BY id DESC LIMIT $3";

/// The body of the object of `kind` with key `$2` in project `$1`.
pub(crate) fn object_sql(kind: Kind) -> String {
    format!(
        "SELECT body FROM {} WHERE project = $1 AND key = $2",
        kind.table()
    )
}

/// Every body of `kind` in project `$1`, by key.
pub(crate) fn objects_sql(kind: Kind) -> String {
    format!(
        "SELECT body FROM {} WHERE project = $1 ORDER BY key",
        kind.table()
    )
}

/// Writes the object of `kind` in project `$1`: key, body, when.
pub(crate) fn upsert_object_sql(kind: Kind) -> String {
    format!(
        "INSERT INTO {} (project, key, body, updated_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (project, key) DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms",
        kind.table()
    )
}

/// Deletes the object of `kind` with key `$2` in project `$1`.
pub(crate) fn delete_object_sql(kind: Kind) -> String {
    format!(
        "DELETE FROM {} WHERE project = $1 AND key = $2",
        kind.table()
    )
}
