//! An experiment's results, as the results API and the live updates send them: the plan,
//! analysis and series all come from `litmus_core::results`, over the experiment's rollups
//! read at a bucket size that gives about the number of points asked for.

use litmus_core::Engine;
use litmus_core::insights;
use litmus_core::results::{self, AnalysisSettings, Options, Timeline};
use serde_json::{Value, json};

use crate::environments::Stream;
use crate::error::ApiError;
use crate::snapshots::ProjectConfig;
use crate::store::{RollupTables, Store};

/// Points in the series by default.
pub const DEFAULT_POINTS: usize = 60;

/// A minute, in ms.
const MINUTE_MS: i64 = 60_000;
/// Events may arrive this late (tracker batching, retries, the rollup worker): minutes
/// younger than this are still filling and are not judged for anomalies.
const LATE_MS: i64 = 2 * MINUTE_MS;
/// The per-minute history read for the anomaly detectors (they need 30 minutes before the
/// first minute they judge, and use a 60-minute window).
const HISTORY_MS: i64 = 180 * MINUTE_MS;
/// Anomalies are reported for this many recent minutes.
const REPORT_MINUTES: i64 = 60;
/// At most this many anomalies are listed.
const MAX_ANOMALIES: usize = 10;

/// The experiment `key` of `engine` (404 when there is none, 409 when it is invalid).
pub(crate) fn find<'e>(
    engine: &'e Engine,
    key: &str,
) -> Result<&'e litmus_core::Experiment, ApiError> {
    match engine.experiment(key) {
        Some(e) => Ok(e),
        None if engine.experiments().any(|(k, _)| k == key) => {
            Err(ApiError::InvalidConfig(key.to_owned()))
        }
        None => Err(ApiError::not_found(format!("no experiment {key:?}"))),
    }
}

/// An experiment's rollups, read for about `points` points: its plan, its timeline (with
/// percentile caps applied), its data span, and when they were read.
pub(crate) struct Loaded {
    /// What its results show.
    pub(crate) plan: results::Plan,
    /// Its rollups by time.
    pub(crate) timeline: Timeline,
    /// The first and last minute with rows.
    pub(crate) span: Option<(i64, i64)>,
    /// The span's length (ms, whole minutes).
    pub(crate) span_ms: i64,
    /// The bucket the rows were read in.
    pub(crate) bucket: i64,
    /// When (ms since the epoch).
    pub(crate) now: i64,
}

/// Reads experiment `key`'s rollups (see [`Loaded`]).
pub(crate) async fn load<S: Store>(
    store: &S,
    experiment: &litmus_core::Experiment,
    key: &str,
    points: usize,
) -> Result<Loaded, ApiError> {
    load_with(store, key, points, |tracked| {
        results::plan(experiment, tracked)
    })
    .await
}

/// Reads the rollups kept under `key` (an experiment's, or a holdout's subject) for the plan
/// `plan` makes from the metric names tracked for its units (see [`Loaded`]).
pub(crate) async fn load_with<S: Store>(
    store: &S,
    key: &str,
    points: usize,
    plan: impl FnOnce(Vec<&str>) -> results::Plan,
) -> Result<Loaded, ApiError> {
    let span = store.rollup_span(key).await?;
    let span_ms = span.map_or(0, |(a, b)| b.saturating_sub(a).saturating_add(MINUTE_MS));
    let bucket = results::bucket_ms(span_ms, points);
    let rows = store.experiment_rollups(key, bucket, i64::MIN).await?;
    // Without declared metrics, every event's own rows (not the rows derived for metrics).
    let tracked: Vec<&str> = rows
        .metrics
        .keys()
        .map(|(_, _, metric, _)| metric.as_str())
        .filter(|m| !m.starts_with(litmus_core::metrics::DERIVED_PREFIX))
        .collect();
    let plan = plan(tracked);
    let now = crate::now_ms();
    let mut timeline = timeline(&plan, &rows, now, bucket);
    // Percentile caps: computed from the units' values, applied to their rows.
    for spec in &plan.metrics {
        if let Some(p) = spec.source.percentile_cap {
            let units = crate::export::unit_values(store, key, spec.rollup()).await?;
            if let Some(cap) = results::percentile_cap(&units, p).map_err(internal)? {
                timeline.set_unit_values(spec.rollup(), &units, cap, bucket);
            }
        }
    }
    Ok(Loaded {
        plan,
        timeline,
        span,
        span_ms,
        bucket,
        now,
    })
}

