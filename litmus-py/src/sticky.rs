//! The sticky store of `litmus.Engine`: the app's object with `get(key)` and `set(key, value)`
//! (or a dict), read and written for `assign` and for flags' experiment rules alike. The key
//! and which assignments are remembered are core's (`litmus_core::sdk::sticky`).

use std::cell::RefCell;

use litmus_core::sdk::sticky::{should_remember_code, sticky_key};
use litmus_core::{AttributeSource, Engine as CoreEngine, Evaluation, FlagType, Timestamp};
use pyo3::prelude::*;

use crate::assignment::Assignment;

/// The variant `store` remembers for (experiment, unit), if any.
pub(crate) fn remembered(
    store: &Bound<'_, PyAny>,
    experiment: &str,
    unit: &str,
) -> PyResult<Option<String>> {
    let value = store.call_method1("get", (sticky_key(experiment, unit),))?;
    if value.is_none() {
        return Ok(None);
    }
    if let Ok(b) = value.cast::<pyo3::types::PyBytes>() {
        // redis-py returns bytes unless decode_responses is set.
        return Ok(Some(String::from_utf8_lossy(b.as_bytes()).into_owned()));
    }
    Ok(Some(value.extract::<String>()?))
}

/// Remembers a fresh assignment in `store` (`set(key, value)`, or item assignment for a
/// dict); other assignments are not remembered.
pub(crate) fn remember(store: &Bound<'_, PyAny>, a: &Assignment) -> PyResult<()> {
    let Some(variant) = &a.variant else {
        return Ok(());
    };
    if !should_remember_code(a.reason) {
        return Ok(());
    }
    let key = sticky_key(a.experiment_key(), a.unit());
    if store.hasattr("set")? {
        store.call_method1("set", (key, variant))?;
    } else {
        store.set_item(key, variant)?;
    }
    Ok(())
}

/// Evaluates `flag` for `unit` with core's sticky evaluation: an experiment rule (the flag's
/// or a prerequisite's) keeps the variant `store` remembers for the unit in its experiment,
/// read when core reaches the rule. `wanted` asks for a type, as `Engine::evaluate_as` does.
/// An exception raised by the store is returned (and nothing is exposed or remembered).
pub(crate) fn evaluate<'e, A: AttributeSource + ?Sized>(
    store: &Bound<'_, PyAny>,
    core: &'e CoreEngine,
    flag: &str,
    unit: &str,
    attributes: &A,
    at: Option<Timestamp>,
    wanted: Option<FlagType>,
) -> PyResult<Evaluation<'e>> {
    if let Some(t) = wanted {
        if core.flag(flag).is_some_and(|f| f.value_type() != t) {
            // A type mismatch: core's error, and no reason to read the store.
            return Ok(core.evaluate_as(flag, unit, attributes, at, t));
        }
    }
    let failed: RefCell<Option<PyErr>> = RefCell::new(None);
    // The remembered variant as the engine's own key, so it outlives the store's string.
    let lookup = |experiment: &str| {
        if failed.borrow().is_some() {
            return None;
        }
        match remembered(store, experiment, unit) {
            Ok(kept) => Some(core.experiment(experiment)?.variant(&kept?)?.key()),
            Err(err) => {
                *failed.borrow_mut() = Some(err);
                None
            }
        }
    };
    let e = core.evaluate_sticky_at(flag, unit, attributes, at, &lookup);
    match failed.into_inner() {
        Some(err) => Err(err),
        None => Ok(e),
    }
}
