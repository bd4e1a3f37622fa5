//! The PostgreSQL store (with TimescaleDB, which the event tables use), chosen when
//! `DATABASE_URL` is set: what several server instances share. A pool of connections;
//! versioned migrations applied under an advisory lock, so instances starting together do not
//! race; writers serialized by a row lock on the one-row `config_head`, so concurrent changes
//! from different instances get consecutive versions or a conflict, never a lost update. All
//! its SQL is in this module: [`migrations`], the config, keys and audit log (`config`, whose
//! transactions are `super::txn`'s over PostgreSQL's primitives), event ingestion (`ingest`),
//! the rollups (`rollups`) and reads of events and rollups (`events`).

mod config;
mod events;
mod ingest;
pub mod migrations;
mod rollups;
mod rows;
#[cfg(test)]
mod test_db;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::{NoTls, Row};

use super::group_commit::{GroupCommit, Limits};
use super::{Snapshot, StoreError, empty_snapshot};

/// The advisory lock key that serializes migrations between instances.
const MIGRATION_LOCK: i64 = 0x6c69_746d_7573;

/// The group commit of event batches: up to 10,000 events a group, two groups written at once
/// (one is sent while the other waits for its commit's flush).
const GROUP_LIMITS: Limits = Limits {
    max_events: Limits::MAX_EVENTS,
    writers: 2,
};

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// The rollup worker's own connection, so a busy ingestion (which may hold every
    /// connection of `pool`) never keeps the rollups waiting.
    rollup_pool: Pool,
    /// The rollup worker's unit states between rounds.
    rollup_cache: std::sync::Arc<tokio::sync::Mutex<super::unit_state::RollupCache>>,
    /// Units' values of percentile-capped metrics, by rollup version.
    pub(super) values: super::unit_state::ValueCache,
    /// Committed batches handed to the rollup worker in memory.
    handoff: super::handoff::Handoff,
    /// Event batches waiting to be committed together (`ingest`).
    group: GroupCommit,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`) with a pool of at most
    /// `max_connections` (and one more connection for the rollup worker), and applies pending
    /// migrations.
    pub async fn connect(url: &str, max_connections: usize) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(backend)?;
        let pool = |size: usize| {
            let manager = Manager::from_config(
                config.clone(),
                NoTls,
                ManagerConfig {
                    recycling_method: RecyclingMethod::Fast,
                },
            );
            Pool::builder(manager)
                .max_size(size)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .wait_timeout(Some(std::time::Duration::from_secs(5)))
                .create_timeout(Some(std::time::Duration::from_secs(5)))
                .build()
                .map_err(backend)
        };
        let store = PostgresStore {
            pool: pool(max_connections.max(1))?,
            rollup_pool: pool(1)?,
            rollup_cache: Default::default(),
            values: Default::default(),
            handoff: super::handoff::Handoff::default(),
            group: GroupCommit::new(GROUP_LIMITS),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(backend)
    }

    /// The rollup worker's connection.
    async fn rollup_client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.rollup_pool.get().await.map_err(backend)
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
        for (i, sql) in migrations::MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(done).unwrap_or(0))
        {
            tx.batch_execute(sql).await.map_err(backend)?;
            if i + 1 == migrations::UNIT_STATE {
                rollups::convert_legacy(&tx).await?;
            }
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

/// The newest snapshot of `project` (the empty one before its first change).
async fn current(c: &impl GenericClient, project: &str) -> Result<Snapshot, StoreError> {
    let row = c
        .query_opt(super::sql::CURRENT_SNAPSHOT, &[&project])
        .await
        .map_err(backend)?;
    Ok(row.as_ref().map_or_else(empty_snapshot, snapshot_row))
}
