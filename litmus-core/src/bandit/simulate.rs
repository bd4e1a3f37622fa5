//! A simulation harness: a policy plays a Bernoulli or Gaussian environment for many seeded
//! runs; the cumulative (pseudo-)regret is recorded at checkpoints with a confidence band over
//! the runs. Pure: progress is reported through a callback, output is returned as values (and
//! CSV text); `examples/bandit_sim.rs` writes the files and draws the plot.

use super::arm::Arm;
use super::policy::Policy;
use super::sample::standard_normal;
use crate::error::Error;
use crate::rng::{RandomSource, Xoshiro256PlusPlus};

/// Most arms, pulls per run and runs accepted.
pub const MAX_HORIZON: u64 = 100_000_000;

/// A stochastic environment.
#[derive(Debug, Clone, PartialEq)]
pub enum Environment {
    /// 0/1 rewards with these success probabilities.
    Bernoulli(Vec<f64>),
    /// Normal rewards with these means and a common standard deviation.
    Gaussian {
        /// The arms' means.
        means: Vec<f64>,
        /// The rewards' standard deviation.
        sd: f64,
    },
}

impl Environment {
    fn means(&self) -> &[f64] {
        match self {
            Environment::Bernoulli(p) => p,
            Environment::Gaussian { means, .. } => means,
        }
    }

    fn check(&self) -> Result<(), Error> {
        let means = self.means();
        if means.is_empty() {
            return Err(Error::argument("means", "at least one arm"));
        }
        match self {
            Environment::Bernoulli(p) if p.iter().any(|x| !(0.0..=1.0).contains(x)) => Err(
                Error::argument("means", "Bernoulli means must be in [0, 1]"),
            ),
            Environment::Gaussian { means, sd }
                if !sd.is_finite() || *sd < 0.0 || means.iter().any(|m| !m.is_finite()) =>
            {
                Err(Error::argument("sd", "finite means and a finite sd >= 0"))
            }
            _ => Ok(()),
        }
    }

    fn reward<R: RandomSource + ?Sized>(&self, arm: usize, rng: &mut R) -> f64 {
        match self {
            Environment::Bernoulli(p) => {
                if rng.next_f64() < p.get(arm).copied().unwrap_or(0.0) {
                    1.0
                } else {
                    0.0
                }
            }
            Environment::Gaussian { means, sd } => {
                means.get(arm).copied().unwrap_or(0.0) + sd * standard_normal(rng)
            }
        }
    }

    /// The Lai-Robbins constant for Bernoulli arms: Σ over suboptimal arms of
    /// (μ* - μ_i) / KL(μ_i, μ*); asymptotically no consistent policy has regret below this
    /// times ln T. For Gaussian arms with known sd: Σ 2 sd² / (μ* - μ_i).
    pub fn lai_robbins(&self) -> f64 {
        let means = self.means();
        let best = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        means
            .iter()
            .filter(|&&m| m < best)
            .map(|&m| match self {
                Environment::Bernoulli(_) => (best - m) / kl_bernoulli(m, best),
                Environment::Gaussian { sd, .. } => 2.0 * sd * sd / (best - m),
            })
            .sum()
    }
}

fn kl_bernoulli(p: f64, q: f64) -> f64 {
    let term = |a: f64, b: f64| if a > 0.0 { a * libm::log(a / b) } else { 0.0 };
    term(p, q) + term(1.0 - p, 1.0 - q)
}

/// The regret of a policy over time, averaged over runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RegretCurve {
    times: Vec<u64>,
    mean: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    runs: u64,
}

impl RegretCurve {
    /// The checkpoints (pulls so far).
    pub fn times(&self) -> &[u64] {
        &self.times
    }
    /// Mean cumulative regret at each checkpoint.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }
    /// Lower end of the 95% confidence band of the mean.
    pub fn lower(&self) -> &[f64] {
        &self.lower
    }
    /// Upper end of the 95% confidence band of the mean.
    pub fn upper(&self) -> &[f64] {
        &self.upper
    }
    /// The number of runs averaged.
    pub fn runs(&self) -> u64 {
        self.runs
    }
    /// The mean regret at the last checkpoint.
    pub fn final_regret(&self) -> f64 {
        self.mean.last().copied().unwrap_or(0.0)
    }

