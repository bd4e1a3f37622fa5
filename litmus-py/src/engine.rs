//! `litmus.Engine`: config in, assignments and flag evaluations out, with optional exposure
//! logging and sticky assignments. Every decision is the core engine's.

use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use litmus_core::{AttributeSource, Engine as CoreEngine, ExposureMemory, Timestamp};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyDict, PyList};

use crate::assignment::Assignment;
use crate::attributes::PyAttributes;
use crate::clock::{When, wall_clock};
use crate::convert::{config_text, from_json};
use crate::errors::{argument, core_error, guard};
use crate::usage::Loaded;

/// A flag read: the flag, the unit, its attributes and `now`, as the typed value methods take them.
type FlagCall<'a, 'py> = (
    &'a str,
    &'a PyBackedStr,
    Option<&'a Bound<'py, PyAny>>,
    Option<&'a Bound<'py, PyAny>>,
);

/// The assignment engine: load a config, then assign units to experiments.
///
/// Thread-safe: any number of threads may assign while another calls `update`.
#[pyclass(module = "litmus._litmus", frozen)]
pub(crate) struct Engine {
    core: RwLock<Arc<Loaded>>,
    on_exposure: Option<Py<PyAny>>,
    sticky_store: Option<Py<PyAny>>,
    seen: Mutex<ExposureMemory>,
    strict: bool,
}

fn load(py: Python<'_>, config: &Bound<'_, PyAny>, strict: bool) -> PyResult<CoreEngine> {
    let text = config_text(config)?;
    py.detach(|| {
        if strict {
            CoreEngine::from_json_strict(&text)
        } else {
            CoreEngine::from_json(&text)
        }
    })
    .map_err(|e| core_error(py, &e))
}

impl Engine {
    /// The variant the sticky store remembers for (experiment, unit), if any.
    fn remembered(&self, py: Python<'_>, experiment: &str, unit: &str) -> PyResult<Option<String>> {
        match &self.sticky_store {
            Some(store) => crate::sticky::remembered(store.bind(py), experiment, unit),
            None => Ok(None),
        }
    }

    /// Remembers a fresh assignment in the sticky store, if there is one.
    fn remember(&self, py: Python<'_>, a: &Assignment) -> PyResult<()> {
        match &self.sticky_store {
            Some(store) => crate::sticky::remember(store.bind(py), a),
            None => Ok(()),
        }
    }

