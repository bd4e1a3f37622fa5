//! The PostgreSQL store (with TimescaleDB, which the event tables use), chosen when
//! `DATABASE_URL` is set: what several server instances share. A pool of connections;
//! versioned migrations applied under an advisory lock, so instances starting together do not
//! race; writers serialized by a row lock on the one-row `config_head`, so concurrent changes
//! from different instances get consecutive versions or a conflict, never a lost update.

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use litmus_core::config::wire::WireConfig;
use serde_json::Value;
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

use litmus_core::Timestamp;
use litmus_core::events::{Event, EventKind, MetricRollup};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

use super::copy_binary::{CopyBuffer, copy_payload};
use super::rollup_rows::RollupRows;
use super::{
    Applied, AuditEntry, Change, Edit, EventBatch, Ingested, Kind, RollupTables, Snapshot, Store,
    StoreError, UnitOutcome, empty_snapshot, event_key, publish,
};
use crate::keys::{KeyRecord, Scope};

/// Versioned migrations, applied in order; `litmus_migrations` records which ran.
const MIGRATIONS: &[&str] = &[
    // 1: config objects, published snapshots, the audit log (append-only), API keys.
    "CREATE TABLE config_head (
         id boolean PRIMARY KEY DEFAULT true CHECK (id),
         version bigint NOT NULL
     );
     INSERT INTO config_head (version) VALUES (0);
     CREATE TABLE experiments (key text PRIMARY KEY, body jsonb NOT NULL, updated_ms bigint NOT NULL);
     CREATE TABLE layers (key text PRIMARY KEY, body jsonb NOT NULL, updated_ms bigint NOT NULL);
     CREATE TABLE holdouts (key text PRIMARY KEY, body jsonb NOT NULL, updated_ms bigint NOT NULL);
     CREATE TABLE snapshots (
         version bigint PRIMARY KEY,
         body text NOT NULL,
         etag text NOT NULL,
         created_ms bigint NOT NULL
     );
     CREATE TABLE audit (
         id bigserial PRIMARY KEY,
         at_ms bigint NOT NULL,
         actor text NOT NULL,
         action text NOT NULL,
         key text NOT NULL,
         before jsonb,
         after jsonb,
         version bigint NOT NULL
     );
     CREATE FUNCTION litmus_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
         RAISE EXCEPTION 'the audit log is append-only';
     END $$;
     CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
         FOR EACH STATEMENT EXECUTE FUNCTION litmus_audit_append_only();
     CREATE TABLE api_keys (
         id text PRIMARY KEY,
         name text NOT NULL,
         scopes text[] NOT NULL,
         hash text NOT NULL,
         created_ms bigint NOT NULL,
         revoked_ms bigint
     );",
    // 2: events (a hypertable by time; each message_id once, through event_ids), first
    // exposures, per-unit totals and the rollups (ordinary tables Litmus maintains: the
    // Apache edition of TimescaleDB has no continuous aggregates).
    "CREATE EXTENSION IF NOT EXISTS timescaledb;
     CREATE TABLE events (
         time timestamptz NOT NULL,
         batch bigint NOT NULL,
         seq integer NOT NULL,
         message_id text NOT NULL,
         received_at timestamptz NOT NULL,
         kind smallint NOT NULL,
         unit_id text NOT NULL,
         experiment text,
         variant text,
         metric text,
         value double precision,
         properties jsonb
     );
     -- One index: the rollup worker reads a batch by it. No time index: results come from
     -- the rollups, and retention drops whole chunks.
     SELECT create_hypertable('events', 'time', chunk_time_interval => interval '1 day',
                              create_default_indexes => false);
     CREATE INDEX events_batch ON events (batch, seq);
     -- Each event once: by a 128-bit hash of its message_id.
     CREATE TABLE event_ids (id bytea PRIMARY KEY, received_at timestamptz NOT NULL);
     CREATE SEQUENCE event_batches;
     -- Batches stored but not yet in the rollups, with their time range (chunk exclusion).
     CREATE TABLE pending_batches (batch bigint PRIMARY KEY, min_ms bigint NOT NULL, max_ms bigint NOT NULL);
     -- Batches in the rollups, in the order they were applied.
     CREATE TABLE applied_batches (
         position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         batch bigint NOT NULL UNIQUE
     );
     CREATE TABLE exposures (
         experiment text NOT NULL,
         unit_id text NOT NULL,
         variant text NOT NULL,
         first_ms bigint NOT NULL,
         PRIMARY KEY (experiment, unit_id)
     );
     CREATE INDEX exposures_unit ON exposures (unit_id);
     CREATE TABLE unit_totals (
         experiment text NOT NULL,
         metric text NOT NULL,
         unit_id text NOT NULL,
         events bigint NOT NULL,
         total double precision NOT NULL,
         PRIMARY KEY (experiment, metric, unit_id)
     );
     CREATE TABLE rollup_exposures (
         experiment text NOT NULL,
         variant text NOT NULL,
         minute_ms bigint NOT NULL,
         units bigint NOT NULL,
         PRIMARY KEY (experiment, variant, minute_ms)
     );
     CREATE TABLE rollup_metrics (
         experiment text NOT NULL,
         variant text NOT NULL,
         metric text NOT NULL,
         minute_ms bigint NOT NULL,
         events bigint NOT NULL,
         units bigint NOT NULL,
         sum double precision NOT NULL,
         sum_squares double precision NOT NULL,
         PRIMARY KEY (experiment, variant, metric, minute_ms)
     );",
    // 3: each pending batch carries the rows its rollups need (see `rollup_rows`), so the
    // events need no index by batch. Stored uncompressed: written once, read once.
    "ALTER TABLE pending_batches ADD COLUMN rows bytea;
     ALTER TABLE pending_batches ALTER COLUMN rows SET STORAGE EXTERNAL;
     DROP INDEX events_batch;",
    // 4: event keys as uuid (16 bytes, compared by memcmp): a quarter less index per event
    // than bytea, and no varlena header to strip on every comparison.
    "ALTER TABLE event_ids ALTER COLUMN id TYPE uuid USING encode(id, 'hex')::uuid;",
    // 5: the rollups' version, one more for each transaction that applies batches.
    "CREATE TABLE rollup_head (version bigint NOT NULL);
     INSERT INTO rollup_head (version) VALUES (0);",
    // 6: an object's history (a bandit's weights) without reading the whole log.
    "CREATE INDEX audit_key ON audit (key, id);",
    // 7: CUPED covariates: each unit's totals per metric over every event applied, the
    // covariate each unit took at its first exposure, and their sums in the rollups.
    "CREATE TABLE unit_history (
         unit_id text NOT NULL,
         metric text NOT NULL,
         total double precision NOT NULL,
         PRIMARY KEY (unit_id, metric)
     );
     CREATE TABLE covariates (
         experiment text NOT NULL,
         metric text NOT NULL,
         unit_id text NOT NULL,
         x double precision NOT NULL,
         PRIMARY KEY (experiment, metric, unit_id)
     );
     ALTER TABLE rollup_metrics ADD COLUMN covariate_sum double precision NOT NULL DEFAULT 0,
         ADD COLUMN covariate_squares double precision NOT NULL DEFAULT 0,
         ADD COLUMN cross_sum double precision NOT NULL DEFAULT 0;",
];

