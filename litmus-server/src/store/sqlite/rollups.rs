//! Core's rollup rules applied to a round of queued batches on SQLite, over each unit's state
//! record (`crate::store::unit_state`): the round's units are read once (those the worker's
//! cache does not hold), the batches applied in memory, and each changed unit, new first
//! exposure and rollup row written once, in the transaction that takes the batches off the
//! queue.

use litmus_core::events::Event;
use litmus_core::metrics::Program;
use rusqlite::{OptionalExtension, params};

use super::backend;
use crate::store::backfill;
use crate::store::handoff::Handoff;
use crate::store::tiers::{self, Tier};
use crate::store::unit_state::{LEGACY_ROWS, Legacy, RollupCache, RoundRows, round_batches};
use crate::store::{Applied, StoreError, StoredEvent, sql};

/// The most events a round takes (at least one batch, whatever its size): the round's writes
/// hold the store's one writing connection, which acknowledgements wait for.
const ROUND_EVENTS: u64 = 50_000;

/// A round read and computed, to be written.
pub(super) struct Prepared {
    /// The rollups' version it was computed at.
    version: i64,
    /// Its batches.
    pending: Vec<i64>,
    /// What it adds (none: the queue was empty).
    rows: Option<RoundRows>,
}

/// The first half of a round, on a reading connection (the writing one stays free for
/// acknowledgements): up to `max_batches` queued batches, and at most about `ROUND_EVENTS`
/// events, read and applied to the cache (after replaying the batches applied since the
/// checkpoint when the cache cannot be trusted). [`write_round`] writes it.
pub(super) fn prepare_round(
    conn: &mut rusqlite::Connection,
    cache: &mut RollupCache,
    handoff: &Handoff,
    window_ms: i64,
    max_batches: usize,
) -> Result<Prepared, StoreError> {
    let tx = conn.transaction().map_err(backend)?;
    let version: i64 = tx
        .query_row(sql::ROLLUP_VERSION, [], |r| r.get(0))
        .map_err(backend)?;
    let valid = cache.begin(version as u64);
    if cache.needs_segments() {
        let mut stmt = tx.prepare_cached(sql::SEGMENT_SUBJECTS).map_err(backend)?;
        let segments = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(backend)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(backend)?;
        cache.load_segments(segments);
    }
    if !valid {
        // What waits in the hand-off may have been applied by another store on this file.
        handoff.clear();
        // Batches applied since the checkpoint are in the rollups but not in the records.
        let applied = applied_since_checkpoint(&tx).map_err(backend)?;
        let batches = events_of(&tx, &applied, None, &cache.program()).map_err(backend)?;
        load_units(&tx, cache, &batches)?;
        cache.replay(&batches, window_ms);
    }
    let backfill = recompute_metrics(&tx, cache, window_ms)?;
    let pending = queue(&tx, max_batches).map_err(backend)?;
    let mut rows = if pending.is_empty() {
        None
    } else {
        let batches = events_of(&tx, &pending, Some(handoff), &cache.program()).map_err(backend)?;
        load_units(&tx, cache, &batches)?;
        Some(cache.round(&batches, window_ms))
    };
    if let Some((writes, recomputed)) = backfill {
        let rows = rows.get_or_insert_with(RoundRows::default);
        rows.metrics.extend(recomputed.metrics);
        rows.sketches.extend(recomputed.sketches);
        rows.experiments
            .extend(writes.recomputed.iter().map(|(e, _, _)| e.clone()));
        rows.backfill = writes;
    }
    tx.commit().map_err(backend)?;
    Ok(Prepared {
        version,
        pending,
        rows,
    })
}

