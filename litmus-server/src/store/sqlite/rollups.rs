//! Core's rollup rules (`litmus_core::events::rollup`) applied to one stored batch on SQLite.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use litmus_core::events::rollup::{attributed, minute, square_delta};
use litmus_core::events::{Event, EventKind, MetricRollup};
use rusqlite::{OptionalExtension, params};

/// Applies core's rules (`litmus_core::events::rollup`) for one batch's events: exposures
/// first, then metric events, in batch order.
pub(super) fn apply_batch(
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
