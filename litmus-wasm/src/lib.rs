//! WebAssembly bindings of `litmus-core` for the `litmus-experiments` npm package.
//!
//! The exports are deliberately narrow and cheap to call: strings and numbers in, numbers or
//! JSON text out. The package's JavaScript layer (`litmus-wasm/js/`) turns them into the
//! JavaScript API (`new Engine(config)`, `engine.assign(...)` returning plain objects, errors
//! with `name` and `code`). Every decision is the core's; an assignment crosses the boundary
//! as one packed `u32` (see [`pack`]).

pub mod stats;

use litmus_core::{Assignment, Engine, Reason, Timestamp};
use wasm_bindgen::prelude::*;

/// An error for the JavaScript layer: JSON text `{"code", "message", "path"}`, which it turns
/// into a thrown `Error` with `name = "LitmusError"` and `code`.
fn error(e: &litmus_core::Error) -> JsValue {
    let json = serde_json::json!({
        "code": e.code(),
        "message": e.to_string(),
        "path": e.path().map(|p| p.as_str().to_owned()),
    });
    JsValue::from_str(&json.to_string())
}

fn argument(message: &str) -> JsValue {
    let json = serde_json::json!({"code": "invalid_argument", "message": message, "path": null});
    JsValue::from_str(&json.to_string())
}

/// Packs an assignment into a `u32`: bits 0-3 the reason's index in [`Reason::ALL`], bit 4
/// whether the unit is in the experiment, bits 5-6 the targeting miss (0 none, 1 `false`,
/// 2 `attribute_missing`, 3 `type_mismatch`), bits 7 and up the variant's index + 1 (0: no
/// variant).
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

/// The instant for time windows: milliseconds since the epoch, or NaN for "no time known".
fn instant(now_ms: f64) -> Option<Timestamp> {
    now_ms
        .is_finite()
        .then(|| Timestamp::from_unix_millis(now_ms.floor() as i64))
}

