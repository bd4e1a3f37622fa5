//! Assignment through the server (`POST /assign`): core decides from the config this instance
//! serves, and assignments are sticky: a unit's first variant in an experiment is kept in the
//! cache (`SET NX`: the first instance to assign it decides), and later requests answer it with
//! the reason `sticky` while the unit still qualifies, even after the weights or the traffic
//! changed (as a bandit's do). Only assignments (reason `assigned`) are remembered. The
//! holdout exposures of the answers are logged, as an SDK logs them.

use litmus_core::events::{Event, EventKind};
use litmus_core::{Assignment, Engine, Status, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cache::{Cache, sticky_key};
use crate::environments::Stream;
use crate::error::ApiError;
use crate::snapshots::ProjectConfig;
use crate::state::Ingest;
use crate::store::{ConfigStore, EventBatch, EventStore};

/// The request: a unit, its attributes, and one experiment (or every running one when absent).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The unit (user, device, ...).
    unit_id: String,
    /// Targeting attributes (a JSON object).
    #[serde(default)]
    attributes: Option<serde_json::Map<String, Value>>,
    /// The experiment's key; every running experiment when absent.
    #[serde(default)]
    experiment: Option<String>,
}

/// The longest unit id accepted, in characters: as on `/events` (`litmus_core::events`), so
/// every unit assigned here can be counted, and the sticky cache's keys stay small.
pub const MAX_UNIT_ID_CHARS: usize = 256;

/// Refuses a unit id longer than [`MAX_UNIT_ID_CHARS`] (`/assign`, `/evaluate`).
pub(crate) fn check_unit(unit: &str) -> Result<(), ApiError> {
    if unit.len() > MAX_UNIT_ID_CHARS && unit.chars().count() > MAX_UNIT_ID_CHARS {
        return Err(ApiError::bad_request(format!(
            "unit_id is longer than {MAX_UNIT_ID_CHARS} characters"
        )));
    }
    if unit.contains(crate::environments::SEPARATOR) {
        return Err(ApiError::bad_request("unit_id may not hold U+001F"));
    }
    Ok(())
}

fn describe(experiment: &str, a: &Assignment<'_>) -> Value {
    json!({
        "experiment": experiment,
        "variant": a.variant_key(),
        "in_experiment": a.in_experiment(),
        "reason": a.reason().code(),
        "miss": a.miss().map(|m| m.code()),
        "payload": a.payload(),
    })
}

/// Answers `request` in `environment` (its document, its sticky assignments, its events): one
/// assignment, or `{"assignments": [...]}` for every running experiment when it names none.
pub async fn assign<S: ConfigStore + EventStore>(
    snapshots: &ProjectConfig<S>,
    cache: &dyn Cache,
    ingest: &Ingest<S>,
    environment: &str,
    req: AssignRequest,
) -> Result<Value, ApiError> {
    check_unit(&req.unit_id)?;
    let engine = snapshots.engine_in(environment).await?;
    let stream = Stream::of(snapshots.project(), environment);
    let attrs = Value::Object(req.attributes.unwrap_or_default());
    let keys: Vec<&str> = match &req.experiment {
        Some(key) => vec![key.as_str()],
        None => engine
            .experiments()
            .filter(|(_, e)| e.is_ok_and(|e| e.status() == Status::Running))
            .map(|(k, _)| k)
            .collect(),
    };
    let assignments = sticky(cache, &engine, &keys, &req.unit_id, &stream, &attrs).await?;
    log_holdouts(ingest, &engine, &keys, &assignments, &req.unit_id, &stream).await?;
    let described = keys.iter().zip(&assignments).map(|(k, a)| describe(k, a));
    Ok(match req.experiment {
        Some(_) => described.into_iter().next().unwrap_or(Value::Null),
        None => json!({ "assignments": described.collect::<Vec<_>>() }),
    })
}

