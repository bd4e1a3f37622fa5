//! The SQLite event store: raw events (each `message_id` once, committed in groups), the queue
//! of batches for the rollups, and reads of the rollups.

use litmus_core::events::{Event, EventKind};
use rusqlite::params;

use super::{SqliteStore, backend};
use crate::store::{
    Applied, Backlog, EventBatch, EventStore, Ingested, RollupTables, StoreError, StoredEvent,
    UnitOutcome, UnitRecord, by_batch, event_key, lock, sql,
};

/// A batch stored: its report, its number, and which of its events were new.
pub(super) struct StoredBatch {
    /// What the client is told.
    pub(super) report: Ingested,
    /// The batch's number.
    pub(super) number: i64,
    /// For each event of the batch, whether it was stored (not a duplicate).
    pub(super) kept: Vec<bool>,
}

/// Stores a group's batches in the open transaction, in order: each new event once (an event
/// stored by an earlier batch of the group is a duplicate for the later ones), and each batch
/// that stored any queued for the rollups under the next batch number.
pub(super) fn store_group(
    tx: &rusqlite::Transaction<'_>,
    batches: &[EventBatch],
) -> rusqlite::Result<Vec<StoredBatch>> {
    let mut number: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(batch), 0) + 1 FROM events")?
        .query_row([], |r| r.get(0))?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO events
             (batch, id, message_id, time_ms, received_ms, kind, unit_id, experiment, variant,
              metric, value, properties)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut queue = tx.prepare_cached(
        "INSERT INTO pending_batches (batch, events, received_ms) VALUES (?1, ?2, ?3)",
    )?;
    let mut stored_batches = Vec::with_capacity(batches.len());
    for batch in batches {
        let kept = batch
            .events
            .iter()
            .map(|e| insert_event(&mut insert, number, batch.received_ms, e))
            .collect::<rusqlite::Result<Vec<bool>>>()?;
        let stored = kept.iter().filter(|k| **k).count();
        stored_batches.push(StoredBatch {
            report: Ingested {
                stored,
                duplicates: batch.events.len() - stored,
            },
            number,
            kept,
        });
        if stored > 0 {
            queue.execute(params![number, stored as i64, batch.received_ms])?;
            number += 1;
        }
    }
    Ok(stored_batches)
}

