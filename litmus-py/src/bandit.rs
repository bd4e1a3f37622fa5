//! `litmus._litmus` bandits: arms, policies, a seedable generator and a thread-safe `Bandit`
//! that keeps arms by key. Every decision is the core's (`litmus_core::bandit`).

use std::sync::{Mutex, PoisonError};

use litmus_core::bandit::{Arm as CoreArm, KeyedBandit, Options, Policy as CorePolicy, Rule};
use litmus_core::rng::{RandomSource, Xoshiro256PlusPlus};
use litmus_core::stats::Moments;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{argument, check, guard};

/// The reward history of one arm: pulls, mean and M2 (mergeable, serializable).
#[pyclass(module = "litmus._litmus", name = "Arm")]
#[derive(Clone, Copy, Default)]
pub(crate) struct Arm {
    inner: CoreArm,
}

#[pymethods]
impl Arm {
    /// An arm with no pulls.
    #[new]
    fn new() -> Self {
        Arm::default()
    }

    /// An arm of 0/1 rewards: `successes` out of `pulls`.
    #[staticmethod]
    fn from_counts(py: Python<'_>, successes: u64, pulls: u64) -> PyResult<Self> {
        guard(py, || {
            Ok(Arm {
                inner: check(py, CoreArm::from_counts(successes, pulls))?,
            })
        })
    }

    /// An arm from `to_dict()`'s output.
    #[staticmethod]
    fn from_dict(py: Python<'_>, state: &Bound<'_, PyDict>) -> PyResult<Self> {
        guard(py, || {
            let get = |k: &str| -> PyResult<Bound<'_, PyAny>> {
                state
                    .get_item(k)?
                    .ok_or_else(|| argument(py, format!("missing {k:?}")))
            };
            let m = check(
                py,
                Moments::from_parts(
                    get("pulls")?.extract()?,
                    get("mean")?.extract()?,
                    get("m2")?.extract()?,
                ),
            )?;
            Ok(Arm {
                inner: CoreArm::from_moments(m),
            })
        })
    }

    /// Records one reward (NaN and infinities raise `InvalidArgumentError`).
    fn update(&mut self, py: Python<'_>, reward: f64) -> PyResult<()> {
        guard(py, || check(py, self.inner.update(reward)))
    }

    /// Records a batch of rewards (all or nothing).
    fn update_batch(&mut self, py: Python<'_>, rewards: Vec<f64>) -> PyResult<()> {
        guard(py, || check(py, self.inner.update_batch(&rewards)))
    }

    /// Adds another arm's history (from another process or server).
    fn merge(&mut self, other: &Arm) {
        self.inner.merge(&other.inner);
    }

    /// Number of rewards recorded.
    #[getter]
    fn pulls(&self) -> u64 {
        self.inner.pulls()
    }

    /// Mean reward (0 before any pull).
    #[getter]
    fn mean(&self) -> f64 {
        self.inner.mean()
    }

    /// Sum of rewards.
    #[getter]
    fn reward_sum(&self) -> f64 {
        self.inner.reward_sum()
    }

    /// Sum of squared deviations from the mean.
    #[getter]
    fn m2(&self) -> f64 {
        self.inner.m2()
    }

    /// The state as a dict (`pulls`, `mean`, `m2`), for storage.
    #[allow(clippy::wrong_self_convention)] // a Python method: self is a borrowed pyclass
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("pulls", self.inner.pulls())?;
        d.set_item("mean", self.inner.mean())?;
        d.set_item("m2", self.inner.m2())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Arm(pulls={}, mean={})",
            self.inner.pulls(),
            self.inner.mean()
        )
    }
}

/// A seedable xoshiro256++ generator: the same seed draws the same numbers in Python, Rust,
/// the browser and the server.
#[pyclass(module = "litmus._litmus", name = "Random")]
pub(crate) struct Random {
    inner: Xoshiro256PlusPlus,
}

