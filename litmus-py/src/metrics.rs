//! `litmus._litmus.validate_metrics`, `validate_analysis` and `plan_experiment`: a metric
//! catalogue and an experiment's analysis settings checked by the core exactly as the server's
//! admin API checks them (`litmus_core::metrics::validate_catalogue`,
//! `litmus_core::results::settings::validate_analysis`), and an experiment planned by core
//! (`litmus_core::results::planning::plan_text`).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::convert::to_json;
use crate::errors::{argument, check, exception, guard};

/// Checks a metric catalogue (a list of definition dicts, or its JSON text) and returns one
/// dict per metric, in the order written: `key`, `kind` and `rollup` (the id its rollup rows
/// carry). An invalid catalogue raises `ConfigError` with the server's code and path.
#[pyfunction]
pub(crate) fn validate_metrics<'py>(
    py: Python<'py>,
    catalogue: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    guard(py, || {
        let text = json_text(
            catalogue,
            Shape::List,
            "the catalogue is a list of metric definitions (dicts)",
        )?;
        let metrics = check(py, litmus_core::metrics::validate_catalogue(&text))?;
        let out = PyList::empty(py);
        for m in &metrics {
            let d = PyDict::new(py);
            d.set_item("key", m.key())?;
            d.set_item("kind", m.kind().as_str())?;
            d.set_item("rollup", m.rollup())?;
            out.append(d)?;
        }
        Ok(out)
    })
}

/// Checks an experiment's `analysis` settings (a dict, or its JSON text) and returns the
/// settings the results would use, over core's defaults: `alpha`, `test`, `basis`,
/// `correction`, `cuped`, `rate_prior`, `lift_prior`, `min_units`, `sequential_tuning`.
/// Invalid settings raise `ConfigError` with the server's code and path (relative to the
/// object: `priors.rate.alpha`).
#[pyfunction]
pub(crate) fn validate_analysis<'py>(
    py: Python<'py>,
    settings: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let text = json_text(settings, Shape::Object, "the settings are a dict")?;
        let shown = check(py, litmus_core::results::settings::validate_analysis(&text))?;
        let value = serde_json::to_value(shown)
            .map_err(|e| argument(py, format!("the settings do not serialize: {e}")))?;
        crate::convert::from_json(py, &value)
    })
}

/// Plans an experiment (a dict, or its JSON text: `baseline`, `lift` or `days`,
/// `units_per_day`, `power`, `variants`, `analysis`) with core's planning, as the server's
/// `POST /planning` does once it knows the baseline; returns `{"plan", "baseline",
/// "settings"}`. Invalid requests raise `ConfigError` with the code and the field's path.
#[pyfunction]
pub(crate) fn plan_experiment<'py>(
    py: Python<'py>,
    request: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let text = json_text(request, Shape::Object, "the request is a dict")?;
        let answer = check(py, litmus_core::results::planning::plan_text(&text))?;
        let value = serde_json::to_value(answer)
            .map_err(|e| argument(py, format!("the plan does not serialize: {e}")))?;
        crate::convert::from_json(py, &value)
    })
}

/// A bandit's inference stratified by its periods of constant weights (a dict, or its JSON
/// text: `variants`, `units`, `changes_ms`, `metric`, `analysis`), as the server shows a
/// bandit's comparisons; returns `{"method", "metric", "kind", "periods", "arms",
/// "comparisons"}`. Invalid requests raise `ConfigError` with the code and the field's path.
#[pyfunction]
pub(crate) fn bandit_stratified<'py>(
    py: Python<'py>,
    request: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let text = json_text(request, Shape::Object, "the request is a dict")?;
        let answer = check(
            py,
            litmus_core::results::bandit_inference_json::stratified_text(&text),
        )?;
        let value = serde_json::to_value(answer)
            .map_err(|e| argument(py, format!("the inference does not serialize: {e}")))?;
        crate::convert::from_json(py, &value)
    })
}

/// The Python form a JSON argument may take besides its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A list or a tuple.
    List,
    /// A dict.
    Object,
}

/// A JSON argument as text: a str or UTF-8 bytes as given, a value of its `shape` converted;
/// anything else raises `InvalidArgumentError` saying `what` it is ("the settings are a
/// dict"), or its JSON text.
fn json_text(value: &Bound<'_, PyAny>, shape: Shape, what: &str) -> PyResult<String> {
    let py = value.py();
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if let Ok(b) = value.cast::<PyBytes>() {
        return String::from_utf8(b.as_bytes().to_vec()).map_err(|e| {
            exception(
                py,
                &format!("the text is not UTF-8: {e}"),
                "invalid_json",
                None,
            )
        });
    }
    let fits = match shape {
        Shape::List => value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>(),
        Shape::Object => value.is_instance_of::<PyDict>(),
    };
    if fits {
        return Ok(to_json(value)?.to_string());
    }
    Err(argument(py, format!("{what}, or its JSON text")))
}
