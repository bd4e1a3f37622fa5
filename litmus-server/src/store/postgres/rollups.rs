//! Core's rollup rules applied to a round of queued batches on PostgreSQL, over each unit's
//! state record (`crate::store::unit_state`): the round's rows are decoded from the queue
//! (`pending_batches.rows`, written at ingestion), its units read at once (those the worker's
//! cache does not hold), the batches applied in memory, and the new first exposures and
//! rollup rows written by set-based statements, in the transaction that takes the batches off
//! the queue. An advisory lock lets one instance apply at a time.

use litmus_core::events::Event;
use litmus_core::metrics::Program;

use super::{PostgresStore, backend};
use crate::store::backfill;
use crate::store::rollup_rows;
use crate::store::tiers::{self, Tier};
use crate::store::unit_state::{RollupCache, RoundRows, round_batches};
use crate::store::{Applied, StoreError, StoredEvent, sql};

/// The advisory lock held by the one instance applying rollups.
const ROLLUP_LOCK: i64 = 0x6c69_746d_7573_0001;

/// The most events a round takes (at least one batch, whatever its size): acknowledgements do
/// not wait for a round here, and under a heavy load each statement of the worker waits for a
/// core, so a round that is behind takes a lot at once.
const ROUND_EVENTS: u64 = 200_000;

/// Applies up to `max_batches` queued batches, and at most about `ROUND_EVENTS` events, and
/// takes a checkpoint of the unit records when one is due (see `EventStore::apply_rollups` and
/// `crate::store::unit_state`).
pub(super) async fn apply_rollups(
    store: &PostgresStore,
    window_ms: i64,
    max_batches: usize,
) -> Result<Applied, StoreError> {
    let mut client = store.rollup_client().await?;
    let tx = client.transaction().await.map_err(backend)?;
    let mine: bool = tx
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&ROLLUP_LOCK])
        .await
        .map_err(backend)?
        .get(0);
    if !mine {
        return Ok(Applied::default());
    }
    let mut cache = store.rollup_cache.lock().await;
    // Read after the lock is held (a statement's snapshot is taken when it starts): what
    // another instance committed before releasing it is seen.
    let version: i64 = tx
        .query_one(sql::ROLLUP_VERSION, &[])
        .await
        .map_err(backend)?
        .get(0);
    let valid = cache.begin(version as u64);
    if cache.needs_segments() {
        let segments = tx
            .query(sql::SEGMENT_SUBJECTS, &[])
            .await
            .map_err(backend)?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        cache.load_segments(segments);
    }
    if !valid {
        // What waits in the hand-off may have been applied by another instance.
        store.handoff.clear();
        // Batches applied since the checkpoint are in the rollups but not in the records.
        let rows = tx
            .query(
                "SELECT batch, min_ms, max_ms, rows FROM pending_batches
                 WHERE applied IS NOT NULL ORDER BY applied",
                &[],
            )
            .await
            .map_err(backend)?;
        let batches = events_of(&tx, &rows, &cache.program()).await?;
        load_units(&tx, &mut cache, &batches).await?;
        cache.replay(&batches, window_ms);
    }
    let backfill = recompute_metrics(&tx, &mut cache, window_ms).await?;
    let pending = queue(&tx, max_batches).await?;
    let checkpoint = cache.checkpoint_due(pending.is_empty());
    if pending.is_empty() && !checkpoint && backfill.is_none() {
        tx.commit().await.map_err(backend)?;
        cache.committed(version as u64, false);
        return Ok(Applied::default());
    }
    let mut applied = Applied {
        version: version as u64,
        ..Applied::default()
    };
    let mut round = None;
    if !pending.is_empty() {
        // From the hand-off what is there, the others from the queue.
        let mut handed: Vec<Option<Vec<Event>>> =
            pending.iter().map(|&b| store.handoff.take(b)).collect();
        let unread: Vec<i64> = pending
            .iter()
            .zip(&handed)
            .filter(|(_, h)| h.is_none())
            .map(|(b, _)| *b)
            .collect();
        let rows = if unread.is_empty() {
            Vec::new()
        } else {
            tx.query(
                "SELECT batch, min_ms, max_ms, rows FROM pending_batches
                 WHERE batch = ANY($1) ORDER BY batch",
                &[&unread],
            )
            .await
            .map_err(backend)?
        };
        let mut read = events_of(&tx, &rows, &cache.program()).await?.into_iter();
        let batches: Vec<Vec<Event>> = handed
            .iter_mut()
            .map(|h| h.take().or_else(|| read.next()).unwrap_or_default())
            .collect();
        load_units(&tx, &mut cache, &batches).await?;
        round = Some(cache.round(&batches, window_ms));
    }
    if let Some((writes, recomputed)) = backfill {
        let rows = round.get_or_insert_with(RoundRows::default);
        rows.metrics.extend(recomputed.metrics);
        rows.sketches.extend(recomputed.sketches);
        rows.experiments
            .extend(writes.recomputed.iter().map(|(e, _, _)| e.clone()));
        rows.backfill = writes;
    }
    if let Some(round) = round {
        write(&tx, &round).await?;
        tx.execute(
            "WITH a AS (
                 INSERT INTO applied_batches (batch)
                 SELECT b FROM unnest($1::bigint[]) WITH ORDINALITY AS t (b, o) ORDER BY o
                 RETURNING batch, position)
             UPDATE pending_batches p SET applied = a.position FROM a WHERE p.batch = a.batch",
            &[&pending],
        )
        .await
        .map_err(backend)?;
        let v: i64 = tx
            .query_one(sql::NEXT_ROLLUP_VERSION, &[])
            .await
            .map_err(backend)?
            .get(0);
        applied.version = v as u64;
        applied.batches = pending.len();
        applied.experiments = round.experiments;
    }
    // Re-evaluated: this round may have made the dirty units' limit.
    let checkpoint = cache.checkpoint_due(pending.is_empty());
    if checkpoint {
        applied.experiments.extend(cache.take_unchecked());
        let records = cache.dirty_records();
        let (units, states): (Vec<&str>, Vec<&[u8]>) =
            records.iter().map(|(u, r)| (*u, r.as_slice())).unzip();
        tx.execute(
            "INSERT INTO unit_state (unit_id, state) SELECT * FROM unnest($1::text[], $2::bytea[])
             ON CONFLICT (unit_id) DO UPDATE SET state = excluded.state",
            &[&units, &states],
        )
        .await
        .map_err(backend)?;
        tx.execute(sql::DROP_CHECKPOINTED, &[])
            .await
            .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)?;
    cache.committed(applied.version, checkpoint);
    Ok(applied)
}

