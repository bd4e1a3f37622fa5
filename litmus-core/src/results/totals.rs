//! An experiment's rollup rows, added up per variant: in total, or up to a time (for the
//! cumulative series).

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::events::MetricRollup;
use crate::stats::sketch::QuantileSketch;

/// One variant's counts up to some time.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantTotals {
    /// The variant's key.
    pub key: String,
    /// Its configured weight (for the SRM check).
    pub weight: f64,
    /// Units exposed.
    pub units: u64,
    /// Per metric (by rollup id): events, units with an event, the sum of values and the sum
    /// of squared per-unit totals.
    pub metrics: BTreeMap<String, MetricRollup>,
    /// Per cohort metric (retention, by rollup id): the units of the cohorts whose window has
    /// passed, the ones its rows in [`VariantTotals::metrics`] count.
    pub cohort_units: BTreeMap<String, u64>,
    /// Per metric with a percentile cap (by rollup id): the cap applied to its unit values.
    pub caps: BTreeMap<String, f64>,
    /// Per quantile metric (by rollup id): the sketch of its events' or units' values (units
    /// without events not included).
    pub sketches: BTreeMap<String, QuantileSketch>,
}

impl VariantTotals {
    /// Totals with no metric yet: `units` exposed to the variant `key` of weight `weight`.
    pub fn new(key: &str, weight: f64, units: u64) -> Self {
        VariantTotals {
            key: key.to_owned(),
            weight,
            units,
            metrics: BTreeMap::new(),
            cohort_units: BTreeMap::new(),
            caps: BTreeMap::new(),
            sketches: BTreeMap::new(),
        }
    }

    /// The units a metric's figures are over: a cohort metric's matured units, else all.
    pub fn units_for(&self, rollup: &str) -> u64 {
        self.cohort_units.get(rollup).copied().unwrap_or(self.units)
    }
}

/// An experiment's rollups by time: the rows of `rollup_exposures` and `rollup_metrics` (per
/// minute, or coarser buckets) of its variants, the control first.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    variants: Vec<(String, f64)>,
    /// Time to units exposed per variant (in `variants` order).
    exposures: BTreeMap<i64, Vec<u64>>,
    /// (time, metric) to the rollup per variant.
    metrics: BTreeMap<(i64, String), Vec<MetricRollup>>,
    /// Units exposed to variants that are no longer configured.
    unknown_units: u64,
    /// Cohort metrics (rows keyed by their units' exposure): rollup id to how long after the
    /// exposure a cohort's window ends.
    cohorts: BTreeMap<String, i64>,
    /// The time cohorts are judged at, and the rows' bucket size.
    clock: Option<(i64, i64)>,
    /// Metric to time to the quantile sketch per variant (by metric first, so that adding a
    /// row finds its metric without allocating its name).
    sketches: BTreeMap<String, BTreeMap<i64, Vec<QuantileSketch>>>,
    /// Percentile caps applied (see [`Timeline::set_unit_values`]), by rollup id.
    caps: BTreeMap<String, f64>,
}

impl Timeline {
    /// An empty timeline for `variants` (key and weight), the control first.
    pub fn new(variants: Vec<(String, f64)>) -> Self {
        Timeline {
            variants,
            ..Timeline::default()
        }
    }

    /// Reads the rows of `rollup` as cohorts whose window ends `after_ms` after their
    /// exposure: totals count only the cohorts whose window has ended by `now_ms` (or the
    /// totals' time, when earlier), each bucket of `bucket_ms` whole.
    pub fn add_cohort(&mut self, rollup: &str, after_ms: i64, now_ms: i64, bucket_ms: i64) {
        self.cohorts.insert(rollup.to_owned(), after_ms);
        self.clock = Some((now_ms, bucket_ms.max(1)));
    }

    fn index(&self, variant: &str) -> Option<usize> {
        self.variants.iter().position(|(k, _)| k == variant)
    }

    /// Adds `units` first exposed to `variant` in the bucket starting at `time_ms`. Rows of
    /// variants not configured are only counted ([`Timeline::unknown_units`]).
    pub fn add_exposures(&mut self, variant: &str, time_ms: i64, units: u64) {
        let Some(i) = self.index(variant) else {
            self.unknown_units = self.unknown_units.saturating_add(units);
            return;
        };
        let n = self.variants.len();
        let row = self.exposures.entry(time_ms).or_insert_with(|| vec![0; n]);
        if let Some(slot) = row.get_mut(i) {
            *slot = slot.saturating_add(units);
        }
    }

