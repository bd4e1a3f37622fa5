//! An experiment's results per segment of one dimension (`GET /results/{experiment}/segments`):
//! each segment's rows (kept per hour under its subject, `litmus_core::segments`) read like an
//! experiment's, added up, and handed to core's breakdown, which corrects across segments.

use litmus_core::results::{self, AnalysisSettings, Options, SegmentTotals};
use litmus_core::segments::{self, Dimension};
use litmus_core::{Engine, Error, FieldPath};
use serde_json::{Value, json};

use crate::environments::Stream;
use crate::error::ApiError;
use crate::results::{DEFAULT_POINTS, find, internal, timeline};
use crate::snapshots::ProjectConfig;
use crate::store::Store;

/// An hour, in ms: segments' rows are per hour, so they are read in whole hours.
const HOUR_MS: i64 = 3_600_000;

/// The dimension `key` of `experiment`, or a 422 naming the `dimension` parameter.
fn dimension<'e>(
    experiment: &'e litmus_core::Experiment,
    key: &str,
) -> Result<&'e Dimension, ApiError> {
    experiment
        .dimensions()
        .iter()
        .find(|d| d.key() == key)
        .ok_or_else(|| {
            let declared: Vec<&str> = experiment.dimensions().iter().map(Dimension::key).collect();
            let message = if declared.is_empty() {
                format!(
                    "{key:?} is not a dimension of {:?}, which declares none (experiments[].dimensions)",
                    experiment.key()
                )
            } else {
                format!(
                    "{key:?} is not a dimension of {:?} (it declares {})",
                    experiment.key(),
                    declared.join(", ")
                )
            };
            ApiError::Invalid(Error::InvalidValue {
                path: FieldPath::root().field("dimension"),
                message,
            })
        })
}

/// The results of experiment `key` per segment of `dimension_key`, as JSON.
pub async fn segment_results<S: Store>(
    store: &S,
    engine: &Engine,
    defaults: &AnalysisSettings,
    key: &str,
    stream: &Stream,
    dimension_key: &str,
) -> Result<Value, ApiError> {
    let experiment = find(engine, key)?;
    let dimension = dimension(experiment, dimension_key)?;
    // The experiment's rows in this environment.
    let stored = stream.stored(key);
    let values: Vec<String> = store
        .experiment_segments(&stored)
        .await?
        .into_iter()
        .filter(|(d, _)| d == dimension_key)
        .map(|(_, v)| v)
        .collect();
    let span = store.rollup_span(&stored).await?;
    let span_ms = span.map_or(0, |(a, b)| b.saturating_sub(a).saturating_add(60_000));
    // Whole hours, and at least the experiment's own buckets (retention cohorts mature by
    // bucket).
    let bucket = results::bucket_ms(span_ms, DEFAULT_POINTS).max(HOUR_MS);
    let now = crate::now_ms();
    // The segments' reads side by side (each is an experiment's read).
    let subjects: Vec<String> = values
        .iter()
        .map(|value| segments::subject(&stored, dimension_key, value))
        .collect();
    let rows = futures_util::future::try_join_all(
        subjects
            .iter()
            .map(|subject| store.experiment_rollups(subject, bucket, i64::MIN)),
    )
    .await?;
    // Without declared metrics, every event's own rows any segment has.
    let tracked: std::collections::BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.metrics.keys().map(|(_, _, m, _)| m.as_str()))
        .filter(|m| !m.starts_with(litmus_core::metrics::DERIVED_PREFIX))
        .collect();
    let mut plan = results::plan(experiment, tracked);
    // A percentile cap comes from the units' values, which segments do not keep apart.
    let (capped, metrics): (Vec<_>, Vec<_>) = plan
        .metrics
        .drain(..)
        .partition(|m| m.source.percentile_cap.is_some());
    plan.metrics = metrics;
    let segments: Vec<SegmentTotals> = values
        .iter()
        .zip(&rows)
        .map(|(value, r)| SegmentTotals {
            value: value.clone(),
            variants: timeline(&plan, r, now, bucket).totals(None),
        })
        .collect();
    let options = Options {
        check_srm: plan.check_srm,
        ..experiment.analysis().over(defaults).options()
    };
    let breakdown =
        results::breakdown(dimension_key, &segments, &plan.metrics, &options).map_err(internal)?;
    let cap = match dimension.values() {
        Some(listed) => json!({"listed": listed.iter().map(|v| &**v).collect::<Vec<_>>()}),
        None => json!({"max_values": dimension.max_values()}),
    };
    Ok(json!({
        "experiment": key,
        "dimension": dimension_key,
        "attribute": dimension.attribute(),
        "values": cap,
        "bucket_ms": bucket,
        "breakdown": breakdown,
        "not_broken_down": capped.iter().map(|m| json!({
            "metric": m.key,
            "reason": "a percentile cap is computed over the experiment's units, not per segment",
        })).collect::<Vec<_>>(),
    }))
}

/// The results per segment of `dimension` in `environment`, in the config this instance
/// serves now.
pub async fn current<S: Store>(
    snapshots: &ProjectConfig<S>,
    key: &str,
    environment: &str,
    dimension: &str,
) -> Result<Value, ApiError> {
    let engine = snapshots.engine_in(environment).await?;
    segment_results(
        snapshots.store(),
        &engine,
        snapshots.analysis(),
        key,
        &Stream::of(snapshots.project(), environment),
        dimension,
    )
    .await
}