/// The oldest batches waiting: up to `max_batches`, while they add up to at most
/// `ROUND_EVENTS` events (the first one whatever its size).
async fn queue(
    tx: &deadpool_postgres::Transaction<'_>,
    max_batches: usize,
) -> Result<Vec<i64>, StoreError> {
    let limit = i64::try_from(max_batches).unwrap_or(i64::MAX);
    let rows = tx
        .query(sql::ROLLUP_QUEUE, &[&limit])
        .await
        .map_err(backend)?;
    Ok(round_batches(
        rows.iter().map(|r| (r.get(0), r.get(1))),
        ROUND_EVENTS,
    ))
}

/// The events of queued batches (rows of `batch, min_ms, max_ms, rows`), each in batch order:
/// decoded from the rows written at ingestion, or, for batches queued before migration 3,
/// read from the events.
async fn events_of(
    tx: &deadpool_postgres::Transaction<'_>,
    rows: &[tokio_postgres::Row],
    program: &Program,
) -> Result<Vec<Vec<Event>>, StoreError> {
    let mut batches = Vec::with_capacity(rows.len());
    for row in rows {
        let events = match row.get::<_, Option<&[u8]>>(3) {
            Some(payload) => rollup_rows::decode(payload, program).map_err(backend)?,
            None => {
                let (batch, min_ms, max_ms): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
                stored_batch(tx, batch, min_ms, max_ms, program).await?
            }
        };
        batches.push(events);
    }
    Ok(batches)
}

