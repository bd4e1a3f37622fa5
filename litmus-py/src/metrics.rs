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
        let text = catalogue_text(catalogue)?;
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
        let text = if settings.is_instance_of::<PyDict>() {
            to_json(settings)?.to_string()
        } else {
            catalogue_text(settings)?
        };
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
        let text = if request.is_instance_of::<PyDict>() {
            to_json(request)?.to_string()
        } else {
            catalogue_text(request)?
        };
        let answer = check(py, litmus_core::results::planning::plan_text(&text))?;
        let value = serde_json::to_value(answer)
            .map_err(|e| argument(py, format!("the plan does not serialize: {e}")))?;
        crate::convert::from_json(py, &value)
    })
}

/// The catalogue as JSON text: a str or UTF-8 bytes as given, a list or tuple converted.
fn catalogue_text(catalogue: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = catalogue.py();
    if let Ok(s) = catalogue.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if let Ok(b) = catalogue.cast::<PyBytes>() {
        return String::from_utf8(b.as_bytes().to_vec()).map_err(|e| {
            exception(
                py,
                &format!("the catalogue is not UTF-8: {e}"),
                "invalid_json",
                None,
            )
        });
    }
    if catalogue.is_instance_of::<PyList>() || catalogue.is_instance_of::<PyTuple>() {
        return Ok(to_json(catalogue)?.to_string());
    }
    Err(argument(
        py,
        "the catalogue is a list of metric definitions (dicts) or its JSON text",
    ))
}