#[pymethods]
impl Random {
    /// The generator seeded from `seed` (SplitMix64, as rand_xoshiro's `seed_from_u64`).
    #[new]
    fn new(seed: u64) -> Self {
        Random {
            inner: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The next 64-bit word.
    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform float in [0, 1).
    fn random(&mut self) -> f64 {
        self.inner.next_f64()
    }
}

/// A bandit policy (rule and options).
#[pyclass(module = "litmus._litmus", name = "Policy", frozen)]
#[derive(Clone, Copy)]
pub(crate) struct Policy {
    inner: CorePolicy,
}

fn options(py: Python<'_>, burn_in: u64, floor: f64, optimistic: Option<f64>) -> PyResult<Options> {
    if !(0.0..=1.0).contains(&floor) {
        return Err(argument(py, format!("floor {floor} must be in [0, 1]")));
    }
    Ok(Options {
        burn_in,
        floor,
        optimistic,
    })
}

fn arms_of(arms: &[PyRef<'_, Arm>]) -> Vec<CoreArm> {
    arms.iter().map(|a| a.inner).collect()
}

impl Policy {
    fn make(py: Python<'_>, rule: Rule, opts: Options) -> PyResult<Self> {
        guard(py, || {
            Ok(Policy {
                inner: check(py, CorePolicy::new(rule, opts))?,
            })
        })
    }
}

#[pymethods]
impl Policy {
    /// Thompson sampling for rewards in [0, 1] with a Beta(prior_alpha, prior_beta) prior.
    #[staticmethod]
    #[pyo3(signature = (prior_alpha=1.0, prior_beta=1.0, *, burn_in=0, floor=0.0, optimistic=None))]
    fn thompson_beta(
        py: Python<'_>,
        prior_alpha: f64,
        prior_beta: f64,
        burn_in: u64,
        floor: f64,
        optimistic: Option<f64>,
    ) -> PyResult<Self> {
        let rule = Rule::ThompsonBeta {
            prior_alpha,
            prior_beta,
        };
        Self::make(py, rule, options(py, burn_in, floor, optimistic)?)
    }

    /// Thompson sampling for continuous rewards (Normal model, unknown variance,
    /// Normal-Gamma prior).
    #[staticmethod]
    #[pyo3(signature = (prior_mean=0.0, prior_kappa=1.0, prior_alpha=1.0, prior_beta=1.0, *, burn_in=0, floor=0.0, optimistic=None))]
    #[allow(clippy::too_many_arguments)]
    fn thompson_normal(
        py: Python<'_>,
        prior_mean: f64,
        prior_kappa: f64,
        prior_alpha: f64,
        prior_beta: f64,
        burn_in: u64,
        floor: f64,
        optimistic: Option<f64>,
    ) -> PyResult<Self> {
        let rule = Rule::ThompsonNormal {
            prior_mean,
            prior_kappa,
            prior_alpha,
            prior_beta,
        };
        Self::make(py, rule, options(py, burn_in, floor, optimistic)?)
    }

    /// UCB1: mean + sqrt(exploration · ln N / n).
    #[staticmethod]
    #[pyo3(signature = (exploration=2.0, *, burn_in=0, floor=0.0, optimistic=None))]
    fn ucb1(
        py: Python<'_>,
        exploration: f64,
        burn_in: u64,
        floor: f64,
        optimistic: Option<f64>,
    ) -> PyResult<Self> {
        Self::make(
            py,
            Rule::Ucb1 { exploration },
            options(py, burn_in, floor, optimistic)?,
        )
    }

    /// KL-UCB for rewards in [0, 1].
    #[staticmethod]
    #[pyo3(signature = (c=0.0, *, burn_in=0, floor=0.0, optimistic=None))]
    fn kl_ucb(
        py: Python<'_>,
        c: f64,
        burn_in: u64,
        floor: f64,
        optimistic: Option<f64>,
    ) -> PyResult<Self> {
        Self::make(
            py,
            Rule::KlUcb { c },
            options(py, burn_in, floor, optimistic)?,
        )
    }

    /// Epsilon-greedy, fixed or (with `decay=c`) decaying as min(epsilon, c·k/N).
    #[staticmethod]
    #[pyo3(signature = (epsilon=0.1, decay=None, *, burn_in=0, floor=0.0, optimistic=None))]
    fn epsilon_greedy(
        py: Python<'_>,
        epsilon: f64,
        decay: Option<f64>,
        burn_in: u64,
        floor: f64,
        optimistic: Option<f64>,
    ) -> PyResult<Self> {
        Self::make(
            py,
            Rule::EpsilonGreedy { epsilon, decay },
            options(py, burn_in, floor, optimistic)?,
        )
    }

    /// Picks an arm index for one request, drawing from `rng`.
    fn choose(
        &self,
        py: Python<'_>,
        arms: Vec<PyRef<'_, Arm>>,
        rng: &mut Random,
    ) -> PyResult<usize> {
        guard(py, || {
            check(py, self.inner.choose(&arms_of(&arms), &mut rng.inner))
        })
    }

    /// The probability the policy picks each arm now (Thompson: P(best), exact by quadrature
    /// where possible, else `draws` Monte Carlo draws from `seed`), floors applied.
    #[pyo3(signature = (arms, draws=10_000, seed=0))]
    fn weights(
        &self,
        py: Python<'_>,
        arms: Vec<PyRef<'_, Arm>>,
        draws: usize,
        seed: u64,
    ) -> PyResult<Vec<f64>> {
        let arms = arms_of(&arms);
        guard(py, || {
            check(py, py.detach(|| self.inner.weights(&arms, draws, seed)))
        })
    }

    /// As `weights`, always by Monte Carlo.
    #[pyo3(signature = (arms, draws=10_000, seed=0))]
    fn weights_monte_carlo(
        &self,
        py: Python<'_>,
        arms: Vec<PyRef<'_, Arm>>,
        draws: usize,
        seed: u64,
    ) -> PyResult<Vec<f64>> {
        let arms = arms_of(&arms);
        guard(py, || {
            check(
                py,
                py.detach(|| self.inner.weights_monte_carlo(&arms, draws, seed)),
            )
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Policy({:?}, {:?})",
            self.inner.rule(),
            self.inner.options()
        )
    }
}

/// Arms by key under one policy, with its own seeded generator (core's `KeyedBandit`); safe
/// to share between threads.
#[pyclass(module = "litmus._litmus", name = "Bandit", frozen)]
pub(crate) struct Bandit {
    inner: Mutex<KeyedBandit>,
}

impl Bandit {
    fn lock(&self) -> std::sync::MutexGuard<'_, KeyedBandit> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[pymethods]
impl Bandit {
    /// A bandit over the arms `keys` (distinct), choosing with `policy` and a generator
    /// seeded with `seed`.
    #[new]
    #[pyo3(signature = (policy, keys, seed=0))]
    fn new(py: Python<'_>, policy: &Policy, keys: Vec<String>, seed: u64) -> PyResult<Self> {
        Ok(Bandit {
            inner: Mutex::new(check(py, KeyedBandit::new(policy.inner, keys, seed))?),
        })
    }

    /// The arm to play for one request.
    fn choose(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || check(py, self.lock().choose().map(str::to_owned)))
    }

    /// Records a reward for the arm `key`.
    fn update(&self, py: Python<'_>, key: &str, reward: f64) -> PyResult<()> {
        guard(py, || check(py, self.lock().update(key, reward)))
    }

    /// The allocation weights by key (see `Policy.weights`).
    #[pyo3(signature = (draws=10_000, seed=0))]
    fn weights<'py>(
        &self,
        py: Python<'py>,
        draws: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(py, || {
            // A copy, so the computation runs without the lock (and without the GIL).
            let bandit = self.lock().clone();
            let w = check(py, py.detach(|| bandit.weights(draws, seed)))?;
            let d = PyDict::new(py);
            for (k, v) in bandit.keys().iter().zip(w) {
                d.set_item(k, v)?;
            }
            Ok(d)
        })
    }

    /// A copy of each arm's state, by key.
    fn arms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let bandit = self.lock().clone();
        let d = PyDict::new(py);
        for (k, a) in bandit.keys().iter().zip(bandit.arms()) {
            d.set_item(k, Arm { inner: *a })?;
        }
        Ok(d)
    }

    /// The arm keys, in order.
    #[getter]
    fn keys(&self) -> Vec<String> {
        self.lock().keys().to_vec()
    }
}