/// The results of experiment `key` in the environment whose events `stream` holds (`engine`
/// is its document's) with a series of up to `points` points, as JSON.
pub async fn experiment_results<S: Store>(
    store: &S,
    engine: &Engine,
    defaults: &AnalysisSettings,
    key: &str,
    stream: &Stream,
    points: usize,
) -> Result<Value, ApiError> {
    let experiment = find(engine, key)?;
    // The experiment's rows in this environment.
    let subject = stream.stored(key);
    let Loaded {
        plan,
        timeline,
        span,
        span_ms,
        bucket,
        now,
    } = load(store, experiment, &subject, points).await?;
    // The experiment's settings over the server's defaults over core's.
    let options = Options {
        check_srm: plan.check_srm,
        ..experiment.analysis().over(defaults).options()
    };
    let totals = timeline.totals(None);
    let mut analysis = results::analyze(&totals, &plan.metrics, &options).map_err(internal)?;
    // A bandit's comparisons come from its periods of constant weights, not pooled ones.
    let bandit_changes = if experiment.kind() == litmus_core::Kind::Bandit {
        let changes = weight_changes(store, stream.project(), key, &plan.variants).await?;
        let inferences = stratified(store, &subject, &plan, &changes, &options).await?;
        results::bandit_inference::apply(&mut analysis, &inferences);
        Some((changes, inferences))
    } else {
        None
    };
    let series =
        results::cumulative(&timeline, &plan.metrics, &options, points).map_err(internal)?;
    // Insights: the checks on the results, anomalies in the recent complete minutes, and the
    // recommendation.
    let complete = now.saturating_sub(LATE_MS) / MINUTE_MS * MINUTE_MS;
    let recent_rows = store
        .experiment_rollups(&subject, MINUTE_MS, complete.saturating_sub(HISTORY_MS))
        .await?;
    let recent = self::timeline(&plan, &recent_rows, now, MINUTE_MS);
    let variants: Vec<String> = plan.variants.iter().map(|(k, _)| k.clone()).collect();
    let recommendation = insights::recommend(&analysis, &totals, span_ms, &options);
    let mut found: Vec<insights::Insight> = insights::checks::srm(&analysis).into_iter().collect();
    found.extend(insights::checks::guardrails(&analysis));
    found.extend(insights::recent::anomalies(
        &recent,
        &variants,
        complete,
        REPORT_MINUTES,
        MAX_ANOMALIES,
    ));
    found.push(recommendation.insight());
    let bandit = bandit_changes.map(|(changes, inferences)| {
        let times: Vec<i64> = series.iter().map(|p| p.time_ms).collect();
        bandit_history(&plan, &timeline, &times, changes, &inferences)
    });
    let mut shown = serde_json::to_value(&analysis).map_err(ApiError::internal)?;
    partial_history(store, &subject, span, &analysis, &mut shown).await?;
    Ok(json!({
        "experiment": key,
        "kind": experiment.kind().as_str(),
        "status": experiment.status().as_str(),
        "config_version": engine.version(),
        "bucket_ms": bucket,
        "unknown_variant_units": timeline.unknown_units(),
        "results": shown,
        "series": series,
        "insights": found,
        "recommendation": recommendation,
        "bandit": bandit,
        "lag": lag(store, now).await?,
    }))
}