/// The unit's assignments to `experiments`, keeping the variants remembered in the cache (under
/// the unit's name in `stream`: each environment remembers its own) and remembering new ones.
async fn sticky<'e>(
    cache: &dyn Cache,
    engine: &'e Engine,
    experiments: &[&str],
    unit: &str,
    stream: &Stream,
    attrs: &Value,
) -> Result<Vec<Assignment<'e>>, ApiError> {
    let now = Some(now());
    let stored = stream.stored(unit);
    let keys: Vec<String> = experiments.iter().map(|e| sticky_key(e, &stored)).collect();
    let remembered = cache.remembered(&keys).await.map_err(cache_error)?;
    let mut out: Vec<Assignment<'e>> = experiments
        .iter()
        .zip(&remembered)
        .map(|(e, r)| engine.assign_sticky_at(e, unit, attrs, now, r.as_deref()))
        .collect();
    // New assignments: remember them; where another request got there first, keep its variant.
    let (fresh, entries): (Vec<usize>, Vec<(String, String)>) = out
        .iter()
        .zip(&keys)
        .enumerate()
        .filter(|(_, (a, _))| litmus_core::sdk::sticky::should_remember(a))
        .filter_map(|(i, (a, k))| Some((i, (k.clone(), a.variant_key()?.to_owned()))))
        .unzip();
    let first = cache.remember(&entries).await.map_err(cache_error)?;
    for (&i, earlier) in fresh.iter().zip(first) {
        if let (Some(earlier), Some(e), Some(slot)) = (earlier, experiments.get(i), out.get_mut(i))
        {
            *slot = engine.assign_sticky_at(e, unit, attrs, now, Some(&earlier));
        }
    }
    Ok(out)
}

/// Logs the holdout exposures of the unit's assignments that this instance has not logged
/// (`litmus_core::assign::holdout_exposure`): a held-out unit in its holdout's `holdout` arm,
/// a unit in a covered experiment in its `exposed` arm. Each event's `message_id` is a hash
/// of the holdout and the unit, so the store keeps one however many instances log it. They
/// are stored in `stream`, the environment the assignments were made in.
pub(crate) async fn log_holdouts<S: EventStore>(
    ingest: &Ingest<S>,
    engine: &Engine,
    experiments: &[&str],
    assignments: &[Assignment<'_>],
    unit: &str,
    stream: &Stream,
) -> Result<(), ApiError> {
    use litmus_core::assign::holdout_exposure::subject;
    let exposures: Vec<(&str, &str)> = experiments
        .iter()
        .zip(assignments)
        .flat_map(|(experiment, a)| engine.holdout_exposures(experiment, unit, a.reason()))
        .collect();
    // Most answers cover no holdout: no lock, no store call.
    if exposures.is_empty() {
        return Ok(());
    }
    let mut events = Vec::new();
    {
        let mut logged = ingest
            .holdouts_logged
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (holdout, arm) in exposures {
            let name = subject(holdout);
            if logged.first_time(&stream.stored(&name), unit) {
                let id = xxhash_rust::xxh3::xxh3_128(format!("{name}\0{unit}").as_bytes());
                events.push(Event {
                    message_id: format!("assign-{id:032x}"),
                    unit_id: unit.to_owned(),
                    time: now(),
                    client_time: None,
                    kind: EventKind::Exposure {
                        experiment: name,
                        variant: arm.to_owned(),
                        dimensions: Vec::new(),
                    },
                });
            }
        }
    }
    let batch = EventBatch {
        events,
        received_ms: crate::now_ms(),
    };
    crate::service::events::store(ingest, stream, batch)
        .await
        .map_err(ApiError::from)?;
    Ok(())
}

/// A cache failure as the API's error (503).
pub(crate) fn cache_error(e: crate::cache::CacheError) -> ApiError {
    ApiError::CacheUnavailable(e.to_string())
}

fn now() -> Timestamp {
    Timestamp::from_unix_millis(crate::now_ms())
}
