//! Anomaly insights on an experiment's recent per-minute series: units first exposed per
//! variant, and events of each metric per variant, each judged by the robust z-score detector
//! in count mode ([`super::anomaly::robust_z`], threshold 5; its documented false-alarm rate
//! is about 6e-7 per minute for Poisson counts).

use super::anomaly::{Anomaly, Direction, RobustZOptions, robust_z};
use super::finding::{Insight, InsightKind, Severity};
use crate::results::Timeline;

/// The minute, in ms.
const MINUTE_MS: i64 = 60_000;

/// Anomalies in `recent` (rows in 1-minute buckets, with at least the detector's history of
/// 30 minutes before the minutes reported): each series is judged up to `complete_ms`, the
/// start of the first minute that may still be filling (events arrive late: pass a minute or
/// two before now), with the minutes since the last row counted as 0 (an outage is a drop).
/// Alarms of the last `report_minutes` minutes before `complete_ms` are reported, newest
/// first, at most `limit`.
pub fn anomalies(
    recent: &Timeline,
    variants: &[String],
    complete_ms: i64,
    report_minutes: i64,
    limit: usize,
) -> Vec<Insight> {
    let mut found: Vec<Insight> = Vec::new();
    let (start, exposures) = recent.exposure_counts(MINUTE_MS, Some(complete_ms));
    let from = complete_ms.saturating_sub(report_minutes.saturating_mul(MINUTE_MS));
    let mut judge = |what: &str, metric: Option<&str>, start: i64, series: Vec<Vec<f64>>| {
        for (variant, values) in variants.iter().zip(series) {
            let Ok(alarms) = robust_z(&values, RobustZOptions::for_counts()) else {
                continue;
            };
            for alarm in alarms {
                let time = start.saturating_add(alarm.index() as i64 * MINUTE_MS);
                if time >= from {
                    found.push(insight(what, metric, variant, time, &alarm));
                }
            }
        }
    };
    judge("units exposed", None, start, exposures);
    for metric in recent.metric_names() {
        let (start, counts) = recent.metric_counts(metric, MINUTE_MS, Some(complete_ms));
        judge(&format!("{metric} events"), Some(metric), start, counts);
    }
    found.sort_by_key(|i| std::cmp::Reverse(i.time_ms));
    found.truncate(limit);
    found
}

fn insight(what: &str, metric: Option<&str>, variant: &str, time_ms: i64, a: &Anomaly) -> Insight {
    let (word, severity) = match a.direction() {
        Direction::Spike => ("Spike", Severity::Warning),
        Direction::Drop => ("Drop", Severity::Warning),
    };
    let mut i = Insight::new(
        InsightKind::Anomaly,
        severity,
        format!("{word} in {what} ({variant})"),
        format!(
            "{} in one minute against a baseline of {:.1} (expected between {:.1} and {:.1}; \
             robust z-score {:.1}, alarm beyond 5).",
            a.value(),
            a.baseline(),
            a.lower().max(0.0),
            a.upper(),
            a.score()
        ),
    )
    .number("value", a.value())
    .number("baseline", a.baseline())
    .number("lower", a.lower())
    .number("upper", a.upper())
    .number("score", a.score());
    i.metric = metric.map(str::to_owned);
    i.variant = Some(variant.to_owned());
    i.time_ms = Some(time_ms);
    i
}
