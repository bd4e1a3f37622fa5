//! The embedded store: one SQLite file (bundled SQLite, nothing to install), so the server
//! runs on a fresh machine with no services. Calls run on tokio's blocking threads; one
//! connection behind a mutex serializes writes, which SQLite does anyway.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use litmus_core::config::wire::WireConfig;
use rusqlite::{Connection, OptionalExtension, params};

use litmus_core::Timestamp;
use litmus_core::events::rollup::{attributed, minute, square_delta};
use litmus_core::events::{Event, EventKind, MetricRollup};

use super::{
    Applied, AuditEntry, Change, Edit, EventBatch, Ingested, Kind, RollupTables, Snapshot, Store,
    StoreError, UnitOutcome, empty_snapshot, event_key, publish,
};
use crate::keys::{KeyRecord, Scope};

/// Versioned migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: experiments, published snapshots, the audit log.
    "CREATE TABLE experiments (
         key TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL
     );
     CREATE TABLE snapshots (
         version INTEGER PRIMARY KEY,
         body TEXT NOT NULL,
         etag TEXT NOT NULL,
         created_ms INTEGER NOT NULL
     );
     CREATE TABLE audit (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         at_ms INTEGER NOT NULL,
         actor TEXT NOT NULL,
         action TEXT NOT NULL,
         key TEXT NOT NULL,
         before TEXT,
         after TEXT,
         version INTEGER NOT NULL
     );",
    // 2: API keys (hashes only).
    "CREATE TABLE keys (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         scopes TEXT NOT NULL,
         hash TEXT NOT NULL,
         created_ms INTEGER NOT NULL,
         revoked_ms INTEGER
     );",
    // 3: layers and holdouts, stored like experiments.
    "CREATE TABLE layers (
         key TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL
     );
     CREATE TABLE holdouts (
         key TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         updated_ms INTEGER NOT NULL
     );",
    // 4: events (each message_id once), first exposures, per-unit totals and the rollups.
    "CREATE TABLE events (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         batch INTEGER NOT NULL,
         id BLOB NOT NULL UNIQUE,
         message_id TEXT NOT NULL,
         time_ms INTEGER NOT NULL,
         received_ms INTEGER NOT NULL,
         kind TEXT NOT NULL,
         unit_id TEXT NOT NULL,
         experiment TEXT,
         variant TEXT,
         metric TEXT,
         value REAL,
         properties TEXT
     );
     CREATE INDEX events_batch ON events (batch);
     CREATE TABLE pending_batches (batch INTEGER PRIMARY KEY);
     CREATE TABLE applied_batches (
         position INTEGER PRIMARY KEY AUTOINCREMENT,
         batch INTEGER NOT NULL UNIQUE
     );
     CREATE TABLE exposures (
         experiment TEXT NOT NULL,
         unit_id TEXT NOT NULL,
         variant TEXT NOT NULL,
         first_ms INTEGER NOT NULL,
         PRIMARY KEY (experiment, unit_id)
     ) WITHOUT ROWID;
     CREATE INDEX exposures_unit ON exposures (unit_id);
     CREATE TABLE unit_totals (
         experiment TEXT NOT NULL,
         metric TEXT NOT NULL,
         unit_id TEXT NOT NULL,
         events INTEGER NOT NULL,
         total REAL NOT NULL,
         PRIMARY KEY (experiment, metric, unit_id)
     ) WITHOUT ROWID;
     CREATE TABLE rollup_exposures (
         experiment TEXT NOT NULL,
         variant TEXT NOT NULL,
         minute_ms INTEGER NOT NULL,
         units INTEGER NOT NULL,
         PRIMARY KEY (experiment, variant, minute_ms)
     ) WITHOUT ROWID;
     CREATE TABLE rollup_metrics (
         experiment TEXT NOT NULL,
         variant TEXT NOT NULL,
         metric TEXT NOT NULL,
         minute_ms INTEGER NOT NULL,
         events INTEGER NOT NULL,
         units INTEGER NOT NULL,
         sum REAL NOT NULL,
         sum_squares REAL NOT NULL,
         PRIMARY KEY (experiment, variant, metric, minute_ms)
     ) WITHOUT ROWID;",
    // 5: the rollups' version, one more for each transaction that applies batches.
    "CREATE TABLE rollup_head (version INTEGER NOT NULL);
     INSERT INTO rollup_head (version) VALUES (0);",
    // 6: an object's history (a bandit's weights) without reading the whole log.
    "CREATE INDEX audit_key ON audit (key, id);",
    // 7: CUPED covariates: each unit's totals per metric over every event applied, the
    // covariate each unit took at its first exposure, and their sums in the rollups.
    "CREATE TABLE unit_history (
         unit_id TEXT NOT NULL,
         metric TEXT NOT NULL,
         total REAL NOT NULL,
         PRIMARY KEY (unit_id, metric)
     ) WITHOUT ROWID;
     CREATE TABLE covariates (
         experiment TEXT NOT NULL,
         metric TEXT NOT NULL,
         unit_id TEXT NOT NULL,
         x REAL NOT NULL,
         PRIMARY KEY (experiment, metric, unit_id)
     ) WITHOUT ROWID;
     ALTER TABLE rollup_metrics ADD COLUMN covariate_sum REAL NOT NULL DEFAULT 0;
     ALTER TABLE rollup_metrics ADD COLUMN covariate_squares REAL NOT NULL DEFAULT 0;
     ALTER TABLE rollup_metrics ADD COLUMN cross_sum REAL NOT NULL DEFAULT 0;",
];

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Event batches waiting to be committed together (group commit).
    group: Arc<Mutex<Group>>,
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
        Self::init(Connection::open(path).map_err(backend)?)
    }

    /// A private in-memory database (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
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
        let done: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(backend)?;
        for (i, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(done).unwrap_or(0))
        {
            let tx = conn.transaction().map_err(backend)?;
            tx.execute_batch(sql).map_err(backend)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
        }
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            group: Arc::default(),
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
                    .map(|(batch, _)| store_batch(&tx, batch))
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