/// Marks the metrics whose rows were recomputed after retention had deleted events the
/// experiment had (a definition changed, or a metric added, late): each gets `history:
/// {"complete": false, "since_ms"}`, the retention cutoff before which events are not counted.
async fn partial_history<S: Store>(
    store: &S,
    key: &str,
    span: Option<(i64, i64)>,
    analysis: &results::ExperimentResults,
    shown: &mut Value,
) -> Result<(), ApiError> {
    // Only derived metrics are recomputed (plain ones read the events' own rows).
    let derived = analysis
        .metrics
        .iter()
        .any(|m| m.rollup.starts_with(litmus_core::metrics::DERIVED_PREFIX));
    let (Some((first, _)), true) = (span, derived) else {
        return Ok(());
    };
    let partial: std::collections::HashMap<String, i64> = store
        .metric_rows(key)
        .await?
        .into_iter()
        .filter_map(|(metric, since)| since.filter(|s| *s > first).map(|s| (metric, s)))
        .collect();
    if partial.is_empty() {
        return Ok(());
    }
    let rows = shown.pointer_mut("/metrics").and_then(Value::as_array_mut);
    for (result, row) in analysis.metrics.iter().zip(rows.into_iter().flatten()) {
        // A funnel step's rows are `{id}#{k}`: its metric is the id.
        let id = match result.step {
            Some(_) => result.rollup.rsplit_once('#').map_or("", |(id, _)| id),
            None => result.rollup.as_str(),
        };
        if let (Some(since), Some(obj)) = (partial.get(id), row.as_object_mut()) {
            obj.insert(
                "history".into(),
                json!({"complete": false, "since_ms": since,
                       "message": "recomputed from the events stored since since_ms: older ones were deleted by retention"}),
            );
        }
    }
    Ok(())
}

/// How far these results are behind ingestion: the events acknowledged but not yet in the
/// rollups, and when the oldest of them arrived (`as_of_ms`: the results count everything
/// received before it; now when nothing waits).
async fn lag<S: Store>(store: &S, now: i64) -> Result<Value, ApiError> {
    let backlog = store.rollup_backlog().await?;
    Ok(json!({
        "batches": backlog.batches,
        "events": backlog.events,
        "oldest_age_ms": backlog.age_ms(now),
        "as_of_ms": backlog.oldest_received_ms.unwrap_or(now).min(now),
    }))
}

/// Audit entries read for a bandit's weight history (its newest changes).
const WEIGHT_HISTORY: u32 = 1_000;

/// The most units a replay reads (the first exposed).
const REPLAY_UNITS: usize = 1_000_000;

/// One change of an experiment's weights, from the audit log.
struct WeightChange {
    at_ms: i64,
    actor: String,
    version: u64,
    /// Per variant of the plan, in order (0 for a variant the change did not list).
    weights: Vec<f64>,
}

/// The changes of `key`'s weights in `project` (for `variants`, in order), oldest first, from
/// the audit log: every change of the experiment, the bandit loop's included.
async fn weight_changes<S: Store>(
    store: &S,
    project: &str,
    key: &str,
    variants: &[(String, f64)],
) -> Result<Vec<WeightChange>, ApiError> {
    let mut entries = store
        .audit(project, WEIGHT_HISTORY, Some(key.to_owned()))
        .await?;
    entries.retain(|e| e.action.starts_with("experiment."));
    entries.sort_by_key(|e| e.id);
    Ok(entries
        .into_iter()
        .filter_map(|e| {
            let listed = e.after.as_ref()?.get("variants")?.as_array()?;
            let weight = |key: &str| {
                listed
                    .iter()
                    .find(|v| v.get("key").and_then(Value::as_str) == Some(key))
                    .and_then(|v| v.get("weight").and_then(Value::as_f64))
                    .unwrap_or(0.0)
            };
            let weights = variants.iter().map(|(k, _)| weight(k)).collect();
            Some(WeightChange {
                at_ms: e.at_ms,
                actor: e.actor,
                version: e.version,
                weights,
            })
        })
        .collect())
}

