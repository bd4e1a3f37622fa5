//! Flag evaluation through the server (`POST /evaluate`): core evaluates the flags of the config
//! this instance serves. Experiment rules are sticky as `/assign` is: the variants remembered
//! in the cache for the unit are kept, and new assignments remembered (`SET NX`: the first
//! instance to assign decides). The holdout exposures of those assignments are logged, as
//! `/assign` logs them.

use std::collections::HashMap;

use litmus_core::{Engine, Evaluation, Reason, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cache::{Cache, sticky_key};
use crate::environments::Stream;
use crate::error::ApiError;
use crate::service::assign::{cache_error, check_unit, log_holdouts};
use crate::snapshots::ProjectConfig;
use crate::state::Ingest;
use crate::store::{ConfigStore, EventStore};

/// The most flags one request may name.
pub const MAX_FLAGS_PER_REQUEST: usize = 1_000;

/// The request: a unit, its attributes, and one flag, a list of flags, or none (every flag).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// The unit (user, device, ...).
    unit_id: String,
    /// Targeting attributes (a JSON object).
    #[serde(default)]
    attributes: Option<serde_json::Map<String, Value>>,
    /// One flag's key: the answer is that flag's evaluation.
    #[serde(default)]
    flag: Option<String>,
    /// Several flags' keys: the answer lists their evaluations in this order.
    #[serde(default)]
    flags: Option<Vec<String>>,
}

/// One evaluation as JSON: the flag, value, reason (OpenFeature's), rule, variant, error
/// code, and the experiment assignment when an experiment rule served the value.
fn describe(flag: &str, e: &Evaluation<'_>) -> Value {
    json!({
        "flag": flag,
        "value": e.value(),
        "reason": e.reason().code(),
        "rule": e.rule_id(),
        "variant": e.variant(),
        "error": e.error().map(|x| x.code()),
        "assignment": e.assignment().map(|a| json!({
            "experiment": a.experiment().map(|x| x.key()),
            "variant": a.variant_key(),
            "in_experiment": a.in_experiment(),
            "reason": a.reason().code(),
        })),
    })
}

/// Answers `request` in `environment` (its document, its sticky assignments, its events): one
/// evaluation (`flag`), or `{"flags": [...]}` for the flags listed, or for every flag in
/// config order.
pub async fn evaluate<S: ConfigStore + EventStore>(
    snapshots: &ProjectConfig<S>,
    cache: &dyn Cache,
    ingest: &Ingest<S>,
    environment: &str,
    req: EvaluateRequest,
) -> Result<Value, ApiError> {
    check_unit(&req.unit_id)?;
    if req.flag.is_some() && req.flags.is_some() {
        return Err(ApiError::bad_request("give `flag` or `flags`, not both"));
    }
    if req
        .flags
        .as_ref()
        .is_some_and(|f| f.len() > MAX_FLAGS_PER_REQUEST)
    {
        return Err(ApiError::bad_request(format!(
            "flags lists more than {MAX_FLAGS_PER_REQUEST} keys"
        )));
    }
    let engine = snapshots.engine_in(environment).await?;
    let stream = Stream::of(snapshots.project(), environment);
    let attrs = Value::Object(req.attributes.unwrap_or_default());
    let keys: Vec<&str> = match (&req.flag, &req.flags) {
        (Some(key), _) => vec![key.as_str()],
        (None, Some(list)) => list.iter().map(String::as_str).collect(),
        (None, None) => engine.flags().map(|(k, _)| k).collect(),
    };
    let evaluations = sticky(cache, &engine, &keys, &req.unit_id, &stream, &attrs).await?;
    let (experiments, assignments): (Vec<&str>, Vec<_>) = evaluations
        .iter()
        .filter_map(|e| e.assignment())
        .filter_map(|a| Some((a.experiment()?.key(), a)))
        .unzip();
    log_holdouts(
        ingest,
        &engine,
        &experiments,
        &assignments,
        &req.unit_id,
        &stream,
    )
    .await?;
    // Each flag evaluated counts as used in this environment (`crate::usage`).
    let now = crate::now_ms();
    for (key, e) in keys.iter().zip(&evaluations) {
        if e.error() != Some(litmus_core::EvaluationError::FlagNotFound) {
            ingest
                .usage
                .record(snapshots.project(), environment, key, 1, now);
        }
    }
    let described = keys.iter().zip(&evaluations).map(|(k, e)| describe(k, e));
    Ok(match req.flag {
        Some(_) => described.into_iter().next().unwrap_or(Value::Null),
        None => json!({ "flags": described.collect::<Vec<_>>() }),
    })
}

