//! `litmus.FlagEvaluation`: one flag evaluated for one unit, built from core's `Evaluation`.
//! Every decision is the core engine's; this module only converts.

use std::sync::Arc;

use litmus_core::{Engine as CoreEngine, FlagType};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::assignment::Assignment;
use crate::convert::from_json;
use crate::errors::argument;

/// The flag type a caller asks for (`type=`), if any.
pub(crate) fn wanted_type(py: Python<'_>, name: Option<&str>) -> PyResult<Option<FlagType>> {
    name.map(|n| {
        FlagType::parse(n).ok_or_else(|| {
            argument(
                py,
                format!("type must be 'boolean', 'string', 'number' or 'json', not {n:?}"),
            )
        })
    })
    .transpose()
}

/// The result of evaluating one flag for one unit.
#[pyclass(module = "litmus._litmus", frozen)]
pub(crate) struct FlagEvaluation {
    /// The flag's key.
    #[pyo3(get)]
    flag: String,
    /// The unit evaluated.
    #[pyo3(get)]
    unit_id: String,
    value: Option<Py<PyAny>>,
    /// OpenFeature's reason: `STATIC`, `TARGETING_MATCH`, `SPLIT`, `DISABLED`, `DEFAULT` or
    /// `ERROR`.
    #[pyo3(get)]
    reason: &'static str,
    /// The id of the rule that served the value (None for the default).
    #[pyo3(get)]
    rule: Option<String>,
    /// OpenFeature's variant: the experiment's variant, the rule's id, or `default`.
    #[pyo3(get)]
    variant: Option<String>,
    /// With reason `ERROR`: `flag_not_found`, `invalid_config` or `type_mismatch`.
    #[pyo3(get)]
    error: Option<&'static str>,
    /// When an experiment rule served the value: the unit's assignment to it.
    #[pyo3(get)]
    assignment: Option<Py<Assignment>>,
    engine: Arc<CoreEngine>,
}

impl FlagEvaluation {
    /// Converts core's evaluation; `assignment` is the binding's assignment object, when an
    /// experiment served the value.
    pub(crate) fn new(
        py: Python<'_>,
        engine: &Arc<CoreEngine>,
        flag: &str,
        unit: &str,
        e: &litmus_core::Evaluation<'_>,
        assignment: Option<Assignment>,
    ) -> PyResult<Self> {
        Ok(FlagEvaluation {
            flag: flag.to_owned(),
            unit_id: unit.to_owned(),
            value: e
                .value()
                .map(|v| from_json(py, v).map(Bound::unbind))
                .transpose()?,
            reason: e.reason().code(),
            rule: e.rule_id().map(str::to_owned),
            variant: e.variant().map(str::to_owned),
            error: e.error().map(|x| x.code()),
            assignment: assignment.map(|a| Py::new(py, a)).transpose()?,
            engine: Arc::clone(engine),
        })
    }
}

/// A flag's metadata as OpenFeature's `flag_metadata` carries it: its type, and its
/// description and tags when it has them.
pub(crate) fn metadata<'py>(
    py: Python<'py>,
    engine: &CoreEngine,
    flag: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    if let Some(f) = engine.flag(flag) {
        d.set_item("type", f.value_type().as_str())?;
        if let Some(description) = f.description() {
            d.set_item("description", description)?;
        }
        let tags: Vec<&str> = f.tags().collect();
        if !tags.is_empty() {
            d.set_item("tags", tags.join(","))?;
        }
    }
    Ok(d)
}

#[pymethods]
impl FlagEvaluation {
    /// The value served (None when the evaluation failed: serve your own default).
    #[getter]
    fn value(&self, py: Python<'_>) -> Py<PyAny> {
        self.value
            .as_ref()
            .map_or_else(|| py.None(), |v| v.clone_ref(py))
    }

    /// The flag's metadata: its `type`, and its `description` and `tags` when it has them.
    #[getter]
    fn flag_metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        metadata(py, &self.engine, &self.flag)
    }

    /// The evaluation as a plain dict (the assignment as its own dict, or None).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("flag", &self.flag)?;
        d.set_item("unit_id", &self.unit_id)?;
        d.set_item("value", self.value(py))?;
        d.set_item("reason", self.reason)?;
        d.set_item("rule", &self.rule)?;
        d.set_item("variant", &self.variant)?;
        d.set_item("error", self.error)?;
        match &self.assignment {
            Some(a) => d.set_item("assignment", a.bind(py).call_method0("to_dict")?)?,
            None => d.set_item("assignment", py.None())?,
        }
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let value = self.value(py).bind(py).repr()?.to_string();
        Ok(format!(
            "FlagEvaluation(flag={:?}, unit_id={:?}, value={value}, reason={:?}, rule={})",
            self.flag,
            self.unit_id,
            self.reason,
            self.rule
                .as_deref()
                .map_or_else(|| "None".to_owned(), |r| format!("{r:?}"))
        ))
    }
}

/// Every flag key, in config order, as a Python list.
pub(crate) fn keys<'py>(py: Python<'py>, engine: &CoreEngine) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, engine.flags().map(|(k, _)| k))
}
