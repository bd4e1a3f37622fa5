//! The stratified bandit inference (`super::bandit_inference`) from a JSON request, for the
//! bindings (`litmus.bandit.stratified`, `bandit.stratified`): a bandit run in an application
//! logs its units and the times its weights changed, and gets the same figures the server
//! shows.
//!
//! ```json
//! {"variants": ["control", "b"],
//!  "units": {"variant": ["b", "control", ...], "first_ms": [1700000000000, ...],
//!            "value": [1, 0, ...]},
//!  "changes_ms": [1700000600000],
//!  "metric": {"key": "signup", "kind": "conversion", "goal": "increase"},
//!  "analysis": {"alpha": 0.05, "correction": "holm"}}
//! ```
//!
//! The units come as columns (one entry per unit in each): its variant, its first exposure and
//! its total of the metric (for a conversion, any value but 0 counts as converted). Every bad
//! field is refused at its path.

use serde_json::Value;

use super::bandit::UnitRecord;
use super::bandit_inference::{BanditInference, stratified};
use super::settings::AnalysisSettings;
use super::spec::{Goal, MetricKind, MetricSpec};
use crate::config::decode::{fields, list, no_unknown, number, one_of, optional, string};
use crate::error::{Error, FieldPath};

/// The most units a request may carry.
pub const MAX_UNITS: usize = 10_000_000;

/// Reads the request `value` and answers the inference.
///
/// # Errors
/// `missing_field`, `unknown_field`, `invalid_json` or `invalid_value` at the path of a bad
/// field; `invalid_argument` for a metric other than a conversion or a mean.
pub fn stratified_json(value: &Value) -> Result<BanditInference, Error> {
    let root = FieldPath::root();
    let (mut variants, mut units, mut changes, mut metric, mut analysis) =
        (None, None, None, None, None);
    let unknown = fields(value, &root, |name, v, at| {
        match name {
            "variants" => variants = Some(list(v, at, string)?),
            "units" => units = Some(v.clone()),
            "changes_ms" => changes = Some(list(v, at, whole_ms)?),
            "metric" => metric = Some(decode_metric(v, &at.path())?),
            "analysis" => analysis = optional(v, &at.path(), AnalysisSettings::decode_strict)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    no_unknown(&unknown, &root)?;
    let required = |name: &str| Error::MissingField {
        path: root.field(name),
    };
    let variants = variants.ok_or_else(|| required("variants"))?;
    if variants.is_empty() {
        return Err(Error::InvalidValue {
            path: root.field("variants"),
            message: "at least one variant (the control first)".into(),
        });
    }
    let metric = metric.ok_or_else(|| required("metric"))?;
    let units = decode_units(
        &units.ok_or_else(|| required("units"))?,
        &root.field("units"),
        &variants,
    )?;
    let options = analysis.unwrap_or_default().options();
    stratified(
        &variants,
        &units,
        &changes.unwrap_or_default(),
        &metric,
        &options,
    )
}

/// [`stratified_json`] of a request's JSON text.
///
/// # Errors
/// `invalid_json` for text that is not JSON, else as [`stratified_json`].
pub fn stratified_text(text: &str) -> Result<BanditInference, Error> {
    stratified_json(&crate::config::strict_value(text)?)
}

/// A time in whole milliseconds since the epoch.
fn whole_ms(v: &Value, at: &FieldPath) -> Result<i64, Error> {
    v.as_i64().ok_or_else(|| Error::InvalidValue {
        path: at.clone(),
        message: "must be whole milliseconds since the epoch".into(),
    })
}

fn decode_metric(v: &Value, at: &FieldPath) -> Result<MetricSpec, Error> {
    let (mut key, mut kind, mut goal) = (None, None, None);
    let unknown = fields(v, at, |name, v, at| {
        match name {
            "key" => key = Some(string(v, at)?),
            "kind" => {
                kind = Some(one_of(
                    v,
                    at,
                    &[
                        ("conversion", MetricKind::Conversion),
                        ("mean", MetricKind::Mean),
                    ],
                )?);
            }
            "goal" => {
                goal = Some(one_of(
                    v,
                    at,
                    &[("increase", Goal::Increase), ("decrease", Goal::Decrease)],
                )?);
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    no_unknown(&unknown, at)?;
    Ok(MetricSpec {
        key: key.unwrap_or_default(),
        kind: kind.ok_or_else(|| Error::MissingField {
            path: at.field("kind"),
        })?,
        goal: goal.unwrap_or_default(),
        ..MetricSpec::default()
    })
}

fn decode_units(v: &Value, at: &FieldPath, variants: &[String]) -> Result<Vec<UnitRecord>, Error> {
    let (mut names, mut first, mut values) = (None, None, None);
    let unknown = fields(v, at, |name, v, at| {
        match name {
            "variant" => names = Some(list(v, at, string)?),
            "first_ms" => first = Some(list(v, at, whole_ms)?),
            "value" => values = Some(list(v, at, number)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    no_unknown(&unknown, at)?;
    let missing = |name: &str| Error::MissingField {
        path: at.field(name),
    };
    let names = names.ok_or_else(|| missing("variant"))?;
    let first = first.ok_or_else(|| missing("first_ms"))?;
    let values = values.ok_or_else(|| missing("value"))?;
    if names.len() > MAX_UNITS {
        return Err(Error::LimitExceeded {
            path: at.field("variant"),
            message: format!("more than {MAX_UNITS} units"),
        });
    }
    for (name, column) in [("first_ms", first.len()), ("value", values.len())] {
        if column != names.len() {
            return Err(Error::InvalidValue {
                path: at.field(name),
                message: format!("has {column} entries, variant has {}", names.len()),
            });
        }
    }
    names
        .iter()
        .zip(first.iter().zip(&values))
        .enumerate()
        .map(|(i, (name, (&first_ms, &value)))| {
            let index =
                variants
                    .iter()
                    .position(|v| v == name)
                    .ok_or_else(|| Error::InvalidValue {
                        path: at.field("variant").item(i),
                        message: format!("\"{name}\" is not one of the variants"),
                    })?;
            Ok(UnitRecord {
                variant: index,
                first_ms,
                events: u64::from(value != 0.0),
                total: value,
            })
        })
        .collect()
}
