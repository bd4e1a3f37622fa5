//! Core's rollup rules (`super::rollup`) over per-unit records: what a store keeps of each
//! unit (its first exposures, its running totals per experiment and metric with the covariate
//! it took, and its history of totals per metric) as one [`UnitState`], and a [`Round`] that
//! applies batches to those states and gathers what changes in the rollup tables.
//!
//! A store that keeps every unit's state in one record reads each unit of a round once, applies
//! the batches here in memory, and writes each changed unit once and each rollup row once: the
//! work per event is a few hash lookups instead of a few indexed reads and writes. The result
//! is that of [`super::Rollups`] applied batch by batch (the differential tests check it).
//!
//! Names (experiments, variants, metrics) are interned as `u32`s by [`Names`], so the hot path
//! compares integers; a store turns them back into text when it writes.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use super::derived::{Bound, Outputs};
use super::event::{Event, EventKind};
use super::rollup::{MetricRollup, attributed, minute};
use crate::metrics::Program;
use crate::segments::SegmentBook;

/// Interned names: each distinct text once, as a small integer.
#[derive(Debug, Clone, Default)]
pub struct Names {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Names {
    /// The id of `name`, interning it when new.
    pub fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    /// The text of `id` (empty for an id this table never gave).
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }

    /// How many names are interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name is interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// A unit's first exposure to an experiment (rule 1), or to a segment's subject.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitExposure {
    /// The experiment's name id (for a segment, its subject's: `crate::segments::subject`).
    pub experiment: u32,
    /// The experiment's name id for a segment's subject; `experiment` itself otherwise.
    pub parent: u32,
    /// The variant of the first exposure.
    pub variant: u32,
    /// The first exposure's time, in ms.
    pub first_ms: i64,
}

impl UnitExposure {
    /// A first exposure to `experiment` itself.
    pub fn new(experiment: u32, variant: u32, first_ms: i64) -> Self {
        UnitExposure {
            experiment,
            parent: experiment,
            variant,
            first_ms,
        }
    }

    /// Whether this is a segment's subject (its rows are kept per hour).
    pub fn is_segment(&self) -> bool {
        self.parent != self.experiment
    }

    /// The start of the period a row of this exposure at `t` goes in: its minute, or its hour
    /// for a segment ([`super::rollup::period_start`]).
    pub fn period(&self, t: i64) -> i64 {
        if self.is_segment() {
            crate::metrics::program::hour(t)
        } else {
            minute(t)
        }
    }
}

/// A unit's running figures of one metric in one experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitTotal {
    /// The experiment's name id.
    pub experiment: u32,
    /// The metric's name id.
    pub metric: u32,
    /// Attributed events so far.
    pub events: u64,
    /// Their total.
    pub total: f64,
    /// The covariate the unit took at its first exposure (rule 5; 0 without history).
    pub covariate: f64,
}

/// Everything the rollup rules keep of one unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitState {
    /// First exposures, one per experiment.
    pub exposures: Vec<UnitExposure>,
    /// Running figures per (experiment, metric) attributed or with a covariate.
    pub totals: Vec<UnitTotal>,
    /// The unit's total of each metric over every event applied (the covariates' source).
    pub history: Vec<(u32, f64)>,
    /// Whether a round changed this state since the caller last cleared the mark (not
    /// stored): a round lists a unit in [`Round::changed`] when it sets the mark.
    pub changed: bool,
}

impl UnitState {
    /// Runs `f` on the running figures of `metric` in `experiment`, added (zero) when missing.
    pub(crate) fn with_total<R>(
        &mut self,
        experiment: u32,
        metric: u32,
        f: impl FnOnce(&mut UnitTotal) -> R,
    ) -> R {
        if let Some(t) = self
            .totals
            .iter_mut()
            .find(|t| t.experiment == experiment && t.metric == metric)
        {
            return f(t);
        }
        let mut t = UnitTotal {
            experiment,
            metric,
            events: 0,
            total: 0.0,
            covariate: 0.0,
        };
        let r = f(&mut t);
        self.totals.push(t);
        r
    }

    /// Adds `value` to the unit's history of `metric`.
    fn add_history(&mut self, metric: u32, value: f64) {
        match self.history.iter_mut().find(|(m, _)| *m == metric) {
            Some((_, total)) => *total += value,
            None => self.history.push((metric, value)),
        }
    }