    /// Core's evaluation of `flag` (as type `wanted`, if given): with a sticky store, its
    /// experiment rules keep the variants the store remembers; without one, core's plain
    /// evaluation (no lookup, no allocation).
    #[allow(clippy::too_many_arguments)]
    fn evaluate_core<'e, A: AttributeSource>(
        &self,
        py: Python<'_>,
        core: &'e CoreEngine,
        flag: &str,
        unit: &str,
        attrs: &A,
        at: Option<Timestamp>,
        wanted: Option<litmus_core::FlagType>,
    ) -> PyResult<litmus_core::Evaluation<'e>> {
        match (&self.sticky_store, wanted) {
            (Some(store), _) => {
                crate::sticky::evaluate(store.bind(py), core, flag, unit, attrs, at, wanted)
            }
            (None, Some(t)) => Ok(core.evaluate_as(flag, unit, attrs, at, t)),
            (None, None) => Ok(core.evaluate_at(flag, unit, attrs, at)),
        }
    }

    /// The config now, with its flag counter.
    fn loaded(&self) -> Arc<Loaded> {
        self.core
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn snapshot(&self) -> Arc<CoreEngine> {
        Arc::clone(&self.loaded().engine)
    }

    fn expose(&self, py: Python<'_>, a: &Assignment, attributes: &dyn AttributeSource) {
        let Some(callback) = &self.on_exposure else {
            return;
        };
        let held_out = a.reason == litmus_core::Reason::Holdout.code();
        if !a.in_experiment && !held_out {
            return;
        }
        let (key, unit) = (a.experiment_key(), a.unit());
        let fresh = a.in_experiment && self.first_time(key, unit);
        if !fresh && !held_out {
            return;
        }
        let experiment = a.engine.experiment(key);
        if fresh {
            report(py, callback, a, |event| {
                event.set_item("variant", &a.variant)?;
                // The experiment's dimension values, for its segments.
                let dimensions = PyDict::new(py);
                for (key, value) in experiment
                    .map(|e| e.dimension_values(&attributes))
                    .unwrap_or_default()
                {
                    dimensions.set_item(key, value)?;
                }
                event.set_item("dimensions", dimensions)
            });
        }
        // Holdout exposures: a held-out unit's, or with the first exposure to an experiment a
        // holdout covers (each (holdout, unit) once).
        if held_out || (fresh && experiment.is_some_and(litmus_core::Experiment::has_holdouts)) {
            let Some(reason) = litmus_core::Reason::from_code(a.reason) else {
                return;
            };
            for (holdout, arm) in a.engine.holdout_exposures(key, unit, reason) {
                let subject = litmus_core::assign::holdout_exposure::subject(holdout);
                if self.first_time(&subject, unit) {
                    report(py, callback, a, |event| {
                        event.set_item("holdout", holdout)?;
                        event.set_item("variant", arm)?;
                        event.set_item("dimensions", PyDict::new(py))
                    });
                }
            }
        }
    }

    /// Whether the exposure of `unit` to `name` (an experiment or a holdout's subject) is new
    /// to the exposure memory; a new one is remembered.
    fn first_time(&self, name: &str, unit: &str) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first_time(name, unit)
    }

    /// Evaluates `flag` with core and counts it for the usage reports, remembers a fresh
    /// assignment of the experiment that served it in the sticky store and reports its
    /// exposure, if one did; `wanted` asks for a type (a flag of another type is a
    /// `type_mismatch`).
    #[allow(clippy::too_many_arguments)]
    fn flag_evaluation<A: AttributeSource>(
        &self,
        py: Python<'_>,
        loaded: &Loaded,
        flag: &str,
        unit_id: &PyBackedStr,
        attrs: &A,
        when: When,
        wanted: Option<litmus_core::FlagType>,
    ) -> PyResult<crate::flags::FlagEvaluation> {
        let unit: &str = unit_id;
        let core = &loaded.engine;
        let at = when.for_flag(core, flag);
        let e = self.evaluate_core(py, core, flag, unit, attrs, at, wanted)?;
        loaded.usage.count_evaluation(&e);
        let assignment = e
            .assignment()
            .map(|a| self.build(py, loaded, None, unit_id, &a, at, when))
            .transpose()?;
        if let Some(a) = &assignment {
            self.remember(py, a)?;
            self.expose(py, a, attrs);
        }
        crate::flags::FlagEvaluation::new(py, core, flag, unit, &e, assignment)
    }

    /// The value of `call` (flag, unit, attributes, now) as type `wanted`, converted by
    /// `extract`, or `default` when the flag cannot be evaluated as that type.
    fn value_or<'py, T>(
        &self,
        py: Python<'py>,
        call: FlagCall<'_, 'py>,
        wanted: litmus_core::FlagType,
        default: T,
        extract: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<T>,
    ) -> PyResult<T> {
        let (flag, unit, attributes, now) = call;
        guard(py, || {
            let v = self.flag_value(py, flag, unit, attributes, now, wanted)?;
            v.map_or(Ok(default), |v| extract(&v))
        })
    }

    /// The value of `flag` as type `wanted`, or `None` when it cannot be evaluated as that
    /// type; counts it, and remembers and reports the assignment as
    /// [`Engine::flag_evaluation`] does.
    fn flag_value<'py>(
        &self,
        py: Python<'py>,
        flag: &str,
        unit_id: &PyBackedStr,
        attributes: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
        wanted: litmus_core::FlagType,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let unit: &str = unit_id;
        let when = When::parse(now)?;
        let attrs = PyAttributes::read(attributes)?;
        let loaded = self.loaded();
        let core = &loaded.engine;
        let at = when.for_flag(core, flag);
        let e = self.evaluate_core(py, core, flag, unit, &attrs, at, Some(wanted))?;
        loaded.usage.count_evaluation(&e);
        if let Some(a) = e.assignment() {
            let built = self.build(py, &loaded, None, unit_id, &a, at, when)?;
            self.remember(py, &built)?;
            self.expose(py, &built, &attrs);
        }
        e.value().map(|v| from_json(py, v)).transpose()
    }

    /// The Python assignment for core's `a` of `unit_id`: the experiment's and the variant's
    /// keys are the loaded config's cached strings (`key`, the caller's, names an experiment
    /// the config does not have).
    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        py: Python<'_>,
        loaded: &Loaded,
        key: Option<&PyBackedStr>,
        unit_id: &PyBackedStr,
        a: &litmus_core::Assignment<'_>,
        at: Option<Timestamp>,
        when: When,
    ) -> PyResult<Assignment> {
        let names = a.experiment().and_then(|e| loaded.names(py, e));
        let experiment = match (names, key) {
            (Some(n), _) => n.key.clone_ref(py),
            (None, Some(k)) => k.clone_ref(py),
            // An experiment rule whose experiment the config rejected.
            (None, None) => PyBackedStr::try_from(pyo3::types::PyString::new(py, ""))?,
        };
        let variant = names
            .zip(a.variant())
            .and_then(|(n, v)| n.variants.get(v.index()))
            .map(|s| s.clone_ref(py));
        Ok(Assignment {
            experiment,
            unit_id: unit_id.clone_ref(py),
            variant,
            in_experiment: a.in_experiment(),
            reason: a.reason().code(),
            miss: a.miss().map(|m| m.code()),
            at,
            wall_clock: matches!(when, When::WallClock),
            engine: Arc::clone(&loaded.engine),
        })
    }
}

