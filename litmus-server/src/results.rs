//! An experiment's results, as the results API and the live updates send them: the plan,
//! analysis and series all come from `litmus_core::results`, over the experiment's rollups
//! read at a bucket size that gives about the number of points asked for.

use axum::http::StatusCode;
use litmus_core::Engine;
use litmus_core::results::{self, Options, Timeline};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Store;

/// Points in the series by default.
pub const DEFAULT_POINTS: usize = 60;

/// The results of experiment `key` with a series of up to `points` points, as JSON.
pub async fn experiment_results<S: Store>(
    state: &AppState<S>,
    engine: &Engine,
    key: &str,
    points: usize,
) -> Result<Value, ApiError> {
    let experiment = match engine.experiment(key) {
        Some(e) => e,
        None if engine.experiments().any(|(k, _)| k == key) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "invalid_config",
                format!("experiment {key:?} is invalid in the current config; fix it first"),
            ));
        }
        None => return Err(ApiError::not_found(format!("no experiment {key:?}"))),
    };
    let span = state.store.rollup_span(key).await?;
    let bucket = results::bucket_ms(span.map_or(0, |(a, b)| b.saturating_sub(a)), points);
    let rows = state.store.experiment_rollups(key, bucket).await?;
    let tracked: Vec<&str> = rows
        .metrics
        .keys()
        .map(|(_, _, metric, _)| metric.as_str())
        .collect();
    let plan = results::plan(experiment, tracked);
    let options = Options {
        check_srm: plan.check_srm,
        ..Options::default()
    };
    let mut timeline = Timeline::new(plan.variants.clone());
    for ((_, variant, time), units) in &rows.exposures {
        timeline.add_exposures(variant, *time, *units);
    }
    for ((_, variant, metric, time), rollup) in &rows.metrics {
        timeline.add_metric(variant, metric, *time, rollup);
    }
    let analysis = results::analyze(&timeline.totals(None), &plan.metrics, &options)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.code(), e.to_string()))?;
    let series = results::cumulative(&timeline, &plan.metrics, &options, points)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.code(), e.to_string()))?;
    Ok(json!({
        "experiment": key,
        "kind": experiment.kind().as_str(),
        "status": experiment.status().as_str(),
        "config_version": engine.version(),
        "bucket_ms": bucket,
        "unknown_variant_units": timeline.unknown_units(),
        "results": analysis,
        "series": series,
    }))
}