fn attributes(json: Option<String>) -> Result<serde_json::Value, JsValue> {
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

/// A loaded config: the core engine.
#[wasm_bindgen]
pub struct EngineCore {
    inner: Engine,
}

#[wasm_bindgen]
impl EngineCore {
    /// Loads a config document (JSON text). Invalid experiments are listed by `problems()`;
    /// with `strict`, any problem or unknown field is an error instead.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str, strict: bool) -> Result<EngineCore, JsValue> {
        let inner = if strict {
            Engine::from_json_strict(config)
        } else {
            Engine::from_json(config)
        };
        inner
            .map(|inner| EngineCore { inner })
            .map_err(|e| error(&e))
    }

    /// Assigns a unit (attributes as JSON text, or undefined; `now_ms` NaN for no time) and
    /// returns the packed assignment (see `pack`). `remembered`: the variant a sticky store
    /// holds for the unit, if any.
    pub fn assign(
        &self,
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
        Ok(pack(&a))
    }

    /// Assigns a unit without attributes or a sticky variant (the fast path).
    #[wasm_bindgen(js_name = assignPlain)]
    pub fn assign_plain(&self, experiment: &str, unit: &str, now_ms: f64) -> u32 {
        pack(&self.inner.assign_at(
            experiment,
            unit,
            &litmus_core::NoAttributes,
            instant(now_ms),
        ))
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
                        let factors: serde_json::Map<String, serde_json::Value> = v
                            .factors()
                            .map(|(f, l)| (f.to_owned(), serde_json::Value::from(l)))
                            .collect();
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
                    "path": e.path().map(|p| p.as_str().to_owned()),
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

/// The reason codes in packing order (`Reason::ALL`), as JSON.
#[wasm_bindgen(js_name = reasonCodes)]
pub fn reason_codes() -> String {
    let codes: Vec<&str> = Reason::ALL.iter().map(|r| r.code()).collect();
    serde_json::to_string(&codes).unwrap_or_else(|_| "[]".to_owned())
}

/// The library version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
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

// ---- Bandits -------------------------------------------------------------------------------

use litmus_core::bandit::{Arm as CoreArm, Options, Policy as CorePolicy, Rule};
use litmus_core::rng::{RandomSource, Xoshiro256PlusPlus};

/// The portable seeded generator (xoshiro256++): the same seed draws the same numbers here as
/// in Rust and Python.
#[wasm_bindgen(js_name = Random)]
pub struct WasmRandom {
    inner: Xoshiro256PlusPlus,
}

#[wasm_bindgen(js_class = Random)]
impl WasmRandom {
    /// The generator seeded from `seed` (a BigInt below 2^64).
    #[wasm_bindgen(constructor)]
    pub fn new(seed: u64) -> WasmRandom {
        WasmRandom {
            inner: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The next 64-bit word (a BigInt).
    #[wasm_bindgen(js_name = nextU64)]
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform number in [0, 1).
    pub fn random(&mut self) -> f64 {
        self.inner.next_f64()
    }
}

/// An arm's reward history (pulls, mean, M2), updated in core.
#[wasm_bindgen(js_name = Arm)]
#[derive(Clone, Copy, Default)]
pub struct WasmArm {
    inner: CoreArm,
}

#[wasm_bindgen(js_class = Arm)]
impl WasmArm {
    /// An arm with no pulls.
    #[wasm_bindgen(constructor)]
    pub fn new() -> WasmArm {
        WasmArm::default()
    }

    /// An arm of 0/1 rewards: `successes` out of `pulls`.
    #[wasm_bindgen(js_name = fromCounts)]
    pub fn from_counts(successes: f64, pulls: f64) -> Result<WasmArm, JsValue> {
        CoreArm::from_counts(stats::count(successes)?, stats::count(pulls)?)
            .map(|inner| WasmArm { inner })
            .map_err(|e| error(&e))
    }

    /// An arm from its summary (as `toJSON()` gives it).
    #[wasm_bindgen(js_name = fromSummary)]
    pub fn from_summary(pulls: f64, mean: f64, m2: f64) -> Result<WasmArm, JsValue> {
        litmus_core::stats::Moments::from_parts(stats::count(pulls)?, mean, m2)
            .map(|m| WasmArm {
                inner: CoreArm::from_moments(m),
            })
            .map_err(|e| error(&e))
    }

    /// Records one reward (NaN and infinities are rejected).
    pub fn update(&mut self, reward: f64) -> Result<(), JsValue> {
        self.inner.update(reward).map_err(|e| error(&e))
    }

    /// Number of rewards recorded.
    #[wasm_bindgen(getter)]
    pub fn pulls(&self) -> f64 {
        self.inner.pulls() as f64
    }

    /// Mean reward.
    #[wasm_bindgen(getter)]
    pub fn mean(&self) -> f64 {
        self.inner.mean()
    }

    /// Sum of squared deviations from the mean.
    #[wasm_bindgen(getter)]
    pub fn m2(&self) -> f64 {
        self.inner.m2()
    }
}

/// A bandit policy: the rule and its options.
#[wasm_bindgen(js_name = Policy)]
pub struct WasmPolicy {
    inner: CorePolicy,
}

fn arms_from(summaries: &[f64]) -> Result<Vec<CoreArm>, JsValue> {
    summaries
        .chunks(3)
        .map(|c| match *c {
            [pulls, mean, m2] => WasmArm::from_summary(pulls, mean, m2).map(|a| a.inner),
            _ => Err(argument("arms come as (pulls, mean, m2) triples")),
        })
        .collect()
}

#[wasm_bindgen(js_class = Policy)]
impl WasmPolicy {
    /// A policy from its rule name (`thompson_beta`, `thompson_normal`, `ucb1`, `kl_ucb`,
    /// `epsilon_greedy`), the rule's parameters in order, and the options.
    #[wasm_bindgen(constructor)]
    pub fn new(
        rule: &str,
        params: &[f64],
        burn_in: f64,
        floor: f64,
        optimistic: Option<f64>,
    ) -> Result<WasmPolicy, JsValue> {
        let p = |i: usize, default: f64| params.get(i).copied().unwrap_or(default);
        let rule = match rule {
            "thompson_beta" => Rule::ThompsonBeta {
                prior_alpha: p(0, 1.0),
                prior_beta: p(1, 1.0),
            },
            "thompson_normal" => Rule::ThompsonNormal {
                prior_mean: p(0, 0.0),
                prior_kappa: p(1, 1.0),
                prior_alpha: p(2, 1.0),
                prior_beta: p(3, 1.0),
            },
            "ucb1" => Rule::Ucb1 {
                exploration: p(0, 2.0),
            },
            "kl_ucb" => Rule::KlUcb { c: p(0, 0.0) },
            "epsilon_greedy" => Rule::EpsilonGreedy {
                epsilon: p(0, 0.1),
                decay: params.get(1).copied().filter(|d| !d.is_nan()),
            },
            other => return Err(argument(&format!("unknown rule {other:?}"))),
        };
        if !(burn_in.is_finite() && burn_in >= 0.0 && (0.0..=1.0).contains(&floor)) {
            return Err(argument("burnIn must be >= 0 and floor in [0, 1]"));
        }
        let options = Options {
            burn_in: burn_in as u64,
            floor,
            optimistic,
        };
        CorePolicy::new(rule, options)
            .map(|inner| WasmPolicy { inner })
            .map_err(|e| error(&e))
    }

    /// Picks an arm (arms as (pulls, mean, m2) triples) with `rng`.
    pub fn choose(&self, arms: &[f64], rng: &mut WasmRandom) -> Result<u32, JsValue> {
        let arms = arms_from(arms)?;
        self.inner
            .choose(&arms, &mut rng.inner)
            .map(|i| i as u32)
            .map_err(|e| error(&e))
    }

    /// The allocation weights (see the core's `Policy::weights`).
    pub fn weights(&self, arms: &[f64], draws: u32, seed: u64) -> Result<Vec<f64>, JsValue> {
        let arms = arms_from(arms)?;
        self.inner
            .weights(&arms, draws as usize, seed)
            .map_err(|e| error(&e))
    }

    /// The weights by Monte Carlo only.
    #[wasm_bindgen(js_name = weightsMonteCarlo)]
    pub fn weights_monte_carlo(
        &self,
        arms: &[f64],
        draws: u32,
        seed: u64,
    ) -> Result<Vec<f64>, JsValue> {
        let arms = arms_from(arms)?;
        self.inner
            .weights_monte_carlo(&arms, draws as usize, seed)
            .map_err(|e| error(&e))
    }
}
