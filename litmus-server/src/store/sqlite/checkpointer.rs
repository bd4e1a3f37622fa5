//! WAL checkpoints on a connection of their own. SQLite's default runs a checkpoint inside the
//! commit that pushes the WAL past 1,000 pages, so that commit also copies the WAL (4 MB or
//! more) into the database file and syncs it, while every batch of the next group waits. The writing connection turns that off (`wal_autocheckpoint = 0`), and this
//! thread runs a `PASSIVE` checkpoint (it never blocks the writer or the readers, and copies
//! what no reader still needs) every [`CHECKPOINT_EVERY`] while the store is open.

use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::Connection;

use super::{StoreError, backend, tune};

/// How often the WAL is copied into the database file.
pub(super) const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Keeps the checkpoint thread running: it stops once every clone of the store (each holds
/// one of these) is dropped.
#[derive(Clone)]
pub(super) struct Checkpointer {
    _alive: Arc<()>,
}

impl Checkpointer {
    /// Opens a connection to the database at `path` and starts the thread.
    pub(super) fn start(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        tune(&conn)?;
        let alive = Arc::new(());
        let watch = Arc::downgrade(&alive);
        std::thread::Builder::new()
            .name("litmus-sqlite-checkpoint".into())
            .spawn(move || run(&conn, &watch))
            .map_err(backend)?;
        Ok(Checkpointer { _alive: alive })
    }
}

/// Checkpoints until the store is gone; a failed checkpoint is logged and tried again.
fn run(conn: &Connection, alive: &Weak<()>) {
    while alive.strong_count() > 0 {
        std::thread::sleep(CHECKPOINT_EVERY);
        match checkpoint(conn) {
            Ok((frames, copied)) => {
                tracing::trace!(frames, copied, "WAL checkpoint");
            }
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; trying again"),
        }
    }
}

/// One passive checkpoint: the WAL's frames, and how many of them are now in the database file.
fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writing connection leaves its WAL to the checkpointer, even past SQLite's automatic
    /// threshold of 1,000 pages, and one checkpoint copies all of it.
    #[test]
    fn the_writer_leaves_the_wal_to_the_checkpointer_which_copies_all_of_it() {
        let dir = std::env::temp_dir().join(format!("litmus-checkpoint-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("litmus.db");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        tune(&writer).unwrap();
        super::super::tune_writer(&writer).unwrap();
        writer
            .execute_batch("CREATE TABLE pages (body BLOB NOT NULL)")
            .unwrap();
        // About 2,000 pages of 4 KB, in a few commits.
        for _ in 0..4 {
            let tx = writer.unchecked_transaction().unwrap();
            for _ in 0..500 {
                tx.execute("INSERT INTO pages (body) VALUES (zeroblob(4000))", [])
                    .unwrap();
            }
            tx.commit().unwrap();
        }
        let checkpointer = Connection::open(&path).unwrap();
        tune(&checkpointer).unwrap();
        let (frames, copied) = checkpoint(&checkpointer).unwrap();
        assert!(frames > 2_000, "the WAL holds every page written: {frames}");
        assert_eq!(copied, frames);
        let rows: i64 = checkpointer
            .query_row("SELECT count(*) FROM pages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2_000);
        drop((writer, checkpointer));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
