//! A holdout's readout (`GET /holdouts/{key}/results`): the units it held out against the
//! units that entered the experiments it covers, on those experiments' metrics, from the
//! holdout exposures the SDKs and `/assign` log (`litmus_core::assign::holdout_exposure`).

use litmus_core::Engine;
use litmus_core::assign::holdout_exposure;
use litmus_core::results::{self, AnalysisSettings, Options};
use serde_json::{Value, json};

use crate::environments::Stream;
use crate::error::ApiError;
use crate::results::{Loaded, internal, load_with};
use crate::snapshots::ProjectConfig;
use crate::store::Store;

/// The readout of holdout `key` with a series of up to `points` points, as JSON.
pub async fn holdout_results<S: Store>(
    store: &S,
    engine: &Engine,
    defaults: &AnalysisSettings,
    key: &str,
    stream: &Stream,
    points: usize,
) -> Result<Value, ApiError> {
    let (plan, covered) = results::holdout::plan(engine, key)
        .ok_or_else(|| ApiError::not_found(format!("no valid holdout {key:?}")))?;
    // The holdout's rows in this environment.
    let subject = stream.stored(&holdout_exposure::subject(key)).into_owned();
    let Loaded {
        plan,
        timeline,
        bucket,
        ..
    } = load_with(store, &subject, points, |_| plan).await?;
    let options = Options {
        check_srm: false,
        ..defaults.options()
    };
    let totals = timeline.totals(None);
    let analysis = results::analyze(&totals, &plan.metrics, &options).map_err(internal)?;
    let series =
        results::cumulative(&timeline, &plan.metrics, &options, points).map_err(internal)?;
    Ok(json!({
        "holdout": key,
        "share": plan.variants.first().map(|v| v.1),
        "experiments": covered,
        "config_version": engine.version(),
        "bucket_ms": bucket,
        "results": analysis,
        "series": series,
        "note": "holdout: the units this holdout held out; exposed: the units that entered an experiment it covers. The comparison is the experiments' combined effect on the units they reach; a metric counts for a unit from its first holdout exposure, within the attribution window.",
    }))
}

/// The readout of holdout `key` in `environment`, in the config this instance serves now.
pub async fn current<S: Store>(
    snapshots: &ProjectConfig<S>,
    key: &str,
    environment: &str,
    points: usize,
) -> Result<Value, ApiError> {
    let engine = snapshots.engine_in(environment).await?;
    holdout_results(
        snapshots.store(),
        &engine,
        snapshots.analysis(),
        key,
        &Stream::of(snapshots.project(), environment),
        points,
    )
    .await
}
