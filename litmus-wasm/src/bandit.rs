//! The analysis module's bandit exports: the portable generator, arms and policies.

use litmus_core::bandit::{Arm as CoreArm, KeyedBandit, Options, Policy as CorePolicy, Rule};
use litmus_core::rng::{RandomSource, Xoshiro256PlusPlus};
use wasm_bindgen::prelude::*;

use crate::{argument, error, stats};

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

/// Arms by key under one policy, with its own seeded generator (core's `KeyedBandit`).
#[wasm_bindgen(js_name = KeyedBandit)]
pub struct WasmKeyedBandit {
    inner: KeyedBandit,
}

#[wasm_bindgen(js_class = KeyedBandit)]
impl WasmKeyedBandit {
    /// A bandit over the arms `keys` (distinct), choosing with `policy`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        policy: &WasmPolicy,
        keys: Vec<String>,
        seed: u64,
    ) -> Result<WasmKeyedBandit, JsValue> {
        KeyedBandit::new(policy.inner, keys, seed)
            .map(|inner| WasmKeyedBandit { inner })
            .map_err(|e| error(&e))
    }

    /// The arm keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.inner.keys().to_vec()
    }

    /// The arm to play for one request.
    pub fn choose(&mut self) -> Result<String, JsValue> {
        self.inner
            .choose()
            .map(str::to_owned)
            .map_err(|e| error(&e))
    }

    /// Records a reward for the arm `key`.
    pub fn update(&mut self, key: &str, reward: f64) -> Result<(), JsValue> {
        self.inner.update(key, reward).map_err(|e| error(&e))
    }

    /// The allocation weights, in the order of the keys.
    pub fn weights(&self, draws: u32, seed: u64) -> Result<Vec<f64>, JsValue> {
        self.inner
            .weights(draws as usize, seed)
            .map_err(|e| error(&e))
    }

    /// Each arm as a (pulls, mean, m2) triple, in the order of the keys.
    pub fn arms(&self) -> Vec<f64> {
        self.inner
            .arms()
            .iter()
            .flat_map(|a| [a.pulls() as f64, a.mean(), a.m2()])
            .collect()
    }
}