/// Batch `batch`'s events (between `min_ms` and `max_ms`) read from the hypertable.
async fn stored_batch(
    tx: &deadpool_postgres::Transaction<'_>,
    batch: i64,
    min_ms: i64,
    max_ms: i64,
    program: &Program,
) -> Result<Vec<Event>, StoreError> {
    let rows = tx
        .query(
            "SELECT (extract(epoch FROM time) * 1000)::bigint, kind, unit_id, experiment,
                    variant, metric, value, properties
             FROM events
             WHERE batch = $1 AND time >= to_timestamp($2::bigint / 1000.0)
               AND time <= to_timestamp($3::bigint / 1000.0)
             ORDER BY seq",
            &[&batch, &min_ms, &max_ms],
        )
        .await
        .map_err(backend)?;
    Ok(rows
        .iter()
        .map(|r| {
            let metric: Option<String> = r.get(5);
            let properties = match &metric {
                Some(name) if program.needs_properties(name) => {
                    match r.get::<_, Option<serde_json::Value>>(7) {
                        Some(serde_json::Value::Object(map)) => Some(map),
                        _ => None,
                    }
                }
                _ => None,
            };
            let stored = StoredEvent {
                batch,
                message_id: String::new(),
                unit_id: r.get(2),
                time_ms: r.get(0),
                exposure: r.get::<_, i16>(1) == 0,
                experiment: r.get(3),
                variant: r.get(4),
                metric,
                value: r.get(6),
                properties,
            };
            stored.into_event().1
        })
        .collect())
}

/// Reads the stored records of the units of `batches` the cache does not hold, at once.
async fn load_units(
    tx: &deadpool_postgres::Transaction<'_>,
    cache: &mut RollupCache,
    batches: &[Vec<Event>],
) -> Result<(), StoreError> {
    let missing = cache.missing(batches);
    if missing.is_empty() {
        return Ok(());
    }
    let rows = tx
        .query(
            "SELECT unit_id, state FROM unit_state WHERE unit_id = ANY($1)",
            &[&missing],
        )
        .await
        .map_err(backend)?;
    for row in rows {
        cache
            .load(row.get(0), row.get::<_, &[u8]>(1))
            .map_err(backend)?;
    }
    Ok(())
}

/// Recomputes the derived metrics the program asks for and the rollups do not hold
/// (`crate::store::backfill`): reads every applied event of their experiments' units,
/// recomputes, and hands the units' values to the cache. Answers what the round writes.
async fn recompute_metrics(
    tx: &deadpool_postgres::Transaction<'_>,
    cache: &mut RollupCache,
    window_ms: i64,
) -> Result<Option<(backfill::Writes, backfill::Recomputed)>, StoreError> {
    let program = cache.program();
    let known: std::collections::BTreeSet<backfill::Pair> = tx
        .query(sql::KNOWN_METRIC_ROWS, &[])
        .await
        .map_err(backend)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let plan = backfill::plan(&program, &known);
    if plan == backfill::Plan::default() {
        return Ok(None);
    }
    let since_ms: Option<i64> = tx
        .query_opt(sql::RETENTION_CUTOFF, &[])
        .await
        .map_err(backend)?
        .map(|r| r.get(0));
    let mut batches = Vec::new();
    if !plan.missing.is_empty() {
        let rows = tx
            .query(
                "SELECT e.batch, e.message_id, (extract(epoch FROM e.time) * 1000)::bigint, e.kind,
                        e.unit_id, e.experiment, e.variant, e.metric, e.value, e.properties
                 FROM events e JOIN applied_batches a ON a.batch = e.batch
                 WHERE e.unit_id IN (SELECT unit_id FROM exposures WHERE experiment = ANY($1))
                 ORDER BY a.position, e.seq",
                &[&plan.experiments()],
            )
            .await
            .map_err(backend)?;
        batches = crate::store::by_batch(rows.iter().map(super::events::event_row));
        let first = tx
            .query(
                "SELECT experiment, unit_id, variant, first_ms FROM exposures
                 WHERE experiment = ANY($1)",
                &[&plan.experiments()],
            )
            .await
            .map_err(backend)?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        batches = backfill::with_exposures(batches, first);
    }
    let recomputed = cache.recompute(&program, &plan.missing, &batches, window_ms);
    load_units(tx, cache, &batches).await?;
    cache.absorb(&recomputed);
    let writes = cache.writes(&program, plan, since_ms);
    Ok(Some((writes, recomputed)))
}

