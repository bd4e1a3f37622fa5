//! Exports for data teams: an experiment's results as CSV (`GET /results/{key}.csv`), and its
//! units one JSON line each with their value of every metric (`GET
//! /admin/experiments/{key}/units`), so any figure can be re-run in other tools. Also the
//! per-unit values percentile caps are computed from.

use litmus_core::Engine;
use litmus_core::results::{MetricSpec, UnitValue};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::store::{Store, UnitRecord};

/// Units read per page of the per-unit records (an export streams a page at a time).
pub const PAGE_UNITS: usize = 5_000;

/// The most units whose records the results read (for percentile caps).
pub const MAX_UNITS: usize = 2_000_000;

/// Every exposed unit of `experiment` (at most [`MAX_UNITS`]) with its value of the metric
/// whose rows are `rollup`.
pub async fn unit_values<S: Store>(
    store: &S,
    experiment: &str,
    rollup: &str,
) -> Result<std::sync::Arc<Vec<UnitValue>>, ApiError> {
    Ok(store
        .experiment_metric_values(experiment, rollup, MAX_UNITS)
        .await?)
}

/// One unit as an export line: its variant, first exposure, and per metric of the experiment
/// (by key; a funnel's steps reached; a ratio's parts are metrics of their own) its events,
/// value and covariate.
pub fn unit_line(unit: &UnitRecord, metrics: &[MetricSpec]) -> Value {
    let mut values = serde_json::Map::new();
    for spec in metrics {
        let id = spec.rollup();
        let figure = unit.metrics.iter().find(|m| m.metric == id);
        let mut entry = serde_json::Map::new();
        entry.insert("kind".into(), json!(spec.kind));
        entry.insert("events".into(), json!(figure.map_or(0, |m| m.events)));
        if spec.source.steps.is_some() {
            entry.insert(
                "steps_reached".into(),
                json!(figure.map_or(0, |m| m.events)),
            );
        } else if spec.source.numerator.is_none() {
            entry.insert("value".into(), json!(figure.map_or(0.0, |m| m.total)));
            entry.insert(
                "covariate".into(),
                json!(figure.map_or(0.0, |m| m.covariate)),
            );
        }
        for (name, part) in [
            ("numerator", &spec.source.numerator),
            ("denominator", &spec.source.denominator),
        ] {
            if let Some(part) = part {
                let f = unit.metrics.iter().find(|m| &m.metric == part);
                entry.insert(name.into(), json!(f.map_or(0.0, |m| m.total)));
            }
        }
        values.insert(spec.key.clone() + suffix(spec), Value::Object(entry));
    }
    json!({
        "unit_id": unit.unit_id,
        "variant": unit.variant,
        "first_exposure_ms": unit.first_ms,
        "metrics": values,
    })
}

/// A metric's export name after its key: the kind, when an event is measured two ways.
fn suffix(spec: &MetricSpec) -> &'static str {
    if spec.source.is_default() {
        match spec.kind {
            litmus_core::results::MetricKind::Mean => ":mean",
            _ => ":conversion",
        }
    } else {
        ""
    }
}

/// The metrics of experiment `key` in `engine` (its declared ones; every tracked event is not
/// known without its rows, so an experiment without declared metrics exports none).
pub fn metrics_of(engine: &Engine, key: &str) -> Result<Vec<MetricSpec>, ApiError> {
    engine
        .experiment(key)
        .map(|e| e.metrics().to_vec())
        .ok_or_else(|| ApiError::not_found(format!("no valid experiment {key:?}")))
}

/// The CSV columns of [`results_csv`].
const CSV_HEADER: &str = "metric,kind,step,variant,units,events,converted,sum,value,\
value_lower,value_upper,difference,difference_lower,difference_upper,relative,\
relative_lower,relative_upper,pvalue,sequential_pvalue,adjusted_pvalue,\
probability_better,expected_loss,verdict,cuped_difference,cuped_pvalue,problem";

/// The results JSON (of `crate::results::experiment_results`) as CSV: a row per metric (per
/// funnel step) and variant, the control's comparison columns empty.
pub fn results_csv(results: &Value) -> String {
    const NULL: Value = Value::Null;
    let at = |v: &'_ Value, pointer: &str| v.pointer(pointer).unwrap_or(&NULL).clone();
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    let metrics = at(results, "/results/metrics");
    for m in metrics.as_array().into_iter().flatten() {
        let variants = at(m, "/variants");
        for v in variants.as_array().into_iter().flatten() {
            let cells = [
                at(m, "/key"),
                at(m, "/kind"),
                at(m, "/step/index"),
                at(v, "/variant"),
                at(v, "/units"),
                at(v, "/events"),
                at(v, "/converted"),
                at(v, "/sum"),
                at(v, "/value"),
                at(v, "/interval/lower"),
                at(v, "/interval/upper"),
                at(v, "/comparison/difference/estimate"),
                at(v, "/comparison/difference/lower"),
                at(v, "/comparison/difference/upper"),
                at(v, "/comparison/relative/estimate"),
                at(v, "/comparison/relative/lower"),
                at(v, "/comparison/relative/upper"),
                at(v, "/comparison/pvalue"),
                at(v, "/comparison/sequential_pvalue"),
                at(v, "/comparison/adjusted_pvalue"),
                at(v, "/comparison/probability_better"),
                at(v, "/comparison/expected_loss"),
                at(v, "/comparison/verdict"),
                at(v, "/comparison/cuped/difference/estimate"),
                at(v, "/comparison/cuped/pvalue"),
                at(v, "/problem/message"),
            ];
            let row: Vec<String> = cells.iter().map(csv_cell).collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
    }
    out
}

/// A JSON value as a CSV cell: numbers and text as they are (text quoted when it holds a
/// comma, quote or line break, quotes doubled), null as empty.
fn csv_cell(v: &Value) -> String {
    let text = match v {
        Value::Null => return String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn csv_cells_are_quoted_when_they_must_be() {
        assert_eq!(csv_cell(&json!(null)), "");
        assert_eq!(csv_cell(&json!(1.5)), "1.5");
        assert_eq!(csv_cell(&json!("a,b")), "\"a,b\"");
        assert_eq!(csv_cell(&json!("say \"hi\"")), "\"say \"\"hi\"\"\"");
        let results = json!({"results": {"metrics": [{"key": "buy", "kind": "mean",
            "variants": [{"variant": "control", "units": 10, "value": 2.0,
                          "comparison": null},
                         {"variant": "b", "units": 12, "value": 3.0,
                          "comparison": {"difference": {"estimate": 1.0}, "verdict": "better"}}]}]}});
        let csv = results_csv(&results);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].split(',').count(), lines[2].split(',').count());
        assert!(lines[2].starts_with("buy,mean,,b,12,"));
        assert!(lines[2].contains(",better,"));
    }
}