/// The second half of a round, on the writing connection: its rollup rows and first
/// exposures, its batches marked applied, and a checkpoint of the unit records when one is
/// due, in one transaction (see `EventStore::apply_rollups` and `crate::store::unit_state`).
/// When the rollups moved on since it was prepared (another store on the same file applied
/// batches), nothing is written and the cache starts over next time.
pub(super) fn write_round(
    conn: &mut rusqlite::Connection,
    cache: &mut RollupCache,
    round: Prepared,
) -> Result<Applied, StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(backend)?;
    let version: i64 = tx
        .query_row(sql::ROLLUP_VERSION, [], |r| r.get(0))
        .map_err(backend)?;
    if version != round.version {
        return Ok(Applied::default());
    }
    let checkpoint = cache.checkpoint_due(round.pending.is_empty());
    let mut applied = Applied {
        version: version as u64,
        ..Applied::default()
    };
    if let Some(rows) = round.rows {
        write(&tx, &rows).map_err(backend)?;
        let mut position = tx
            .prepare_cached("INSERT INTO applied_batches (batch) VALUES (?1) RETURNING position")
            .map_err(backend)?;
        let mut mark = tx
            .prepare_cached("UPDATE pending_batches SET applied = ?2 WHERE batch = ?1")
            .map_err(backend)?;
        for &batch in &round.pending {
            let at: i64 = position.query_row([batch], |r| r.get(0)).map_err(backend)?;
            mark.execute([batch, at]).map_err(backend)?;
        }
        applied.version = tx
            .query_row(sql::NEXT_ROLLUP_VERSION, [], |r| r.get::<_, i64>(0))
            .map_err(backend)? as u64;
        applied.batches = round.pending.len();
        applied.experiments = rows.experiments;
    }
    if checkpoint {
        applied.experiments.extend(cache.take_unchecked());
        let mut put = tx
            .prepare_cached(
                "INSERT INTO unit_state (unit_id, state) VALUES (?1, ?2)
                 ON CONFLICT DO UPDATE SET state = excluded.state",
            )
            .map_err(backend)?;
        for (unit_id, record) in cache.dirty_records() {
            put.execute(params![unit_id, record]).map_err(backend)?;
        }
        tx.execute(sql::DROP_CHECKPOINTED, []).map_err(backend)?;
    }
    tx.commit().map_err(backend)?;
    cache.committed(applied.version, checkpoint);
    Ok(applied)
}