/// Writes what the round added: new first exposures and rollup rows, each once (after
/// deleting the old rows of the metrics it recomputed).
async fn write(
    tx: &deadpool_postgres::Transaction<'_>,
    round: &RoundRows,
) -> Result<(), StoreError> {
    for (experiment, id, row_ids) in &round.backfill.recomputed {
        for name in round.backfill.names_of(experiment) {
            for row in row_ids {
                for delete in [
                    sql::DELETE_METRIC_ROLLUPS,
                    sql::DELETE_METRIC_ROLLUPS_HOURLY,
                ] {
                    tx.execute(delete, &[&name, row]).await.map_err(backend)?;
                }
            }
            for delete in [sql::DELETE_SKETCH_ROLLUPS, sql::DELETE_SKETCH_ROLLUPS_DAILY] {
                tx.execute(delete, &[&name, id]).await.map_err(backend)?;
            }
        }
        tx.execute(
            sql::REMEMBER_METRIC_ROWS,
            &[experiment, id, &round.backfill.since_ms],
        )
        .await
        .map_err(backend)?;
    }
    for (experiment, dimension, value) in &round.subjects {
        tx.execute(sql::ADD_SEGMENT_SUBJECT, &[experiment, dimension, value])
            .await
            .map_err(backend)?;
    }
    for (experiment, id) in &round.backfill.stale {
        tx.execute(sql::FORGET_METRIC_ROWS, &[experiment, id])
            .await
            .map_err(backend)?;
    }
    if !round.first_exposures.is_empty() {
        let mut columns: (Vec<&str>, Vec<&str>, Vec<&str>, Vec<i64>) = Default::default();
        for (experiment, unit, variant, first_ms) in &round.first_exposures {
            columns.0.push(experiment);
            columns.1.push(unit);
            columns.2.push(variant);
            columns.3.push(*first_ms);
        }
        tx.execute(
            "INSERT INTO exposures (experiment, unit_id, variant, first_ms)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
             ON CONFLICT DO NOTHING",
            &[&columns.0, &columns.1, &columns.2, &columns.3],
        )
        .await
        .map_err(backend)?;
    }
    // Each row in its own tier and added up into the coarser one (`tiers`): the minute tier's
    // sketch rows are per hour, the day tier's per day.
    let (minutes, hours, days) = (
        Tier::of(60_000),
        Tier::of(tiers::HOUR_MS),
        Tier::of(tiers::DAY_MS),
    );
    write_exposures(tx, minutes, &round.exposures).await?;
    write_exposures(tx, hours, &tiers::exposures_by_hour(&round.exposures)).await?;
    write_metrics(tx, minutes, &round.metrics).await?;
    write_metrics(tx, hours, &tiers::metrics_by_hour(&round.metrics)).await?;
    write_sketches(tx, minutes, &round.sketches).await?;
    write_sketches(tx, days, &tiers::sketches_by_day(&round.sketches)).await?;
    Ok(())
}

/// Adds units first exposed per (experiment, variant, time) to the tier's exposure rows.
async fn write_exposures(
    tx: &deadpool_postgres::Transaction<'_>,
    tier: Tier,
    rows: &[crate::store::unit_state::ExposureRow],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut columns: (Vec<&str>, Vec<&str>, Vec<i64>, Vec<i64>) = Default::default();
    for ((experiment, variant, time), units) in rows {
        columns.0.push(experiment);
        columns.1.push(variant);
        columns.2.push(*time);
        columns.3.push(*units as i64);
    }
    let sql = format!(
        "INSERT INTO {} AS r (experiment, variant, {}, units)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
         ON CONFLICT (experiment, variant, {}) DO UPDATE SET units = r.units + excluded.units",
        tier.exposures(),
        tier.time(),
        tier.time()
    );
    tx.execute(&sql, &[&columns.0, &columns.1, &columns.2, &columns.3])
        .await
        .map_err(backend)?;
    Ok(())
}