/// Replays `policies` on the logged units of experiment `key` (its first metric, or
/// `metric`), as JSON: each policy's mean reward per decision with its interval and how many
/// decisions were accepted (`litmus_core::bandit::replay`).
pub async fn replay<S: Store>(
    store: &S,
    engine: &Engine,
    key: &str,
    stream: &Stream,
    policies: &[&str],
    seed: u64,
) -> Result<Value, ApiError> {
    let experiment = engine
        .experiment(key)
        .ok_or_else(|| ApiError::not_found(format!("no valid experiment {key:?}")))?;
    let plan = results::plan(experiment, std::iter::empty());
    let metric = experiment
        .metrics()
        .first()
        .cloned()
        .ok_or_else(|| ApiError::NoMetric(key.to_owned()))?;
    let records = unit_records(store, &stream.stored(key), &plan, metric.rollup()).await?;
    let weights: Vec<(i64, Vec<f64>)> =
        weight_changes(store, stream.project(), key, &plan.variants)
            .await?
            .into_iter()
            .map(|c| (c.at_ms, c.weights))
            .collect();
    let log = results::bandit::replay_log(&records, &weights, &metric);
    let logged_value = if log.is_empty() {
        None
    } else {
        Some(log.iter().map(|p| p.reward).sum::<f64>() / log.len() as f64)
    };
    let mut out = Vec::with_capacity(policies.len());
    for name in policies {
        let policy = results::bandit::named_policy(name, &metric)?;
        out.push(
            match litmus_core::bandit::replay(&policy, &log, plan.variants.len(), seed, 0.05) {
                Ok(estimate) => json!({"policy": name, "estimate": estimate}),
                Err(e) => {
                    json!({"policy": name, "error": {"code": e.code(), "message": e.to_string()}})
                }
            },
        );
    }
    Ok(json!({
        "experiment": key,
        "metric": {"key": metric.key, "kind": metric.kind, "goal": metric.goal},
        "logged": log.len(),
        "logged_value": logged_value,
        "policies": out,
    }))
}

/// The units of experiment `key` (the first exposed, at most [`REPLAY_UNITS`]) with their
/// variant's index in `plan` and their figures of the metric rows `rollup`.
async fn unit_records<S: Store>(
    store: &S,
    key: &str,
    plan: &results::Plan,
    rollup: &str,
) -> Result<Vec<results::bandit::UnitRecord>, ApiError> {
    let units = store.experiment_units(key, rollup, REPLAY_UNITS).await?;
    Ok(units
        .iter()
        .filter_map(|u| {
            Some(results::bandit::UnitRecord {
                variant: plan.variants.iter().position(|(k, _)| *k == u.variant)?,
                first_ms: u.first_ms,
                events: u.events,
                total: u.total,
            })
        })
        .collect())
}

/// A bandit's inference per conversion or mean metric, stratified by the periods between the
/// `changes` of its weights (`litmus_core::results::bandit_inference`).
async fn stratified<S: Store>(
    store: &S,
    key: &str,
    plan: &results::Plan,
    changes: &[WeightChange],
    options: &Options,
) -> Result<Vec<results::bandit_inference::BanditInference>, ApiError> {
    let variants: Vec<String> = plan.variants.iter().map(|(k, _)| k.clone()).collect();
    // The times the weights moved (other edits leave the periods as they were).
    let times: Vec<i64> = changes
        .iter()
        .zip(changes.iter().skip(1))
        .filter(|(before, after)| before.weights != after.weights)
        .map(|(_, after)| after.at_ms)
        .collect();
    let mut out = Vec::new();
    for spec in &plan.metrics {
        if !matches!(
            spec.kind,
            results::MetricKind::Conversion | results::MetricKind::Mean
        ) {
            continue;
        }
        let records = unit_records(store, key, plan, spec.rollup()).await?;
        out.push(
            results::bandit_inference::stratified(&variants, &records, &times, spec, options)
                .map_err(internal)?,
        );
    }
    Ok(out)
}