/// Calls the exposure callback with an event of `a` (its experiment, unit, reason, timestamp
/// and config version) that `fill` completes; a failing callback is reported as unraisable.
fn report(
    py: Python<'_>,
    callback: &Py<PyAny>,
    a: &Assignment,
    fill: impl FnOnce(&Bound<'_, PyDict>) -> PyResult<()>,
) {
    let event = (|| -> PyResult<Bound<'_, PyDict>> {
        let event = PyDict::new(py);
        event.set_item("experiment", &a.experiment)?;
        event.set_item("unit_id", &a.unit_id)?;
        event.set_item("reason", a.reason)?;
        let at = a.at.or_else(|| a.wall_clock.then(wall_clock));
        event.set_item("timestamp", at.map(|t| t.unix_millis() as f64 / 1000.0))?;
        event.set_item("config_version", a.engine.version())?;
        fill(&event)?;
        Ok(event)
    })();
    let result = event.and_then(|e| callback.call1(py, (e,)));
    if let Err(err) = result {
        // A failing logger must not break assignment: report it like an exception in a
        // destructor or thread.
        err.write_unraisable(py, Some(callback.bind(py)));
    }
}

#[pymethods]
impl Engine {
    /// Loads a config (a JSON str, bytes or a dict). Invalid experiments are reported in
    /// `problems` and assign nobody; the others work. With `strict=True`, any problem or
    /// unknown field raises `ConfigError` instead.
    #[new]
    ///
    /// `on_exposure(event)` is called once per (experiment, unit) that enters an experiment
    /// (remembering at most `exposure_dedupe_size` pairs: 8 bytes each, allocated as pairs
    /// arrive, so 2 MB at most at the default; up to half that many units are never reported
    /// twice). `sticky_store` (an object
    /// with `get(key)` and `set(key, value)`, or a dict) keeps each unit's first variant
    /// against later changes of weights and traffic, for `assign` and for flags' experiment
    /// rules alike (one memory per experiment and unit, whichever path assigned it).
    #[pyo3(signature = (config, *, on_exposure=None, exposure_dedupe_size=250_000, strict=false, sticky_store=None))]
    fn new(
        py: Python<'_>,
        config: &Bound<'_, PyAny>,
        on_exposure: Option<Py<PyAny>>,
        exposure_dedupe_size: usize,
        strict: bool,
        sticky_store: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        guard(py, || {
            if let Some(cb) = &on_exposure {
                if !cb.bind(py).is_callable() {
                    return Err(argument(py, "on_exposure must be callable"));
                }
            }
            if let Some(store) = &sticky_store {
                if !store.bind(py).hasattr("get")? {
                    return Err(argument(
                        py,
                        "sticky_store needs get(key) and set(key, value) (a dict works)",
                    ));
                }
            }
            Ok(Engine {
                core: RwLock::new(Arc::new(Loaded::new(load(py, config, strict)?))),
                on_exposure,
                sticky_store,
                seen: Mutex::new(ExposureMemory::new(
                    exposure_dedupe_size,
                    std::collections::hash_map::RandomState::new().hash_one(0u8),
                )),
                strict,
            })
        })
    }

