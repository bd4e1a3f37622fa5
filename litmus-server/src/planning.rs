//! `POST /planning`: how many units and days an experiment needs to detect a lift, or what it
//! can detect in a given time (core's `litmus_core::results::planning`). The baseline is given,
//! or read from an experiment's control on one of its metrics (`"experiment"`, `"metric"`,
//! `"step"` for a funnel), which also gives the units a day (its exposures over its data span)
//! and the analysis settings (the experiment's over the server's defaults), unless the body
//! sets them.

use litmus_core::results::planning::{baseline_of, plan_json};
use litmus_core::{Error, FieldPath};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::results::{Loaded, find, load};
use crate::snapshots::ProjectConfig;
use crate::store::Store;

/// A day, in ms.
const DAY_MS: f64 = 86_400_000.0;

/// The plan for `body` (see the module's documentation) as JSON: core's answer, with
/// `"source"` naming the experiment, metric, units and days a baseline was read from.
pub async fn plan<S: Store>(snapshots: &ProjectConfig<S>, body: Value) -> Result<Value, ApiError> {
    let Value::Object(mut request) = body else {
        return Err(invalid(
            FieldPath::root(),
            "the request is an object".into(),
        ));
    };
    let experiment = take_string(&mut request, "experiment")?;
    let metric = take_string(&mut request, "metric")?;
    let step = match request.remove("step") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|s| usize::try_from(s).ok())
                .ok_or_else(|| {
                    invalid(
                        FieldPath::root().field("step"),
                        format!("{v} is not a step number"),
                    )
                })?,
        ),
    };
    let mut defaults = snapshots.analysis().clone();
    let mut source = Value::Null;
    if let Some(key) = &experiment {
        let engine = snapshots.engine().await?;
        let exp = find(&engine, key)?;
        defaults = exp.analysis().over(&defaults);
        let Loaded {
            plan,
            timeline,
            span_ms,
            ..
        } = load(snapshots.store(), exp, key, 1).await?;
        let totals = timeline.totals(None);
        let control = totals.first().ok_or_else(|| {
            invalid(
                FieldPath::root().field("experiment"),
                format!("{key:?} has no variant"),
            )
        })?;
        let units: u64 = totals.iter().map(|v| v.units).sum();
        let days = span_ms as f64 / DAY_MS;
        if !request.contains_key("baseline") {
            let name = metric
                .as_deref()
                .ok_or_else(|| missing(FieldPath::root().field("metric")))?;
            let spec = plan.metrics.iter().find(|m| m.key == name).ok_or_else(|| {
                invalid(
                    FieldPath::root().field("metric"),
                    format!("{key:?} has no metric {name:?}"),
                )
            })?;
            let baseline = baseline_of(control, spec, step).map_err(|e| match e {
                Error::InvalidArgument { message, .. } => {
                    invalid(FieldPath::root().field("step"), message)
                }
                other => invalid(FieldPath::root().field("metric"), other.to_string()),
            })?;
            request.insert(
                "baseline".into(),
                serde_json::to_value(baseline).map_err(ApiError::internal)?,
            );
        }
        if !request.contains_key("units_per_day") && units > 0 && days > 0.0 {
            request.insert("units_per_day".into(), Value::from(units as f64 / days));
        }
        if !request.contains_key("variants") {
            request.insert("variants".into(), Value::from(totals.len().max(2)));
        }
        source = serde_json::json!({"experiment": key, "metric": metric, "step": step,
                                    "units": units, "days": days});
    }
    let answer = plan_json(&Value::Object(request), &defaults)?;
    let mut out = serde_json::to_value(answer).map_err(ApiError::internal)?;
    if let Value::Object(map) = &mut out {
        map.insert("source".into(), source);
    }
    Ok(out)
}

fn take_string(request: &mut Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match request.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid(
            FieldPath::root().field(name),
            format!("{other} is not a string"),
        )),
    }
}

fn invalid(path: FieldPath, message: String) -> ApiError {
    ApiError::Invalid(Error::InvalidValue { path, message })
}

fn missing(path: FieldPath) -> ApiError {
    ApiError::Invalid(Error::MissingField { path })
}