    /// Adds the rollup of `metric` for `variant` in the bucket starting at `time_ms`.
    pub fn add_metric(&mut self, variant: &str, metric: &str, time_ms: i64, rollup: &MetricRollup) {
        let Some(i) = self.index(variant) else {
            return;
        };
        let n = self.variants.len();
        let row = self
            .metrics
            .entry((time_ms, metric.to_owned()))
            .or_insert_with(|| vec![MetricRollup::default(); n]);
        if let Some(slot) = row.get_mut(i) {
            slot.add(rollup);
        }
    }

    /// Replaces the rows of `rollup` by the units' values capped at `cap` (a percentile cap,
    /// computed from them by [`super::capping::percentile_cap`]), each unit in the bucket of
    /// `bucket_ms` holding its first exposure: totals up to a time then count the units
    /// exposed by then, with their values as the records hold them.
    pub fn set_unit_values(
        &mut self,
        rollup: &str,
        units: &[super::capping::UnitValue],
        cap: f64,
        bucket_ms: i64,
    ) {
        self.metrics.retain(|(_, m), _| m != rollup);
        let bucket = bucket_ms.max(1);
        let n = self.variants.len();
        // Added up per bucket here, then stored: one row per bucket, not a lookup per unit.
        let mut buckets: BTreeMap<i64, Vec<MetricRollup>> = BTreeMap::new();
        for u in units {
            let Some(i) = self.index(&u.variant) else {
                continue;
            };
            let (y, x) = (u.total.min(cap), u.covariate.min(cap));
            let row = MetricRollup {
                events: u.events,
                units: u64::from(u.events > 0),
                sum: y,
                sum_squares: y * y,
                covariate_sum: x,
                covariate_squares: x * x,
                cross: x * y,
            };
            let time = u.first_ms.saturating_sub(u.first_ms.rem_euclid(bucket));
            let rows = buckets
                .entry(time)
                .or_insert_with(|| vec![MetricRollup::default(); n]);
            if let Some(slot) = rows.get_mut(i) {
                slot.add(&row);
            }
        }
        for (time, rows) in buckets {
            self.metrics.insert((time, rollup.to_owned()), rows);
        }
        self.caps.insert(rollup.to_owned(), cap);
    }

    /// Adds `count` values (negative: taken away) in the sketch bucket `key` of `metric` for
    /// `variant` in the bucket starting at `time_ms`. A key no sketch has is left out.
    pub fn add_sketch(&mut self, variant: &str, metric: &str, time_ms: i64, key: i32, count: i64) {
        let Some(i) = self.index(variant) else {
            return;
        };
        let n = self.variants.len();
        if !self.sketches.contains_key(metric) {
            self.sketches.insert(metric.to_owned(), BTreeMap::new());
        }
        let Some(rows) = self.sketches.get_mut(metric) else {
            return;
        };
        let row = rows
            .entry(time_ms)
            .or_insert_with(|| vec![QuantileSketch::default(); n]);
        if let Some(slot) = row.get_mut(i) {
            let _ = slot.add_key(key, count);
        }
    }

    /// Units exposed to variants that are not configured (removed since).
    pub fn unknown_units(&self) -> u64 {
        self.unknown_units
    }

    /// The first and last bucket times, when there is any row.
    pub fn span(&self) -> Option<(i64, i64)> {
        let first = self.exposures.keys().next().copied();
        let last = self.exposures.keys().next_back().copied();
        let metric_first = self.metrics.keys().next().map(|(t, _)| *t);
        let metric_last = self.metrics.keys().next_back().map(|(t, _)| *t);
        let lo = [first, metric_first].into_iter().flatten().min()?;
        let hi = [last, metric_last].into_iter().flatten().max()?;
        Some((lo, hi))
    }

    /// Per variant, the units first exposed in each bucket of `bucket_ms`, from the first
    /// bucket with data to the last bucket starting before `end_ms` (0 where there is none;
    /// without `end_ms`, to the last bucket with data), at most the last
    /// [`MAX_DENSE_BUCKETS`]: the start of the first bucket, and a series per variant.
    pub fn exposure_counts(&self, bucket_ms: i64, end_ms: Option<i64>) -> (i64, Vec<Vec<f64>>) {
        let rows = self
            .exposures
            .iter()
            .map(|(t, row)| (*t, row.iter().map(|u| *u as f64)));
        dense(rows, self.variants.len(), bucket_ms, end_ms)
    }

