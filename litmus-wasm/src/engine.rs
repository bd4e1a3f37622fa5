//! The engine module's exports: a loaded config (`EngineCore`) and the hashing functions.

use litmus_core::sdk::FlagCounter;
use litmus_core::{Assignment, Engine, ExposureMemory, Reason, Timestamp};
use wasm_bindgen::prelude::*;

use crate::scratch::{NameCache, Unreadable, read_call};

use crate::{argument, error};

/// Packs an assignment into a `u32`: bits 0-3 the reason's index in [`Reason::ALL`], bit 4
/// whether the unit is in the experiment, bits 5-6 the targeting miss (0 none, 1 `false`,
/// 2 `attribute_missing`, 3 `type_mismatch`), bits 7-30 the variant's index + 1 (0: no
/// variant). Bit 31 ([`REPORT`]) is set by `EngineCore` for an exposure to report.
pub fn pack(a: &Assignment<'_>) -> u32 {
    let reason = Reason::ALL
        .iter()
        .position(|r| *r == a.reason())
        .unwrap_or(0) as u32;
    let miss = match a.miss().map(|m| m.code()) {
        None => 0,
        Some("false") => 1,
        Some("attribute_missing") => 2,
        Some(_) => 3,
    };
    let variant = a.variant().map_or(0, |v| v.index() as u32 + 1);
    reason | (u32::from(a.in_experiment()) << 4) | (miss << 5) | (variant << 7)
}

/// The bit of a packed assignment that says "report this exposure": the unit is in the
/// experiment and the engine's exposure memory had not seen the pair.
pub const REPORT: u32 = 1 << 31;

/// The bit of a packed assignment that says "ask for holdout exposures"
/// (`EngineCore::report_holdouts`): the unit was held out, or it was just reported into an
/// experiment a holdout covers. (Variant indexes stay below bit 30: at most 4,096 cells.)
pub const HOLDOUTS: u32 = 1 << 30;

/// The instant for time windows: milliseconds since the epoch, or NaN for "no time known".
pub(crate) fn instant(now_ms: f64) -> Option<Timestamp> {
    now_ms
        .is_finite()
        .then(|| Timestamp::from_unix_millis(now_ms.floor() as i64))
}

pub(crate) fn attributes(json: Option<String>) -> Result<serde_json::Value, JsValue> {
    match json {
        None => Ok(serde_json::Value::Null),
        Some(text) => {
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| argument(&format!("attributes are not JSON: {e}")))?;
            if value.is_object() || value.is_null() {
                Ok(value)
            } else {
                Err(argument("attributes must be an object"))
            }
        }
    }
}

/// A loaded config (the core engine), with the memory of exposures already reported when
/// the JavaScript engine has an exposure callback, and the flag evaluations counted for the
/// usage reports (`flagUsage`). Both survive `update` (the counts of the flags kept).
#[wasm_bindgen]
pub struct EngineCore {
    pub(crate) inner: Engine,
    pub(crate) exposures: Option<ExposureMemory>,
    pub(crate) usage: FlagCounter,
    /// The call buffer (`crate::scratch`) the JavaScript layer writes units and attributes
    /// into for `assignAt`.
    pub(crate) scratch: Vec<u8>,
    /// Each experiment's attribute names, by position, made on first use.
    names: NameCache,
    /// Each flag's attribute names, by position, made on first use.
    pub(crate) flag_names: NameCache,
    /// Why the last `assignAt` or `evaluateAt` that returned "not JSON" could not parse an
    /// attribute.
    pub(crate) json_error: String,
}

/// What `assignAt` returns for a call buffer it cannot read (never a packed assignment: no
/// reason has index 15).
pub const UNREADABLE: u32 = u32::MAX;

/// What `assignAt` returns when an attribute's JSON does not parse (no reason has index 14
/// either): the JavaScript layer reads why with `lastJsonError`.
pub const NOT_JSON: u32 = u32::MAX - 1;

/// Empty attribute-name caches for `engine`'s experiments and flags.
fn name_caches(engine: &Engine) -> (NameCache, NameCache) {
    (
        NameCache::new(engine.experiments().count()),
        NameCache::new(engine.flags().len()),
    )
}

fn load(config: &str, strict: bool) -> Result<Engine, JsValue> {
    let engine = if strict {
        Engine::from_json_strict(config)
    } else {
        Engine::from_json(config)
    };
    engine.map_err(|e| error(&e))
}

/// Packs `a` and sets [`REPORT`] when `exposures` is kept and has not seen the pair.
fn pack_reporting(
    a: &Assignment<'_>,
    exposures: &mut Option<ExposureMemory>,
    experiment: &str,
    unit: &str,
) -> u32 {
    let packed = pack(a);
    let report = a.in_experiment()
        && exposures
            .as_mut()
            .is_some_and(|memory| memory.first_time(experiment, unit));
    let holdouts = exposures.is_some()
        && (a.reason() == Reason::Holdout
            || (report && a.experiment().is_some_and(|e| e.has_holdouts())));
    packed | if report { REPORT } else { 0 } | if holdouts { HOLDOUTS } else { 0 }
}