/// Inserts one event of batch `number` unless its key is stored; whether it was new.
fn insert_event(
    insert: &mut rusqlite::CachedStatement<'_>,
    number: i64,
    received_ms: i64,
    e: &Event,
) -> rusqlite::Result<bool> {
    let t = e.time.unix_millis();
    let id = event_key(e);
    let inserted = match &e.kind {
        EventKind::Exposure {
            experiment,
            variant,
            ..
        } => insert.execute(params![
            number,
            &id[..],
            e.message_id,
            t,
            received_ms,
            "exposure",
            e.unit_id,
            experiment,
            variant,
            None::<String>,
            None::<f64>,
            crate::store::stored_extras(e)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
        ])?,
        EventKind::Track {
            event,
            value,
            properties,
        } => {
            let props = properties
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            insert.execute(params![
                number,
                &id[..],
                e.message_id,
                t,
                received_ms,
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
    Ok(inserted == 1)
}

/// The columns `event_row` reads.
const EVENT_COLUMNS: &str =
    "SELECT batch, message_id, time_ms, kind, unit_id, experiment, variant, metric,
        value, properties FROM events";

/// A stored event and its batch.
pub(super) fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Event)> {
    let kind: String = r.get(3)?;
    let properties: Option<String> = r.get(9)?;
    let stored = StoredEvent {
        batch: r.get(0)?,
        message_id: r.get(1)?,
        time_ms: r.get(2)?,
        exposure: kind == "exposure",
        unit_id: r.get(4)?,
        experiment: r.get(5)?,
        variant: r.get(6)?,
        metric: r.get(7)?,
        value: r.get(8)?,
        properties: properties.and_then(|p| serde_json::from_str(&p).ok()),
    };
    Ok(stored.into_event())
}

impl EventStore for SqliteStore {
    async fn ingest(&self, batch: EventBatch) -> Result<Ingested, StoreError> {
        self.ingest_grouped(batch).await
    }

    async fn retain(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        self.with(move |c| {
            // The deduplication keys are the events' own: they go with them. The events of
            // batches still queued (waiting, or applied since the last checkpoint, which a
            // restarted worker replays) stay until they leave the queue.
            let deleted = c
                .execute(
                    "DELETE FROM events WHERE time_ms < ?1
                     AND batch NOT IN (SELECT batch FROM pending_batches)",
                    [cutoff_ms],
                )
                .map_err(backend)?;
            // Recomputed metrics say they miss what went (`store::backfill`).
            if deleted > 0 {
                c.execute(sql::SET_RETENTION_CUTOFF, [cutoff_ms])
                    .map_err(backend)?;
            }
            Ok(deleted as u64)
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
                    "SELECT e.variant, e.first_ms, s.state
                     FROM exposures e LEFT JOIN unit_state s ON s.unit_id = e.unit_id
                     WHERE e.experiment = ?1 ORDER BY e.first_ms, e.unit_id LIMIT ?2",
                )
                .map_err(backend)?;
            let mut rows = stmt
                .query(rusqlite::params![experiment, limit])
                .map_err(backend)?;
            let mut units = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                let record: Option<Vec<u8>> = r.get(2).map_err(backend)?;
                let (events, total) =
                    crate::store::unit_state::total_of(record.as_deref(), &experiment, &metric)
                        .map_err(backend)?;
                units.push(UnitOutcome {
                    variant: r.get(0).map_err(backend)?,
                    first_ms: r.get(1).map_err(backend)?,
                    events,
                    total,
                });
            }
            Ok(units)
        })
        .await
    }

    async fn experiment_unit_records(
        &self,
        experiment: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<UnitRecord>, StoreError> {
        let experiment = experiment.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT e.unit_id, e.variant, e.first_ms, s.state
                     FROM exposures e LEFT JOIN unit_state s ON s.unit_id = e.unit_id
                     WHERE e.experiment = ?1 AND e.unit_id > ?2
                     ORDER BY e.unit_id LIMIT ?3",
                )
                .map_err(backend)?;
            let mut rows = stmt
                .query(rusqlite::params![
                    experiment,
                    after.unwrap_or_default(),
                    limit
                ])
                .map_err(backend)?;
            let mut units = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                let record: Option<Vec<u8>> = r.get(3).map_err(backend)?;
                units.push(UnitRecord {
                    unit_id: r.get(0).map_err(backend)?,
                    variant: r.get(1).map_err(backend)?,
                    first_ms: r.get(2).map_err(backend)?,
                    metrics: crate::store::unit_state::metrics_in(
                        record.as_deref(),
                        &experiment,
                        None,
                    )
                    .map_err(backend)?,
                });
            }
            Ok(units)
        })
        .await
    }

    async fn experiment_metric_values(
        &self,
        experiment: &str,
        metric: &str,
        limit: usize,
    ) -> Result<std::sync::Arc<Vec<litmus_core::results::UnitValue>>, StoreError> {
        let (experiment, metric) = (experiment.to_owned(), metric.to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let cache = self.values.clone();
        self.with(move |c| {
            let version = c
                .query_row(sql::RECORDS_VERSION, [], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })
                .map_err(backend)?;
            if let Some(values) = cache.get(&experiment, &metric, version) {
                return Ok(values);
            }
            let mut stmt = c
                .prepare_cached(
                    "SELECT e.variant, e.first_ms, s.state
                     FROM exposures e LEFT JOIN unit_state s ON s.unit_id = e.unit_id
                     WHERE e.experiment = ?1 LIMIT ?2",
                )
                .map_err(backend)?;
            let mut rows = stmt
                .query(rusqlite::params![experiment, limit])
                .map_err(backend)?;
            let mut units = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                let record = r
                    .get_ref(2)
                    .map_err(backend)?
                    .as_blob_or_null()
                    .map_err(backend)?;
                units.push(
                    crate::store::unit_state::unit_value(
                        record,
                        &experiment,
                        &metric,
                        r.get(0).map_err(backend)?,
                        r.get(1).map_err(backend)?,
                    )
                    .map_err(backend)?,
                );
            }
            let units = std::sync::Arc::new(units);
            cache.put(&experiment, &metric, version, std::sync::Arc::clone(&units));
            Ok(units)
        })
        .await
    }

    async fn experiment_segments(
        &self,
        experiment: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let experiment = experiment.to_owned();
        self.with(move |c| {
            let mut stmt = c
                .prepare_cached(sql::EXPERIMENT_SEGMENTS)
                .map_err(backend)?;
            let rows = stmt
                .query_map([experiment], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }

    async fn metric_rows(
        &self,
        experiment: &str,
    ) -> Result<Vec<(String, Option<i64>)>, StoreError> {
        let experiment = experiment.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare_cached(sql::METRIC_ROWS_OF).map_err(backend)?;
            let rows = stmt
                .query_map([experiment], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
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
        // Whole hours read the hourly copies; long buckets the daily sketches (`tiers`).
        let tier = crate::store::tiers::Tier::of(bucket_ms);
        let (since, sketch_since) = (tier.since(since_ms), tier.sketch_since(since_ms));
        self.with(move |c| {
            let mut tables = RollupTables::default();
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT variant, {} - ((({} % ?2) + ?2) % ?2), sum(units) FROM {}
                     WHERE experiment = ?1 AND {} >= ?3 GROUP BY 1, 2",
                    tier.time(),
                    tier.time(),
                    tier.exposures(),
                    tier.time()
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(rusqlite::params![experiment, bucket_ms, since], |r| {
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
                    "SELECT variant, metric, {} - ((({} % ?2) + ?2) % ?2), sum(events), sum(units),
                            sum(sum), sum(sum_squares), sum(covariate_sum), sum(covariate_squares),
                            sum(cross_sum)
                     FROM {} WHERE experiment = ?1 AND {} >= ?3
                     GROUP BY 1, 2, 3",
                    tier.time(),
                    tier.time(),
                    tier.metrics(),
                    tier.time()
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(rusqlite::params![experiment, bucket_ms, since], |r| {
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
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT variant, metric, {} - ((({} % ?2) + ?2) % ?2), bucket, sum(count)
                     FROM {} WHERE experiment = ?1 AND {} >= ?3
                     GROUP BY 1, 2, 3, 4",
                    tier.sketch_time(),
                    tier.sketch_time(),
                    tier.sketches(),
                    tier.sketch_time()
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(
                    rusqlite::params![experiment, bucket_ms, sketch_since],
                    |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?), r.get(4)?)),
                )
                .map_err(backend)?;
            for row in rows {
                let ((variant, metric, time, bucket), count) = row.map_err(backend)?;
                tables
                    .sketches
                    .insert((experiment.clone(), variant, metric, time, bucket), count);
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
            let mut stmt = c
                .prepare(
                    "SELECT experiment, variant, metric, hour_ms, bucket, count
                     FROM rollup_sketches",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                        r.get(5)?,
                    ))
                })
                .map_err(backend)?;
            for row in rows {
                let (key, count) = row.map_err(backend)?;
                tables.sketches.insert(key, count);
            }
            Ok(tables)
        })
        .await
    }

    async fn rollup_version(&self) -> Result<u64, StoreError> {
        self.with(|c| {
            c.query_row(sql::ROLLUP_VERSION, [], |r| r.get::<_, i64>(0))
                .map(|v| v as u64)
                .map_err(backend)
        })
        .await
    }

    async fn rollup_backlog(&self) -> Result<Backlog, StoreError> {
        self.with(|c| {
            c.query_row(sql::ROLLUP_BACKLOG, [], |r| {
                Ok(Backlog {
                    batches: r.get::<_, i64>(0)?.max(0) as u64,
                    events: r.get::<_, i64>(1)?.max(0) as u64,
                    oldest_received_ms: r.get(2)?,
                })
            })
            .map_err(backend)
        })
        .await
    }

    async fn set_metric_program(&self, program: std::sync::Arc<litmus_core::metrics::Program>) {
        self.handoff.set_program(std::sync::Arc::clone(&program));
        lock(&self.rollup_cache).set_program(program);
    }

    async fn apply_rollups(
        &self,
        window_ms: i64,
        max_batches: usize,
    ) -> Result<Applied, StoreError> {
        let (cache, writer, handoff) = (
            std::sync::Arc::clone(&self.rollup_cache),
            std::sync::Arc::clone(&self.conn),
            self.handoff.clone(),
        );
        let reader = self
            .reader
            .as_ref()
            .map_or_else(|| std::sync::Arc::clone(&writer), std::sync::Arc::clone);
        tokio::task::spawn_blocking(move || {
            let mut cache = lock(&cache);
            let round = super::rollups::prepare_round(
                &mut lock(&reader),
                &mut cache,
                &handoff,
                window_ms,
                max_batches,
            )?;
            super::rollups::write_round(&mut lock(&writer), &mut cache, round)
        })
        .await
        .map_err(backend)?
    }

    async fn stored_events(&self) -> Result<Vec<Vec<Event>>, StoreError> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "{EVENT_COLUMNS} JOIN applied_batches USING (batch) ORDER BY position, seq"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map([], event_row).map_err(backend)?;
            let events = rows
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(backend)?;
            Ok(by_batch(events))
        })
        .await
    }
}