/// The start of the minute of `$ms` (floor division, as core's `rollup::minute`).
macro_rules! minute_sql {
    ($ms:literal) => {
        concat!("(", $ms, " - ((", $ms, " % 60000) + 60000) % 60000)")
    };
}

/// The per-connection table of the batch whose rollups are being applied.
const FRESH: &str = "
    CREATE TEMP TABLE IF NOT EXISTS fresh (
        seq integer, time_ms bigint, kind smallint, unit_id text, experiment text,
        variant text, metric text, value double precision
    ) ON COMMIT DELETE ROWS";

/// Loads batch `$1` (its events between `$2` and `$3` ms) into `fresh`: for the batches queued
/// before migration 3, which carry no rows of their own.
const LOAD_FRESH: &str = "
    INSERT INTO fresh (seq, time_ms, kind, unit_id, experiment, variant, metric, value)
    SELECT seq, (extract(epoch FROM time) * 1000)::bigint, kind, unit_id, experiment, variant,
           metric, value
    FROM events
    WHERE batch = $1 AND time >= to_timestamp($2::bigint / 1000.0)
      AND time <= to_timestamp($3::bigint / 1000.0)";

/// The advisory lock held by the one instance applying rollups.
const ROLLUP_LOCK: i64 = 0x6c69_746d_7573_0001;

