//! Exposure-to-metric attribution and per-minute rollups: the rules every store implements
//! (through `super::unit_state`, over per-unit records) and the pure reference tests recompute
//! them with. `docs/events.md` states them for people.
//!
//! 1. A unit's variant in an experiment is that of its first exposure the server stores; its
//!    first exposure time is that exposure's. Later exposures change nothing.
//! 2. A metric event at time `t` counts for experiment `E` when the unit's first exposure to
//!    `E` is at or before `t`, and `t` is at most the attribution window after it.
//! 3. Within a batch, exposures are applied before metric events, each kind in batch order.
//! 4. Rollups per minute (of the exposure's or the metric event's time):
//!    - exposures: units first exposed, per (experiment, variant, minute);
//!    - metrics: per (experiment, variant, metric, minute), the events counted, the units
//!      counted for the first time, the sum of values, and the change of the sum of squared
//!      per-unit totals. Summed over minutes up to `T`, these are the sufficient statistics
//!      of the per-unit metric at `T`: with `n` units exposed, the mean per exposed unit is
//!      `sum / n` and its variance `(sum_squares - sum^2 / n) / (n - 1)`.
//! 5. Covariates (CUPED): when a unit is first exposed to `E`, its total of each metric over
//!    the events applied before (earlier batches: a batch's metric events join the unit's
//!    history after its exposures) is its covariate `x` for that metric in `E`. The minute of
//!    the exposure gets `x` and `x²` in `covariate_sum` and `covariate_squares`; each
//!    attributed value `v` adds `x v` to `cross`. Summed, with `y` the per-unit total:
//!    `Σx`, `Σx²` and `Σxy` over the exposed units (units without history have `x = 0`).

use std::collections::{BTreeMap, HashMap};

use super::event::{Event, EventKind};

/// The attribution window the server uses unless configured: 30 days.
pub const DEFAULT_WINDOW_MS: i64 = 30 * 24 * 3_600 * 1_000;

/// Whether a metric event at `event_ms` counts for a unit first exposed at `first_ms`.
pub fn attributed(first_ms: i64, event_ms: i64, window_ms: i64) -> bool {
    first_ms <= event_ms && event_ms.saturating_sub(first_ms) <= window_ms
}

/// How the sum of squared per-unit totals changes when a unit's total goes from `before` to
/// `before + x`.
pub fn square_delta(before: f64, x: f64) -> f64 {
    x * (2.0 * before + x)
}

/// The start of the minute holding `ms` (for any `ms`: the first minute of time stays put).
pub fn minute(ms: i64) -> i64 {
    ms.saturating_sub(ms.rem_euclid(60_000))
}

/// The metric rollup of one (experiment, variant, metric, minute).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MetricRollup {
    /// Events counted.
    pub events: u64,
    /// Units counted for the first time.
    pub units: u64,
    /// The sum of the values.
    pub sum: f64,
    /// The change of the sum of squared per-unit totals.
    pub sum_squares: f64,
    /// The sum of the units' covariates (CUPED): for the units first exposed in this minute,
    /// each one's total of the metric over the events applied before its exposure.
    pub covariate_sum: f64,
    /// The sum of the squares of those covariates.
    pub covariate_squares: f64,
    /// The change of the sum of covariate × per-unit total: each attributed value times its
    /// unit's covariate.
    pub cross: f64,
}

impl MetricRollup {
    /// Counts a unit's covariate `x` (its total of the metric before its first exposure).
    pub fn add_covariate(&mut self, x: f64) {
        self.covariate_sum += x;
        self.covariate_squares += x * x;
    }

    /// Adds `other` (the rows of another minute, round or bucket) into this one.
    pub fn add(&mut self, other: &MetricRollup) {
        self.events = self.events.saturating_add(other.events);
        self.units = self.units.saturating_add(other.units);
        self.sum += other.sum;
        self.sum_squares += other.sum_squares;
        self.covariate_sum += other.covariate_sum;
        self.covariate_squares += other.covariate_squares;
        self.cross += other.cross;
    }