fn current(conn: &Connection) -> Result<Snapshot, StoreError> {
    let row = conn
        .query_row(
            "SELECT version, etag, body FROM snapshots ORDER BY version DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(backend)?;
    Ok(match row {
        Some((version, etag, body)) => Snapshot {
            version: version as u64,
            etag,
            body,
        },
        None => empty_snapshot(),
    })
}

/// Stored JSON bodies to wire objects.
fn parse_all<T: serde::de::DeserializeOwned>(bodies: Vec<String>) -> Result<Vec<T>, StoreError> {
    bodies
        .iter()
        .map(|b| serde_json::from_str(b).map_err(backend))
        .collect()
}

const KEY_COLUMNS: &str = "SELECT id, name, scopes, hash, created_ms, revoked_ms FROM keys";

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    let scopes: String = r.get(2)?;
    Ok(KeyRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        scopes: scopes.split(',').filter_map(Scope::parse).collect(),
        hash: r.get(3)?,
        created_ms: r.get(4)?,
        revoked_ms: r.get(5)?,
    })
}

/// Stores a batch in the open transaction: each new event once, and the batch queued for
/// the rollups.
fn store_batch(tx: &rusqlite::Transaction<'_>, batch: &EventBatch) -> rusqlite::Result<Ingested> {
    let number: i64 = tx.query_row("SELECT COALESCE(MAX(batch), 0) + 1 FROM events", [], |r| {
        r.get(0)
    })?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO events
             (batch, id, message_id, time_ms, received_ms, kind, unit_id, experiment, variant,
              metric, value, properties)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut stored = 0;
    for e in &batch.events {
        let t = e.time.unix_millis();
        let id = event_key(e);
        stored += match &e.kind {
            EventKind::Exposure {
                experiment,
                variant,
            } => insert.execute(params![
                number,
                &id[..],
                e.message_id,
                t,
                batch.received_ms,
                "exposure",
                e.unit_id,
                experiment,
                variant,
                None::<String>,
                None::<f64>,
                None::<String>
            ])?,
            EventKind::Track {
                event,
                value,
                properties,
            } => {
                let props = properties
                    .as_ref()
                    .map(|p| serde_json::Value::Object(p.clone()).to_string());
                insert.execute(params![
                    number,
                    &id[..],
                    e.message_id,
                    t,
                    batch.received_ms,
                    "track",
                    e.unit_id,
                    None::<String>,
                    None::<String>,
                    event,
                    value,
                    props
                ])?
            }
        };
    }
    if stored > 0 {
        tx.execute("INSERT INTO pending_batches (batch) VALUES (?1)", [number])?;
    }
    Ok(Ingested {
        stored,
        duplicates: batch.events.len() - stored,
    })
}

