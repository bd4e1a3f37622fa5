//! `litmus.Assignment`: the result of one assignment, as Python sees it. It holds the caller's
//! strings and the loaded config's cached key strings (`crate::usage::Names`) by reference, so
//! building one copies no text.

use std::sync::Arc;

use litmus_core::{Engine as CoreEngine, Timestamp};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyDict;

use crate::convert::from_json;

/// The result of one assignment.
#[pyclass(module = "litmus._litmus", frozen)]
pub(crate) struct Assignment {
    /// The experiment's key.
    #[pyo3(get)]
    pub(crate) experiment: PyBackedStr,
    /// The unit assigned.
    #[pyo3(get)]
    pub(crate) unit_id: PyBackedStr,
    /// The variant's key, or None.
    #[pyo3(get)]
    pub(crate) variant: Option<PyBackedStr>,
    /// Whether the unit counts in the experiment (false for overrides).
    #[pyo3(get)]
    pub(crate) in_experiment: bool,
    /// Why: a stable code (`assigned`, `override`, `not_running`, `targeting_miss`, ...).
    #[pyo3(get)]
    pub(crate) reason: &'static str,
    /// For a targeting miss: `false`, `attribute_missing` or `type_mismatch`.
    #[pyo3(get)]
    pub(crate) miss: Option<&'static str>,
    pub(crate) at: Option<Timestamp>,
    /// Whether `at` came from (or, when None, would have been) the wall clock.
    pub(crate) wall_clock: bool,
    pub(crate) engine: Arc<CoreEngine>,
}

impl Assignment {
    /// The experiment's key as text.
    pub(crate) fn experiment_key(&self) -> &str {
        &self.experiment
    }

    /// The unit as text.
    pub(crate) fn unit(&self) -> &str {
        &self.unit_id
    }

    /// The variant's key as text, if there is a variant.
    pub(crate) fn variant_key(&self) -> Option<&str> {
        self.variant.as_deref()
    }

    fn variant_ref(&self) -> Option<&litmus_core::Variant> {
        let key = self.variant_key()?;
        self.engine.experiment(self.experiment_key())?.variant(key)
    }
}

#[pymethods]
impl Assignment {
    /// The variant's JSON payload (None without one).
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.variant_ref().and_then(|v| v.payload()) {
            Some(p) => from_json(py, p),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// For a multivariate experiment, the level of each factor (empty otherwise).
    #[getter]
    fn factors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        if let Some(v) = self.variant_ref() {
            for (factor, level) in v.factors() {
                dict.set_item(factor, level)?;
            }
        }
        Ok(dict)
    }

    /// The assignment as a plain dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("experiment", &self.experiment)?;
        d.set_item("unit_id", &self.unit_id)?;
        d.set_item("variant", &self.variant)?;
        d.set_item("in_experiment", self.in_experiment)?;
        d.set_item("reason", self.reason)?;
        d.set_item("miss", self.miss)?;
        d.set_item("payload", self.payload(py)?)?;
        d.set_item("factors", self.factors(py)?)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Assignment(experiment={:?}, unit_id={:?}, variant={}, in_experiment={}, reason={:?})",
            self.experiment_key(),
            self.unit(),
            self.variant_key()
                .map_or_else(|| "None".to_owned(), |v| format!("{v:?}")),
            if self.in_experiment { "True" } else { "False" },
            self.reason
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Assignment>().is_ok_and(|o| {
            let o = o.get();
            o.experiment_key() == self.experiment_key()
                && o.unit() == self.unit()
                && o.variant_key() == self.variant_key()
                && o.in_experiment == self.in_experiment
                && o.reason == self.reason
        })
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.experiment_key(), self.unit(), self.variant_key()).hash(&mut h);
        h.finish()
    }
}