    /// Counts one attributed event that moved a unit's (capped) value from `before` to
    /// `after`; `first` when it is the unit's first such event, `covariate` the unit's.
    pub fn add_change(&mut self, before: f64, after: f64, first: bool, covariate: f64) {
        self.events += 1;
        self.units += u64::from(first);
        self.sum += after - before;
        self.sum_squares += after * after - before * before;
        self.cross += (after - before) * covariate;
    }

    /// Counts one attributed metric event of `value` for a unit that had `events_before`
    /// such events, totalling `total_before`, in this experiment, and covariate `covariate`.
    pub fn add_event(&mut self, value: f64, events_before: u64, total_before: f64, covariate: f64) {
        self.events += 1;
        self.units += u64::from(events_before == 0);
        self.sum += value;
        self.sum_squares += square_delta(total_before, value);
        self.cross += value * covariate;
    }
}

/// The reference: applies batches in order and holds every rollup.
#[derive(Debug, Clone, Default)]
pub struct Rollups {
    window_ms: i64,
    /// (experiment, unit) to (variant, first exposure).
    first: HashMap<(String, String), (String, i64)>,
    /// unit to the experiments it was exposed to.
    by_unit: HashMap<String, Vec<String>>,
    /// (experiment, metric, unit) to (events, total).
    totals: HashMap<(String, String, String), (u64, f64)>,
    /// unit to its total of each metric over every event applied (the covariates' source).
    history: HashMap<String, HashMap<String, f64>>,
    /// (experiment, metric, unit) to the unit's covariate, taken at its first exposure.
    covariates: HashMap<(String, String, String), f64>,
    /// (experiment, variant, minute) to units first exposed.
    pub exposures: BTreeMap<(String, String, i64), u64>,
    /// (experiment, variant, metric, minute) to its rollup.
    pub metrics: BTreeMap<(String, String, String, i64), MetricRollup>,
    /// Each experiment's dimensions (segments' rows are kept under their subjects, per hour).
    dimensions: HashMap<String, Vec<crate::segments::Dimension>>,
    /// The values admitted to segments of their own.
    book: crate::segments::SegmentBook,
}

impl Rollups {
    /// Empty, attributing metric events within `window_ms` of a unit's first exposure.
    pub fn new(window_ms: i64) -> Self {
        Rollups {
            window_ms,
            ..Rollups::default()
        }
    }

    /// Also keeps segments: `dimensions` are each experiment's.
    pub fn with_dimensions(
        window_ms: i64,
        dimensions: HashMap<String, Vec<crate::segments::Dimension>>,
    ) -> Self {
        Rollups {
            window_ms,
            dimensions,
            ..Rollups::default()
        }
    }

    /// Applies one batch of new (not duplicate) events, in batch order.
    pub fn apply(&mut self, batch: &[Event]) {
        for e in batch {
            if let EventKind::Exposure {
                experiment,
                variant,
                dimensions,
            } = &e.kind
            {
                if self
                    .first
                    .contains_key(&(experiment.clone(), e.unit_id.clone()))
                {
                    continue;
                }
                let t = e.time.unix_millis();
                self.expose(experiment, variant, &e.unit_id, t);
                // Segments: the unit is first exposed to one subject per dimension.
                for d in self.dimensions.get(experiment).cloned().unwrap_or_default() {
                    let sent = dimensions
                        .iter()
                        .find(|(k, _)| k == d.key())
                        .map(|(_, v)| v.as_str());
                    let value = self.book.segment(experiment, &d, sent);
                    let subject = crate::segments::subject(experiment, d.key(), value);
                    self.expose(&subject, variant, &e.unit_id, t);
                }
            }
        }
        for e in batch {
            let EventKind::Track { event, value, .. } = &e.kind else {
                continue;
            };
            let t = e.time.unix_millis();
            let Some(experiments) = self.by_unit.get(&e.unit_id) else {
                continue;
            };
            for experiment in experiments {
                let Some((variant, first)) =
                    self.first.get(&(experiment.clone(), e.unit_id.clone()))
                else {
                    continue;
                };
                if !attributed(*first, t, self.window_ms) {
                    continue;
                }
                let total = self
                    .totals
                    .entry((experiment.clone(), event.clone(), e.unit_id.clone()))
                    .or_default();
                let r = self
                    .metrics
                    .entry((
                        experiment.clone(),
                        variant.clone(),
                        event.clone(),
                        period_start(experiment, t),
                    ))
                    .or_default();
                let covariate = self
                    .covariates
                    .get(&(experiment.clone(), event.clone(), e.unit_id.clone()))
                    .copied()
                    .unwrap_or(0.0);
                r.add_event(*value, total.0, total.1, covariate);
                total.0 += 1;
                total.1 += value;
            }
        }
        // The batch's metric events join the units' histories after its exposures took
        // their covariates.
        for e in batch {
            if let EventKind::Track { event, value, .. } = &e.kind {
                *self
                    .history
                    .entry(e.unit_id.clone())
                    .or_default()
                    .entry(event.clone())
                    .or_default() += value;
            }
        }
    }

