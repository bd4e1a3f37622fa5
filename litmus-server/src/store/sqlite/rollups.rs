//! Core's rollup rules (`litmus_core::events::rollup`) applied to a round of stored batches on
//! SQLite.
//!
//! Batches are applied in order, each as the rules say (its exposures first, then its metric
//! events; its metric events join the units' histories after its exposures took their
//! covariates), so the result is the same as applying them one by one. What the round shares
//! is the work: each unit's exposures, per-unit totals and covariates are read once per round,
//! and each rollup row, total and history is written once per round.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use litmus_core::events::rollup::{attributed, minute};
use litmus_core::events::{Event, EventKind, MetricRollup};
use rusqlite::{OptionalExtension, params};

/// A unit's exposures: (experiment, variant, first exposure ms).
type Exposures = Vec<(String, String, i64)>;

/// What a round has read and changed, written at its end.
#[derive(Default)]
struct Round {
    /// Each unit's exposures, as read (and extended by the round's new exposures).
    exposures: HashMap<String, Exposures>,
    /// New first exposures per (experiment, variant, minute).
    exposed: HashMap<(String, String, i64), i64>,
    /// Per (experiment, metric, unit): events, total, covariate.
    totals: HashMap<(String, String, String), (i64, f64, f64)>,
    /// The round's additions to each unit's history of totals, per metric.
    history: HashMap<String, HashMap<String, f64>>,
    /// The rollup rows' additions.
    rollups: HashMap<(String, String, String, i64), MetricRollup>,
}

/// Applies core's rules for `batches`, in order (see the module's documentation).
pub(super) fn apply_batches(
    tx: &rusqlite::Transaction<'_>,
    batches: &[Vec<Event>],
    window_ms: i64,
    touched: &mut BTreeSet<String>,
) -> rusqlite::Result<()> {
    let mut round = Round::default();
    for batch in batches {
        exposures(tx, batch, &mut round, touched)?;
        metric_events(tx, batch, window_ms, &mut round)?;
        // The batch's metric events join the units' histories after its exposures took
        // their covariates (rule 5).
        for e in batch {
            if let EventKind::Track { event, value, .. } = &e.kind {
                *round
                    .history
                    .entry(e.unit_id.clone())
                    .or_default()
                    .entry(event.clone())
                    .or_default() += value;
            }
        }
    }
    write(tx, round, touched)
}

/// A batch's exposures: first exposures win; a new one counts in its minute and takes the
/// unit's totals so far as its covariates.
fn exposures(
    tx: &rusqlite::Transaction<'_>,
    batch: &[Event],
    round: &mut Round,
    touched: &mut BTreeSet<String>,
) -> rusqlite::Result<()> {
    let mut first = tx.prepare_cached(
        "INSERT OR IGNORE INTO exposures (experiment, unit_id, variant, first_ms)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut history = tx.prepare_cached(
        "SELECT metric, total FROM unit_history WHERE unit_id = ?1 AND total != 0",
    )?;
    let mut keep_covariate = tx.prepare_cached(
        "INSERT OR IGNORE INTO covariates (experiment, metric, unit_id, x) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for e in batch {
        let EventKind::Exposure {
            experiment,
            variant,
        } = &e.kind
        else {
            continue;
        };
        let t = e.time.unix_millis();
        if first.execute(params![experiment, e.unit_id, variant, t])? != 1 {
            continue;
        }
        *round
            .exposed
            .entry((experiment.clone(), variant.clone(), minute(t)))
            .or_default() += 1;
        if !touched.contains(experiment) {
            touched.insert(experiment.clone());
        }
        if let Some(known) = round.exposures.get_mut(&e.unit_id) {
            known.push((experiment.clone(), variant.clone(), t));
        }
        // Rule 5: the unit's totals so far (stored, and this round's earlier batches) are its
        // covariates in this experiment.
        let mut past: HashMap<String, f64> = history
            .query_map([&e.unit_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (metric, delta) in round.history.get(&e.unit_id).into_iter().flatten() {
            *past.entry(metric.clone()).or_default() += delta;
        }
        for (metric, x) in past {
            if x == 0.0 {
                continue;
            }
            keep_covariate.execute(params![experiment, metric, e.unit_id, x])?;
            let r = round
                .rollups
                .entry((experiment.clone(), variant.clone(), metric, minute(t)))
                .or_default();
            r.add_covariate(x);
        }
    }
    Ok(())
}

/// A batch's metric events, counted in each experiment the unit was exposed to within the
/// attribution window.
fn metric_events(
    tx: &rusqlite::Transaction<'_>,
    batch: &[Event],
    window_ms: i64,
    round: &mut Round,
) -> rusqlite::Result<()> {
    let mut of_unit = tx
        .prepare_cached("SELECT experiment, variant, first_ms FROM exposures WHERE unit_id = ?1")?;
    let mut total = tx.prepare_cached(
        "SELECT events, total FROM unit_totals WHERE experiment = ?1 AND metric = ?2 AND unit_id = ?3",
    )?;
    let mut covariate = tx.prepare_cached(
        "SELECT x FROM covariates WHERE experiment = ?1 AND metric = ?2 AND unit_id = ?3",
    )?;
    for e in batch {
        let EventKind::Track { event, value, .. } = &e.kind else {
            continue;
        };
        let t = e.time.unix_millis();
        let exposures = match round.exposures.entry(e.unit_id.clone()) {
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
            let key = (experiment.clone(), event.clone(), e.unit_id.clone());
            let unit = match round.totals.entry(key) {
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
            let r = round
                .rollups
                .entry((
                    experiment.clone(),
                    variant.clone(),
                    event.clone(),
                    minute(t),
                ))
                .or_default();
            r.add_event(*value, unit.0.max(0) as u64, unit.1, unit.2);
            unit.0 += 1;
            unit.1 += value;
        }
    }
    Ok(())
}

/// Writes what the round changed: each row once.
fn write(
    tx: &rusqlite::Transaction<'_>,
    round: Round,
    touched: &mut BTreeSet<String>,
) -> rusqlite::Result<()> {
    let mut exposed = tx.prepare_cached(
        "INSERT INTO rollup_exposures (experiment, variant, minute_ms, units) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO UPDATE SET units = units + excluded.units",
    )?;
    for ((experiment, variant, minute_ms), units) in &round.exposed {
        exposed.execute(params![experiment, variant, minute_ms, units])?;
    }
    let mut grow = tx.prepare_cached(
        "INSERT INTO unit_history (unit_id, metric, total) VALUES (?1, ?2, ?3)
         ON CONFLICT DO UPDATE SET total = total + excluded.total",
    )?;
    for (unit, metrics) in &round.history {
        for (metric, value) in metrics {
            grow.execute(params![unit, metric, value])?;
        }
    }
    let mut set_total = tx.prepare_cached(
        "INSERT INTO unit_totals (experiment, metric, unit_id, events, total) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO UPDATE SET events = excluded.events, total = excluded.total",
    )?;
    for ((experiment, metric, unit), (count, sum, _)) in &round.totals {
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
    for ((experiment, variant, metric, minute_ms), r) in &round.rollups {
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