/// The events of a stored batch, in batch order.
fn batch_events(tx: &rusqlite::Transaction<'_>, batch: i64) -> rusqlite::Result<Vec<Event>> {
    let mut stmt = tx.prepare_cached(&format!("{EVENT_COLUMNS} WHERE batch = ?1 ORDER BY seq"))?;
    let rows = stmt.query_map([batch], |r| Ok(event_row(r)?.1))?;
    rows.collect()
}

/// Applies core's rules (`litmus_core::events::rollup`) for one batch's events: exposures
/// first, then metric events, in batch order.
fn apply_batch(
    tx: &rusqlite::Transaction<'_>,
    fresh: &[Event],
    window_ms: i64,
    touched: &mut BTreeSet<String>,
) -> rusqlite::Result<()> {
    let mut first = tx.prepare_cached(
        "INSERT OR IGNORE INTO exposures (experiment, unit_id, variant, first_ms)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut exposed = tx.prepare_cached(
        "INSERT INTO rollup_exposures (experiment, variant, minute_ms, units) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT DO UPDATE SET units = units + 1",
    )?;
    let mut history = tx.prepare_cached(
        "SELECT metric, total FROM unit_history WHERE unit_id = ?1 AND total != 0",
    )?;
    let mut keep_covariate = tx.prepare_cached(
        "INSERT OR IGNORE INTO covariates (experiment, metric, unit_id, x) VALUES (?1, ?2, ?3, ?4)",
    )?;
    // The batch's changes are gathered in memory (each unit's exposures read once, each
    // per-unit total read once and written once, each rollup row written once), in the order
    // the rules apply them.
    let mut rollups: HashMap<(String, String, String, i64), MetricRollup> = HashMap::new();
    for e in fresh {
        if let EventKind::Exposure {
            experiment,
            variant,
        } = &e.kind
        {
            let t = e.time.unix_millis();
            if first.execute(params![experiment, e.unit_id, variant, t])? == 1 {
                exposed.execute(params![experiment, variant, minute(t)])?;
                if !touched.contains(experiment) {
                    touched.insert(experiment.clone());
                }
                // Rule 5: the unit's totals so far are its covariates in this experiment.
                let past: Vec<(String, f64)> = history
                    .query_map([&e.unit_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                for (metric, x) in past {
                    keep_covariate.execute(params![experiment, metric, e.unit_id, x])?;
                    let r = rollups
                        .entry((experiment.clone(), variant.clone(), metric, minute(t)))
                        .or_default();
                    r.covariate_sum += x;
                    r.covariate_squares += x * x;
                }
            }
        }
    }
    let mut of_unit = tx
        .prepare_cached("SELECT experiment, variant, first_ms FROM exposures WHERE unit_id = ?1")?;
    let mut total = tx.prepare_cached(
        "SELECT events, total FROM unit_totals WHERE experiment = ?1 AND metric = ?2 AND unit_id = ?3",
    )?;
    let mut covariate = tx.prepare_cached(
        "SELECT x FROM covariates WHERE experiment = ?1 AND metric = ?2 AND unit_id = ?3",
    )?;
    let mut exposures_of: HashMap<&str, Vec<(String, String, i64)>> = HashMap::new();
    let mut totals: HashMap<(String, &str, &str), (i64, f64, f64)> = HashMap::new();
    for e in fresh {
        let EventKind::Track { event, value, .. } = &e.kind else {
            continue;
        };
        let t = e.time.unix_millis();
        let exposures = match exposures_of.entry(e.unit_id.as_str()) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(
                of_unit
                    .query_map([&e.unit_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<_>>()?,
            ),
        };
        for (experiment, variant, first_ms) in exposures.iter() {
            if !attributed(*first_ms, t, window_ms) {
                continue;
            }
            let key = (experiment.clone(), event.as_str(), e.unit_id.as_str());
            let unit = match totals.entry(key) {
                Entry::Occupied(o) => o.into_mut(),
                Entry::Vacant(v) => {
                    let (exp, metric, unit) = v.key();
                    let (events, sum) = total
                        .query_row(params![exp, metric, unit], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?
                        .unwrap_or((0, 0.0));
                    let x = covariate
                        .query_row(params![exp, metric, unit], |r| r.get(0))
                        .optional()?
                        .unwrap_or(0.0);
                    v.insert((events, sum, x))
                }
            };
            let r = rollups
                .entry((
                    experiment.clone(),
                    variant.clone(),
                    event.clone(),
                    minute(t),
                ))
                .or_default();
            r.events += 1;
            r.units += u64::from(unit.0 == 0);
            r.sum += value;
            r.sum_squares += square_delta(unit.1, *value);
            r.cross += value * unit.2;
            unit.0 += 1;
            unit.1 += value;
        }
    }
    // The batch's metric events join the units' histories after its exposures took their
    // covariates (rule 5).
    let mut grown: HashMap<(&str, &str), f64> = HashMap::new();
    for e in fresh {
        if let EventKind::Track { event, value, .. } = &e.kind {
            *grown
                .entry((e.unit_id.as_str(), event.as_str()))
                .or_default() += value;
        }
    }
    let mut grow = tx.prepare_cached(
        "INSERT INTO unit_history (unit_id, metric, total) VALUES (?1, ?2, ?3)
         ON CONFLICT DO UPDATE SET total = total + excluded.total",
    )?;
    for ((unit, metric), value) in &grown {
        grow.execute(params![unit, metric, value])?;
    }
    let mut set_total = tx.prepare_cached(
        "INSERT INTO unit_totals (experiment, metric, unit_id, events, total) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO UPDATE SET events = excluded.events, total = excluded.total",
    )?;
    for ((experiment, metric, unit), (count, sum, _)) in &totals {
        set_total.execute(params![experiment, metric, unit, count, sum])?;
    }
    let mut add = tx.prepare_cached(
        "INSERT INTO rollup_metrics (experiment, variant, metric, minute_ms, events, units, sum,
                                     sum_squares, covariate_sum, covariate_squares, cross_sum)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT DO UPDATE SET events = events + excluded.events, units = units + excluded.units,
             sum = sum + excluded.sum, sum_squares = sum_squares + excluded.sum_squares,
             covariate_sum = covariate_sum + excluded.covariate_sum,
             covariate_squares = covariate_squares + excluded.covariate_squares,
             cross_sum = cross_sum + excluded.cross_sum",
    )?;
    for ((experiment, variant, metric, minute_ms), r) in &rollups {
        if !touched.contains(experiment) {
            touched.insert(experiment.clone());
        }
        add.execute(params![
            experiment,
            variant,
            metric,
            minute_ms,
            r.events as i64,
            r.units as i64,
            r.sum,
            r.sum_squares,
            r.covariate_sum,
            r.covariate_squares,
            r.cross
        ])?;
    }
    Ok(())
}

/// The columns `event_row` reads.
const EVENT_COLUMNS: &str =
    "SELECT batch, message_id, time_ms, kind, unit_id, experiment, variant, metric,
        value, properties FROM events";

/// A stored event and its batch.
fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Event)> {
    let kind: String = r.get(3)?;
    let properties: Option<String> = r.get(9)?;
    let event = Event {
        message_id: r.get(1)?,
        unit_id: r.get(4)?,
        time: Timestamp::from_unix_millis(r.get(2)?),
        client_time: None,
        kind: if kind == "exposure" {
            EventKind::Exposure {
                experiment: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                variant: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
            }
        } else {
            EventKind::Track {
                event: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                value: r.get::<_, Option<f64>>(8)?.unwrap_or(1.0),
                properties: properties.and_then(|p| serde_json::from_str(&p).ok()),
            }
        },
    };
    Ok((r.get(0)?, event))
}

/// Appends an audit entry at the current config version.
fn audit_row(
    tx: &rusqlite::Transaction<'_>,
    at_ms: i64,
    actor: &str,
    action: &str,
    key: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<(), StoreError> {
    let version = current(tx)?.version as i64;
    tx.execute(
        "INSERT INTO audit (at_ms, actor, action, key, before, after, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![at_ms, actor, action, key, before, after, version],
    )
    .map_err(backend)?;
    Ok(())
}

impl Store for SqliteStore {
    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        self.with(|c| current(c)).await
    }

    async fn version(&self) -> Result<u64, StoreError> {
        self.with(|c| {
            c.query_row("SELECT COALESCE(MAX(version), 0) FROM snapshots", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|v| v as u64)
            .map_err(backend)
        })
        .await
    }

    async fn objects(&self) -> Result<WireConfig, StoreError> {
        self.with(|c| {
            let bodies = |kind: Kind| -> Result<Vec<String>, StoreError> {
                let sql = format!("SELECT body FROM {} ORDER BY key", kind.table());
                let mut stmt = c.prepare(&sql).map_err(backend)?;
                let rows = stmt
                    .query_map([], |r| r.get::<_, String>(0))
                    .map_err(backend)?;
                rows.map(|r| r.map_err(backend)).collect()
            };
            Ok(WireConfig {
                schema_version: litmus_core::config::SCHEMA_VERSION,
                experiments: parse_all(bodies(Kind::Experiment)?)?,
                layers: parse_all(bodies(Kind::Layer)?)?,
                holdouts: parse_all(bodies(Kind::Holdout)?)?,
                ..WireConfig::default()
            })
        })
        .await
    }

    async fn apply(&self, change: Change) -> Result<Snapshot, StoreError> {
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let now = current(&tx)?;
            if now.version != change.base_version {
                return Err(StoreError::Conflict);
            }
            let version = now.version + 1;
            let (kind, key) = (change.edit.kind(), change.edit.key().to_owned());
            let before: Option<String> = tx
                .query_row(
                    &format!("SELECT body FROM {} WHERE key = ?1", kind.table()),
                    [&key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            let after = match &change.edit {
                Edit::Put(object) => {
                    let after = serde_json::to_string(object).map_err(backend)?;
                    tx.execute(
                        &format!(
                            "INSERT INTO {} (key, body, updated_ms) VALUES (?1, ?2, ?3)
                             ON CONFLICT (key) DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms",
                            kind.table()
                        ),
                        params![key, after, change.at_ms],
                    )
                    .map_err(backend)?;
                    Some(after)
                }
                Edit::Delete { .. } => {
                    tx.execute(&format!("DELETE FROM {} WHERE key = ?1", kind.table()), [&key])
                        .map_err(backend)?;
                    None
                }
            };
            let (body, tag) = publish(change.document, version)?;
            tx.execute(
                "INSERT INTO snapshots (version, body, etag, created_ms) VALUES (?1, ?2, ?3, ?4)",
                params![version as i64, body, tag, change.at_ms],
            )
            .map_err(backend)?;
            audit_row(
                &tx,
                change.at_ms,
                &change.actor,
                &change.action,
                &key,
                before.as_deref(),
                after.as_deref(),
            )?;
            tx.commit().map_err(backend)?;
            Ok(Snapshot {
                version,
                etag: tag,
                body,
            })
        })
        .await
    }

    async fn audit(&self, limit: u32, key: Option<String>) -> Result<Vec<AuditEntry>, StoreError> {
        self.with(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, at_ms, actor, action, key, before, after, version
                     FROM audit WHERE ?2 IS NULL OR key = ?2 ORDER BY id DESC LIMIT ?1",
                )
                .map_err(backend)?;
            let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
            let rows = stmt
                .query_map(rusqlite::params![limit, key], |r| {
                    Ok(AuditEntry {
                        id: r.get::<_, i64>(0)? as u64,
                        at_ms: r.get(1)?,
                        actor: r.get(2)?,
                        action: r.get(3)?,
                        key: r.get(4)?,
                        before: json(r.get(5)?),
                        after: json(r.get(6)?),
                        version: r.get::<_, i64>(7)? as u64,
                    })
                })
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }

    async fn create_key(&self, key: KeyRecord, actor: String) -> Result<(), StoreError> {
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
            tx.execute(
                "INSERT INTO keys (id, name, scopes, hash, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key.id, key.name, scopes.join(","), key.hash, key.created_ms],
            )
            .map_err(backend)?;
            let after = serde_json::to_string(&key).map_err(backend)?;
            audit_row(
                &tx,
                key.created_ms,
                &actor,
                "key.create",
                &key.id,
                None,
                Some(&after),
            )?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!("{KEY_COLUMNS} ORDER BY created_ms DESC, id"))
                .map_err(backend)?;
            let rows = stmt.query_map([], key_row).map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }

    async fn key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        let id = id.to_owned();
        self.with(move |c| {
            c.query_row(&format!("{KEY_COLUMNS} WHERE id = ?1"), [&id], key_row)
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn revoke_key(&self, id: &str, actor: String, at_ms: i64) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let n = tx
                .execute(
                    "UPDATE keys SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
                    params![id, at_ms],
                )
                .map_err(backend)?;
            if n > 0 {
                audit_row(&tx, at_ms, &actor, "key.revoke", &id, None, None)?;
            }
            tx.commit().map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(backend))
            .await
    }

    async fn ingest(&self, batch: EventBatch) -> Result<Ingested, StoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let lead = {
            let mut g = lock(&self.group);
            g.queue.push((batch, answer));
            !std::mem::replace(&mut g.writing, true)
        };
        if lead {
            let this = self.clone();
            tokio::task::spawn_blocking(move || this.commit_groups())
                .await
                .map_err(backend)?;
        }
        answered
            .await
            .map_err(|_| StoreError::Backend("the group commit stopped".into()))?
    }

    async fn retain(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        self.with(move |c| {
            // The deduplication keys are the events' own: they go with them.
            c.execute("DELETE FROM events WHERE time_ms < ?1", [cutoff_ms])
                .map(|n| n as u64)
                .map_err(backend)
        })
        .await
    }

    async fn experiment_units(
        &self,
        experiment: &str,
        metric: &str,
        limit: usize,
    ) -> Result<Vec<UnitOutcome>, StoreError> {
        let (experiment, metric) = (experiment.to_owned(), metric.to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT e.variant, e.first_ms, coalesce(u.events, 0), coalesce(u.total, 0.0)
                     FROM exposures e LEFT JOIN unit_totals u
                       ON u.experiment = e.experiment AND u.metric = ?2 AND u.unit_id = e.unit_id
                     WHERE e.experiment = ?1 ORDER BY e.first_ms, e.unit_id LIMIT ?3",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(rusqlite::params![experiment, metric, limit], |r| {
                    Ok(UnitOutcome {
                        variant: r.get(0)?,
                        first_ms: r.get(1)?,
                        events: r.get::<_, i64>(2)? as u64,
                        total: r.get(3)?,
                    })
                })
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<_>>().map_err(backend)
        })
        .await
    }

    async fn rollup_span(&self, experiment: &str) -> Result<Option<(i64, i64)>, StoreError> {
        let experiment = experiment.to_owned();
        self.with(move |c| {
            c.query_row(
                "SELECT min(minute_ms), max(minute_ms) FROM rollup_exposures WHERE experiment = ?1",
                [experiment],
                |r| Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?)),
            )
            .map_err(backend)
        })
        .await
    }

    async fn experiment_rollups(
        &self,
        experiment: &str,
        bucket_ms: i64,
        since_ms: i64,
    ) -> Result<RollupTables, StoreError> {
        let experiment = experiment.to_owned();
        let bucket = super::bucket_sql("?2");
        self.with(move |c| {
            let mut tables = RollupTables::default();
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT variant, {bucket}, sum(units) FROM rollup_exposures
                     WHERE experiment = ?1 AND minute_ms >= ?3 GROUP BY 1, 2"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(rusqlite::params![experiment, bucket_ms, since_ms], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(backend)?;
            for row in rows {
                let (variant, time, units) = row.map_err(backend)?;
                tables
                    .exposures
                    .insert((experiment.clone(), variant, time), units as u64);
            }
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT variant, metric, {bucket}, sum(events), sum(units), sum(sum),
                            sum(sum_squares), sum(covariate_sum), sum(covariate_squares),
                            sum(cross_sum)
                     FROM rollup_metrics WHERE experiment = ?1 AND minute_ms >= ?3
                     GROUP BY 1, 2, 3"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(rusqlite::params![experiment, bucket_ms, since_ms], |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                        ),
                        litmus_core::events::MetricRollup {
                            events: r.get::<_, i64>(3)? as u64,
                            units: r.get::<_, i64>(4)? as u64,
                            sum: r.get(5)?,
                            sum_squares: r.get(6)?,
                            covariate_sum: r.get(7)?,
                            covariate_squares: r.get(8)?,
                            cross: r.get(9)?,
                        },
                    ))
                })
                .map_err(backend)?;
            for row in rows {
                let ((variant, metric, time), m) = row.map_err(backend)?;
                tables
                    .metrics
                    .insert((experiment.clone(), variant, metric, time), m);
            }
            Ok(tables)
        })
        .await
    }

    async fn rollups(&self) -> Result<RollupTables, StoreError> {
        self.with(|c| {
            let mut tables = RollupTables::default();
            let mut stmt = c
                .prepare("SELECT experiment, variant, minute_ms, units FROM rollup_exposures")
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get::<_, i64>(3)?))
                })
                .map_err(backend)?;
            for row in rows {
                let (key, units) = row.map_err(backend)?;
                tables.exposures.insert(key, units as u64);
            }
            let mut stmt = c
                .prepare(
                    "SELECT experiment, variant, metric, minute_ms, events, units, sum, sum_squares,
                            covariate_sum, covariate_squares, cross_sum
                     FROM rollup_metrics",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
                        litmus_core::events::MetricRollup {
                            events: r.get::<_, i64>(4)? as u64,
                            units: r.get::<_, i64>(5)? as u64,
                            sum: r.get(6)?,
                            sum_squares: r.get(7)?,
                            covariate_sum: r.get(8)?,
                            covariate_squares: r.get(9)?,
                            cross: r.get(10)?,
                        },
                    ))
                })
                .map_err(backend)?;
            for row in rows {
                let (key, m) = row.map_err(backend)?;
                tables.metrics.insert(key, m);
            }
            Ok(tables)
        })
        .await
    }

    async fn rollup_version(&self) -> Result<u64, StoreError> {
        self.with(|c| {
            c.query_row("SELECT version FROM rollup_head", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|v| v as u64)
            .map_err(backend)
        })
        .await
    }

    async fn apply_rollups(
        &self,
        window_ms: i64,
        max_batches: usize,
    ) -> Result<Applied, StoreError> {
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let pending: Vec<i64> = {
                let mut stmt = tx
                    .prepare_cached("SELECT batch FROM pending_batches ORDER BY batch LIMIT ?1")
                    .map_err(backend)?;
                let rows = stmt
                    .query_map([i64::try_from(max_batches).unwrap_or(i64::MAX)], |r| {
                        r.get(0)
                    })
                    .map_err(backend)?;
                rows.collect::<rusqlite::Result<_>>().map_err(backend)?
            };
            if pending.is_empty() {
                return Ok(Applied::default());
            }
            let mut experiments = BTreeSet::new();
            for &batch in &pending {
                let events = batch_events(&tx, batch).map_err(backend)?;
                apply_batch(&tx, &events, window_ms, &mut experiments).map_err(backend)?;
                tx.execute("INSERT INTO applied_batches (batch) VALUES (?1)", [batch])
                    .map_err(backend)?;
                tx.execute("DELETE FROM pending_batches WHERE batch = ?1", [batch])
                    .map_err(backend)?;
            }
            let version: i64 = tx
                .query_row(
                    "UPDATE rollup_head SET version = version + 1 RETURNING version",
                    [],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(Applied {
                batches: pending.len(),
                experiments,
                version: version as u64,
            })
        })
        .await
    }

    async fn stored_events(&self) -> Result<Vec<Vec<Event>>, StoreError> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "{EVENT_COLUMNS} JOIN applied_batches USING (batch) ORDER BY position, seq"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map([], event_row).map_err(backend)?;
            let mut batches: Vec<(i64, Vec<Event>)> = Vec::new();
            for row in rows {
                let (batch, event) = row.map_err(backend)?;
                match batches.last_mut() {
                    Some((b, events)) if *b == batch => events.push(event),
                    _ => batches.push((batch, vec![event])),
                }
            }
            Ok(batches.into_iter().map(|(_, e)| e).collect())
        })
        .await
    }
}