    /// Rules 1 and 5 for the first exposure of `unit` to `experiment` (or a subject) at `t`.
    fn expose(&mut self, experiment: &str, variant: &str, unit: &str, t: i64) {
        let at = period_start(experiment, t);
        self.first.insert(
            (experiment.to_owned(), unit.to_owned()),
            (variant.to_owned(), t),
        );
        // Rule 5: the unit's totals of each metric so far are its covariates here.
        for (metric, x) in self.history.get(unit).into_iter().flatten() {
            if *x == 0.0 {
                continue;
            }
            self.covariates
                .insert((experiment.to_owned(), metric.clone(), unit.to_owned()), *x);
            self.metrics
                .entry((
                    experiment.to_owned(),
                    variant.to_owned(),
                    metric.clone(),
                    at,
                ))
                .or_default()
                .add_covariate(*x);
        }
        self.by_unit
            .entry(unit.to_owned())
            .or_default()
            .push(experiment.to_owned());
        *self
            .exposures
            .entry((experiment.to_owned(), variant.to_owned(), at))
            .or_default() += 1;
    }
}

/// The start of the period of a row at `t`: its minute for an experiment, its hour for a
/// segment's subject.
pub fn period_start(name: &str, t: i64) -> i64 {
    if crate::segments::parse_subject(name).is_some() {
        crate::metrics::program::hour(t)
    } else {
        minute(t)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::Timestamp;

    fn exposure(unit: &str, variant: &str, t: i64) -> Event {
        Event {
            message_id: format!("x-{unit}-{t}"),
            unit_id: unit.into(),
            time: Timestamp::from_unix_millis(t),
            client_time: None,
            kind: EventKind::Exposure {
                experiment: "e".into(),
                variant: variant.into(),
                dimensions: Vec::new(),
            },
        }
    }

    fn track(unit: &str, value: f64, t: i64) -> Event {
        Event {
            message_id: format!("t-{unit}-{t}"),
            unit_id: unit.into(),
            time: Timestamp::from_unix_millis(t),
            client_time: None,
            kind: EventKind::Track {
                event: "buy".into(),
                value,
                properties: None,
            },
        }
    }

    #[test]
    fn metrics_count_from_the_first_exposure_within_the_window() {
        let mut r = Rollups::new(600_000);
        // u1: a purchase before exposure (not counted), two after; u2 in b, late (out of window).
        r.apply(&[track("u1", 5.0, 1_000), exposure("u1", "a", 60_000)]);
        r.apply(&[
            exposure("u1", "b", 61_000), // a later exposure changes nothing
            exposure("u2", "b", 60_000),
            track("u1", 2.0, 120_000),
            track("u1", 3.0, 121_000),
            track("u2", 9.0, 60_000 + 600_001),
        ]);
        assert_eq!(r.exposures[&("e".into(), "a".into(), 60_000)], 1);
        assert_eq!(r.exposures[&("e".into(), "b".into(), 60_000)], 1);
        let m = r.metrics[&("e".into(), "a".into(), "buy".into(), 120_000)];
        assert_eq!((m.events, m.units, m.sum), (2, 1, 5.0));
        // Per-unit total 5: its square 25.
        assert_eq!(m.sum_squares, 25.0);
        assert_eq!(
            r.metrics.len(),
            1,
            "the late purchase is outside the window"
        );
        // Within a batch, an exposure comes before metric events.
        let mut s = Rollups::new(600_000);
        s.apply(&[track("u", 1.0, 5_000), exposure("u", "a", 5_000)]);
        assert_eq!(s.metrics.len(), 1);
    }

    #[test]
    fn summed_rollups_are_the_per_unit_sufficient_statistics() {
        let mut r = Rollups::new(i64::MAX);
        let mut batch = Vec::new();
        let totals = [3.0, 0.0, 7.5, 1.0];
        for i in 0..totals.len() {
            batch.push(exposure(&format!("u{i}"), "a", 0));
        }
        r.apply(&batch);
        // Each unit's total in two events, in two minutes.
        for (i, total) in totals.iter().enumerate() {
            if *total > 0.0 {
                let u = format!("u{i}");
                r.apply(&[
                    track(&u, total / 2.0, 10_000),
                    track(&u, total / 2.0, 70_000),
                ]);
            }
        }
        let (mut sum, mut squares) = (0.0, 0.0);
        for m in r.metrics.values() {
            sum += m.sum;
            squares += m.sum_squares;
        }
        assert_eq!(sum, totals.iter().sum::<f64>());
        assert!((squares - totals.iter().map(|t| t * t).sum::<f64>()).abs() < 1e-9);
    }
}

#[cfg(test)]
mod covariate_tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::float_cmp)]
    use super::*;
    use crate::Timestamp;

    fn event(id: &str, unit: &str, t: i64, kind: EventKind) -> Event {
        Event {
            message_id: id.into(),
            unit_id: unit.into(),
            time: Timestamp::from_unix_millis(t),
            client_time: None,
            kind,
        }
    }

    fn buy(id: &str, unit: &str, value: f64, t: i64) -> Event {
        let kind = EventKind::Track {
            event: "buy".into(),
            value,
            properties: None,
        };
        event(id, unit, t, kind)
    }

    fn exposure(unit: &str, t: i64) -> Event {
        let kind = EventKind::Exposure {
            experiment: "e".into(),
            variant: "a".into(),
            dimensions: Vec::new(),
        };
        event(&format!("x-{unit}"), unit, t, kind)
    }

    #[test]
    fn covariates_are_the_totals_before_the_exposure() {
        let mut r = Rollups::new(i64::MAX);
        // u1 bought 3 + 4 before its exposure, u2 nothing; in the exposure's batch, u3's
        // purchase is not yet history.
        r.apply(&[buy("p1", "u1", 3.0, 0), buy("p2", "u1", 4.0, 1)]);
        r.apply(&[
            exposure("u1", 60_000),
            exposure("u2", 60_000),
            buy("p3", "u3", 9.0, 2),
        ]);
        r.apply(&[exposure("u3", 60_000)]);
        // After: u1 buys 2 and 1, u2 buys 5.
        r.apply(&[
            buy("p4", "u1", 2.0, 130_000),
            buy("p5", "u2", 5.0, 130_000),
            buy("p6", "u1", 1.0, 190_000),
        ]);
        let all: Vec<&MetricRollup> = r.metrics.values().collect();
        let sum = |f: fn(&MetricRollup) -> f64| all.iter().map(|m| f(m)).sum::<f64>();
        // x = (7, 0, 9), y = (3, 5, 0).
        assert_eq!(sum(|m| m.covariate_sum), 16.0);
        assert_eq!(sum(|m| m.covariate_squares), 49.0 + 81.0);
        assert_eq!(sum(|m| m.cross), 7.0 * 3.0);
        assert_eq!(sum(|m| m.sum), 8.0);
        // The covariates sit at the exposures' minute.
        let at_exposure = r.metrics[&("e".into(), "a".into(), "buy".into(), 60_000)];
        assert_eq!((at_exposure.events, at_exposure.covariate_sum), (0, 16.0));
    }
}
