//! Core's rollup rules (`litmus_core::events::rollup`) in SQL, applied to queued batches on
//! PostgreSQL: each batch's rows are loaded into a temporary table and folded into the rollups
//! by three statements, in one transaction with the batch's removal from the queue.

use super::{PostgresStore, backend};
use crate::store::copy_binary::copy_payload;
use crate::store::{Applied, StoreError};

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

/// Applies up to `max_batches` queued batches (see `EventStore::apply_rollups`).
pub(super) async fn apply_rollups(
    store: &PostgresStore,
    window_ms: i64,
    max_batches: usize,
) -> Result<Applied, StoreError> {
    let mut client = store.client().await?;
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