    /// The curve as CSV: `t,mean,lower,upper`.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("t,mean_regret,lower95,upper95\n");
        for i in 0..self.times.len() {
            let get = |v: &[f64]| v.get(i).copied().unwrap_or(f64::NAN);
            out.push_str(&format!(
                "{},{},{},{}\n",
                self.times.get(i).copied().unwrap_or(0),
                get(&self.mean),
                get(&self.lower),
                get(&self.upper)
            ));
        }
        out
    }
}

/// `points` checkpoints spread logarithmically over 1..=horizon (always ending at horizon).
fn checkpoints(horizon: u64, points: usize) -> Vec<u64> {
    let points = points.clamp(2, 10_000);
    let mut out: Vec<u64> = (0..points)
        .map(|i| {
            let f = i as f64 / (points - 1) as f64;
            libm::pow(horizon as f64, f).round().max(1.0) as u64
        })
        .collect();
    out.dedup();
    out
}

/// Runs `policy` on `environment` for `runs` runs of `horizon` pulls (run r seeded with
/// `seed + r`), recording regret at about `points` log-spaced checkpoints. `progress(done,
/// total)` is called after each run.
pub fn simulate(
    policy: &Policy,
    environment: &Environment,
    horizon: u64,
    runs: u64,
    seed: u64,
    points: usize,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RegretCurve, Error> {
    environment.check()?;
    if horizon == 0 || horizon > MAX_HORIZON || runs == 0 || runs > 1_000_000 {
        return Err(Error::argument(
            "horizon",
            "horizon 1..1e8 pulls and 1..1e6 runs",
        ));
    }
    let means = environment.means();
    let best = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let times = checkpoints(horizon, points);
    let mut sums = vec![0.0; times.len()];
    let mut squares = vec![0.0; times.len()];
    for run in 0..runs {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed.wrapping_add(run));
        let mut arms = vec![Arm::new(); means.len()];
        let mut regret = 0.0;
        let mut next = 0usize;
        for t in 1..=horizon {
            let i = policy.choose(&arms, &mut rng)?;
            regret += best - means.get(i).copied().unwrap_or(best);
            let reward = environment.reward(i, &mut rng);
            if let Some(arm) = arms.get_mut(i) {
                arm.update(reward)?;
            }
            if times.get(next) == Some(&t) {
                if let (Some(s), Some(q)) = (sums.get_mut(next), squares.get_mut(next)) {
                    *s += regret;
                    *q += regret * regret;
                }
                next += 1;
            }
        }
        progress(run + 1, runs);
    }
    let n = runs as f64;
    let mut curve = RegretCurve {
        times,
        mean: Vec::new(),
        lower: Vec::new(),
        upper: Vec::new(),
        runs,
    };
    for (s, q) in sums.iter().zip(&squares) {
        let mean = s / n;
        let var = if runs > 1 {
            ((q - n * mean * mean) / (n - 1.0)).max(0.0)
        } else {
            0.0
        };
        let half = 1.96 * (var / n).sqrt();
        curve.mean.push(mean);
        curve.lower.push(mean - half);
        curve.upper.push(mean + half);
    }
    Ok(curve)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thompson_beats_uniform_and_tracks_the_bound() {
        let env = Environment::Bernoulli(vec![0.1, 0.2, 0.3]);
        let mut calls = 0;
        let curve = simulate(
            &Policy::thompson_beta(),
            &env,
            2_000,
            20,
            1,
            20,
            &mut |_, _| calls += 1,
        );
        let curve = curve.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(calls, 20);
        assert_eq!(curve.times().last(), Some(&2_000));
        // Uniform play loses 0.1 per pull on average: 200 over 2,000 pulls.
        assert!(curve.final_regret() < 60.0, "{}", curve.final_regret());
        assert!(curve.lower().iter().zip(curve.upper()).all(|(l, u)| l <= u));
        assert!(curve.to_csv().starts_with("t,mean_regret"));
        assert!(env.lai_robbins() > 0.0);
        assert!(
            simulate(
                &Policy::thompson_beta(),
                &Environment::Bernoulli(vec![1.5]),
                10,
                1,
                1,
                5,
                &mut |_, _| {}
            )
            .is_err()
        );
    }
}