/// Rules 1 and 5 and the exposure rollups: a unit's first exposure (in batch order) wins, and
/// takes the unit's history (earlier batches) as its covariates.
const EXPOSURES: &str = concat!(
    "WITH new_exposures AS (
        INSERT INTO exposures (experiment, unit_id, variant, first_ms)
        SELECT DISTINCT ON (experiment, unit_id) experiment, unit_id, variant, time_ms
        FROM fresh WHERE kind = 0 ORDER BY experiment, unit_id, seq
        ON CONFLICT DO NOTHING RETURNING experiment, unit_id, variant, first_ms
    ), covs AS (
        INSERT INTO covariates (experiment, metric, unit_id, x)
        SELECT n.experiment, h.metric, n.unit_id, h.total
        FROM new_exposures n JOIN unit_history h ON h.unit_id = n.unit_id
        WHERE h.total <> 0
        ON CONFLICT DO NOTHING RETURNING experiment, metric, unit_id, x
    ), cov_rollups AS (
        INSERT INTO rollup_metrics (experiment, variant, metric, minute_ms, events, units, sum,
                                    sum_squares, covariate_sum, covariate_squares, cross_sum)
        SELECT n.experiment, n.variant, c.metric, ",
    minute_sql!("n.first_ms"),
    ", 0, 0, 0, 0, sum(c.x), sum(c.x * c.x), 0
        FROM covs c JOIN new_exposures n USING (experiment, unit_id) GROUP BY 1, 2, 3, 4
        ON CONFLICT (experiment, variant, metric, minute_ms) DO UPDATE SET
            covariate_sum = rollup_metrics.covariate_sum + excluded.covariate_sum,
            covariate_squares = rollup_metrics.covariate_squares + excluded.covariate_squares
    )
    INSERT INTO rollup_exposures (experiment, variant, minute_ms, units)
    SELECT experiment, variant, ",
    minute_sql!("first_ms"),
    ", count(*) FROM new_exposures GROUP BY 1, 2, 3
    ON CONFLICT (experiment, variant, minute_ms)
        DO UPDATE SET units = rollup_exposures.units + excluded.units
    RETURNING experiment"
);

/// Rule 5: the batch's metric events join the units' histories, after its exposures took
/// their covariates.
const HISTORY: &str = "
    INSERT INTO unit_history (unit_id, metric, total)
    SELECT unit_id, metric, sum(value) FROM fresh WHERE kind = 1 GROUP BY 1, 2
    ON CONFLICT (unit_id, metric) DO UPDATE SET total = unit_history.total + excluded.total";

/// Rules 2 and 4 for the metric events, in batch order within each unit's total.
const METRICS: &str = concat!(
    "WITH t AS (
        SELECT f.seq, f.unit_id, f.metric, f.value, f.time_ms, e.experiment, e.variant,
               COALESCE(cv.x, 0) AS x
        FROM fresh f JOIN exposures e ON e.unit_id = f.unit_id
        LEFT JOIN covariates cv
            ON cv.experiment = e.experiment AND cv.metric = f.metric AND cv.unit_id = f.unit_id
        WHERE f.kind = 1 AND e.first_ms <= f.time_ms AND f.time_ms - e.first_ms <= $1
    ), running AS (
        SELECT t.*, COALESCE(u.events, 0) AS c0, COALESCE(u.total, 0) AS s0,
               COALESCE(sum(t.value) OVER before_this, 0) AS earlier,
               row_number() OVER per_unit AS k
        FROM t LEFT JOIN unit_totals u
            ON u.experiment = t.experiment AND u.metric = t.metric AND u.unit_id = t.unit_id
        WINDOW per_unit AS (PARTITION BY t.experiment, t.metric, t.unit_id ORDER BY t.seq),
               before_this AS (per_unit ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    ), totals AS (
        INSERT INTO unit_totals (experiment, metric, unit_id, events, total)
        SELECT experiment, metric, unit_id, max(c0) + count(*), max(s0) + sum(value)
        FROM running GROUP BY 1, 2, 3
        ON CONFLICT (experiment, metric, unit_id)
            DO UPDATE SET events = excluded.events, total = excluded.total
    )
    INSERT INTO rollup_metrics (experiment, variant, metric, minute_ms, events, units, sum,
                                sum_squares, cross_sum)
    SELECT experiment, variant, metric, ",
    minute_sql!("time_ms"),
    ", count(*), count(*) FILTER (WHERE c0 = 0 AND k = 1), sum(value),
           sum(value * (2 * (s0 + earlier) + value)), sum(value * x)
    FROM running GROUP BY 1, 2, 3, 4
    ON CONFLICT (experiment, variant, metric, minute_ms) DO UPDATE SET
        events = rollup_metrics.events + excluded.events,
        units = rollup_metrics.units + excluded.units,
        sum = rollup_metrics.sum + excluded.sum,
        sum_squares = rollup_metrics.sum_squares + excluded.sum_squares,
        cross_sum = rollup_metrics.cross_sum + excluded.cross_sum
    RETURNING experiment"
);