    /// An engine from a JSON config file (the keyword arguments are the constructor's).
    #[staticmethod]
    #[pyo3(signature = (path, *, on_exposure=None, exposure_dedupe_size=250_000, strict=false, sticky_store=None))]
    fn from_file(
        py: Python<'_>,
        path: std::path::PathBuf,
        on_exposure: Option<Py<PyAny>>,
        exposure_dedupe_size: usize,
        strict: bool,
        sticky_store: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let bytes = py.detach(|| std::fs::read(&path)).map_err(|e| {
            pyo3::exceptions::PyOSError::new_err(format!("{}: {e}", path.display()))
        })?;
        let config = pyo3::types::PyBytes::new(py, &bytes);
        Self::new(
            py,
            &config,
            on_exposure,
            exposure_dedupe_size,
            strict,
            sticky_store,
        )
    }

    /// Replaces the config atomically: assignments running in other threads finish on the
    /// old config, later ones use the new one. A config that cannot be loaded raises and
    /// leaves the current one in place. The flag usage counts of the flags the new config
    /// still has carry over.
    fn update(&self, py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(py, || {
            let fresh = load(py, config, self.strict)?;
            let mut slot = self.core.write().unwrap_or_else(PoisonError::into_inner);
            *slot = Arc::new(slot.replaced_by(fresh));
            Ok(())
        })
    }

