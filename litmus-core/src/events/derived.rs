//! The rollup rules for derived metrics (`crate::metrics::program`) over per-unit records:
//! a [`Bound`] program (its names interned) and what one metric event does to a unit's
//! derived values and their rows. [`super::unit_state::Round`] calls [`Bound::track`] for each
//! metric event after the event's own rows.
//!
//! Per derived metric `m` and experiment `E` that uses it, a unit's value is the aggregation of
//! its events that pass `m`'s filter, within `m`'s window after its first exposure to `E`
//! (the server's attribution window when `m` has none). A row (experiment, variant, `m`,
//! minute) holds, like an event's own rows, the events counted, the units counted for the first
//! time, and the change of the sum and of the sum of squares of the (capped) unit values; a
//! retention metric's rows are keyed by the unit's exposure minute (its cohort). A funnel's
//! step `k` row counts the units that reached step `k`. A ratio's row holds the change of
//! Σ numerator × denominator over units (`cross`).

use super::rollup::MetricRollup;
use super::unit_state::{KeyMap, Names, UnitExposure, UnitState};
use crate::metrics::QuantileLevel;
use crate::metrics::program::{Feed, Program, Shape, capped, hour};
use crate::stats::sketch::{self, DEFAULT_RELATIVE_ACCURACY};

/// A [`Program`] with its names interned.
#[derive(Debug)]
pub struct Bound<'a> {
    program: &'a Program,
    /// Event name id to the feeds reading it.
    feeds: KeyMap<u32, Vec<&'a Feed>>,
    /// Per derived metric: its name id.
    derived: Vec<u32>,
    /// Per derived metric: the name ids of its funnel steps' rows.
    steps: Vec<Vec<u32>>,
    /// Derived metric name id to its index.
    index: KeyMap<u32, usize>,
    /// Per ratio: its name id and its parts' (id, cap).
    ratios: Vec<BoundRatio>,
    /// Experiment name id to (derived indexes, ratio indexes) it uses.
    uses: KeyMap<u32, (Vec<usize>, Vec<usize>)>,
    /// Experiment name id to its dimensions, for those that declare any.
    dimensions: KeyMap<u32, &'a [crate::segments::Dimension]>,
}

/// Where [`Bound::track`] adds what it computes.
#[derive(Debug)]
pub struct Outputs<'a> {
    /// Metric rows per (experiment, variant, metric, minute).
    pub rows: &'a mut KeyMap<(u32, u32, u32, i64), MetricRollup>,
    /// Quantile sketch changes per (experiment, variant, metric, hour, bucket key).
    pub sketches: &'a mut KeyMap<(u32, u32, u32, i64, i32), i64>,
}

/// A ratio's name id, and its numerator's and denominator's name ids and caps.
type BoundRatio = (u32, (u32, Option<f64>), (u32, Option<f64>));

/// One change of a unit's value in an experiment: (experiment, variant, metric id, before,
/// after), uncapped.
type Change = (u32, u32, u32, f64, f64);

impl<'a> Bound<'a> {
    /// Interns the program's names in `names`.
    pub fn new(program: &'a Program, names: &mut Names) -> Self {
        let mut feeds: KeyMap<u32, Vec<&Feed>> = KeyMap::default();
        for (event, list) in program.all_feeds() {
            feeds
                .entry(names.id(event))
                .or_default()
                .extend(list.iter());
        }
        let derived: Vec<u32> = program.derived().iter().map(|d| names.id(&d.id)).collect();
        let steps = program
            .derived()
            .iter()
            .map(|d| Program::row_ids(d).iter().map(|id| names.id(id)).collect())
            .collect();
        let index = derived.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let ratios = program
            .ratios()
            .iter()
            .map(|r| {
                (
                    names.id(&r.id),
                    (names.id(&r.numerator.id), r.numerator.cap),
                    (names.id(&r.denominator.id), r.denominator.cap),
                )
            })
            .collect();
        let uses = program
            .experiments()
            .map(|(e, u)| (names.id(e), (u.derived.clone(), u.ratios.clone())))
            .collect();
        let dimensions = program
            .all_dimensions()
            .map(|(e, d)| (names.id(e), d))
            .collect();
        Bound {
            program,
            feeds,
            derived,
            steps,
            index,
            ratios,
            uses,
            dimensions,
        }
    }

