//! The engine module's flag exports: evaluation packed into one number, and each flag's
//! outcomes (its possible values) as JSON for the JavaScript layer to cache.

use std::cell::RefCell;

use litmus_core::{Evaluation, EvaluationError, ExposureMemory, FlagReason, FlagType, Reason};
use wasm_bindgen::prelude::*;

use crate::engine::{EngineCore, attributes, instant};

/// Bit 5: an experiment served the value (the evaluation has an assignment).
pub const ASSIGNED: u32 = 1 << 5;
/// Bit 6: the unit counts in that experiment (not an override).
pub const IN_EXPERIMENT: u32 = 1 << 6;
/// Bit 7: report the exposure (the exposure memory had not seen the pair).
pub const REPORT: u32 = 1 << 7;
/// Bit 8: ask for holdout exposures (the experiment has holdouts and the exposure is new).
pub const HOLDOUTS: u32 = 1 << 8;
/// Bits 9-12: the assignment's reason, its index in [`Reason::ALL`] (for the exposure event).
const ASSIGNMENT_REASON_SHIFT: u32 = 9;
/// The outcome number starts above the flag bits: `packed = bits + outcome * OUTCOME`.
pub const OUTCOME: f64 = 8192.0;

/// The type a caller asks for: 0 none, then `boolean`, `string`, `number`, `json`.
fn wanted(code: u8) -> Option<FlagType> {
    match code {
        1 => Some(FlagType::Boolean),
        2 => Some(FlagType::String),
        3 => Some(FlagType::Number),
        4 => Some(FlagType::Json),
        _ => None,
    }
}

/// Packs an evaluation into an exact integer below 2^53 (see the constants): bits 0-2 the
/// reason, bits 3-4 the error (0 none, 1 `flag_not_found`, 2 `invalid_config`,
/// 3 `type_mismatch`), bits 5-8 the assignment flags, bits 9-12 the assignment's reason, then
/// the outcome number.
fn pack(exposures: &mut Option<ExposureMemory>, e: &Evaluation<'_>, unit: &str) -> f64 {
    let reason = FlagReason::ALL
        .iter()
        .position(|r| *r == e.reason())
        .unwrap_or(0) as u32;
    let error = match e.error() {
        None => 0,
        Some(EvaluationError::FlagNotFound) => 1,
        Some(EvaluationError::InvalidConfig) => 2,
        Some(_) => 3,
    };
    let mut bits = reason | (error << 3);
    if let Some(a) = e.assignment() {
        bits |= ASSIGNED;
        let reason = Reason::ALL
            .iter()
            .position(|r| *r == a.reason())
            .unwrap_or(0) as u32;
        bits |= reason << ASSIGNMENT_REASON_SHIFT;
        if a.in_experiment() {
            bits |= IN_EXPERIMENT;
            let experiment = a.experiment();
            let key = experiment.map_or("", |x| x.key());
            let fresh = exposures
                .as_mut()
                .is_some_and(|memory| memory.first_time(key, unit));
            if fresh {
                bits |= REPORT;
                if experiment.is_some_and(|x| x.has_holdouts()) {
                    bits |= HOLDOUTS;
                }
            }
        }
    }
    f64::from(bits) + f64::from(e.outcome()) * OUTCOME
}

#[wasm_bindgen]
extern "C" {
    /// The JavaScript layer's reader of the app's sticky store: `get(key)` returns the variant
    /// remembered under `key` (`litmus_core::sdk::sticky::sticky_key`) or undefined, and may
    /// throw.
    pub type StickyLookup;

    #[wasm_bindgen(method, catch)]
    fn get(this: &StickyLookup, key: &str) -> Result<Option<String>, JsValue>;
}