    /// Assigns `unit_id` to `experiment`. `now`: None for the wall clock, a datetime
    /// (naive means UTC), seconds since the epoch, an RFC 3339 string, or False for "no time
    /// known" (experiments with a time window then assign nobody).
    #[pyo3(signature = (experiment, unit_id, attributes=None, *, now=None))]
    fn assign(
        &self,
        py: Python<'_>,
        experiment: PyBackedStr,
        unit_id: PyBackedStr,
        attributes: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Assignment> {
        guard(py, || {
            let (key, unit): (&str, &str) = (&experiment, &unit_id);
            let when = When::parse(now)?;
            let attrs = PyAttributes::read(attributes)?;
            let remembered = self.remembered(py, key, unit)?;
            let loaded = self.loaded();
            let core = &loaded.engine;
            let kept = remembered.as_deref();
            // One key lookup: the rest goes by the experiment's position.
            let position = core.experiment_position(key);
            let at = when.for_experiment(position.and_then(|p| core.experiment_at(p)));
            let a = match position {
                Some(p) => core.assign_position_at(p, unit, &attrs, at, kept),
                None => core.assign_sticky_at(key, unit, &attrs, at, kept),
            };
            let out = self.build(py, &loaded, Some(&experiment), &unit_id, &a, at, when)?;
            self.remember(py, &out)?;
            self.expose(py, &out, &attrs);
            Ok(out)
        })
    }

    /// Assigns `unit_id` to every running experiment, in config order.
    #[pyo3(signature = (unit_id, attributes=None, *, now=None))]
    fn assign_all(
        &self,
        py: Python<'_>,
        unit_id: PyBackedStr,
        attributes: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Assignment>> {
        guard(py, || {
            let unit: &str = &unit_id;
            let when = When::parse(now)?;
            let at = when.for_all();
            let attrs = PyAttributes::read(attributes)?;
            let loaded = self.loaded();
            let core = &loaded.engine;
            let mut list: Vec<Assignment> = core
                .assign_all_at(unit, &attrs, at)
                .map(|a| self.build(py, &loaded, None, &unit_id, &a, at, when))
                .collect::<PyResult<_>>()?;
            if self.sticky_store.is_some() {
                for slot in &mut list {
                    let key = slot.experiment_key().to_owned();
                    if let Some(kept) = self.remembered(py, &key, unit)? {
                        let a = core.assign_sticky_at(&key, unit, &attrs, at, Some(&kept));
                        *slot = self.build(py, &loaded, None, &unit_id, &a, at, when)?;
                    }
                    self.remember(py, slot)?;
                }
            }
            for a in &list {
                self.expose(py, a, &attrs);
            }
            Ok(list)
        })
    }

    /// Evaluates the flag `flag` for `unit_id` (`now` as for `assign`). With `type`
    /// (`'boolean'`, `'string'`, `'number'` or `'json'`), a flag of another type evaluates to
    /// an error (`type_mismatch`). When an experiment serves the value, its exposure is
    /// reported as `assign` reports it, and with a sticky store the unit keeps the variant
    /// the store remembers for that experiment (assignment reason `sticky`; a fresh
    /// `assigned` one is remembered).
    #[pyo3(signature = (flag, unit_id, attributes=None, *, now=None, r#type=None))]
    fn evaluate(
        &self,
        py: Python<'_>,
        flag: &str,
        unit_id: PyBackedStr,
        attributes: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        r#type: Option<&str>,
    ) -> PyResult<crate::flags::FlagEvaluation> {
        guard(py, || {
            let wanted = crate::flags::wanted_type(py, r#type)?;
            let when = When::parse(now)?;
            let attrs = PyAttributes::read(attributes)?;
            let loaded = self.loaded();
            self.flag_evaluation(py, &loaded, flag, &unit_id, &attrs, when, wanted)
        })
    }

    /// Evaluates every flag for `unit_id`: a dict of flag key to `FlagEvaluation`, in config
    /// order.
    #[pyo3(signature = (unit_id, attributes=None, *, now=None))]
    fn evaluate_all<'py>(
        &self,
        py: Python<'py>,
        unit_id: PyBackedStr,
        attributes: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(py, || {
            let when = When::At(When::parse(now)?.for_all());
            let attrs = PyAttributes::read(attributes)?;
            let loaded = self.loaded();
            let out = PyDict::new(py);
            for (key, _) in loaded.engine.flags() {
                let e = self.flag_evaluation(py, &loaded, key, &unit_id, &attrs, when, None)?;
                out.set_item(key, e)?;
            }
            Ok(out)
        })
    }

    /// The value of the boolean flag `flag` for `unit_id`, or `default` when it cannot be
    /// evaluated (unknown, rejected, or not a boolean flag).
    #[pyo3(signature = (flag, unit_id, attributes=None, *, default=false, now=None))]
    fn boolean_value(
        &self,
        py: Python<'_>,
        flag: &str,
        unit_id: PyBackedStr,
        attributes: Option<&Bound<'_, PyAny>>,
        default: bool,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let call = (flag, &unit_id, attributes, now);
        self.value_or(py, call, litmus_core::FlagType::Boolean, default, |v| {
            v.extract::<bool>()
        })
    }

    /// The value of the string flag `flag` for `unit_id`, or `default`.
    #[pyo3(
        signature = (flag, unit_id, attributes=None, *, default=String::new(), now=None),
        text_signature = "(self, /, flag, unit_id, attributes=None, *, default='', now=None)"
    )]
    fn string_value(
        &self,
        py: Python<'_>,
        flag: &str,
        unit_id: PyBackedStr,
        attributes: Option<&Bound<'_, PyAny>>,
        default: String,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let call = (flag, &unit_id, attributes, now);
        self.value_or(py, call, litmus_core::FlagType::String, default, |v| {
            v.extract::<String>()
        })
    }

