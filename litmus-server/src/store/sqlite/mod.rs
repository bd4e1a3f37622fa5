//! The embedded store: one SQLite file (bundled SQLite, nothing to install), so the server
//! runs on a fresh machine with no services. Calls run on tokio's blocking threads; one
//! connection behind a mutex serializes writes, which SQLite does anyway. All its SQL is in
//! this module: [`migrations`], the config, keys and audit log (`config`, whose transactions
//! are `super::txn`'s over SQLite's primitives), events (`events`) and rollups (`rollups`).

mod checkpointer;
mod config;
mod events;
pub mod migrations;
mod rollups;
mod rows;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::group_commit::{GroupCommit, GroupWrite, Limits};
use super::handoff::Handoff;
use super::lock;
use super::{EventBatch, Ingested, StoreError};

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// A second connection to the same file, for the rollup worker's reads (WAL lets them
    /// run while `conn` writes); `None` for an in-memory database.
    reader: Option<Arc<Mutex<Connection>>>,
    /// Event batches waiting to be committed together (one writer: the one connection).
    group: GroupCommit,
    /// The rollup worker's unit states between rounds.
    rollup_cache: Arc<Mutex<super::unit_state::RollupCache>>,
    /// Committed batches handed to the rollup worker in memory.
    handoff: super::handoff::Handoff,
    /// Units' values of percentile-capped metrics, by rollup version.
    values: super::unit_state::ValueCache,
    /// The WAL checkpoints' thread, running while the store is open; `None` for an in-memory
    /// database.
    _checkpointer: Option<checkpointer::Checkpointer>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        let mut store = Self::init(Connection::open(path).map_err(backend)?)?;
        tune_writer(&lock(&store.conn))?;
        let reader = Connection::open(path).map_err(backend)?;
        tune(&reader)?;
        store.reader = Some(Arc::new(Mutex::new(reader)));
        store._checkpointer = Some(checkpointer::Checkpointer::start(path)?);
        Ok(store)
    }

    /// A private in-memory database (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        tune(&conn)?;
        let done: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(backend)?;
        for (i, sql) in migrations::MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(done).unwrap_or(0))
        {
            let tx = conn.transaction().map_err(backend)?;
            tx.execute_batch(sql).map_err(backend)?;
            if i + 1 == migrations::UNIT_STATE {
                rollups::convert_legacy(&tx).map_err(backend)?;
            }
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
        }
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            reader: None,
            group: GroupCommit::new(Limits {
                max_events: Limits::MAX_EVENTS,
                writers: 1,
            }),
            rollup_cache: Arc::default(),
            values: super::unit_state::ValueCache::default(),
            handoff: super::handoff::Handoff::default(),
            _checkpointer: None,
        })
    }

    /// Runs `f` with the connection on a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || f(&mut lock(&conn)))
            .await
            .map_err(backend)?
    }
}

/// The settings of every connection.
fn tune(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(backend)?;
    // A commit is on disk when it returns: events are acknowledged only after it.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(backend)?;
    // Memory-mapped reads and 64 MB of page cache (the writer keeps less, see `tune_writer`):
    // the dedup index and the rollup tables are read in place instead of being copied from
    // the OS for every lookup.
    conn.pragma_update(None, "cache_size", -65_536)
        .map_err(backend)?;
    conn.pragma_update(None, "mmap_size", 1_i64 << 30)
        .map_err(backend)?;
    // The WAL file is cut back to 64 MB after a checkpoint that let it start over.
    conn.pragma_update(None, "journal_size_limit", 64_i64 << 20)
        .map_err(backend)?;
    // Another connection's write (the other one of this store, or another store on the same
    // file) waits its turn instead of failing.
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(backend)?;
    Ok(())
}

/// The writing connection's own settings (on top of [`tune`]), for a database in a file.
fn tune_writer(conn: &Connection) -> Result<(), StoreError> {
    // Its commits never copy the WAL into the database: `checkpointer` does, on its own
    // connection.
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(backend)?;
    // A smaller page cache: reads come through the memory map, and SQLite walks the whole
    // cache at the end of a transaction whose B-tree balancing renumbered pages (it parks a
    // page at the lock-byte page's number, past the end of the file), so a large cache makes
    // those commits slow.
    conn.pragma_update(None, "cache_size", -8_192)
        .map_err(backend)?;
    Ok(())
}

impl GroupWrite for SqliteStore {
    async fn write_group(&self, batches: Vec<EventBatch>) -> Result<Vec<Ingested>, StoreError> {
        let handoff = self.handoff.clone();
        self.with(move |conn| write_group(conn, batches, &handoff))
            .await
    }
}

impl SqliteStore {
    /// Stores `batch` with the next group, written by a blocking thread that holds on to its
    /// turn: the connection writes group after group while batches wait.
    async fn ingest_grouped(&self, batch: EventBatch) -> Result<Ingested, StoreError> {
        let (conn, handoff) = (Arc::clone(&self.conn), self.handoff.clone());
        self.group
            .submit_blocking(batch, move |batches| {
                write_group(&mut lock(&conn), batches, &handoff)
            })
            .await
    }
}

/// Writes a group in one transaction: each batch's events in turn (a key stored by an earlier
/// batch of the group is a duplicate for the later ones, by the unique index). Each batch's new
/// events are handed to the rollup worker (`super::handoff`) before the commit, and taken back
/// if it fails.
fn write_group(
    conn: &mut Connection,
    batches: Vec<EventBatch>,
    handoff: &Handoff,
) -> Result<Vec<Ingested>, StoreError> {
    let tx = conn.transaction().map_err(backend)?;
    let stored = events::store_group(&tx, &batches).map_err(backend)?;
    let mut handed = Vec::new();
    for (batch, s) in batches.into_iter().zip(&stored) {
        if s.report.stored > 0 {
            let kept = batch.events.into_iter().zip(&s.kept).filter(|(_, k)| **k);
            handoff.put(s.number, kept.map(|(e, _)| e));
            handed.push(s.number);
        }
    }
    handoff.settle(handed, tx.commit()).map_err(backend)?;
    Ok(stored.into_iter().map(|s| s.report).collect())
}