#[wasm_bindgen]
impl EngineCore {
    /// Evaluates a flag as `evaluate` does, keeping sticky assignments: an experiment rule
    /// (the flag's or a prerequisite's) keeps the variant `store.get(key)` names for the unit
    /// in its experiment, read when core reaches the rule (`Engine::evaluate_sticky_at`). What
    /// `get` throws is thrown, before the exposure memory sees the evaluation.
    #[wasm_bindgen(js_name = evaluateSticky)]
    pub fn evaluate_sticky(
        &mut self,
        flag: &str,
        unit: &str,
        attributes_json: Option<String>,
        now_ms: f64,
        wanted_type: u8,
        store: &StickyLookup,
    ) -> Result<f64, JsValue> {
        let attrs = attributes(attributes_json)?;
        let EngineCore {
            inner,
            exposures,
            usage,
            ..
        } = self;
        let at = instant(now_ms);
        if let Some(t) = wanted(wanted_type) {
            if inner.flag(flag).is_some_and(|f| f.value_type() != t) {
                // A type mismatch: core's error, and no reason to read the store.
                let e = inner.evaluate_as(flag, unit, &attrs, at, t);
                usage.count_evaluation(&e);
                return Ok(pack(exposures, &e, unit));
            }
        }
        let failed: RefCell<Option<JsValue>> = RefCell::new(None);
        // The remembered variant as the engine's own key, so it outlives the store's string.
        let lookup = |experiment: &str| {
            if failed.borrow().is_some() {
                return None;
            }
            match store.get(&litmus_core::sdk::sticky::sticky_key(experiment, unit)) {
                Ok(kept) => Some(inner.experiment(experiment)?.variant(&kept?)?.key()),
                Err(err) => {
                    *failed.borrow_mut() = Some(err);
                    None
                }
            }
        };
        let e = inner.evaluate_sticky_at(flag, unit, &attrs, at, &lookup);
        match failed.into_inner() {
            Some(err) => Err(err),
            None => {
                usage.count_evaluation(&e);
                Ok(pack(exposures, &e, unit))
            }
        }
    }

    /// Evaluates a flag (attributes as JSON text, or undefined; `now_ms` NaN for no time;
    /// `wanted_type` 0 for any type, else 1-4 for `boolean`, `string`, `number`, `json`) and
    /// returns the packed evaluation (see `pack`).
    pub fn evaluate(
        &mut self,
        flag: &str,
        unit: &str,
        attributes_json: Option<String>,
        now_ms: f64,
        wanted_type: u8,
    ) -> Result<f64, JsValue> {
        let attrs = attributes(attributes_json)?;
        let EngineCore {
            inner,
            exposures,
            usage,
            ..
        } = self;
        let at = instant(now_ms);
        let e = match wanted(wanted_type) {
            Some(t) => inner.evaluate_as(flag, unit, &attrs, at, t),
            None => inner.evaluate_at(flag, unit, &attrs, at),
        };
        usage.count_evaluation(&e);
        Ok(pack(exposures, &e, unit))
    }

    /// The position of the flag `key` in the config (-1 when it has none), for `evaluateAt`.
    #[wasm_bindgen(js_name = flagPosition)]
    pub fn flag_position(&self, key: &str) -> i32 {
        self.inner
            .flag_position(key)
            .and_then(|p| i32::try_from(p).ok())
            .unwrap_or(-1)
    }