/// The experiments the flags' experiment rules (and their prerequisites', transitively) use.
fn experiments_behind<'e>(engine: &'e Engine, flags: &[&str]) -> Vec<&'e str> {
    let mut seen: Vec<&str> = Vec::new();
    let mut todo: Vec<&str> = flags.to_vec();
    let mut experiments: Vec<&'e str> = Vec::new();
    while let Some(key) = todo.pop() {
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        if let Some(flag) = engine.flag(key) {
            for e in flag.experiments(engine) {
                if !experiments.contains(&e) {
                    experiments.push(e);
                }
            }
            todo.extend(flag.prerequisites());
        }
    }
    experiments
}

/// The unit's evaluations of `flags`, keeping the variants remembered in the cache for the
/// experiments behind them and remembering new ones.
async fn sticky<'e>(
    cache: &dyn Cache,
    engine: &'e Engine,
    flags: &[&str],
    unit: &str,
    stream: &Stream,
    attrs: &Value,
) -> Result<Vec<Evaluation<'e>>, ApiError> {
    let now = Some(Timestamp::from_unix_millis(crate::now_ms()));
    let experiments = experiments_behind(engine, flags);
    // Each environment remembers its own assignments, under the unit's name there.
    let stored_unit = stream.stored(unit);
    let cache_keys: Vec<String> = experiments
        .iter()
        .map(|e| sticky_key(e, &stored_unit))
        .collect();
    let stored = if cache_keys.is_empty() {
        Vec::new()
    } else {
        cache.remembered(&cache_keys).await.map_err(cache_error)?
    };
    let mut memory: HashMap<String, String> = experiments
        .iter()
        .zip(stored)
        .filter_map(|(e, v)| Some(((*e).to_owned(), v?)))
        .collect();
    let run = |memory: &HashMap<String, String>| -> Vec<Evaluation<'e>> {
        let remembered = |experiment: &str| memory.get(experiment).map(String::as_str);
        flags
            .iter()
            .map(|f| engine.evaluate_sticky_at(f, unit, attrs, now, &remembered))
            .collect()
    };
    let first = run(&memory);
    // New assignments: remember them; where another request got there first, keep its variant.
    let mut fresh: Vec<(String, String)> = Vec::new();
    for a in first.iter().filter_map(|e| e.assignment()) {
        if a.reason() == Reason::Assigned {
            if let (Some(x), Some(v)) = (a.experiment(), a.variant_key()) {
                if !fresh.iter().any(|(k, _)| k == x.key()) {
                    fresh.push((x.key().to_owned(), v.to_owned()));
                }
            }
        }
    }
    if fresh.is_empty() {
        return Ok(first);
    }
    let entries: Vec<(String, String)> = fresh
        .iter()
        .map(|(e, v)| (sticky_key(e, &stored_unit), v.clone()))
        .collect();
    let earlier = cache.remember(&entries).await.map_err(cache_error)?;
    let mut changed = false;
    for ((experiment, variant), earlier) in fresh.into_iter().zip(earlier) {
        let kept = earlier.unwrap_or(variant);
        changed |= memory.get(&experiment).is_none_or(|v| *v != kept);
        memory.insert(experiment, kept);
    }
    // Evaluate again with the memory: the same answers, now `sticky` where they were kept.
    Ok(if changed { run(&memory) } else { first })
}