#[wasm_bindgen]
impl EngineCore {
    /// Loads a config document (JSON text). Invalid experiments are listed by `problems()`;
    /// with `strict`, any problem or unknown field is an error instead.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str, strict: bool) -> Result<EngineCore, JsValue> {
        let inner = load(config, strict)?;
        let (names, flag_names) = name_caches(&inner);
        Ok(EngineCore {
            usage: FlagCounter::new(&inner),
            names,
            flag_names,
            inner,
            exposures: None,
            scratch: Vec::new(),
            json_error: String::new(),
        })
    }

    /// Replaces the config; on error nothing changes. The exposure memory is kept, and the
    /// usage counts of the flags the new config still has.
    pub fn update(&mut self, config: &str, strict: bool) -> Result<(), JsValue> {
        let fresh = load(config, strict)?;
        self.usage = self.usage.remap(&fresh);
        (self.names, self.flag_names) = name_caches(&fresh);
        self.inner = fresh;
        Ok(())
    }

    /// Starts remembering reported exposures: at most `capacity` pairs, hashed under `seed`
    /// (a random number from the JavaScript layer). Assignments then carry [`REPORT`].
    #[wasm_bindgen(js_name = trackExposures)]
    pub fn track_exposures(&mut self, capacity: u32, seed: f64) {
        self.exposures = Some(ExposureMemory::new(capacity as usize, seed.to_bits()));
    }

    /// Assigns a unit (attributes as JSON text, or undefined; `now_ms` NaN for no time) and
    /// returns the packed assignment (see `pack`). `remembered`: the variant a sticky store
    /// holds for the unit, if any.
    pub fn assign(
        &mut self,
        experiment: &str,
        unit: &str,
        attributes_json: Option<String>,
        now_ms: f64,
        remembered: Option<String>,
    ) -> Result<u32, JsValue> {
        let attrs = attributes(attributes_json)?;
        let a = self.inner.assign_sticky_at(
            experiment,
            unit,
            &attrs,
            instant(now_ms),
            remembered.as_deref(),
        );
        Ok(pack_reporting(&a, &mut self.exposures, experiment, unit))
    }

    /// Assigns a unit without attributes or a sticky variant (the fast path).
    #[wasm_bindgen(js_name = assignPlain)]
    pub fn assign_plain(&mut self, experiment: &str, unit: &str, now_ms: f64) -> u32 {
        let a = self.inner.assign_at(
            experiment,
            unit,
            &litmus_core::NoAttributes,
            instant(now_ms),
        );
        pack_reporting(&a, &mut self.exposures, experiment, unit)
    }

    /// The call buffer, at least `capacity` bytes long (what it held is kept): its address in
    /// WebAssembly memory, valid until the next call that may allocate.
    pub fn scratch(&mut self, capacity: u32) -> *const u8 {
        let capacity = capacity as usize;
        if self.scratch.len() < capacity {
            self.scratch.resize(capacity, 0);
        }
        self.scratch.as_ptr()
    }

    /// The position of the experiment `key` in the config (-1 when it has none), for
    /// `assignAt`.
    #[wasm_bindgen(js_name = experimentPosition)]
    pub fn experiment_position(&self, key: &str) -> i32 {
        self.inner
            .experiment_position(key)
            .and_then(|p| i32::try_from(p).ok())
            .unwrap_or(-1)
    }

    /// The attributes the experiment at `position` reads (`Experiment::attribute_names`), as
    /// a JSON list: what `assignAt` expects in its call buffer, in this order.
    #[wasm_bindgen(js_name = attributeNames)]
    pub fn attribute_names(&self, position: u32) -> String {
        let names = self
            .inner
            .experiment_at(position as usize)
            .map(|e| e.attribute_names())
            .unwrap_or_default();
        serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned())
    }

    /// Assigns the unit in the call buffer's first `unit_len` bytes to the experiment at
    /// `position`, with the attributes written after it (`attrs_len` bytes, or `u32::MAX`
    /// for none; see `crate::scratch`), at `now_ms` (NaN for no time): the packed assignment,
    /// or [`UNREADABLE`] when the buffer does not hold what the lengths say.
    #[wasm_bindgen(js_name = assignAt)]
    pub fn assign_at(&mut self, position: u32, unit_len: u32, attrs_len: u32, now_ms: f64) -> u32 {
        let position = position as usize;
        let inner = &self.inner;
        let names = self
            .names
            .get_or_make(position, || {
                inner
                    .experiment_at(position)
                    .map(|e| e.attribute_names())
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let (unit, attrs) = match read_call(&self.scratch, names, unit_len, attrs_len) {
            Ok(call) => call,
            Err(Unreadable::Json(why)) => {
                self.json_error = why;
                return NOT_JSON;
            }
            Err(Unreadable::Layout) => return UNREADABLE,
        };
        let now = instant(now_ms);
        let a = match &attrs {
            Some(attrs) => inner.assign_position_at(position, unit, attrs, now, None),
            None => inner.assign_position_at(position, unit, &litmus_core::NoAttributes, now, None),
        };
        pack_reporting(&a, &mut self.exposures, key_of(inner, position), unit)
    }

    /// The dimension values (as `dimensionValues`) of the experiment at `position` for the
    /// attributes an `assignAt` just read from the call buffer (the same lengths): what its
    /// exposure carries, read as the assignment read them.
    #[wasm_bindgen(js_name = dimensionValuesAt)]
    pub fn dimension_values_at(&self, position: u32, unit_len: u32, attrs_len: u32) -> String {
        let position = position as usize;
        let names = self.names.get(position).unwrap_or_default();
        dimension_values_in(
            &self.scratch,
            names,
            (unit_len, attrs_len),
            self.inner.experiment_at(position),
        )
    }

    /// Why the last `assignAt` that returned [`NOT_JSON`] could not parse an attribute.
    #[wasm_bindgen(js_name = lastJsonError)]
    pub fn last_json_error(&self) -> String {
        self.json_error.clone()
    }

    /// Whether the experiment has a time window (a start or an end): only then does its
    /// assignment depend on the instant, so the JavaScript layer reads the clock for it.
    pub fn windowed(&self, experiment: &str) -> bool {
        self.inner
            .experiment(experiment)
            .is_some_and(|e| e.start_time().is_some() || e.end_time().is_some())
    }

    /// Assigns a unit to every running experiment: JSON `[[experiment, packed], ...]`.
    #[wasm_bindgen(js_name = assignAll)]
    pub fn assign_all(
        &self,
        unit: &str,
        attributes_json: Option<String>,
        now_ms: f64,
    ) -> Result<String, JsValue> {
        let attrs = attributes(attributes_json)?;
        let list: Vec<(String, u32)> = self
            .inner
            .assign_all_at(unit, &attrs, instant(now_ms))
            .map(|a| {
                let key = a.experiment().map_or("", |e| e.key()).to_owned();
                (key, pack(&a))
            })
            .collect();
        Ok(serde_json::to_string(&list).unwrap_or_else(|_| "[]".to_owned()))
    }

    /// The variants of an experiment as JSON `[{key, payload, factors}]` (empty when the
    /// experiment is unknown or invalid), for the JavaScript layer's cache.
    pub fn variants(&self, experiment: &str) -> String {
        let list: Vec<serde_json::Value> = self
            .inner
            .experiment(experiment)
            .map(|e| {
                e.variants()
                    .iter()
                    .map(|v| {
                        // Inserted one by one: collecting would sort the pairs, and a sort
                        // is several kilobytes of WebAssembly per element type.
                        let mut factors = serde_json::Map::new();
                        for (f, l) in v.factors() {
                            factors.insert(f.to_owned(), serde_json::Value::from(l));
                        }
                        serde_json::json!({
                            "key": v.key(),
                            "payload": v.payload(),
                            "factors": factors,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        serde_json::Value::Array(list).to_string()
    }

    /// The holdout exposures of `unit`'s assignment to `experiment` (its reason's code) that
    /// the exposure memory has not seen, remembered now: JSON `[[holdout, arm], ...]`
    /// (`litmus_core::assign::holdout_exposure`).
    #[wasm_bindgen(js_name = reportHoldouts)]
    pub fn report_holdouts(&mut self, experiment: &str, unit: &str, reason: &str) -> String {
        let Some(reason) = Reason::from_code(reason) else {
            return "[]".into();
        };
        let fresh: Vec<(&str, &str)> = self
            .inner
            .holdout_exposures(experiment, unit, reason)
            .into_iter()
            .filter(|(holdout, _)| {
                let subject = litmus_core::assign::holdout_exposure::subject(holdout);
                self.exposures
                    .as_mut()
                    .is_some_and(|memory| memory.first_time(&subject, unit))
            })
            .collect();
        serde_json::to_string(&fresh).unwrap_or_else(|_| "[]".into())
    }

    /// The unit's values of `experiment`'s dimensions (attributes as JSON text, or undefined),
    /// as the JSON text of an object: what an exposure carries for the experiment's segments.
    #[wasm_bindgen(js_name = dimensionValues)]
    pub fn dimension_values(
        &self,
        experiment: &str,
        attributes_json: Option<String>,
    ) -> Result<String, JsValue> {
        let attrs = attributes(attributes_json)?;
        Ok(dimension_json(self.inner.experiment(experiment), &attrs))
    }

    /// The problems found in the config: JSON `[{code, message, path}]`.
    pub fn problems(&self) -> String {
        let list: Vec<serde_json::Value> = self
            .inner
            .problems()
            .iter()
            .map(|e| {
                serde_json::json!({
                    "code": e.code(),
                    "message": e.to_string(),
                    "path": e.path().map(|p| p.as_str()),
                })
            })
            .collect();
        serde_json::Value::Array(list).to_string()
    }

    /// The config's `version`, if any.
    pub fn version(&self) -> Option<String> {
        self.inner.version().map(str::to_owned)
    }

    /// Every experiment key in the config, as JSON.
    #[wasm_bindgen(js_name = experimentKeys)]
    pub fn experiment_keys(&self) -> String {
        let keys: Vec<&str> = self.inner.experiments().map(|(k, _)| k).collect();
        serde_json::to_string(&keys).unwrap_or_else(|_| "[]".to_owned())
    }
}

/// The dimension values (as `EngineCore::dimension_values`) of `experiment` for the
/// attributes of the call in `buffer` (entries for `names`; `lengths` the unit's and the
/// attributes'): `{}` when there is no such experiment or call.
pub(crate) fn dimension_values_in(
    buffer: &[u8],
    names: &[Box<str>],
    lengths: (u32, u32),
    experiment: Option<&litmus_core::Experiment>,
) -> String {
    match read_call(buffer, names, lengths.0, lengths.1) {
        Ok((_, Some(attrs))) => dimension_json(experiment, &attrs),
        _ => "{}".to_owned(),
    }
}

/// `experiment`'s dimension values for `attributes` as the JSON text of an object (`{}`
/// without an experiment).
fn dimension_json(
    experiment: Option<&litmus_core::Experiment>,
    attributes: &impl litmus_core::AttributeSource,
) -> String {
    let values: serde_json::Map<String, serde_json::Value> = experiment
        .map(|e| {
            e.dimension_values(attributes)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
                .collect()
        })
        .unwrap_or_default();
    serde_json::Value::Object(values).to_string()
}

/// The key of the experiment at `position` ("" past the last).
fn key_of(engine: &Engine, position: usize) -> &str {
    engine.experiment_key(position).unwrap_or_default()
}

/// The instance's memory, where the JavaScript layer writes the call buffer.
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// The reason codes in packing order (`Reason::ALL`), as JSON.
#[wasm_bindgen(js_name = reasonCodes)]
pub fn reason_codes() -> String {
    let codes: Vec<&str> = Reason::ALL.iter().map(|r| r.code()).collect();
    serde_json::to_string(&codes).unwrap_or_else(|_| "[]".to_owned())
}

fn purpose(name: &str) -> Result<litmus_core::hash::Purpose<'_>, JsValue> {
    litmus_core::hash::Purpose::parse(name)
        .ok_or_else(|| argument(&format!("unknown purpose {name:?}")))
}

/// The seed of (salt, purpose) as 16 hex digits.
#[wasm_bindgen(js_name = seedHex)]
pub fn seed_hex(salt: &str, purpose_name: &str) -> Result<String, JsValue> {
    let seed = litmus_core::hash::Seed::new(salt, purpose(purpose_name)?);
    Ok(format!("{:016x}", seed.value()))
}

/// A unit's hash under (salt, purpose) as 16 hex digits.
#[wasm_bindgen(js_name = unitHashHex)]
pub fn unit_hash_hex(salt: &str, purpose_name: &str, unit: &str) -> Result<String, JsValue> {
    let seed = litmus_core::hash::Seed::new(salt, purpose(purpose_name)?);
    Ok(format!("{:016x}", seed.hash(unit)))
}

/// A unit's bucket in [0, 2^32) under (salt, purpose).
#[wasm_bindgen]
pub fn bucket(salt: &str, purpose_name: &str, unit: &str) -> Result<u32, JsValue> {
    Ok(litmus_core::hash::Seed::new(salt, purpose(purpose_name)?).bucket(unit))
}

/// The index of the variant owning `bucket` for these weights.
#[wasm_bindgen(js_name = pickVariant)]
pub fn pick_variant(bucket: u32, weights: Vec<f64>) -> Result<u32, JsValue> {
    let bounds = litmus_core::hash::cumulative_bounds(&weights)
        .ok_or_else(|| argument("weights must be finite, >= 0, with a positive total"))?;
    Ok(litmus_core::hash::pick(bucket, &bounds) as u32)
}

/// Whether `bucket` is inside the first `traffic` share of the buckets.
#[wasm_bindgen(js_name = inTraffic)]
pub fn in_traffic(bucket: u32, traffic: f64) -> bool {
    u64::from(bucket) < litmus_core::hash::bound(traffic)
}