/// Recomputes the derived metrics the program asks for and the rollups do not hold
/// (`crate::store::backfill`): reads every applied event of their experiments' units,
/// recomputes, and hands the units' values to the cache. Answers what the round writes.
fn recompute_metrics(
    tx: &rusqlite::Transaction<'_>,
    cache: &mut RollupCache,
    window_ms: i64,
) -> Result<Option<(backfill::Writes, backfill::Recomputed)>, StoreError> {
    let program = cache.program();
    let known = {
        let mut stmt = tx.prepare_cached(sql::KNOWN_METRIC_ROWS).map_err(backend)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<std::collections::BTreeSet<backfill::Pair>>>()
            .map_err(backend)?
    };
    let plan = backfill::plan(&program, &known);
    if plan == backfill::Plan::default() {
        return Ok(None);
    }
    let since_ms: Option<i64> = tx
        .query_row(sql::RETENTION_CUTOFF, [], |r| r.get(0))
        .optional()
        .map_err(backend)?;
    let mut batches = Vec::new();
    if !plan.missing.is_empty() {
        let mut stmt = tx
            .prepare_cached(
                "SELECT e.batch, e.message_id, e.time_ms, e.kind, e.unit_id, e.experiment,
                        e.variant, e.metric, e.value, e.properties
                 FROM events e JOIN applied_batches a ON a.batch = e.batch
                 WHERE e.unit_id IN (SELECT unit_id FROM exposures WHERE experiment = ?1)
                 ORDER BY a.position, e.seq",
            )
            .map_err(backend)?;
        // One pass per experiment, then in applied order across them (a unit's events once).
        let mut all = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for experiment in plan.experiments() {
            let rows = stmt
                .query_map([&experiment], super::events::event_row)
                .map_err(backend)?;
            for row in rows {
                let (batch, event) = row.map_err(backend)?;
                let key = (batch, event.message_id.clone(), event.time.unix_millis());
                if seen.insert(key) {
                    all.push((batch, event));
                }
            }
        }
        batches = crate::store::by_applied_order(all, &applied_positions(tx)?);
        let mut first = Vec::new();
        let mut stmt = tx
            .prepare_cached(
                "SELECT experiment, unit_id, variant, first_ms FROM exposures WHERE experiment = ?1",
            )
            .map_err(backend)?;
        for experiment in plan.experiments() {
            let rows = stmt
                .query_map([&experiment], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .map_err(backend)?;
            for row in rows {
                first.push(row.map_err(backend)?);
            }
        }
        batches = backfill::with_exposures(batches, first);
    }
    let recomputed = cache.recompute(&program, &plan.missing, &batches, window_ms);
    load_units(tx, cache, &batches)?;
    cache.absorb(&recomputed);
    let writes = cache.writes(&program, plan, since_ms);
    Ok(Some((writes, recomputed)))
}

/// Each applied batch's position in the order batches were applied.
fn applied_positions(
    tx: &rusqlite::Transaction<'_>,
) -> Result<std::collections::HashMap<i64, i64>, StoreError> {
    let mut stmt = tx
        .prepare_cached("SELECT batch, position FROM applied_batches")
        .map_err(backend)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(backend)?;
    rows.collect::<rusqlite::Result<_>>().map_err(backend)
}

/// Reads the stored records of the units of `batches` the cache does not hold.
fn load_units(
    tx: &rusqlite::Transaction<'_>,
    cache: &mut RollupCache,
    batches: &[Vec<Event>],
) -> Result<(), StoreError> {
    let mut read = tx
        .prepare_cached("SELECT state FROM unit_state WHERE unit_id = ?1")
        .map_err(backend)?;
    for unit in cache.missing(batches) {
        let record: Option<Vec<u8>> = read
            .query_row([&unit], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        if let Some(record) = record {
            cache.load(unit, &record).map_err(backend)?;
        }
    }
    Ok(())
}

/// The oldest batches waiting: up to `max_batches`, while they add up to at most
/// `ROUND_EVENTS` events (the first one whatever its size).
fn queue(tx: &rusqlite::Transaction<'_>, max_batches: usize) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = tx.prepare_cached(sql::ROLLUP_QUEUE)?;
    let queued = stmt
        .query_map([i64::try_from(max_batches).unwrap_or(i64::MAX)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(round_batches(queued, ROUND_EVENTS))
}

/// The batches applied since the last checkpoint, in the order they were applied.
fn applied_since_checkpoint(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = tx.prepare_cached(
        "SELECT batch FROM pending_batches WHERE applied IS NOT NULL ORDER BY applied",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// The events of `batches`, each batch's in batch order: from the hand-off when given and
/// there, else from the store.
fn events_of(
    tx: &rusqlite::Transaction<'_>,
    batches: &[i64],
    handoff: Option<&Handoff>,
    program: &Program,
) -> rusqlite::Result<Vec<Vec<Event>>> {
    batches
        .iter()
        .map(|&b| match handoff.and_then(|h| h.take(b)) {
            Some(events) => Ok(events),
            None => batch_events(tx, b, program),
        })
        .collect()
}

/// What the rollups need of a stored batch's events, in batch order: the properties of the
/// events a metric of `program` reads them of.
fn batch_events(
    tx: &rusqlite::Transaction<'_>,
    batch: i64,
    program: &Program,
) -> rusqlite::Result<Vec<Event>> {
    let mut stmt = tx.prepare_cached(
        "SELECT time_ms, kind, unit_id, experiment, variant, metric, value, properties
         FROM events WHERE batch = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([batch], |r| {
        let metric: Option<String> = r.get(5)?;
        // An exposure's properties are its dimension values.
        let read = match &metric {
            Some(name) => program.needs_properties(name),
            None => true,
        };
        let properties = if read {
            r.get_ref(7)?
                .as_str_or_null()?
                .and_then(|p| serde_json::from_str(p).ok())
        } else {
            None
        };
        let stored = StoredEvent {
            batch,
            message_id: String::new(),
            unit_id: r.get(2)?,
            time_ms: r.get(0)?,
            exposure: r.get_ref(1)?.as_str()? == "exposure",
            experiment: r.get(3)?,
            variant: r.get(4)?,
            metric,
            value: r.get(6)?,
            properties,
        };
        Ok(stored.into_event().1)
    })?;
    rows.collect()
}

/// Writes what the round changed: each row once.
fn write(tx: &rusqlite::Transaction<'_>, rows: &RoundRows) -> rusqlite::Result<()> {
    // Recomputed metrics: their old rows go before the new ones are added.
    let mut delete_rows = tx.prepare_cached(sql::DELETE_METRIC_ROLLUPS)?;
    let mut delete_hourly = tx.prepare_cached(sql::DELETE_METRIC_ROLLUPS_HOURLY)?;
    let mut delete_sketches = tx.prepare_cached(sql::DELETE_SKETCH_ROLLUPS)?;
    let mut delete_daily = tx.prepare_cached(sql::DELETE_SKETCH_ROLLUPS_DAILY)?;
    let mut remember = tx.prepare_cached(sql::REMEMBER_METRIC_ROWS)?;
    for (experiment, id, row_ids) in &rows.backfill.recomputed {
        for name in rows.backfill.names_of(experiment) {
            for row in row_ids {
                delete_rows.execute(params![name, row])?;
                delete_hourly.execute(params![name, row])?;
            }
            delete_sketches.execute(params![name, id])?;
            delete_daily.execute(params![name, id])?;
        }
        remember.execute(params![experiment, id, rows.backfill.since_ms])?;
    }
    let mut subject = tx.prepare_cached(sql::ADD_SEGMENT_SUBJECT)?;
    for (experiment, dimension, value) in &rows.subjects {
        subject.execute(params![experiment, dimension, value])?;
    }
    let mut forget = tx.prepare_cached(sql::FORGET_METRIC_ROWS)?;
    for (experiment, id) in &rows.backfill.stale {
        forget.execute(params![experiment, id])?;
    }
    let mut first = tx.prepare_cached(
        "INSERT OR IGNORE INTO exposures (experiment, unit_id, variant, first_ms)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (experiment, unit, variant, first_ms) in &rows.first_exposures {
        first.execute(params![experiment, unit, variant, first_ms])?;
    }
    // Each row in its own tier and added up into the coarser one (`tiers`): the minute tier's
    // sketch rows are per hour, the day tier's per day.
    let (minutes, hours, days) = (
        Tier::of(60_000),
        Tier::of(tiers::HOUR_MS),
        Tier::of(tiers::DAY_MS),
    );
    write_exposures(tx, minutes, &rows.exposures)?;
    write_exposures(tx, hours, &tiers::exposures_by_hour(&rows.exposures))?;
    write_metrics(tx, minutes, &rows.metrics)?;
    write_metrics(tx, hours, &tiers::metrics_by_hour(&rows.metrics))?;
    write_sketches(tx, minutes, &rows.sketches)?;
    write_sketches(tx, days, &tiers::sketches_by_day(&rows.sketches))?;
    Ok(())
}

/// Adds units first exposed per (experiment, variant, time) to the tier's exposure rows.
fn write_exposures(
    tx: &rusqlite::Transaction<'_>,
    tier: Tier,
    rows: &[crate::store::unit_state::ExposureRow],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO {} (experiment, variant, {}, units) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO UPDATE SET units = units + excluded.units",
        tier.exposures(),
        tier.time()
    ))?;
    for ((experiment, variant, time), units) in rows {
        stmt.execute(params![experiment, variant, time, *units as i64])?;
    }
    Ok(())
}

/// Adds metric rows per (experiment, variant, metric, time) to the tier's metric rows.
fn write_metrics(
    tx: &rusqlite::Transaction<'_>,
    tier: Tier,
    rows: &[crate::store::unit_state::MetricRow],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO {} (experiment, variant, metric, {}, events, units, sum, sum_squares,
                         covariate_sum, covariate_squares, cross_sum)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT DO UPDATE SET events = events + excluded.events,
             units = units + excluded.units, sum = sum + excluded.sum,
             sum_squares = sum_squares + excluded.sum_squares,
             covariate_sum = covariate_sum + excluded.covariate_sum,
             covariate_squares = covariate_squares + excluded.covariate_squares,
             cross_sum = cross_sum + excluded.cross_sum",
        tier.metrics(),
        tier.time()
    ))?;
    for ((experiment, variant, metric, time), r) in rows {
        stmt.execute(params![
            experiment,
            variant,
            metric,
            time,
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

/// Adds sketch counts per (experiment, variant, metric, time, bucket) to the tier's sketch
/// rows.
fn write_sketches(
    tx: &rusqlite::Transaction<'_>,
    tier: Tier,
    rows: &[(crate::store::unit_state::SketchKey, i64)],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO {} (experiment, variant, metric, {}, bucket, count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET count = count + excluded.count",
        tier.sketches(),
        tier.sketch_time()
    ))?;
    for ((experiment, variant, metric, time, bucket), count) in rows {
        stmt.execute(params![experiment, variant, metric, time, bucket, count])?;
    }
    Ok(())
}

/// Fills `unit_state` from the per-unit tables of migrations 4 and 7 (run once, by migration
/// `UNIT_STATE`, before those tables are dropped).
pub(super) fn convert_legacy(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let mut legacy = Legacy::default();
    let mut stmt = tx.prepare(LEGACY_ROWS)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        legacy.add(
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        );
    }
    let mut insert = tx.prepare("INSERT INTO unit_state (unit_id, state) VALUES (?1, ?2)")?;
    for (unit_id, record) in legacy.records() {
        insert.execute(params![unit_id, record])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::{SqliteStore, migrations};
    use crate::store::unit_state::legacy_fixture;

    /// A database written before migration 9 keeps every unit's state.
    #[tokio::test]
    async fn units_of_a_database_before_migration_9_carry_on() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        for sql in migrations::MIGRATIONS
            .iter()
            .take(migrations::UNIT_STATE - 1)
        {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(legacy_fixture::ROWS).unwrap();
        let tx = conn.transaction().unwrap();
        tx.pragma_update(None, "user_version", (migrations::UNIT_STATE - 1) as i64)
            .unwrap();
        tx.commit().unwrap();
        legacy_fixture::units_carry_on(&SqliteStore::init(conn).unwrap()).await;
    }
}

#[cfg(test)]
mod replay_tests {
    #![allow(clippy::unwrap_used)]
    use super::super::SqliteStore;
    use crate::store::{EventBatch, EventStore};
    use litmus_core::Timestamp;
    use litmus_core::events::{Event, EventKind, Rollups};

    fn event(i: usize, unit: usize, ms: i64) -> Event {
        let kind = if i % 3 == 0 {
            EventKind::Exposure {
                experiment: format!("e{}", i % 2),
                variant: format!("v{}", unit % 2),
                dimensions: Vec::new(),
            }
        } else {
            EventKind::Track {
                event: format!("m{}", i % 2),
                value: (i % 5) as f64,
                properties: None,
            }
        };
        Event {
            message_id: format!("m{i}"),
            unit_id: format!("u{unit}"),
            time: Timestamp::from_unix_millis(ms),
            client_time: None,
            kind,
        }
    }

    /// A worker that starts over (here: the server restarted) between checkpoints replays the
    /// batches applied since the last one into its unit states, and carries on exactly.
    #[tokio::test]
    async fn a_new_worker_replays_the_batches_since_the_checkpoint() {
        let dir = std::env::temp_dir().join(format!("litmus-replay-{}", std::process::id()));
        let path = dir.join("litmus.db");
        let _ = std::fs::remove_dir_all(&dir);
        let batches: Vec<Vec<Event>> = (0..6)
            .map(|b| {
                (0..40)
                    .map(|i| event(b * 40 + i, (b * 7 + i) % 9, 60_000 * b as i64 + i as i64))
                    .collect()
            })
            .collect();
        let store = SqliteStore::open(&path).unwrap();
        for events in &batches {
            store
                .ingest(EventBatch {
                    events: events.clone(),
                    received_ms: 0,
                })
                .await
                .unwrap();
        }
        // Three batches one at a time: the queue is not empty, so no checkpoint.
        for _ in 0..3 {
            assert_eq!(store.apply_rollups(i64::MAX, 1).await.unwrap().batches, 1);
        }
        let waiting = store.rollup_backlog().await.unwrap();
        assert_eq!(waiting.batches, 3);
        drop(store);
        let store = SqliteStore::open(&path).unwrap();
        while store.apply_rollups(i64::MAX, 2).await.unwrap().batches > 0 {}
        let mut reference = Rollups::new(i64::MAX);
        for events in &batches {
            reference.apply(events);
        }
        let tables = store.rollups().await.unwrap();
        assert_eq!(tables.exposures, reference.exposures);
        assert_eq!(
            tables.metrics.keys().collect::<Vec<_>>(),
            reference.metrics.keys().collect::<Vec<_>>()
        );
        for (k, r) in &tables.metrics {
            let want = reference.metrics[k];
            assert_eq!((r.events, r.units), (want.events, want.units), "{k:?}");
            assert!((r.sum_squares - want.sum_squares).abs() < 1e-9, "{k:?}");
            assert!((r.cross - want.cross).abs() < 1e-9, "{k:?}");
            assert!((r.covariate_sum - want.covariate_sum).abs() < 1e-9, "{k:?}");
        }
        // The queue drained, a checkpoint was taken: nothing is kept for replay.
        let kept: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("SELECT count(*) FROM pending_batches", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
