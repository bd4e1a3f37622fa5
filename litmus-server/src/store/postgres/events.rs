//! The PostgreSQL event store: ingestion (`super::ingest`), the rollups (`super::rollups`),
//! retention by TimescaleDB chunks, and reads of events and rollups.

use litmus_core::events::{Event, MetricRollup};
use serde_json::Value;

use super::{PostgresStore, backend};
use crate::store::{
    Applied, Backlog, EventBatch, EventStore, Ingested, RollupTables, StoreError, StoredEvent,
    UnitOutcome, UnitRecord, by_batch, sql,
};

impl EventStore for PostgresStore {
    async fn ingest(&self, batch: EventBatch) -> Result<Ingested, StoreError> {
        super::ingest::ingest(self, batch).await
    }

    async fn rollup_version(&self) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let v: i64 = c
            .query_one(sql::ROLLUP_VERSION, &[])
            .await
            .map_err(backend)?
            .get(0);
        Ok(v as u64)
    }

    async fn rollup_backlog(&self) -> Result<Backlog, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_one(sql::ROLLUP_BACKLOG, &[])
            .await
            .map_err(backend)?;
        let batches: i64 = row.get(0);
        let events: i64 = row.get(1);
        Ok(Backlog {
            batches: batches.max(0) as u64,
            events: events.max(0) as u64,
            oldest_received_ms: row.get(2),
        })
    }

    async fn set_metric_program(&self, program: std::sync::Arc<litmus_core::metrics::Program>) {
        self.handoff.set_program(std::sync::Arc::clone(&program));
        self.rollup_cache.lock().await.set_program(program);
    }

    async fn apply_rollups(
        &self,
        window_ms: i64,
        max_batches: usize,
    ) -> Result<Applied, StoreError> {
        super::rollups::apply_rollups(self, window_ms, max_batches).await
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
        // Recomputed metrics say they miss what went (`store::backfill`).
        if chunks > 0 {
            c.execute(sql::SET_RETENTION_CUTOFF, &[&cutoff_ms])
                .await
                .map_err(backend)?;
        }
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
                "SELECT e.variant, e.first_ms, s.state
                 FROM exposures e LEFT JOIN unit_state s ON s.unit_id = e.unit_id
                 WHERE e.experiment = $1 ORDER BY e.first_ms, e.unit_id LIMIT $2",
                &[&experiment, &limit],
            )
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let (events, total) = crate::store::unit_state::total_of(
                    r.get::<_, Option<&[u8]>>(2),
                    experiment,
                    metric,
                )
                .map_err(backend)?;
                Ok(UnitOutcome {
                    variant: r.get(0),
                    first_ms: r.get(1),
                    events,
                    total,
                })
            })
            .collect()
    }

    async fn experiment_unit_records(
        &self,
        experiment: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<UnitRecord>, StoreError> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT e.unit_id, e.variant, e.first_ms, s.state
                 FROM exposures e LEFT JOIN unit_state s ON s.unit_id = e.unit_id
                 WHERE e.experiment = $1 AND e.unit_id > $2
                 ORDER BY e.unit_id LIMIT $3",
                &[&experiment, &after.unwrap_or_default(), &limit],
            )
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(UnitRecord {
                    unit_id: r.get(0),
                    variant: r.get(1),
                    first_ms: r.get(2),
                    metrics: crate::store::unit_state::metrics_in(
                        r.get::<_, Option<&[u8]>>(3),
                        experiment,
                        None,
                    )
                    .map_err(backend)?,
                })
            })
            .collect()
    }

    async fn experiment_metric_values(
        &self,
        experiment: &str,
        metric: &str,
        limit: usize,
    ) -> Result<std::sync::Arc<Vec<litmus_core::results::UnitValue>>, StoreError> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let row = c
            .query_one(sql::RECORDS_VERSION, &[])
            .await
            .map_err(backend)?;
        let version = (row.get::<_, i64>(0), row.get::<_, i64>(1));
        if let Some(values) = self.values.get(experiment, metric, version) {
            return Ok(values);
        }
        let rows = c
            .query(
                "SELECT e.variant, e.first_ms, s.state
                 FROM exposures e LEFT JOIN unit_state s ON s.unit_id = e.unit_id
                 WHERE e.experiment = $1 LIMIT $2",
                &[&experiment, &limit],
            )
            .await
            .map_err(backend)?;
        let units = std::sync::Arc::new(
            rows.iter()
                .map(|r| {
                    crate::store::unit_state::unit_value(
                        r.get::<_, Option<&[u8]>>(2),
                        experiment,
                        metric,
                        r.get(0),
                        r.get(1),
                    )
                    .map_err(backend)
                })
                .collect::<Result<Vec<_>, StoreError>>()?,
        );
        self.values
            .put(experiment, metric, version, std::sync::Arc::clone(&units));
        Ok(units)
    }

    async fn metric_rows(
        &self,
        experiment: &str,
    ) -> Result<Vec<(String, Option<i64>)>, StoreError> {
        let c = self.client().await?;
        Ok(c.query(sql::METRIC_ROWS_OF, &[&experiment])
            .await
            .map_err(backend)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    async fn experiment_segments(
        &self,
        experiment: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let c = self.client().await?;
        Ok(c.query(sql::EXPERIMENT_SEGMENTS, &[&experiment])
            .await
            .map_err(backend)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
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
        // Whole hours read the hourly copies; long buckets the daily sketches (`tiers`).
        let tier = crate::store::tiers::Tier::of(bucket_ms);
        let (since, sketch_since) = (tier.since(since_ms), tier.sketch_since(since_ms));
        let mut tables = RollupTables::default();
        for r in c
            .query(
                &format!(
                    "SELECT variant, {} - ((({} % $2) + $2) % $2), sum(units)::bigint FROM {}
                     WHERE experiment = $1 AND {} >= $3 GROUP BY 1, 2",
                    tier.time(),
                    tier.time(),
                    tier.exposures(),
                    tier.time()
                ),
                &[&experiment, &bucket_ms, &since],
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
                    "SELECT variant, metric, {} - ((({} % $2) + $2) % $2), sum(events)::bigint,
                            sum(units)::bigint, sum(sum), sum(sum_squares), sum(covariate_sum),
                            sum(covariate_squares), sum(cross_sum)
                     FROM {} WHERE experiment = $1 AND {} >= $3
                     GROUP BY 1, 2, 3",
                    tier.time(),
                    tier.time(),
                    tier.metrics(),
                    tier.time()
                ),
                &[&experiment, &bucket_ms, &since],
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
        for r in c
            .query(
                &format!(
                    "SELECT variant, metric, {} - ((({} % $2) + $2) % $2), bucket,
                            sum(count)::bigint
                     FROM {} WHERE experiment = $1 AND {} >= $3
                     GROUP BY 1, 2, 3, 4",
                    tier.sketch_time(),
                    tier.sketch_time(),
                    tier.sketches(),
                    tier.sketch_time()
                ),
                &[&experiment, &bucket_ms, &sketch_since],
            )
            .await
            .map_err(backend)?
        {
            tables.sketches.insert(
                (
                    experiment.to_owned(),
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                ),
                r.get(4),
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
        for r in c
            .query(
                "SELECT experiment, variant, metric, hour_ms, bucket, count FROM rollup_sketches",
                &[],
            )
            .await
            .map_err(backend)?
        {
            tables
                .sketches
                .insert((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)), r.get(5));
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
        Ok(by_batch(rows.iter().map(event_row)))
    }
}

/// A stored event and its batch from a row of `batch, message_id, time (ms), kind, unit_id,
/// experiment, variant, metric, value, properties`.
pub(super) fn event_row(r: &tokio_postgres::Row) -> (i64, Event) {
    let stored = StoredEvent {
        batch: r.get(0),
        message_id: r.get(1),
        time_ms: r.get(2),
        exposure: r.get::<_, i16>(3) == 0,
        unit_id: r.get(4),
        experiment: r.get(5),
        variant: r.get(6),
        metric: r.get(7),
        value: r.get(8),
        properties: match r.get::<_, Option<Value>>(9) {
            Some(Value::Object(p)) => Some(p),
            _ => None,
        },
    };
    stored.into_event()
}