    /// Per variant, the events of `metric` in each bucket of `bucket_ms`, as
    /// [`Timeline::exposure_counts`].
    pub fn metric_counts(
        &self,
        metric: &str,
        bucket_ms: i64,
        end_ms: Option<i64>,
    ) -> (i64, Vec<Vec<f64>>) {
        let rows = self
            .metrics
            .iter()
            .filter(|((_, m), _)| m == metric)
            .map(|((t, _), row)| (*t, row.iter().map(|r| r.events as f64)));
        dense(rows, self.variants.len(), bucket_ms, end_ms)
    }

    /// The metric names with rows.
    pub fn metric_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.metrics.keys().map(|(_, m)| m.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Each variant's totals over the buckets starting at or before `until_ms` (all of them
    /// when `None`).
    pub fn totals(&self, until_ms: Option<i64>) -> Vec<VariantTotals> {
        self.totals_at(&[until_ms.unwrap_or(i64::MAX)])
            .pop()
            .unwrap_or_default()
    }

    /// The totals at each of `times` (ascending; `i64::MAX` for all of them), as
    /// [`Timeline::totals`] gives them, in one pass over the rows: each time adds the rows
    /// that count by it to the totals of the time before. A row counts from some time on and
    /// keeps counting (a cohort's window that has ended stays ended), and each metric's rows
    /// are added in time order, so the sums are the ones [`Timeline::totals`] makes alone.
    pub fn totals_at(&self, times: &[i64]) -> Vec<Vec<VariantTotals>> {
        let mut running: Vec<VariantTotals> = self
            .variants
            .iter()
            .map(|(key, weight)| {
                let mut v = VariantTotals::new(key, *weight, 0);
                v.caps.clone_from(&self.caps);
                for id in self.cohorts.keys() {
                    v.cohort_units.insert(id.clone(), 0);
                }
                v
            })
            .collect();
        let exposures: Vec<(i64, &Vec<u64>)> =
            self.exposures.iter().map(|(t, row)| (*t, row)).collect();
        // Per metric, its rows in time order.
        let mut metrics: BTreeMap<&str, Vec<(i64, &Vec<MetricRollup>)>> = BTreeMap::new();
        for ((time, metric), row) in &self.metrics {
            metrics
                .entry(metric.as_str())
                .or_default()
                .push((*time, row));
        }
        let mut exposures_done = 0;
        let mut cohorts_done: Vec<usize> = vec![0; self.cohorts.len()];
        let mut metrics_done: Vec<usize> = vec![0; metrics.len()];
        // Per quantile metric, the time of the last row added.
        let mut sketches_added: Vec<Option<i64>> = vec![None; self.sketches.len()];
        let mut out = Vec::with_capacity(times.len());
        for &until in times {
            // A cohort counts once its window has ended for all of its bucket's units.
            let at = self
                .clock
                .map(|(now, bucket)| (until.saturating_add(bucket).min(now), bucket));
            let matured = |time: i64, after: i64| match at {
                Some((at, bucket)) => time.saturating_add(bucket).saturating_add(after) <= at,
                None => true,
            };
            let rows = exposures.get(exposures_done..).unwrap_or_default();
            for (_, row) in rows.iter().take_while(|(t, _)| *t <= until) {
                exposures_done += 1;
                for (v, units) in running.iter_mut().zip(row.iter()) {
                    v.units = v.units.saturating_add(*units);
                }
            }
            for ((id, after), done) in self.cohorts.iter().zip(&mut cohorts_done) {
                let rows = exposures.get(*done..).unwrap_or_default();
                for (_, row) in rows
                    .iter()
                    .take_while(|(t, _)| *t <= until && matured(*t, *after))
                {
                    *done += 1;
                    for (v, units) in running.iter_mut().zip(row.iter()) {
                        let n = v.cohort_units.entry(id.clone()).or_default();
                        *n = n.saturating_add(*units);
                    }
                }
            }
            for ((metric, rows), done) in metrics.iter().zip(&mut metrics_done) {
                let after = self.cohorts.get(*metric).copied();
                let rows = rows.get(*done..).unwrap_or_default();
                for (_, row) in rows
                    .iter()
                    .take_while(|(t, _)| *t <= until && after.is_none_or(|a| matured(*t, a)))
                {
                    *done += 1;
                    for (v, rollup) in running.iter_mut().zip(row.iter()) {
                        if let Some(m) = v.metrics.get_mut(*metric) {
                            m.add(rollup);
                        } else {
                            let mut m = MetricRollup::default();
                            m.add(rollup);
                            v.metrics.insert((*metric).to_owned(), m);
                        }
                    }
                }
            }
            for ((metric, rows), added) in self.sketches.iter().zip(&mut sketches_added) {
                if added.is_some_and(|last| last >= until) {
                    continue;
                }
                let from = added.map_or(Bound::Unbounded, Bound::Excluded);
                for (time, row) in rows.range((from, Bound::Included(until))) {
                    *added = Some(*time);
                    for (v, sketch) in running.iter_mut().zip(row) {
                        let _ = v.sketches.entry(metric.clone()).or_default().merge(sketch);
                    }
                }
            }
            out.push(running.clone());
        }
        out
    }
}

/// The most buckets a dense series holds (the newest are kept).
pub const MAX_DENSE_BUCKETS: i64 = 10_000;

/// Rows `(bucket start, values per variant)` in time order as dense series over consecutive
/// buckets of `bucket_ms`.
fn dense<I: Iterator<Item = f64>>(
    rows: impl Iterator<Item = (i64, I)> + Clone,
    variants: usize,
    bucket_ms: i64,
    end_ms: Option<i64>,
) -> (i64, Vec<Vec<f64>>) {
    let bucket = bucket_ms.max(1);
    let end = end_ms.unwrap_or(i64::MAX);
    let rows = rows.filter(move |(t, _)| *t < end);
    let (Some(first), Some(mut last)) = (
        rows.clone().map(|(t, _)| t).min(),
        rows.clone().map(|(t, _)| t).max(),
    ) else {
        return (0, vec![Vec::new(); variants]);
    };
    if let Some(end) = end_ms {
        // Up to the last bucket that starts before the end: trailing empty buckets count.
        let steps = end.saturating_sub(1).saturating_sub(first) / bucket;
        last = last.max(first.saturating_add(steps.saturating_mul(bucket)));
    }
    let span = last.saturating_sub(first) / bucket;
    let start = if span >= MAX_DENSE_BUCKETS {
        last.saturating_sub((MAX_DENSE_BUCKETS - 1).saturating_mul(bucket))
    } else {
        first
    };
    let len = (last.saturating_sub(start) / bucket + 1).clamp(1, MAX_DENSE_BUCKETS) as usize;
    let mut out = vec![vec![0.0; len]; variants];
    for (t, values) in rows {
        if t < start {
            continue;
        }
        let i = (t.saturating_sub(start) / bucket) as usize;
        for (series, v) in out.iter_mut().zip(values) {
            if let Some(slot) = series.get_mut(i) {
                *slot += v;
            }
        }
    }
    (start, out)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn adds_up_to_a_time() {
        let mut t = Timeline::new(vec![("control".into(), 1.0), ("treatment".into(), 1.0)]);
        t.add_exposures("control", 0, 10);
        t.add_exposures("treatment", 60_000, 12);
        t.add_exposures("gone", 60_000, 3);
        let r = MetricRollup {
            events: 2,
            units: 1,
            sum: 3.0,
            sum_squares: 9.0,
            ..Default::default()
        };
        t.add_metric("treatment", "buy", 60_000, &r);
        t.add_metric("treatment", "buy", 120_000, &r);
        let all = t.totals(None);
        assert_eq!((all[0].units, all[1].units), (10, 12));
        assert_eq!(all[1].metrics["buy"].events, 4);
        assert_eq!(all[1].metrics["buy"].sum_squares, 18.0);
        let early = t.totals(Some(59_999));
        assert_eq!((early[0].units, early[1].units), (10, 0));
        assert!(early[1].metrics.is_empty());
        assert_eq!(t.unknown_units(), 3);
        let (start, counts) = t.exposure_counts(60_000, None);
        assert_eq!((start, counts), (0, vec![vec![10.0, 0.0], vec![0.0, 12.0]]));
        let (start, buys) = t.metric_counts("buy", 60_000, None);
        assert_eq!(
            (start, buys),
            (60_000, vec![vec![0.0, 0.0], vec![2.0, 2.0]])
        );
        assert_eq!(
            t.metric_counts("none", 60_000, None).1,
            vec![Vec::<f64>::new(); 2]
        );
        // Up to an end: later buckets left out, empty ones before it counted.
        let (_, buys) = t.metric_counts("buy", 60_000, Some(120_000));
        assert_eq!(buys, vec![vec![0.0], vec![2.0]]);
        let (_, buys) = t.metric_counts("buy", 60_000, Some(240_001));
        assert_eq!(buys[1], vec![2.0, 2.0, 0.0, 0.0]);
        assert_eq!(t.metric_names(), vec!["buy"]);
        assert_eq!(t.span(), Some((0, 120_000)));
    }

    /// The totals up to `until` as they were computed before the sweep: every row tested
    /// against the time on its own.
    fn reference(t: &Timeline, until_ms: Option<i64>) -> Vec<VariantTotals> {
        let mut out: Vec<VariantTotals> = t
            .variants
            .iter()
            .map(|(key, weight)| VariantTotals::new(key, *weight, 0))
            .collect();
        let until = until_ms.unwrap_or(i64::MAX);
        for row in t.exposures.range(..=until).map(|(_, row)| row) {
            for (v, units) in out.iter_mut().zip(row) {
                v.units += *units;
            }
        }
        let matured = |time: i64, after: i64| match t.clock {
            Some((now, bucket)) => {
                let at = until_ms.map_or(now, |u| u.saturating_add(bucket).min(now));
                time.saturating_add(bucket).saturating_add(after) <= at
            }
            None => true,
        };
        for (id, after) in &t.cohorts {
            for v in &mut out {
                v.cohort_units.insert(id.clone(), 0);
            }
            for (time, row) in t.exposures.range(..=until) {
                if matured(*time, *after) {
                    for (v, units) in out.iter_mut().zip(row) {
                        *v.cohort_units.entry(id.clone()).or_default() += *units;
                    }
                }
            }
        }
        for ((time, metric), row) in &t.metrics {
            let cohort_not_matured = t.cohorts.get(metric).is_some_and(|a| !matured(*time, *a));
            if *time > until || cohort_not_matured {
                continue;
            }
            for (v, rollup) in out.iter_mut().zip(row) {
                v.metrics.entry(metric.clone()).or_default().add(rollup);
            }
        }
        for v in &mut out {
            v.caps.clone_from(&t.caps);
        }
        for (metric, rows) in &t.sketches {
            for row in rows.range(..=until).map(|(_, row)| row) {
                for (v, sketch) in out.iter_mut().zip(row) {
                    v.sketches
                        .entry(metric.clone())
                        .or_default()
                        .merge(sketch)
                        .unwrap();
                }
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn the_sweep_gives_the_totals_of_each_time_alone(
            rows in proptest::collection::vec((0..3usize, 0..4usize, 0i64..40, 1u64..5, -3.0f64..7.0), 0..60),
            cohort_after in 0i64..6,
            now in 0i64..50,
            mut times in proptest::collection::vec(-2i64..45, 1..8),
        ) {
            let minute = 60_000;
            let variants = ["control", "a", "b"];
            let mut t = Timeline::new(variants[..2].iter().map(|v| ((*v).into(), 1.0)).collect());
            t.add_cohort("kept", cohort_after * minute, now * minute, minute);
            for (v, m, time, n, x) in rows {
                let (variant, time) = (variants[v], time * minute);
                match m {
                    0 => t.add_exposures(variant, time, n),
                    1 | 2 => {
                        let r = MetricRollup { events: n, units: 1, sum: x, sum_squares: x * x, ..Default::default() };
                        t.add_metric(variant, ["buy", "kept"][m - 1], time, &r);
                    }
                    _ => {
                        let key = QuantileSketch::default().key(x.abs() + 1.0).unwrap();
                        t.add_sketch(variant, "load", time, key, i64::try_from(n).unwrap());
                    }
                }
            }
            times.sort_unstable();
            times.push(i64::MAX);
            let times: Vec<i64> = times.into_iter().map(|m| if m == i64::MAX { m } else { m * minute }).collect();
            let swept = t.totals_at(&times);
            for (time, got) in times.iter().zip(&swept) {
                let until = (*time != i64::MAX).then_some(*time);
                proptest::prop_assert_eq!(got, &reference(&t, until));
                proptest::prop_assert_eq!(got, &t.totals(until));
            }
        }
    }
}