    /// Adds an event of `value` to the unit's history of the derived metric `metric`, which
    /// aggregates by `aggregation`.
    pub(crate) fn aggregate_history(
        &mut self,
        metric: u32,
        value: f64,
        aggregation: crate::metrics::Aggregation,
    ) {
        match self.history.iter_mut().find(|(m, _)| *m == metric) {
            Some((_, total)) => *total = aggregation.add(*total, 1, value),
            None => self.history.push((metric, aggregation.add(0.0, 0, value))),
        }
    }

    /// The unit's current value of `metric` in `experiment` (0 without one).
    pub(crate) fn total_of(&self, experiment: u32, metric: u32) -> f64 {
        self.totals
            .iter()
            .find(|t| t.experiment == experiment && t.metric == metric)
            .map_or(0.0, |t| t.total)
    }
}

/// A fast hasher for the rollups' keys, which are small integers (interned names and
/// minutes): a multiply-rotate mix (as rustc's `FxHasher`), much cheaper than SipHash for
/// them.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (w, b) in word.iter_mut().zip(chunk) {
                *w = *b;
            }
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A map keyed by small integers, hashed by [`KeyHasher`].
pub type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// A new first exposure, for the stores' table of exposures.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstExposure {
    /// The unit.
    pub unit_id: String,
    /// The exposure.
    pub exposure: UnitExposure,
}

/// What a round of batches adds to the rollup tables, and which units it changed.
#[derive(Debug, Clone, Default)]
pub struct Round {
    /// Units first exposed per (experiment, variant, minute).
    pub exposures: KeyMap<(u32, u32, i64), u64>,
    /// Metric rollups per (experiment, variant, metric, minute).
    pub metrics: KeyMap<(u32, u32, u32, i64), MetricRollup>,
    /// Quantile sketch changes per (experiment, variant, metric, hour, bucket key): units or
    /// events added to (or, for a unit whose value moved, taken from) each bucket.
    pub sketches: KeyMap<(u32, u32, u32, i64, i32), i64>,
    /// The new first exposures, in the order applied.
    pub first_exposures: Vec<FirstExposure>,
    /// The units this round marked changed (see [`UnitState::changed`]), each once, in order.
    pub changed: Vec<String>,
}

impl Round {
    /// Applies `batch` (new events, in batch order) to `units`, which must hold the stored
    /// state of every unit of the batch that has one (a missing unit starts empty).
    /// Attributes metric events within `window_ms` of the first exposure. The map's hasher is
    /// the caller's choice.
    pub fn apply<S: BuildHasher>(
        &mut self,
        names: &mut Names,
        units: &mut HashMap<String, UnitState, S>,
        batch: &[Event],
        window_ms: i64,
    ) {
        let empty = Program::default();
        let bound = Bound::new(&empty, names);
        let mut book = SegmentBook::default();
        self.apply_with(&bound, &mut book, names, units, batch, window_ms);
    }

    /// [`Round::apply`], also keeping the derived metrics and the segments of `program`
    /// (bound to `names`); `book` holds the values admitted to segments of their own so far.
    pub fn apply_with<S: BuildHasher>(
        &mut self,
        program: &Bound<'_>,
        book: &mut SegmentBook,
        names: &mut Names,
        units: &mut HashMap<String, UnitState, S>,
        batch: &[Event],
        window_ms: i64,
    ) {
        for e in batch {
            if !units.contains_key(&e.unit_id) {
                units.insert(e.unit_id.clone(), UnitState::default());
            }
        }
        // Rule 3: the batch's exposures first.
        for e in batch {
            let EventKind::Exposure {
                experiment: key,
                variant,
                dimensions,
            } = &e.kind
            else {
                continue;
            };
            let experiment = names.id(key);
            let Some(unit) = units.get_mut(&e.unit_id) else {
                continue;
            };
            if unit.exposures.iter().any(|x| x.experiment == experiment) {
                continue;
            }
            let exposure = UnitExposure::new(experiment, names.id(variant), e.time.unix_millis());
            self.expose(program, unit, exposure, &e.unit_id);
            // Segments: the unit is first exposed to one subject per dimension.
            for d in program.dimensions(experiment) {
                let sent = dimensions
                    .iter()
                    .find(|(k, _)| k == d.key())
                    .map(|(_, v)| v.as_str());
                let value = book.segment(key, d, sent);
                let subject = names.id(&crate::segments::subject(key, d.key(), value));
                let segment = UnitExposure {
                    experiment: subject,
                    ..exposure
                };
                self.expose(program, unit, segment, &e.unit_id);
            }
        }
        // Rules 2 and 4: the metric events, each in every experiment it is attributed to.
        // Each then joins its unit's history (rule 5: after all of the batch's exposures, the
        // only readers of the history, were applied above).
        let ratios = program.has_ratios();
        let mut changes = Vec::new();
        for e in batch {
            let EventKind::Track {
                event,
                value,
                properties,
            } = &e.kind
            else {
                continue;
            };
            let Some(unit) = units.get_mut(&e.unit_id) else {
                continue;
            };
            let metric = names.id(event);
            unit.add_history(metric, *value);
            self.mark(unit, &e.unit_id);
            let t = e.time.unix_millis();
            for i in 0..unit.exposures.len() {
                let Some(&x) = unit.exposures.get(i) else {
                    break;
                };
                if !attributed(x.first_ms, t, window_ms) {
                    continue;
                }
                let rollup = self
                    .metrics
                    .entry((x.experiment, x.variant, metric, x.period(t)))
                    .or_default();
                unit.with_total(x.experiment, metric, |total| {
                    rollup.add_event(*value, total.events, total.total, total.covariate);
                    if ratios {
                        changes.push((
                            x.experiment,
                            x.variant,
                            metric,
                            total.total,
                            total.total + value,
                        ));
                    }
                    total.events += 1;
                    total.total += value;
                });
            }
            if !program.is_empty() {
                let mut out = Outputs {
                    rows: &mut self.metrics,
                    sketches: &mut self.sketches,
                };
                program.track(
                    unit,
                    metric,
                    *value,
                    properties.as_ref(),
                    t,
                    window_ms,
                    &mut out,
                    &mut changes,
                );
            }
        }
    }