    /// The value of the number flag `flag` for `unit_id` as a float, or `default`.
    #[pyo3(signature = (flag, unit_id, attributes=None, *, default=0.0, now=None))]
    fn number_value(
        &self,
        py: Python<'_>,
        flag: &str,
        unit_id: PyBackedStr,
        attributes: Option<&Bound<'_, PyAny>>,
        default: f64,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<f64> {
        let call = (flag, &unit_id, attributes, now);
        self.value_or(py, call, litmus_core::FlagType::Number, default, |v| {
            v.extract::<f64>()
        })
    }

    /// The value of the `json` flag `flag` for `unit_id` (a fresh dict, list or scalar), or
    /// `default`.
    #[pyo3(signature = (flag, unit_id, attributes=None, *, default=None, now=None))]
    fn json_value<'py>(
        &self,
        py: Python<'py>,
        flag: &str,
        unit_id: PyBackedStr,
        attributes: Option<&Bound<'py, PyAny>>,
        default: Option<Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = (flag, &unit_id, attributes, now);
        let default = default.unwrap_or_else(|| py.None().into_bound(py));
        self.value_or(py, call, litmus_core::FlagType::Json, default, |v| {
            Ok(v.clone())
        })
    }

    /// How many times each flag was evaluated (by `evaluate`, `evaluate_all` and the typed
    /// value methods) since the engine was made or the counts were last reset: a dict of flag
    /// key to evaluations, holding only flags evaluated at least once (an unknown key is not
    /// counted). `reset` (the default) sets the counts back to zero as they are read. The
    /// counts of flags the config still has survive `update`. `litmus.ConfigClient` reads
    /// them for its usage reports (`POST /sdk/usage`), so read them with `reset=False` when
    /// a client owns the engine.
    #[pyo3(signature = (reset = true))]
    fn flag_usage<'py>(&self, py: Python<'py>, reset: bool) -> PyResult<Bound<'py, PyDict>> {
        guard(py, || self.loaded().usage_dict(py, reset))
    }

    /// The keys of every flag in the config (valid or not), in config order.
    fn flag_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        crate::flags::keys(py, &self.snapshot())
    }

    /// A flag's metadata (its `type`, and `description` and `tags` when set); empty for an
    /// unknown or rejected flag.
    fn flag_metadata<'py>(&self, py: Python<'py>, flag: &str) -> PyResult<Bound<'py, PyDict>> {
        crate::flags::metadata(py, &self.snapshot(), flag)
    }

    /// The problems found in the config: a list of `ConfigError` (each with `code`, `path`).
    #[getter]
    fn problems<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let core = self.snapshot();
        let list = PyList::empty(py);
        for e in core.problems() {
            list.append(core_error(py, e).into_value(py))?;
        }
        Ok(list)
    }

    /// The config's `version`, if it has one.
    #[getter]
    fn version(&self) -> Option<String> {
        self.snapshot().version().map(str::to_owned)
    }

    /// The keys of every experiment in the config (valid or not), in config order.
    fn experiment_keys(&self) -> Vec<String> {
        self.snapshot()
            .experiments()
            .map(|(k, _)| k.to_owned())
            .collect()
    }

    /// How many exposures the deduplication remembers now (bounded by
    /// `exposure_dedupe_size`).
    #[getter]
    fn exposures_remembered(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