/// A bandit's weights over time (`changes`, from the audit log: every change of the
/// experiment, the bandit loop's included), the probability each variant is best at the
/// series' times, and the stratified inference its comparisons come from.
fn bandit_history(
    plan: &results::Plan,
    timeline: &Timeline,
    times: &[i64],
    changes: Vec<WeightChange>,
    inferences: &[results::bandit_inference::BanditInference],
) -> Value {
    let by_variant = |values: Vec<f64>| -> serde_json::Map<String, Value> {
        plan.variants
            .iter()
            .zip(values)
            .map(|((v, _), x)| (v.clone(), json!(x)))
            .collect()
    };
    let metric = plan.metrics.first();
    let best: Vec<Value> = metric
        .map(|m| results::bandit::probability_best_series(timeline, m, times))
        .unwrap_or_default()
        .into_iter()
        .map(|p| json!({"time_ms": p.time_ms, "values": by_variant(p.values)}))
        .collect();
    let weights: Vec<Value> = changes
        .into_iter()
        .map(|c| {
            json!({"time_ms": c.at_ms, "actor": c.actor, "version": c.version,
                   "weights": by_variant(c.weights)})
        })
        .collect();
    json!({
        "metric": metric.map(|m| json!({"key": m.key, "kind": m.kind, "goal": m.goal})),
        "weights": weights,
        "probability_best": best,
        "inference": {
            "method": results::bandit_inference::METHOD,
            "note": "Each arm is estimated within every period of constant weights and the periods are combined with the same weights for every arm (each period's share of all units), so a metric drifting while the weights move does not bias the comparison; the series and the probability of being best are pooled.",
            "metrics": inferences,
        },
    })
}

/// An internal error from core (its inputs are checked, so it means a bug).
pub(crate) fn internal(e: litmus_core::Error) -> ApiError {
    ApiError::Computation(e)
}

/// The rows of an experiment's rollups (in buckets of `bucket_ms`) in a timeline of its plan's
/// variants; retention metrics count the cohorts whose window has passed by `now_ms`.
pub(crate) fn timeline(
    plan: &results::Plan,
    rows: &RollupTables,
    now_ms: i64,
    bucket_ms: i64,
) -> Timeline {
    let mut timeline = Timeline::new(plan.variants.clone());
    for spec in &plan.metrics {
        if let Some(after) = spec.source.matures_after_ms {
            timeline.add_cohort(spec.rollup(), after, now_ms, bucket_ms);
        }
    }
    for ((_, variant, time), units) in &rows.exposures {
        timeline.add_exposures(variant, *time, *units);
    }
    for ((_, variant, metric, time), rollup) in &rows.metrics {
        timeline.add_metric(variant, metric, *time, rollup);
    }
    for ((_, variant, metric, time, bucket), count) in &rows.sketches {
        timeline.add_sketch(variant, metric, *time, *bucket, *count);
    }
    timeline
}

/// The results of `key` in `environment`, in the config this instance serves now (see
/// [`experiment_results`]).
pub async fn current<S: Store>(
    snapshots: &ProjectConfig<S>,
    key: &str,
    environment: &str,
    points: usize,
) -> Result<Value, ApiError> {
    let engine = snapshots.engine_in(environment).await?;
    let stream = Stream::of(snapshots.project(), environment);
    let mut value = experiment_results(
        snapshots.store(),
        &engine,
        snapshots.analysis(),
        key,
        &stream,
        points,
    )
    .await?;
    if let Some(o) = value.as_object_mut() {
        o.insert("environment".into(), environment.into());
    }
    Ok(value)
}

/// Bandit policies replayed on `key`'s logged units in `environment`, in the config this
/// instance serves now (see [`replay`]).
pub async fn replay_current<S: Store>(
    snapshots: &ProjectConfig<S>,
    key: &str,
    environment: &str,
    policies: &[&str],
    seed: u64,
) -> Result<Value, ApiError> {
    let engine = snapshots.engine_in(environment).await?;
    let stream = Stream::of(snapshots.project(), environment);
    replay(snapshots.store(), &engine, key, &stream, policies, seed).await
}