    /// Rules 1 and 5 for a unit's first exposure to an experiment or a segment's subject (only
    /// an experiment's is listed in [`Round::first_exposures`]).
    fn expose(
        &mut self,
        program: &Bound<'_>,
        unit: &mut UnitState,
        exposure: UnitExposure,
        unit_id: &str,
    ) {
        unit.exposures.push(exposure);
        let (experiment, at) = (exposure.experiment, exposure.period(exposure.first_ms));
        // Rule 5: the unit's totals so far are its covariates here.
        let history = std::mem::take(&mut unit.history);
        for &(metric, x) in &history {
            let Some(x) = program.covariate(exposure.parent, metric, x) else {
                continue;
            };
            if x == 0.0 {
                continue;
            }
            unit.with_total(experiment, metric, |t| t.covariate = x);
            self.metrics
                .entry((experiment, exposure.variant, metric, at))
                .or_default()
                .add_covariate(x);
        }
        unit.history = history;
        *self
            .exposures
            .entry((experiment, exposure.variant, at))
            .or_default() += 1;
        if !exposure.is_segment() {
            self.first_exposures.push(FirstExposure {
                unit_id: unit_id.to_owned(),
                exposure,
            });
        }
        self.mark(unit, unit_id);
    }

    /// Records that `unit` changed in this round.
    fn mark(&mut self, unit: &mut UnitState, unit_id: &str) {
        if !unit.changed {
            unit.changed = true;
            self.changed.push(unit_id.to_owned());
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::Timestamp;
    use crate::events::Rollups;
    use proptest::prelude::*;

    fn event(i: usize, unit: u8, t: i64, kind: EventKind) -> Event {
        Event {
            message_id: format!("m{i}"),
            unit_id: format!("u{unit}"),
            time: Timestamp::from_unix_millis(t),
            client_time: None,
            kind,
        }
    }

    /// Random events over a few units, experiments, variants and metrics.
    fn events() -> impl Strategy<Value = Vec<(u8, i64, u8, u8, bool, i8)>> {
        prop::collection::vec(
            (
                0u8..5,
                0i64..400_000,
                0u8..3,
                0u8..2,
                any::<bool>(),
                -3i8..6,
            ),
            0..60,
        )
    }

    fn to_batch(offset: usize, raw: &[(u8, i64, u8, u8, bool, i8)]) -> Vec<Event> {
        raw.iter()
            .enumerate()
            .map(|(i, &(unit, t, a, b, exposure, v))| {
                let kind = if exposure {
                    EventKind::Exposure {
                        experiment: format!("e{a}"),
                        variant: format!("v{b}"),
                        dimensions: Vec::new(),
                    }
                } else {
                    EventKind::Track {
                        event: format!("m{b}"),
                        value: f64::from(v),
                        properties: None,
                    }
                };
                event(offset + i, unit, t, kind)
            })
            .collect()
    }

    /// The rollups of rounds applied to the states, as text keys like the reference's.
    /// The rollups of rounds, as text keys like the reference's.
    pub(crate) type Tables = (
        std::collections::BTreeMap<(String, String, i64), u64>,
        std::collections::BTreeMap<(String, String, String, i64), MetricRollup>,
    );

    fn by_rounds(batches: &[Vec<Event>], per_round: usize, window: i64) -> Tables {
        by_rounds_with(&Program::default(), batches, per_round, window)
    }

    /// The rollups of `batches` applied `per_round` at a time with `program` (its derived
    /// metrics and segments), added up.
    pub(crate) fn by_rounds_with(
        program: &Program,
        batches: &[Vec<Event>],
        per_round: usize,
        window: i64,
    ) -> Tables {
        let mut names = Names::default();
        let bound = Bound::new(program, &mut names);
        let mut book = SegmentBook::default();
        let mut units = HashMap::new();
        let mut tables = Tables::default();
        for round_batches in batches.chunks(per_round.max(1)) {
            let mut round = Round::default();
            for b in round_batches {
                round.apply_with(&bound, &mut book, &mut names, &mut units, b, window);
            }
            for u in &round.changed {
                units.get_mut(u).unwrap().changed = false;
            }
            for ((e, v, m), n) in round.exposures {
                *tables
                    .0
                    .entry((names.name(e).into(), names.name(v).into(), m))
                    .or_default() += n;
            }
            for ((e, v, k, m), r) in round.metrics {
                let t = tables
                    .1
                    .entry((
                        names.name(e).into(),
                        names.name(v).into(),
                        names.name(k).into(),
                        m,
                    ))
                    .or_default();
                t.add(&r);
            }
        }
        tables
    }

    proptest! {
        /// Rounds over unit states give the reference's rollups, however batches are grouped.
        #[test]
        fn rounds_equal_the_reference(
            a in events(), b in events(), c in events(), per_round in 1usize..4,
            window in prop::sample::select(vec![0i64, 100_000, 1_000_000]),
        ) {
            let batches = vec![to_batch(0, &a), to_batch(100, &b), to_batch(200, &c)];
            let mut reference = Rollups::new(window);
            for batch in &batches {
                reference.apply(batch);
            }
            equal_to_reference(&by_rounds(&batches, per_round, window), &reference)?;
        }
    }

    /// Whether `tables` are the reference's rollups (every figure within 1e-9 relative).
    pub(crate) fn equal_to_reference(
        (exposures, metrics): &Tables,
        reference: &Rollups,
    ) -> Result<(), TestCaseError> {
        prop_assert_eq!(exposures, &reference.exposures);
        prop_assert_eq!(
            metrics.keys().collect::<Vec<_>>(),
            reference.metrics.keys().collect::<Vec<_>>()
        );
        for (k, r) in metrics {
            let want = &reference.metrics[k];
            prop_assert_eq!((r.events, r.units), (want.events, want.units));
            for (got, want) in [
                (r.sum, want.sum),
                (r.sum_squares, want.sum_squares),
                (r.covariate_sum, want.covariate_sum),
                (r.covariate_squares, want.covariate_squares),
                (r.cross, want.cross),
            ] {
                prop_assert!(
                    (got - want).abs() <= 1e-9 * (1.0 + want.abs()),
                    "{k:?}: {got} vs {want}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn a_round_lists_each_changed_unit_once_and_new_first_exposures() {
        let mut names = Names::default();
        let mut units = HashMap::new();
        let mut round = Round::default();
        let batch = vec![
            event(
                0,
                1,
                10,
                EventKind::Track {
                    event: "buy".into(),
                    value: 2.0,
                    properties: None,
                },
            ),
            event(
                1,
                1,
                20,
                EventKind::Exposure {
                    experiment: "e".into(),
                    variant: "a".into(),
                    dimensions: Vec::new(),
                },
            ),
            event(
                2,
                1,
                30,
                EventKind::Exposure {
                    experiment: "e".into(),
                    variant: "b".into(),
                    dimensions: Vec::new(),
                },
            ),
            event(
                3,
                2,
                40,
                EventKind::Track {
                    event: "buy".into(),
                    value: 1.0,
                    properties: None,
                },
            ),
        ];
        round.apply(&mut names, &mut units, &batch, 1_000);
        assert_eq!(round.changed, vec!["u1".to_owned(), "u2".to_owned()]);
        assert_eq!(round.first_exposures.len(), 1);
        assert_eq!(names.name(round.first_exposures[0].exposure.variant), "a");
        // The exposure came before the track in rule 3's order: no history yet, no covariate.
        let u1 = &units["u1"];
        assert_eq!(u1.history, vec![(names.id("buy"), 2.0)]);
        assert!(u1.totals.is_empty());
        assert_eq!(names.name(999), "");
    }
}
