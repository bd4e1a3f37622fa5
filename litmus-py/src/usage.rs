//! Flag usage for the Python package: the engine's loaded config with its per-flag evaluation
//! counter (`Engine.flag_usage`), and core's usage sender (`litmus_core::sdk::usage`) for
//! `litmus.ConfigClient`, which does the HTTP on its refresh thread.

use std::sync::Arc;

use litmus_core::Engine as CoreEngine;
use litmus_core::sdk::{FlagCounter, SendResult, UsageAction, UsageOptions, UsageSender as Core};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::convert::from_json;
use crate::errors::{check, guard};

/// An experiment's key and variant keys as Python strings, made once per loaded config so
/// that an assignment hands out the same objects instead of new strings.
pub(crate) struct Names {
    /// The experiment's key.
    pub(crate) key: PyBackedStr,
    /// Its variants' keys, by variant index.
    pub(crate) variants: Box<[PyBackedStr]>,
}

/// A loaded config and the evaluations of its flags, swapped together by `Engine.update`.
pub(crate) struct Loaded {
    /// The compiled config.
    pub(crate) engine: Arc<CoreEngine>,
    /// Evaluations per flag, by the flag's position in the config.
    pub(crate) usage: FlagCounter,
    /// Each experiment's names, by its position in the config, made on first use.
    names: Box<[PyOnceLock<Names>]>,
}

/// One empty name slot per experiment of `engine`.
fn name_slots(engine: &CoreEngine) -> Box<[PyOnceLock<Names>]> {
    engine.experiments().map(|_| PyOnceLock::new()).collect()
}

impl Loaded {
    /// A freshly loaded config, nothing counted.
    pub(crate) fn new(engine: CoreEngine) -> Self {
        Loaded {
            usage: FlagCounter::new(&engine),
            names: name_slots(&engine),
            engine: Arc::new(engine),
        }
    }

    /// The Python strings of `experiment`'s key and variant keys (an experiment of this
    /// config), made on first use.
    pub(crate) fn names(
        &self,
        py: Python<'_>,
        experiment: &litmus_core::Experiment,
    ) -> Option<&Names> {
        let text = |s: &str| PyBackedStr::try_from(PyString::new(py, s));
        let make = || -> PyResult<Names> {
            Ok(Names {
                key: text(experiment.key())?,
                variants: experiment
                    .variants()
                    .iter()
                    .map(|v| text(v.key()))
                    .collect::<PyResult<_>>()?,
            })
        };
        let slot = self.names.get(experiment.position())?;
        slot.get_or_try_init(py, make).ok()
    }

    /// `engine` replacing this config: the counts of the flags it still has carry over (taken
    /// from this one). Called under the engine's write lock and the GIL, so no evaluation
    /// counts meanwhile (one that waits on a Python sticky store while the config is replaced
    /// counts on the old config and is lost: a count, never an evaluation).
    pub(crate) fn replaced_by(&self, engine: CoreEngine) -> Self {
        Loaded {
            usage: self.usage.remap(&engine),
            names: name_slots(&engine),
            engine: Arc::new(engine),
        }
    }

    /// The counts not zero as a dict of flag key to evaluations; `reset` takes them.
    pub(crate) fn usage_dict<'py>(
        &self,
        py: Python<'py>,
        reset: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (key, n) in self.usage.counts(reset) {
            out.set_item(key, n)?;
        }
        Ok(out)
    }
}

/// The flag usage sender (`litmus_core::sdk::usage`); times in milliseconds since the epoch
/// (the wall clock).
#[pyclass(module = "litmus._litmus", name = "UsageSender")]
pub(crate) struct UsageSender {
    inner: Core,
}

fn action<'py>(py: Python<'py>, action: UsageAction) -> PyResult<Bound<'py, PyAny>> {
    match action {
        UsageAction::Send {
            body,
            flags,
            evaluations,
        } => {
            let dict = PyDict::new(py);
            dict.set_item("type", "send")?;
            dict.set_item("body", PyBytes::new(py, &body))?;
            dict.set_item("flags", flags)?;
            dict.set_item("evaluations", evaluations)?;
            Ok(dict.into_any())
        }
        other => from_json(py, &other.to_json()),
    }
}

#[pymethods]
impl UsageSender {
    #[new]
    #[pyo3(signature = (base_url, *, interval_ms = 60_000.0))]
    fn new(py: Python<'_>, base_url: &str, interval_ms: f64) -> PyResult<Self> {
        guard(py, || {
            let mut options = UsageOptions::new(base_url);
            options.interval_ms = interval_ms;
            Ok(UsageSender {
                inner: check(py, Core::new(options))?,
            })
        })
    }

    fn record(&mut self, flag: &str, evaluations: u64) {
        self.inner.record(flag, evaluations);
    }

    /// Records a dict of flag key to evaluations (`Engine.flag_usage()`).
    fn record_all(&mut self, counts: &Bound<'_, PyDict>) -> PyResult<()> {
        for (key, n) in counts.iter() {
            let key: &str = &key.extract::<String>()?;
            self.inner.record(key, n.extract()?);
        }
        Ok(())
    }

    fn tick<'py>(&mut self, py: Python<'py>, now_ms: f64) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || action(py, self.inner.tick(now_ms)))
    }

    #[pyo3(signature = (status, retry_after, body, now_ms))]
    fn sent(&mut self, status: u16, retry_after: Option<&str>, body: &[u8], now_ms: f64) {
        let result = SendResult::Answered {
            status,
            retry_after,
            body,
        };
        self.inner.sent(result, now_ms);
    }

    fn unreachable(&mut self, message: &str, now_ms: f64) {
        self.inner.sent(SendResult::Unreachable { message }, now_ms);
    }

    fn close(&mut self, timeout_ms: f64, now_ms: f64) {
        self.inner.close(timeout_ms, now_ms);
    }

    #[getter]
    fn pending(&self) -> u64 {
        self.inner.pending()
    }

    #[getter]
    fn stored(&self) -> u64 {
        self.inner.stored()
    }

    #[getter]
    fn dropped(&self) -> u64 {
        self.inner.dropped()
    }

    #[getter]
    fn stopped(&self) -> bool {
        self.inner.is_stopped()
    }
}
