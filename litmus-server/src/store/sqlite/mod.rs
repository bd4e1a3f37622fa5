//! The embedded store: one SQLite file (bundled SQLite, nothing to install), so the server
//! runs on a fresh machine with no services. Calls run on tokio's blocking threads; one
//! connection behind a mutex serializes writes, which SQLite does anyway. All its SQL is in
//! this module: [`migrations`], the config, keys and audit log (`config`, whose transactions
//! are `super::txn`'s over SQLite's primitives), events (`events`) and rollups (`rollups`).

mod config;
mod events;
pub mod migrations;
mod rollups;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;

use super::{EventBatch, Ingested, StoreError};

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// A second connection to the same file, for the rollup worker's reads (WAL lets them
    /// run while `conn` writes); `None` for an in-memory database.
    reader: Option<Arc<Mutex<Connection>>>,
    /// Event batches waiting to be committed together (group commit).
    group: Arc<Mutex<Group>>,
    /// The rollup worker's unit states between rounds.
    rollup_cache: Arc<Mutex<super::unit_state::RollupCache>>,
    /// Committed batches handed to the rollup worker in memory.
    handoff: super::handoff::Handoff,
}

/// A batch waiting for the group commit, and where its answer goes.
type Waiting = (
    EventBatch,
    tokio::sync::oneshot::Sender<Result<Ingested, StoreError>>,
);

/// The group commit's queue: batches that arrive while a commit is on its way wait and are
/// committed together by the next one, with one fsync for all.
#[derive(Default)]
struct Group {
    queue: Vec<Waiting>,
    writing: bool,
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
        let reader = Connection::open(path).map_err(backend)?;
        tune(&reader)?;
        store.reader = Some(Arc::new(Mutex::new(reader)));
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
            group: Arc::default(),
            rollup_cache: Arc::default(),
            handoff: super::handoff::Handoff::default(),
        })
    }

    /// Runs `f` with the connection on a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard: MutexGuard<'_, Connection> = conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard)
        })
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
    // 64 MB of page cache and memory-mapped reads: the dedup index and the rollup tables
    // stay in memory instead of being copied from the OS for every lookup.
    conn.pragma_update(None, "cache_size", -65_536)
        .map_err(backend)?;
    conn.pragma_update(None, "mmap_size", 1_i64 << 30)
        .map_err(backend)?;
    // Another connection's write (the other one of this store, or another store on the same
    // file) waits its turn instead of failing.
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(backend)?;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SqliteStore {
    /// Commits the queued batches, all those waiting at once in one transaction, until the
    /// queue is empty. Each batch keeps its own number and answer; if the transaction fails,
    /// every batch in it is answered the error (nothing of them was stored).
    fn commit_groups(&self) {
        loop {
            let work = {
                let mut g = lock(&self.group);
                if g.queue.is_empty() {
                    g.writing = false;
                    return;
                }
                std::mem::take(&mut g.queue)
            };
            let mut conn = lock(&self.conn);
            let stored = (|| {
                let tx = conn.transaction()?;
                let reports = work
                    .iter()
                    .map(|(batch, _)| events::store_batch(&tx, batch))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                tx.commit()?;
                Ok::<_, rusqlite::Error>(reports)
            })();
            drop(conn);
            match stored {
                Ok(reports) => {
                    for ((_, answer), report) in work.into_iter().zip(reports) {
                        let _ = answer.send(Ok(report));
                    }
                }
                Err(e) => {
                    for (_, answer) in work {
                        let _ = answer.send(Err(backend(&e)));
                    }
                }
            }
        }
    }
}