    /// The attributes evaluating the flag at `position` can read
    /// (`Engine::flag_attribute_names`), as a JSON list: what `evaluateAt` expects in its call
    /// buffer, in this order.
    #[wasm_bindgen(js_name = flagAttributeNames)]
    pub fn flag_attribute_names(&self, position: u32) -> String {
        let names = self.inner.flag_attribute_names(position as usize);
        serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned())
    }

    /// Evaluates the flag `flag` (at `position`) for the unit and attributes in the call
    /// buffer (as `assignAt` reads them, the entries following `flagAttributeNames`);
    /// `now_ms` and `wanted_type` as for `evaluate`. The packed evaluation, or -1 when the
    /// buffer does not hold what the lengths say, -2 when an attribute's JSON does not parse
    /// (`lastJsonError` says why).
    #[wasm_bindgen(js_name = evaluateAt)]
    pub fn evaluate_at(
        &mut self,
        flag: &str,
        position: u32,
        unit_len: u32,
        attrs_len: u32,
        now_ms: f64,
        wanted_type: u8,
    ) -> f64 {
        let EngineCore {
            inner,
            exposures,
            usage,
            scratch,
            flag_names,
            json_error,
            ..
        } = self;
        let position = position as usize;
        let names = flag_names
            .get_or_make(position, || inner.flag_attribute_names(position))
            .unwrap_or_default();
        let (unit, attrs) = match crate::scratch::read_call(scratch, names, unit_len, attrs_len) {
            Ok(call) => call,
            Err(crate::scratch::Unreadable::Json(why)) => {
                *json_error = why;
                return -2.0;
            }
            Err(crate::scratch::Unreadable::Layout) => return -1.0,
        };
        let at = instant(now_ms);
        let none = litmus_core::NoAttributes;
        let attrs: &dyn litmus_core::AttributeSource = match &attrs {
            Some(a) => a,
            None => &none,
        };
        let e = match wanted(wanted_type) {
            Some(t) => inner.evaluate_as(flag, unit, attrs, at, t),
            None => inner.evaluate_at(flag, unit, attrs, at),
        };
        usage.count_evaluation(&e);
        pack(exposures, &e, unit)
    }

    /// The dimension values of `experiment` for the attributes an `evaluateAt` of the flag at
    /// `position` just read from the call buffer (the same lengths): what the exposure of the
    /// experiment rule that served it carries.
    #[wasm_bindgen(js_name = flagDimensionValuesAt)]
    pub fn flag_dimension_values_at(
        &self,
        position: u32,
        experiment: &str,
        unit_len: u32,
        attrs_len: u32,
    ) -> String {
        let names = self.flag_names.get(position as usize).unwrap_or_default();
        crate::engine::dimension_values_in(
            &self.scratch,
            names,
            (unit_len, attrs_len),
            self.inner.experiment(experiment),
        )
    }

    /// Evaluates a flag without attributes (the fast path); arguments as for `evaluate`.
    #[wasm_bindgen(js_name = evaluatePlain)]
    pub fn evaluate_plain(&mut self, flag: &str, unit: &str, now_ms: f64, wanted_type: u8) -> f64 {
        let EngineCore {
            inner,
            exposures,
            usage,
            ..
        } = self;
        let at = instant(now_ms);
        let none = litmus_core::NoAttributes;
        let e = match wanted(wanted_type) {
            Some(t) => inner.evaluate_as(flag, unit, &none, at, t),
            None => inner.evaluate_at(flag, unit, &none, at),
        };
        usage.count_evaluation(&e);
        pack(exposures, &e, unit)
    }

    /// Every value the flag can serve, by outcome number, as JSON
    /// `[{value, rule, variant, experiment}]` (`[]` for an unknown or rejected flag).
    #[wasm_bindgen(js_name = flagOutcomes)]
    pub fn flag_outcomes(&self, flag: &str) -> String {
        let list: Vec<serde_json::Value> = self
            .inner
            .flag(flag)
            .map(|f| {
                f.outcomes(&self.inner)
                    .into_iter()
                    .map(|o| {
                        serde_json::json!({
                            "value": o.value,
                            "rule": o.rule,
                            "variant": o.variant,
                            "experiment": o.experiment,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        serde_json::Value::Array(list).to_string()
    }

    /// Whether the flag's value can depend on the time (the JavaScript layer then reads the
    /// clock for it).
    #[wasm_bindgen(js_name = flagNeedsTime)]
    pub fn flag_needs_time(&self, flag: &str) -> bool {
        self.inner.flag(flag).is_some_and(|f| f.needs_time())
    }

    /// The evaluations counted per flag (only flags evaluated at least once) as a JSON object
    /// of key to count; `reset` sets them back to zero.
    #[wasm_bindgen(js_name = flagUsage)]
    pub fn flag_usage(&self, reset: bool) -> String {
        self.usage.counts_json(reset)
    }

    /// Every flag key in the config (valid or not), as JSON.
    #[wasm_bindgen(js_name = flagKeys)]
    pub fn flag_keys(&self) -> String {
        let keys: Vec<&str> = self.inner.flags().map(|(k, _)| k).collect();
        serde_json::to_string(&keys).unwrap_or_else(|_| "[]".to_owned())
    }

    /// A flag's metadata as JSON: `{type, description?, tags?}` (`{}` when unknown or
    /// rejected); tags joined by commas, as OpenFeature metadata holds only scalars.
    #[wasm_bindgen(js_name = flagMetadata)]
    pub fn flag_metadata(&self, flag: &str) -> String {
        let mut map = serde_json::Map::new();
        if let Some(f) = self.inner.flag(flag) {
            map.insert("type".into(), f.value_type().as_str().into());
            if let Some(d) = f.description() {
                map.insert("description".into(), d.into());
            }
            let tags: Vec<&str> = f.tags().collect();
            if !tags.is_empty() {
                map.insert("tags".into(), tags.join(",").into());
            }
        }
        serde_json::Value::Object(map).to_string()
    }
}

/// OpenFeature's reasons in packing order (`FlagReason::ALL`), as JSON.
#[wasm_bindgen(js_name = flagReasonCodes)]
pub fn flag_reason_codes() -> String {
    let codes: Vec<&str> = FlagReason::ALL.iter().map(|r| r.code()).collect();
    serde_json::to_string(&codes).unwrap_or_else(|_| "[]".to_owned())
}