/// Adds metric rows per (experiment, variant, metric, time) to the tier's metric rows.
async fn write_metrics(
    tx: &deadpool_postgres::Transaction<'_>,
    tier: Tier,
    rows: &[crate::store::unit_state::MetricRow],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut keys: (Vec<&str>, Vec<&str>, Vec<&str>, Vec<i64>) = Default::default();
    let mut counts: (Vec<i64>, Vec<i64>) = Default::default();
    let mut sums: [Vec<f64>; 5] = Default::default();
    for ((experiment, variant, metric, time), r) in rows {
        keys.0.push(experiment);
        keys.1.push(variant);
        keys.2.push(metric);
        keys.3.push(*time);
        counts.0.push(r.events as i64);
        counts.1.push(r.units as i64);
        let [sum, squares, covariates, covariate_squares, cross] = &mut sums;
        sum.push(r.sum);
        squares.push(r.sum_squares);
        covariates.push(r.covariate_sum);
        covariate_squares.push(r.covariate_squares);
        cross.push(r.cross);
    }
    let [sum, squares, covariates, covariate_squares, cross] = &sums;
    let sql = format!(
        "INSERT INTO {} AS r (experiment, variant, metric, {}, events, units, sum, sum_squares,
                              covariate_sum, covariate_squares, cross_sum)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
             $6::bigint[], $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[])
         ON CONFLICT (experiment, variant, metric, {}) DO UPDATE SET
             events = r.events + excluded.events, units = r.units + excluded.units,
             sum = r.sum + excluded.sum, sum_squares = r.sum_squares + excluded.sum_squares,
             covariate_sum = r.covariate_sum + excluded.covariate_sum,
             covariate_squares = r.covariate_squares + excluded.covariate_squares,
             cross_sum = r.cross_sum + excluded.cross_sum",
        tier.metrics(),
        tier.time(),
        tier.time()
    );
    tx.execute(
        &sql,
        &[
            &keys.0,
            &keys.1,
            &keys.2,
            &keys.3,
            &counts.0,
            &counts.1,
            sum,
            squares,
            covariates,
            covariate_squares,
            cross,
        ],
    )
    .await
    .map_err(backend)?;
    Ok(())
}

/// Adds sketch counts per (experiment, variant, metric, time, bucket) to the tier's sketch
/// rows.
async fn write_sketches(
    tx: &deadpool_postgres::Transaction<'_>,
    tier: Tier,
    rows: &[(crate::store::unit_state::SketchKey, i64)],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut keys: (Vec<&str>, Vec<&str>, Vec<&str>, Vec<i64>) = Default::default();
    let (mut buckets, mut counts): (Vec<i32>, Vec<i64>) = Default::default();
    for ((experiment, variant, metric, time, bucket), count) in rows {
        keys.0.push(experiment);
        keys.1.push(variant);
        keys.2.push(metric);
        keys.3.push(*time);
        buckets.push(*bucket);
        counts.push(*count);
    }
    let sql = format!(
        "INSERT INTO {} AS r (experiment, variant, metric, {}, bucket, count)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::int[],
             $6::bigint[])
         ON CONFLICT (experiment, variant, metric, {}, bucket)
             DO UPDATE SET count = r.count + excluded.count",
        tier.sketches(),
        tier.sketch_time(),
        tier.sketch_time()
    );
    tx.execute(
        &sql,
        &[&keys.0, &keys.1, &keys.2, &keys.3, &buckets, &counts],
    )
    .await
    .map_err(backend)?;
    Ok(())
}

/// Fills `unit_state` from the per-unit tables of migrations 2 and 7 (run once, by migration
/// `UNIT_STATE`, before those tables are dropped).
pub(super) async fn convert_legacy(
    tx: &deadpool_postgres::Transaction<'_>,
) -> Result<(), StoreError> {
    use crate::store::unit_state::{LEGACY_ROWS, Legacy};
    let mut legacy = Legacy::default();
    for r in tx.query(LEGACY_ROWS, &[]).await.map_err(backend)? {
        legacy.add(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
    }
    let records = legacy.records();
    for chunk in records.chunks(10_000) {
        let (ids, states): (Vec<&str>, Vec<&[u8]>) =
            chunk.iter().map(|(u, r)| (*u, r.as_slice())).unzip();
        tx.execute(
            "INSERT INTO unit_state (unit_id, state) SELECT * FROM unnest($1::text[], $2::bytea[])",
            &[&ids, &states],
        )
        .await
        .map_err(backend)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::{PostgresStore, migrations, test_db};
    use crate::store::unit_state::legacy_fixture;

    /// A database written before migration 9 keeps every unit's state.
    #[tokio::test]
    async fn units_of_a_database_before_migration_9_carry_on() {
        let (db, before) = (&test_db::UNITS, migrations::UNIT_STATE - 1);
        let Some(url) = test_db::at_migration(db, before, &[legacy_fixture::ROWS]).await else {
            return;
        };
        let store = PostgresStore::connect(&url, 2).await.unwrap();
        legacy_fixture::units_carry_on(&store).await;
        drop(store);
        test_db::drop_database(db).await;
    }
}