    /// The dimensions of the experiment with name id `experiment` (none: no segments).
    pub fn dimensions(&self, experiment: u32) -> &'a [crate::segments::Dimension] {
        self.dimensions.get(&experiment).copied().unwrap_or(&[])
    }

    /// Whether there is nothing to compute.
    pub fn is_empty(&self) -> bool {
        self.program.is_empty()
    }

    /// Whether the program keeps ratios (their parts' changes are then collected).
    pub fn has_ratios(&self) -> bool {
        !self.ratios.is_empty()
    }

    fn uses_derived(&self, experiment: u32, derived: usize) -> bool {
        self.uses
            .get(&experiment)
            .is_some_and(|(d, _)| d.binary_search(&derived).is_ok())
    }

    /// The covariate a unit takes at its first exposure to `experiment` from its history of
    /// `metric`: `None` when the metric is derived and `experiment` does not use it (or keeps
    /// no covariate for it); capped as the metric's values are.
    pub fn covariate(&self, experiment: u32, metric: u32, x: f64) -> Option<f64> {
        let Some(&i) = self.index.get(&metric) else {
            return Some(x);
        };
        match self.program.derived().get(i).map(|d| &d.shape) {
            Some(Shape::Total {
                covariate: true,
                cap,
                ..
            }) if self.uses_derived(experiment, i) => Some(capped(x, *cap)),
            _ => None,
        }
    }

    /// Applies one metric event (name id `event`, `value`, `properties`, at `t`) to the
    /// unit's derived values, adding to `out`'s rows and sketches; `changes` holds the event's
    /// own changes (from its own rows, when ratios are kept) and gets the derived ones.
    #[allow(clippy::too_many_arguments)]
    pub fn track(
        &self,
        unit: &mut UnitState,
        event: u32,
        value: f64,
        properties: Option<&serde_json::Map<String, serde_json::Value>>,
        t: i64,
        window_ms: i64,
        out: &mut Outputs<'_>,
        changes: &mut Vec<Change>,
    ) {
        let rows = &mut *out.rows;
        let Some(feeds) = self.feeds.get(&event) else {
            return self.ratio_rows(unit, t, rows, changes);
        };
        // One event moves a funnel at most one step per experiment.
        let mut advanced: Vec<(u32, usize)> = Vec::new();
        for feed in feeds {
            let Some(v) = feed.rule.value(value, properties) else {
                continue;
            };
            let (Some(d), Some(&id)) = (
                self.program.derived().get(feed.derived),
                self.derived.get(feed.derived),
            ) else {
                continue;
            };
            if let Shape::Total {
                aggregation,
                covariate: true,
                ..
            } = d.shape
            {
                unit.aggregate_history(id, v, aggregation);
            }
            for i in 0..unit.exposures.len() {
                let Some(&x) = unit.exposures.get(i) else {
                    break;
                };
                if !self.uses_derived(x.parent, feed.derived) {
                    continue;
                }
                match d.shape {
                    Shape::Total {
                        aggregation,
                        window,
                        cap,
                        cohort,
                        quantile,
                        ..
                    } => {
                        let counts =
                            crate::metrics::Window::counts(window, x.first_ms, t, window_ms);
                        if !counts {
                            continue;
                        }
                        let at = if cohort {
                            x.period(x.first_ms)
                        } else {
                            x.period(t)
                        };
                        let row = rows.entry((x.experiment, x.variant, id, at)).or_default();
                        unit.with_total(x.experiment, id, |total| {
                            let before = total.total;
                            let after = aggregation.add(before, total.events, v);
                            row.add_change(
                                capped(before, cap),
                                capped(after, cap),
                                total.events == 0,
                                total.covariate,
                            );
                            let sketch = |value: f64, count: i64| {
                                let key = sketch::key(value, DEFAULT_RELATIVE_ACCURACY)?;
                                Some(((x.experiment, x.variant, id, hour(t), key), count))
                            };
                            let moves = match quantile {
                                None => [None, None],
                                Some(QuantileLevel::Event) => [sketch(v, 1), None],
                                // The unit's value moves from one bucket to another.
                                Some(QuantileLevel::Unit) => [
                                    if total.events == 0 {
                                        None
                                    } else {
                                        sketch(capped(before, cap), -1)
                                    },
                                    sketch(capped(after, cap), 1),
                                ],
                            };
                            for (key, count) in moves.into_iter().flatten() {
                                *out.sketches.entry(key).or_default() += count;
                            }
                            total.events += 1;
                            total.total = after;
                            changes.push((x.experiment, x.variant, id, before, after));
                        });
                    }
                    Shape::Funnel { window, .. } => {
                        if advanced.contains(&(x.experiment, feed.derived)) {
                            continue;
                        }
                        let step_row = self
                            .steps
                            .get(feed.derived)
                            .and_then(|s| s.get(feed.step))
                            .copied();
                        if self.funnel_step(unit, x, id, feed.step, t, window, window_ms) {
                            advanced.push((x.experiment, feed.derived));
                            if let Some(step_row) = step_row {
                                let row = rows
                                    .entry((x.experiment, x.variant, step_row, x.period(t)))
                                    .or_default();
                                row.events += 1;
                                row.units += 1;
                            }
                        }
                    }
                }
            }
        }
        self.ratio_rows(unit, t, rows, changes);
    }

    /// Moves the unit to funnel step `step + 1` when it has done exactly the steps before,
    /// the last of them at or before `t`, and `t` is within the window. Answers whether it did.
    #[allow(clippy::too_many_arguments)]
    fn funnel_step(
        &self,
        unit: &mut UnitState,
        x: UnitExposure,
        id: u32,
        step: usize,
        t: i64,
        window: Option<crate::metrics::Window>,
        window_ms: i64,
    ) -> bool {
        let counts = crate::metrics::Window::counts(window, x.first_ms, t, window_ms);
        if !counts {
            return false;
        }
        unit.with_total(x.experiment, id, |total| {
            // `events` is the steps done; `total` the time of the last one, in ms.
            let last = if total.events == 0 {
                x.first_ms as f64
            } else {
                total.total
            };
            if total.events as usize != step || (t as f64) < last {
                return false;
            }
            total.events += 1;
            total.total = t as f64;
            true
        })
    }

    /// Adds the change of each ratio's Σ numerator × denominator that `changes` caused.
    fn ratio_rows(
        &self,
        unit: &UnitState,
        t: i64,
        rows: &mut KeyMap<(u32, u32, u32, i64), MetricRollup>,
        changes: &mut Vec<Change>,
    ) {
        if changes.is_empty() {
            return;
        }
        let mut experiments: Vec<(u32, u32)> = changes.iter().map(|c| (c.0, c.1)).collect();
        experiments.sort_unstable();
        experiments.dedup();
        for (experiment, variant) in experiments {
            // A segment's subject uses its experiment's ratios, in rows per hour.
            let Some(&x) = unit.exposures.iter().find(|x| x.experiment == experiment) else {
                continue;
            };
            let Some((_, ratios)) = self.uses.get(&x.parent) else {
                continue;
            };
            for &r in ratios {
                let Some(&(id, (num, num_cap), (den, den_cap))) = self.ratios.get(r) else {
                    continue;
                };
                let part = |metric: u32| {
                    changes
                        .iter()
                        .find(|c| c.0 == experiment && c.2 == metric)
                        .map(|c| (c.3, c.4, true))
                        .unwrap_or_else(|| {
                            let now = unit.total_of(experiment, metric);
                            (now, now, false)
                        })
                };
                let ((y0, y1, dy), (x0, x1, dx)) = (part(num), part(den));
                if !(dy || dx) {
                    continue;
                }
                let before = capped(y0, num_cap) * capped(x0, den_cap);
                let after = capped(y1, num_cap) * capped(x1, den_cap);
                let row = rows
                    .entry((experiment, variant, id, x.period(t)))
                    .or_default();
                row.events += 1;
                row.cross += after - before;
            }
        }
        changes.clear();
    }
}

#[cfg(test)]
#[path = "derived_tests.rs"]
mod tests;