/// Inserts `keys` into `event_ids` by one binary COPY: fails with a unique violation, storing
/// none, when any of them is there already.
async fn copy_keys(
    tx: &deadpool_postgres::Transaction<'_>,
    keys: &[[u8; 16]],
    received_ms: i64,
) -> Result<u64, tokio_postgres::Error> {
    let mut rows = CopyBuffer::with_capacity(keys.len() * 34);
    for key in keys {
        rows.row(2);
        rows.field(key);
        rows.timestamptz(received_ms);
    }
    copy_payload(
        tx,
        "COPY event_ids (id, received_at) FROM STDIN BINARY",
        rows.finish(),
    )
    .await
}

/// The advisory lock key that serializes migrations between instances.
const MIGRATION_LOCK: i64 = 0x6c69_746d_7573;

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`) with a pool of at most
    /// `max_connections`, and applies pending migrations.
    pub async fn connect(url: &str, max_connections: usize) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(backend)?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(5)))
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .build()
            .map_err(backend)?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(backend)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(backend)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS litmus_migrations (
                 version integer PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(backend)?;
        let done: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM litmus_migrations",
                &[],
            )
            .await
            .map_err(backend)?
            .get(0);
        for (i, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(done).unwrap_or(0))
        {
            tx.batch_execute(sql).await.map_err(backend)?;
            let version = i32::try_from(i + 1).map_err(backend)?;
            tx.execute(
                "INSERT INTO litmus_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }
}

/// The instant `ms` milliseconds after the Unix epoch (before it when negative).
fn system_time(ms: i64) -> std::time::SystemTime {
    let d = std::time::Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        std::time::UNIX_EPOCH + d
    } else {
        std::time::UNIX_EPOCH - d
    }
}

fn snapshot_row(row: &Row) -> Snapshot {
    Snapshot {
        version: row.get::<_, i64>(0) as u64,
        etag: row.get(1),
        body: row.get(2),
    }
}

async fn current(c: &impl GenericClient) -> Result<Snapshot, StoreError> {
    let row = c
        .query_opt(
            "SELECT version, etag, body FROM snapshots ORDER BY version DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(backend)?;
    Ok(row.as_ref().map_or_else(empty_snapshot, snapshot_row))
}

const KEY_COLUMNS: &str = "SELECT id, name, scopes, hash, created_ms, revoked_ms FROM api_keys";

fn key_row(r: &Row) -> KeyRecord {
    let scopes: Vec<String> = r.get(2);
    KeyRecord {
        id: r.get(0),
        name: r.get(1),
        scopes: scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
        hash: r.get(3),
        created_ms: r.get(4),
        revoked_ms: r.get(5),
    }
}

/// The current config version.
async fn head_version(c: &impl GenericClient) -> Result<u64, StoreError> {
    let row = c
        .query_one("SELECT version FROM config_head", &[])
        .await
        .map_err(backend)?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// Appends an audit entry at the config version `version`.
#[allow(clippy::too_many_arguments)]
async fn audit_row(
    tx: &impl GenericClient,
    at_ms: i64,
    actor: &str,
    action: &str,
    key: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    version: u64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO audit (at_ms, actor, action, key, before, after, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &at_ms,
            &actor,
            &action,
            &key,
            &before,
            &after,
            &(version as i64),
        ],
    )
    .await
    .map_err(backend)?;
    Ok(())
}

/// The stored objects of one kind, by key.
async fn bodies<T: serde::de::DeserializeOwned>(
    c: &impl GenericClient,
    kind: Kind,
) -> Result<Vec<T>, StoreError> {
    let sql = format!("SELECT body FROM {} ORDER BY key", kind.table());
    c.query(&sql, &[])
        .await
        .map_err(backend)?
        .into_iter()
        .map(|r| serde_json::from_value(r.get::<_, Value>(0)).map_err(backend))
        .collect()
}

impl Store for PostgresStore {
    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let c = self.client().await?;
        current(&c).await
    }

    async fn version(&self) -> Result<u64, StoreError> {
        head_version(&self.client().await?).await
    }

    async fn objects(&self) -> Result<WireConfig, StoreError> {
        let mut client = self.client().await?;
        // One consistent view of the three tables.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(backend)?;
        let config = WireConfig {
            schema_version: litmus_core::config::SCHEMA_VERSION,
            experiments: bodies(&tx, Kind::Experiment).await?,
            layers: bodies(&tx, Kind::Layer).await?,
            holdouts: bodies(&tx, Kind::Holdout).await?,
            ..WireConfig::default()
        };
        tx.commit().await.map_err(backend)?;
        Ok(config)
    }

    async fn apply(&self, change: Change) -> Result<Snapshot, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let head: i64 = tx
            .query_one("SELECT version FROM config_head FOR UPDATE", &[])
            .await
            .map_err(backend)?
            .get(0);
        if head as u64 != change.base_version {
            return Err(StoreError::Conflict);
        }
        let version = change.base_version + 1;
        let (kind, key) = (change.edit.kind(), change.edit.key().to_owned());
        let before: Option<Value> = tx
            .query_opt(
                &format!("SELECT body FROM {} WHERE key = $1", kind.table()),
                &[&key],
            )
            .await
            .map_err(backend)?
            .map(|r| r.get(0));
        let after = match &change.edit {
            Edit::Put(object) => {
                let after = serde_json::to_value(object).map_err(backend)?;
                tx.execute(
                    &format!(
                        "INSERT INTO {} (key, body, updated_ms) VALUES ($1, $2, $3)
                         ON CONFLICT (key) DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms",
                        kind.table()
                    ),
                    &[&key, &after, &change.at_ms],
                )
                .await
                .map_err(backend)?;
                Some(after)
            }
            Edit::Delete { .. } => {
                tx.execute(
                    &format!("DELETE FROM {} WHERE key = $1", kind.table()),
                    &[&key],
                )
                .await
                .map_err(backend)?;
                None
            }
        };
        let (body, tag) = publish(change.document, version)?;
        tx.execute(
            "INSERT INTO snapshots (version, body, etag, created_ms) VALUES ($1, $2, $3, $4)",
            &[&(version as i64), &body, &tag, &change.at_ms],
        )
        .await
        .map_err(backend)?;
        tx.execute("UPDATE config_head SET version = $1", &[&(version as i64)])
            .await
            .map_err(backend)?;
        audit_row(
            &tx,
            change.at_ms,
            &change.actor,
            &change.action,
            &key,
            before.as_ref(),
            after.as_ref(),
            version,
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(Snapshot {
            version,
            etag: tag,
            body,
        })
    }

    async fn audit(&self, limit: u32, key: Option<String>) -> Result<Vec<AuditEntry>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT id, at_ms, actor, action, key, before, after, version
                 FROM audit WHERE $2::text IS NULL OR key = $2 ORDER BY id DESC LIMIT $1",
                &[&i64::from(limit), &key],
            )
            .await
            .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                id: r.get::<_, i64>(0) as u64,
                at_ms: r.get(1),
                actor: r.get(2),
                action: r.get(3),
                key: r.get(4),
                before: r.get(5),
                after: r.get(6),
                version: r.get::<_, i64>(7) as u64,
            })
            .collect())
    }

    async fn create_key(&self, key: KeyRecord, actor: String) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        tx.execute(
            "INSERT INTO api_keys (id, name, scopes, hash, created_ms) VALUES ($1, $2, $3, $4, $5)",
            &[&key.id, &key.name, &scopes, &key.hash, &key.created_ms],
        )
        .await
        .map_err(backend)?;
        let version = head_version(&tx).await?;
        let after = serde_json::to_value(&key).map_err(backend)?;
        audit_row(
            &tx,
            key.created_ms,
            &actor,
            "key.create",
            &key.id,
            None,
            Some(&after),
            version,
        )
        .await?;
        tx.commit().await.map_err(backend)
    }

    async fn keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(&format!("{KEY_COLUMNS} ORDER BY created_ms DESC, id"), &[])
            .await
            .map_err(backend)?;
        Ok(rows.iter().map(key_row).collect())
    }

    async fn key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(&format!("{KEY_COLUMNS} WHERE id = $1"), &[&id])
            .await
            .map_err(backend)?;
        Ok(row.as_ref().map(key_row))
    }

    async fn revoke_key(&self, id: &str, actor: String, at_ms: i64) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let n = tx
            .execute(
                "UPDATE api_keys SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL",
                &[&id, &at_ms],
            )
            .await
            .map_err(backend)?;
        if n > 0 {
            let version = head_version(&tx).await?;
            audit_row(&tx, at_ms, &actor, "key.revoke", id, None, None, version).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(n > 0)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.query_one("SELECT 1", &[]).await.map_err(backend)?;
        Ok(())
    }

    async fn ingest(&self, batch: EventBatch) -> Result<Ingested, StoreError> {
        // Each message_id once within the batch (its first), then once ever: event_ids answers
        // which keys are new, and only those events are copied.
        let mut seen = std::collections::HashSet::with_capacity(batch.events.len());
        let firsts: Vec<(usize, [u8; 16], &Event)> = batch
            .events
            .iter()
            .enumerate()
            .map(|(seq, e)| (seq, event_key(e), e))
            .filter(|(_, id, _)| seen.insert(*id))
            .collect();
        let received = system_time(batch.received_ms);
        let mut client = self.client().await?;
        // Optimistically, every key is new: one COPY into event_ids, whose unique index checks
        // each key as it inserts it. Only when some key is already there (a client's retry)
        // does the batch start over, asking event_ids which keys are new.
        // In key order, so consecutive inserts land in the same pages of the unique index.
        let mut sorted: Vec<[u8; 16]> = firsts.iter().map(|(_, id, _)| *id).collect();
        sorted.sort_unstable();
        let mut tx = client.transaction().await.map_err(backend)?;
        let new: Option<std::collections::HashSet<[u8; 16]>> =
            match copy_keys(&tx, &sorted, batch.received_ms).await {
                Ok(_) => None,
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    tx.rollback().await.map_err(backend)?;
                    tx = client.transaction().await.map_err(backend)?;
                    let keys: Vec<&[u8]> = firsts.iter().map(|(_, id, _)| &id[..]).collect();
                    let new = tx
                        .query(
                            "INSERT INTO event_ids (id, received_at)
                             SELECT encode(k, 'hex')::uuid, to_timestamp($2::bigint / 1000.0)
                             FROM unnest($1::bytea[]) k
                             ON CONFLICT DO NOTHING RETURNING uuid_send(id)",
                            &[&keys, &batch.received_ms],
                        )
                        .await
                        .map_err(backend)?
                        .into_iter()
                        .filter_map(|r| r.get::<_, &[u8]>(0).try_into().ok())
                        .collect::<std::collections::HashSet<[u8; 16]>>();
                    if new.is_empty() {
                        tx.commit().await.map_err(backend)?;
                        return Ok(Ingested {
                            stored: 0,
                            duplicates: batch.events.len(),
                        });
                    }
                    Some(new)
                }
                Err(e) => return Err(backend(e)),
            };
        let number: i64 = tx
            .query_one("SELECT nextval('event_batches')", &[])
            .await
            .map_err(backend)?
            .get(0);
        let sink = tx
            .copy_in(
                "COPY events (time, batch, seq, message_id, received_at, kind, unit_id,
                              experiment, variant, metric, value, properties) FROM STDIN BINARY",
            )
            .await
            .map_err(backend)?;
        let types = [
            Type::TIMESTAMPTZ,
            Type::INT8,
            Type::INT4,
            Type::TEXT,
            Type::TIMESTAMPTZ,
            Type::INT2,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::FLOAT8,
            Type::JSONB,
        ];
        let writer = BinaryCopyInWriter::new(sink, &types);
        futures_util::pin_mut!(writer);
        let (mut min_ms, mut max_ms) = (i64::MAX, i64::MIN);
        let mut rollup_rows = RollupRows::with_capacity(firsts.len());
        let is_new = |id: &[u8; 16]| new.as_ref().is_none_or(|n| n.contains(id));
        for (seq, _, e) in firsts.iter().filter(|(_, id, _)| is_new(id)) {
            let seq = i32::try_from(*seq).map_err(backend)?;
            let t = e.time.unix_millis();
            (min_ms, max_ms) = (min_ms.min(t), max_ms.max(t));
            rollup_rows.push(seq, t, e);
            let time = system_time(t);
            // The columns that differ by kind: kind, experiment, variant, metric, value,
            // properties.
            let (kind, experiment, variant, metric, value, props) = match &e.kind {
                EventKind::Exposure {
                    experiment,
                    variant,
                } => (
                    0i16,
                    Some(experiment.as_str()),
                    Some(variant.as_str()),
                    None,
                    None,
                    None,
                ),
                EventKind::Track {
                    event,
                    value,
                    properties,
                } => (
                    1i16,
                    None,
                    None,
                    Some(event.as_str()),
                    Some(*value),
                    properties.as_ref().map(|p| Value::Object(p.clone())),
                ),
            };
            writer
                .as_mut()
                .write(&[
                    &time,
                    &number,
                    &seq,
                    &e.message_id,
                    &received,
                    &kind,
                    &e.unit_id,
                    &experiment,
                    &variant,
                    &metric,
                    &value,
                    &props,
                ])
                .await
                .map_err(backend)?;
        }
        let stored = writer.finish().await.map_err(backend)?;
        tx.execute(
            "INSERT INTO pending_batches (batch, min_ms, max_ms, rows) VALUES ($1, $2, $3, $4)",
            &[&number, &min_ms, &max_ms, &rollup_rows.finish()],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        let stored = usize::try_from(stored).map_err(backend)?;
        Ok(Ingested {
            stored,
            duplicates: batch.events.len().saturating_sub(stored),
        })
    }

    async fn rollup_version(&self) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let v: i64 = c
            .query_one("SELECT version FROM rollup_head", &[])
            .await
            .map_err(backend)?
            .get(0);
        Ok(v as u64)
    }

    async fn apply_rollups(
        &self,
        window_ms: i64,
        max_batches: usize,
    ) -> Result<Applied, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let mine: bool = tx
            .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&ROLLUP_LOCK])
            .await
            .map_err(backend)?
            .get(0);
        if !mine {
            return Ok(Applied::default());
        }
        let limit = i64::try_from(max_batches).unwrap_or(i64::MAX);
        let pending = tx
            .query(
                "SELECT batch, min_ms, max_ms, rows FROM pending_batches ORDER BY batch LIMIT $1",
                &[&limit],
            )
            .await
            .map_err(backend)?;
        if pending.is_empty() {
            return Ok(Applied::default());
        }
        let mut experiments = std::collections::BTreeSet::new();
        tx.batch_execute(FRESH).await.map_err(backend)?;
        for row in &pending {
            let (batch, min_ms, max_ms): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
            tx.execute("DELETE FROM fresh", &[])
                .await
                .map_err(backend)?;
            match row.get::<_, Option<&[u8]>>(3) {
                Some(rows) => {
                    copy_payload(&tx, "COPY fresh FROM STDIN BINARY", rows.to_vec())
                        .await
                        .map_err(backend)?;
                }
                None => {
                    tx.execute(LOAD_FRESH, &[&batch, &min_ms, &max_ms])
                        .await
                        .map_err(backend)?;
                }
            }
            let exposures = tx.query(EXPOSURES, &[]).await.map_err(backend)?;
            let metrics = tx.query(METRICS, &[&window_ms]).await.map_err(backend)?;
            tx.execute(HISTORY, &[]).await.map_err(backend)?;
            for row in exposures.iter().chain(&metrics) {
                let experiment: &str = row.get(0);
                if !experiments.contains(experiment) {
                    experiments.insert(experiment.to_owned());
                }
            }
            tx.execute("INSERT INTO applied_batches (batch) VALUES ($1)", &[&batch])
                .await
                .map_err(backend)?;
            tx.execute("DELETE FROM pending_batches WHERE batch = $1", &[&batch])
                .await
                .map_err(backend)?;
        }
        let version: i64 = tx
            .query_one(
                "UPDATE rollup_head SET version = version + 1 RETURNING version",
                &[],
            )
            .await
            .map_err(backend)?
            .get(0);
        tx.commit().await.map_err(backend)?;
        Ok(Applied {
            batches: pending.len(),
            experiments,
            version: version as u64,
        })
    }

    async fn retain(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let chunks = c
            .query(
                "SELECT drop_chunks('events', older_than => to_timestamp($1::bigint / 1000.0))",
                &[&cutoff_ms],
            )
            .await
            .map_err(backend)?
            .len();
        c.execute(
            "DELETE FROM event_ids WHERE received_at < to_timestamp($1::bigint / 1000.0)",
            &[&cutoff_ms],
        )
        .await
        .map_err(backend)?;
        Ok(chunks as u64)
    }

    async fn experiment_units(
        &self,
        experiment: &str,
        metric: &str,
        limit: usize,
    ) -> Result<Vec<UnitOutcome>, StoreError> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT e.variant, e.first_ms, coalesce(u.events, 0), coalesce(u.total, 0.0)
                 FROM exposures e LEFT JOIN unit_totals u
                   ON u.experiment = e.experiment AND u.metric = $2 AND u.unit_id = e.unit_id
                 WHERE e.experiment = $1 ORDER BY e.first_ms, e.unit_id LIMIT $3",
                &[&experiment, &metric, &limit],
            )
            .await
            .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| UnitOutcome {
                variant: r.get(0),
                first_ms: r.get(1),
                events: r.get::<_, i64>(2) as u64,
                total: r.get(3),
            })
            .collect())
    }

    async fn rollup_span(&self, experiment: &str) -> Result<Option<(i64, i64)>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_one(
                "SELECT min(minute_ms), max(minute_ms) FROM rollup_exposures WHERE experiment = $1",
                &[&experiment],
            )
            .await
            .map_err(backend)?;
        Ok(row
            .get::<_, Option<i64>>(0)
            .zip(row.get::<_, Option<i64>>(1)))
    }

    async fn experiment_rollups(
        &self,
        experiment: &str,
        bucket_ms: i64,
        since_ms: i64,
    ) -> Result<RollupTables, StoreError> {
        let c = self.client().await?;
        let bucket = super::bucket_sql("$2");
        let mut tables = RollupTables::default();
        for r in c
            .query(
                &format!(
                    "SELECT variant, {bucket}, sum(units)::bigint FROM rollup_exposures
                     WHERE experiment = $1 AND minute_ms >= $3 GROUP BY 1, 2"
                ),
                &[&experiment, &bucket_ms, &since_ms],
            )
            .await
            .map_err(backend)?
        {
            tables.exposures.insert(
                (experiment.to_owned(), r.get(0), r.get(1)),
                r.get::<_, i64>(2) as u64,
            );
        }
        for r in c
            .query(
                &format!(
                    "SELECT variant, metric, {bucket}, sum(events)::bigint, sum(units)::bigint,
                            sum(sum), sum(sum_squares), sum(covariate_sum), sum(covariate_squares),
                            sum(cross_sum)
                     FROM rollup_metrics WHERE experiment = $1 AND minute_ms >= $3
                     GROUP BY 1, 2, 3"
                ),
                &[&experiment, &bucket_ms, &since_ms],
            )
            .await
            .map_err(backend)?
        {
            tables.metrics.insert(
                (experiment.to_owned(), r.get(0), r.get(1), r.get(2)),
                MetricRollup {
                    events: r.get::<_, i64>(3) as u64,
                    units: r.get::<_, i64>(4) as u64,
                    sum: r.get(5),
                    sum_squares: r.get(6),
                    covariate_sum: r.get(7),
                    covariate_squares: r.get(8),
                    cross: r.get(9),
                },
            );
        }
        Ok(tables)
    }

    async fn rollups(&self) -> Result<RollupTables, StoreError> {
        let c = self.client().await?;
        let mut tables = RollupTables::default();
        for r in c
            .query(
                "SELECT experiment, variant, minute_ms, units FROM rollup_exposures",
                &[],
            )
            .await
            .map_err(backend)?
        {
            tables
                .exposures
                .insert((r.get(0), r.get(1), r.get(2)), r.get::<_, i64>(3) as u64);
        }
        for r in c
            .query(
                "SELECT experiment, variant, metric, minute_ms, events, units, sum, sum_squares,
                        covariate_sum, covariate_squares, cross_sum
                 FROM rollup_metrics",
                &[],
            )
            .await
            .map_err(backend)?
        {
            tables.metrics.insert(
                (r.get(0), r.get(1), r.get(2), r.get(3)),
                MetricRollup {
                    events: r.get::<_, i64>(4) as u64,
                    units: r.get::<_, i64>(5) as u64,
                    sum: r.get(6),
                    sum_squares: r.get(7),
                    covariate_sum: r.get(8),
                    covariate_squares: r.get(9),
                    cross: r.get(10),
                },
            );
        }
        Ok(tables)
    }

    async fn stored_events(&self) -> Result<Vec<Vec<Event>>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT batch, message_id, (extract(epoch FROM time) * 1000)::bigint, kind, unit_id,
                        experiment, variant, metric, value, properties
                 FROM events JOIN applied_batches USING (batch) ORDER BY position, seq",
                &[],
            )
            .await
            .map_err(backend)?;
        let mut batches: Vec<(i64, Vec<Event>)> = Vec::new();
        for r in rows {
            let kind: i16 = r.get(3);
            let event = Event {
                message_id: r.get(1),
                unit_id: r.get(4),
                time: Timestamp::from_unix_millis(r.get(2)),
                client_time: None,
                kind: if kind == 0 {
                    EventKind::Exposure {
                        experiment: r.get::<_, Option<String>>(5).unwrap_or_default(),
                        variant: r.get::<_, Option<String>>(6).unwrap_or_default(),
                    }
                } else {
                    EventKind::Track {
                        event: r.get::<_, Option<String>>(7).unwrap_or_default(),
                        value: r.get::<_, Option<f64>>(8).unwrap_or(1.0),
                        properties: match r.get::<_, Option<Value>>(9) {
                            Some(Value::Object(p)) => Some(p),
                            _ => None,
                        },
                    }
                },
            };
            let batch: i64 = r.get(0);
            match batches.last_mut() {
                Some((b, events)) if *b == batch => events.push(event),
                _ => batches.push((batch, vec![event])),
            }
        }
        Ok(batches.into_iter().map(|(_, e)| e).collect())
    }
}
