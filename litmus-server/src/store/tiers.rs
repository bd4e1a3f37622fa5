//! Coarser copies of the rollups, so results over long spans read few rows: the rounds write
//! each exposure and metric row also into an hourly table (`rollup_exposures_hourly`,
//! `rollup_metrics_hourly`), and each sketch row (hourly) also into a daily one
//! (`rollup_sketches_daily`). A read whose buckets are whole hours uses the hourly tables,
//! and sketches read in buckets of 12 hours or more use the daily one: the same sums, 60 (or
//! 24) times fewer rows. A sketch read that way counts a day's values at the day's start, so
//! a quantile's series point inside a day includes that whole day.

use std::collections::BTreeMap;

use litmus_core::events::MetricRollup;

use super::unit_state::SketchKey;

/// An hour, in ms.
pub(crate) const HOUR_MS: i64 = 3_600_000;
/// A day, in ms.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// The start of the period of `size` ms holding `ms` (floor division, as core's `minute`).
pub(crate) fn floor(ms: i64, size: i64) -> i64 {
    ms.saturating_sub(ms.rem_euclid(size))
}

/// Whether a read in buckets of `bucket_ms` can use the hourly tables.
pub(crate) fn hourly(bucket_ms: i64) -> bool {
    bucket_ms >= HOUR_MS && bucket_ms % HOUR_MS == 0
}

/// Whether a sketch read in buckets of `bucket_ms` uses the daily table.
pub(crate) fn daily_sketches(bucket_ms: i64) -> bool {
    bucket_ms >= 12 * HOUR_MS
}

/// The tables a read in buckets of a given size uses: fixed names (what SQL may interpolate,
/// see `tests/security.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tier {
    exposures: &'static str,
    metrics: &'static str,
    time: &'static str,
    sketches: &'static str,
    sketch_time: &'static str,
    /// The size of the rows' periods, in ms (what `since` is floored to).
    period_ms: i64,
    /// The size of the sketch rows' periods.
    sketch_period_ms: i64,
}

impl Tier {
    /// The tables for buckets of `bucket_ms`: hourly ones for whole hours, daily sketches for
    /// 12 hours or more, else the per-minute tables and hourly sketches.
    pub(crate) fn of(bucket_ms: i64) -> Tier {
        let (exposures, metrics, time, period_ms) = if hourly(bucket_ms) {
            (
                "rollup_exposures_hourly",
                "rollup_metrics_hourly",
                "hour_ms",
                HOUR_MS,
            )
        } else {
            ("rollup_exposures", "rollup_metrics", "minute_ms", 60_000)
        };
        let (sketches, sketch_time, sketch_period_ms) = if daily_sketches(bucket_ms) {
            ("rollup_sketches_daily", "day_ms", DAY_MS)
        } else {
            ("rollup_sketches", "hour_ms", HOUR_MS)
        };
        Tier {
            exposures,
            metrics,
            time,
            sketches,
            sketch_time,
            period_ms,
            sketch_period_ms,
        }
    }

    /// The exposures table.
    pub(crate) fn exposures(self) -> &'static str {
        self.exposures
    }

    /// The metrics table.
    pub(crate) fn metrics(self) -> &'static str {
        self.metrics
    }

    /// Their time column.
    pub(crate) fn time(self) -> &'static str {
        self.time
    }

    /// The sketches table.
    pub(crate) fn sketches(self) -> &'static str {
        self.sketches
    }

    /// Its time column.
    pub(crate) fn sketch_time(self) -> &'static str {
        self.sketch_time
    }

    /// `since_ms` floored to the rows' periods (a row that overlaps it counts).
    pub(crate) fn since(self, since_ms: i64) -> i64 {
        floor(since_ms, self.period_ms)
    }

    /// `since_ms` floored to the sketch rows' periods.
    pub(crate) fn sketch_since(self, since_ms: i64) -> i64 {
        floor(since_ms, self.sketch_period_ms)
    }
}

/// Exposure rows added up per hour.
pub(crate) fn exposures_by_hour(
    rows: &[crate::store::unit_state::ExposureRow],
) -> Vec<crate::store::unit_state::ExposureRow> {
    let mut out: BTreeMap<(&str, &str, i64), u64> = BTreeMap::new();
    for ((e, v, m), n) in rows {
        *out.entry((e, v, floor(*m, HOUR_MS))).or_default() += n;
    }
    out.into_iter()
        .map(|((e, v, h), n)| ((e.to_owned(), v.to_owned(), h), n))
        .collect()
}

/// Metric rows added up per hour.
pub(crate) fn metrics_by_hour(
    rows: &[crate::store::unit_state::MetricRow],
) -> Vec<crate::store::unit_state::MetricRow> {
    let mut out: BTreeMap<(&str, &str, &str, i64), MetricRollup> = BTreeMap::new();
    for ((e, v, k, m), r) in rows {
        out.entry((e, v, k, floor(*m, HOUR_MS))).or_default().add(r);
    }
    out.into_iter()
        .map(|((e, v, k, h), r)| ((e.to_owned(), v.to_owned(), k.to_owned(), h), r))
        .collect()
}

/// Sketch rows added up per day (zero counts left out).
pub(crate) fn sketches_by_day(rows: &[(SketchKey, i64)]) -> Vec<(SketchKey, i64)> {
    let mut out: BTreeMap<(&str, &str, &str, i64, i32), i64> = BTreeMap::new();
    for ((e, v, k, h, b), n) in rows {
        *out.entry((e, v, k, floor(*h, DAY_MS), *b)).or_default() += n;
    }
    out.into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((e, v, k, d, b), n)| ((e.to_owned(), v.to_owned(), k.to_owned(), d, b), n))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn rows_add_up_per_hour_and_day() {
        let m = |sum: f64| MetricRollup {
            events: 1,
            sum,
            ..MetricRollup::default()
        };
        let key = |t: i64| ("e".to_owned(), "a".to_owned(), "buy".to_owned(), t);
        let rows = vec![
            (key(0), m(1.0)),
            (key(60_000), m(2.0)),
            (key(HOUR_MS), m(4.0)),
            (key(-60_000), m(8.0)),
        ];
        let hours = metrics_by_hour(&rows);
        assert_eq!(hours.len(), 3);
        assert_eq!(hours[0].0.3, -HOUR_MS);
        assert_eq!((hours[1].1.events, hours[1].1.sum), (2, 3.0));
        let sketch = |h: i64, n: i64| (("e".to_owned(), "a".to_owned(), "m".to_owned(), h, 7), n);
        let days = sketches_by_day(&[sketch(0, 2), sketch(HOUR_MS, -2), sketch(DAY_MS, 1)]);
        assert_eq!(
            days,
            vec![sketch(DAY_MS, 1)],
            "a day's changes that cancel are no row"
        );
        assert!(hourly(2 * HOUR_MS) && !hourly(30 * 60_000) && !hourly(60_000));
        assert!(daily_sketches(12 * HOUR_MS) && !daily_sketches(HOUR_MS));
        let ex = exposures_by_hour(&[
            (("e".into(), "a".into(), 60_000), 2),
            (("e".into(), "a".into(), 120_000), 3),
        ]);
        assert_eq!(ex, vec![(("e".to_owned(), "a".to_owned(), 0), 5)]);
    }
}
