//! Bandit policies behind one trait: Thompson sampling (Beta-Bernoulli and Normal with unknown
//! variance), UCB1, KL-UCB and epsilon-greedy (fixed or decaying), with the options users
//! expect: priors, burn-in, a floor weight per arm and an optimistic start.
//!
//! A policy is used two ways: [`Policy::choose`] picks an arm per request with the caller's
//! RNG; [`Policy::weights`] gives the probability that the policy picks each arm now, which a
//! bandit experiment publishes as its variant weights (SDKs then assign by hash).

use super::arm::Arm;
use super::best::{Density, prob_best};
use super::sample::{Beta, Gamma, standard_normal};
use crate::error::Error;
use crate::rng::{RandomSource, Xoshiro256PlusPlus};

/// Most arms a policy accepts.
pub const MAX_ARMS: usize = 1_000;
/// Most Monte Carlo draws for weights.
pub const MAX_DRAWS: usize = 10_000_000;

/// Options shared by every policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Pulls every arm needs before the policy adapts (until then: the least-pulled arm, and
    /// equal weights).
    pub burn_in: u64,
    /// The least weight each arm keeps in [`Policy::weights`] (at most 1/k for k arms).
    pub floor: f64,
    /// The mean reward assumed for an arm without pulls (optimistic start), where the policy
    /// uses means (epsilon-greedy).
    pub optimistic: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            burn_in: 0,
            floor: 0.0,
            optimistic: None,
        }
    }
}

/// The decision rule of a policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// Thompson sampling for 0/1 (or [0, 1]) rewards with a Beta(alpha, beta) prior.
    ThompsonBeta {
        /// Prior successes + 1 (> 0).
        prior_alpha: f64,
        /// Prior failures + 1 (> 0).
        prior_beta: f64,
    },
    /// Thompson sampling for continuous rewards: Normal model with unknown mean and variance,
    /// Normal-Gamma prior N(mean, 1/(kappa τ)), τ ~ Gamma(alpha, beta).
    ThompsonNormal {
        /// Prior mean.
        prior_mean: f64,
        /// Prior pseudo-observations of the mean (> 0).
        prior_kappa: f64,
        /// Gamma shape of the precision (> 0).
        prior_alpha: f64,
        /// Gamma rate of the precision (> 0).
        prior_beta: f64,
    },
    /// UCB1 (Auer, Cesa-Bianchi, Fischer 2002): mean + sqrt(c ln N / n), c = 2 classically.
    Ucb1 {
        /// The exploration constant c.
        exploration: f64,
    },
    /// KL-UCB for rewards in [0, 1] (Garivier, Cappé 2011): the largest q with
    /// n KL(mean, q) <= ln N + c ln ln N.
    KlUcb {
        /// The constant c (0 in practice; 3 in the proof).
        c: f64,
    },
    /// Epsilon-greedy: explore uniformly with probability epsilon, else the best mean.
    EpsilonGreedy {
        /// The exploration probability (the cap, when decaying).
        epsilon: f64,
        /// With `Some(c)`, epsilon decays as min(epsilon, c k / N) after N pulls of k arms.
        decay: Option<f64>,
    },
}

/// A configured policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    rule: Rule,
    options: Options,
}

fn positive(name: &'static str, v: f64) -> Result<(), Error> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::argument(name, format!("{v} must be finite and > 0")))
    }
}

impl Policy {
    /// A policy, its parameters validated.
    pub fn new(rule: Rule, options: Options) -> Result<Self, Error> {
        match rule {
            Rule::ThompsonBeta {
                prior_alpha,
                prior_beta,
            } => {
                positive("prior_alpha", prior_alpha)?;
                positive("prior_beta", prior_beta)?;
            }
            Rule::ThompsonNormal {
                prior_mean,
                prior_kappa,
                prior_alpha,
                prior_beta,
            } => {
                if !prior_mean.is_finite() {
                    return Err(Error::argument("prior_mean", "must be finite"));
                }
                positive("prior_kappa", prior_kappa)?;
                positive("prior_alpha", prior_alpha)?;
                positive("prior_beta", prior_beta)?;
            }
            Rule::Ucb1 { exploration } => positive("exploration", exploration)?,
            Rule::KlUcb { c } => {
                if !(c.is_finite() && c >= 0.0) {
                    return Err(Error::argument("c", format!("{c} must be finite and >= 0")));
                }
            }
            Rule::EpsilonGreedy { epsilon, decay } => {
                if !(0.0..=1.0).contains(&epsilon) {
                    return Err(Error::argument(
                        "epsilon",
                        format!("{epsilon} must be in [0, 1]"),
                    ));
                }
                if let Some(c) = decay {
                    positive("decay", c)?;
                }
            }
        }
        if !(options.floor.is_finite() && options.floor >= 0.0) {
            return Err(Error::argument(
                "floor",
                format!("{} must be finite and >= 0", options.floor),
            ));
        }
        if let Some(v) = options.optimistic {
            if !v.is_finite() {
                return Err(Error::argument("optimistic", "must be finite"));
            }
        }
        Ok(Policy { rule, options })
    }

    /// Thompson sampling for 0/1 rewards with a uniform Beta(1, 1) prior.
    pub fn thompson_beta() -> Self {
        Policy {
            rule: Rule::ThompsonBeta {
                prior_alpha: 1.0,
                prior_beta: 1.0,
            },
            options: Options::default(),
        }
    }

    /// The decision rule.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// The options.
    pub fn options(&self) -> Options {
        self.options
    }

    fn check_arms(arms: &[Arm]) -> Result<(), Error> {
        if arms.is_empty() || arms.len() > MAX_ARMS {
            return Err(Error::argument(
                "arms",
                format!("{} arms: need 1 to {MAX_ARMS}", arms.len()),
            ));
        }
        Ok(())
    }

    /// The arms still in burn-in (fewest pulls first), if any.
    fn burning_in(&self, arms: &[Arm]) -> Option<u64> {
        if self.options.burn_in == 0 {
            return None;
        }
        let least = arms.iter().map(Arm::pulls).min()?;
        (least < self.options.burn_in).then_some(least)
    }

    /// Picks an arm for one request.
    pub fn choose<R: RandomSource + ?Sized>(
        &self,
        arms: &[Arm],
        rng: &mut R,
    ) -> Result<usize, Error> {
        Self::check_arms(arms)?;
        if let Some(least) = self.burning_in(arms) {
            return Ok(pick_among(arms.iter().map(|a| a.pulls() == least), rng));
        }
        let total = || arms.iter().map(Arm::pulls).fold(0u64, u64::saturating_add);
        Ok(match self.rule {
            Rule::ThompsonBeta { .. } => argmax_of_draws(arms, rng, |arm, rng| {
                let (a, b) = self.beta_shapes(arm);
                Beta::new(a, b).sample(rng)
            }),
            Rule::ThompsonNormal { .. } => {
                argmax_of_draws(arms, rng, |arm, rng| self.sampler(arm).draw(rng))
            }
            Rule::Ucb1 { .. } | Rule::KlUcb { .. } => {
                if arms.iter().any(|a| a.pulls() == 0) {
                    pick_among(arms.iter().map(|a| a.pulls() == 0), rng)
                } else {
                    let total = total();
                    let mut leader = Leader::EMPTY;
                    for (i, arm) in arms.iter().enumerate() {
                        leader.offer(i, self.upper_bound(arm, total), rng);
                    }
                    leader.index
                }
            }
            Rule::EpsilonGreedy { .. } => {
                let eps = self.epsilon_now(arms.len(), total());
                if rng.next_f64() < eps {
                    rng.below(arms.len() as u64) as usize
                } else {
                    let mut leader = Leader::EMPTY;
                    for (i, arm) in arms.iter().enumerate() {
                        leader.offer(i, self.mean_of(arm), rng);
                    }
                    leader.index
                }
            }
        })
    }

    /// The probability that the policy picks each arm now, with floors applied. Thompson's is
    /// the probability each arm is best: computed by quadrature (within 1e-7, deterministic,
    /// so republished weights do not jitter) wherever the posteriors allow the quadrature to
    /// check itself, else estimated from `draws` Monte Carlo draws from `seed`. UCB's puts
    /// everything on the highest index (ties split); epsilon-greedy's is 1 - ε on the best
    /// mean plus ε/k each.
    pub fn weights(&self, arms: &[Arm], draws: usize, seed: u64) -> Result<Vec<f64>, Error> {
        Self::check_arms(arms)?;
        let k = arms.len();
        Self::check_draws(draws)?;
        let raw = if self.burning_in(arms).is_some() {
            vec![1.0 / k as f64; k]
        } else {
            let total: u64 = arms.iter().map(Arm::pulls).fold(0u64, u64::saturating_add);
            match self.rule {
                Rule::ThompsonBeta { .. } | Rule::ThompsonNormal { .. } => {
                    let densities: Vec<Density> = arms.iter().map(|a| self.density(a)).collect();
                    match prob_best(&densities) {
                        Some(w) => w,
                        None => self.monte_carlo(arms, draws, seed),
                    }
                }
                Rule::Ucb1 { .. } | Rule::KlUcb { .. } => {
                    if arms.iter().any(|a| a.pulls() == 0) {
                        split(arms.iter().map(|a| a.pulls() == 0), k)
                    } else {
                        let index: Vec<f64> =
                            arms.iter().map(|a| self.upper_bound(a, total)).collect();
                        split_max(&index)
                    }
                }
                Rule::EpsilonGreedy { .. } => {
                    let eps = self.epsilon_now(k, total);
                    let means: Vec<f64> = arms.iter().map(|a| self.mean_of(a)).collect();
                    split_max(&means)
                        .into_iter()
                        .map(|w| (1.0 - eps) * w + eps / k as f64)
                        .collect()
                }
            }
        };
        Ok(apply_floor(&raw, self.options.floor))
    }

    /// Thompson's probability that each arm is best by Monte Carlo only (`draws` posterior
    /// draws from `seed`), floors applied; [`Policy::weights`] uses it where quadrature cannot
    /// vouch for its answer. Other rules give their [`Policy::weights`].
    pub fn weights_monte_carlo(
        &self,
        arms: &[Arm],
        draws: usize,
        seed: u64,
    ) -> Result<Vec<f64>, Error> {
        match self.rule {
            Rule::ThompsonBeta { .. } | Rule::ThompsonNormal { .. } => {
                Self::check_arms(arms)?;
                Self::check_draws(draws)?;
                let raw = if self.burning_in(arms).is_some() {
                    vec![1.0 / arms.len() as f64; arms.len()]
                } else {
                    self.monte_carlo(arms, draws, seed)
                };
                Ok(apply_floor(&raw, self.options.floor))
            }
            _ => self.weights(arms, draws, seed),
        }
    }

    fn check_draws(draws: usize) -> Result<(), Error> {
        if draws == 0 || draws > MAX_DRAWS {
            return Err(Error::argument(
                "draws",
                format!("{draws} must be 1 to {MAX_DRAWS}"),
            ));
        }
        Ok(())
    }

    /// Monte Carlo probability of being best: draws in chunks, arm by arm within a chunk (so
    /// each arm's sampler constants stay in registers), with a running leader per draw.
    fn monte_carlo(&self, arms: &[Arm], draws: usize, seed: u64) -> Vec<f64> {
        const CHUNK: usize = 512;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let samplers: Vec<Sampler> = arms.iter().map(|a| self.sampler(a)).collect();
        let mut wins = vec![0u64; arms.len()];
        let mut leaders = [Leader::EMPTY; CHUNK];
        let mut values = [0.0; CHUNK];
        let mut left = draws;
        while left > 0 {
            let n = left.min(CHUNK);
            left -= n;
            let chunk = leaders.get_mut(..n).unwrap_or_default();
            chunk.fill(Leader::EMPTY);
            for (i, sampler) in samplers.iter().enumerate() {
                // All of the arm's draws for the chunk before the comparisons (see
                // `argmax_of_draws`).
                for value in values.iter_mut().take(n) {
                    *value = sampler.draw(&mut rng);
                }
                for (leader, value) in chunk.iter_mut().zip(&values) {
                    leader.offer(i, *value, &mut rng);
                }
            }
            for leader in chunk.iter() {
                if let Some(w) = wins.get_mut(leader.index) {
                    *w += 1;
                }
            }
        }
        wins.iter().map(|&w| w as f64 / draws as f64).collect()
    }

    /// One draw of the arm's mean reward from the policy's posterior (Thompson rules); for
    /// the other rules, the mean the policy uses.
    pub fn sample<R: RandomSource + ?Sized>(&self, arm: &Arm, rng: &mut R) -> f64 {
        self.sampler(arm).draw(rng)
    }

    /// The posterior of the arm's mean (Thompson rules): Beta, or the Student-t marginal of the
    /// Normal-Gamma posterior.
    fn density(&self, arm: &Arm) -> Density {
        match self.sampler(arm) {
            Sampler::Normal {
                mean,
                kappa,
                rate,
                precision,
            } => {
                let alpha = precision.shape();
                Density::StudentT {
                    nu: 2.0 * alpha,
                    loc: mean,
                    scale: (rate / (alpha * kappa)).sqrt(),
                }
            }
            _ => {
                let (a, b) = self.beta_shapes(arm);
                Density::Beta { a, b }
            }
        }
    }

    #[inline]
    fn beta_shapes(&self, arm: &Arm) -> (f64, f64) {
        let (prior_alpha, prior_beta) = match self.rule {
            Rule::ThompsonBeta {
                prior_alpha,
                prior_beta,
            } => (prior_alpha, prior_beta),
            _ => (1.0, 1.0),
        };
        let s = arm.reward_sum().max(0.0);
        let f = (arm.pulls() as f64 - s).max(0.0);
        (prior_alpha + s, prior_beta + f)
    }

    /// The distribution an arm's draws come from, constants computed once.
    #[inline]
    fn sampler(&self, arm: &Arm) -> Sampler {
        match self.rule {
            Rule::ThompsonBeta { .. } => {
                let (a, b) = self.beta_shapes(arm);
                Sampler::Beta(Beta::new(a, b))
            }
            Rule::ThompsonNormal {
                prior_mean,
                prior_kappa,
                prior_alpha,
                prior_beta,
            } => {
                let n = arm.pulls() as f64;
                let kappa = prior_kappa + n;
                let mean = (prior_kappa * prior_mean + n * arm.mean()) / kappa;
                let dev = arm.mean() - prior_mean;
                let rate =
                    prior_beta + 0.5 * arm.m2() + prior_kappa * n * dev * dev / (2.0 * kappa);
                Sampler::Normal {
                    mean,
                    kappa,
                    rate,
                    precision: Gamma::new(prior_alpha + 0.5 * n),
                }
            }
            _ => Sampler::Fixed(self.mean_of(arm)),
        }
    }

    fn mean_of(&self, arm: &Arm) -> f64 {
        match (arm.pulls(), self.options.optimistic) {
            (0, Some(v)) => v,
            _ => arm.mean(),
        }
    }

    fn epsilon_now(&self, k: usize, total: u64) -> f64 {
        match self.rule {
            Rule::EpsilonGreedy {
                epsilon,
                decay: Some(c),
            } if total > 0 => epsilon.min(c * k as f64 / total as f64),
            Rule::EpsilonGreedy { epsilon, .. } => epsilon,
            _ => 0.0,
        }
    }

    fn upper_bound(&self, arm: &Arm, total: u64) -> f64 {
        let n = arm.pulls() as f64;
        let ln_total = libm::log(total.max(1) as f64);
        match self.rule {
            Rule::Ucb1 { exploration } => arm.mean() + (exploration * ln_total / n).sqrt(),
            Rule::KlUcb { c } => {
                let budget = (ln_total + c * libm::log(ln_total.max(1.0)).max(0.0)) / n;
                kl_upper(arm.mean().clamp(0.0, 1.0), budget)
            }
            _ => arm.mean(),
        }
    }
}

/// Bernoulli KL divergence KL(p, q).
fn kl_bernoulli(p: f64, q: f64) -> f64 {
    let q = q.clamp(1e-15, 1.0 - 1e-15);
    let term = |a: f64, b: f64| if a > 0.0 { a * libm::log(a / b) } else { 0.0 };
    term(p, q) + term(1.0 - p, 1.0 - q)
}

/// The largest q in [p, 1] with KL(p, q) <= budget, by Newton's method from Pinsker's bound
/// q <= p + sqrt(budget / 2): KL(p, ·) is convex and increasing on [p, 1], so the iterates
/// fall monotonically onto the root (a handful of steps instead of 60 bisections).
fn kl_upper(p: f64, budget: f64) -> f64 {
    if budget.is_nan() || budget <= 0.0 || p >= 1.0 {
        return p.clamp(0.0, 1.0);
    }
    let mut q = (p + (0.5 * budget).sqrt()).min(1.0 - 1e-15);
    for _ in 0..100 {
        let excess = kl_bernoulli(p, q) - budget;
        let slope = (q - p) / (q * (1.0 - q));
        if excess <= 0.0 || slope.is_nan() || slope <= 0.0 {
            break;
        }
        let next = (q - excess / slope).max(p);
        if next.is_nan() || next >= q || q - next <= 1e-15 * q {
            q = next.min(q);
            break;
        }
        q = next;
    }
    q
}

/// The same bound by bisection (the reference the tests hold Newton's method to).
#[cfg(test)]
fn kl_upper_bisection(p: f64, budget: f64) -> f64 {
    let (mut lo, mut hi) = (p, 1.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if kl_bernoulli(p, mid) > budget {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    lo
}

/// What one arm's draws come from.
#[derive(Debug, Clone, Copy)]
enum Sampler {
    /// The Beta posterior of a Bernoulli arm.
    Beta(Beta),
    /// The Normal-Gamma posterior: precision τ ~ Gamma(α)/rate, mean ~ N(mean, 1/(κτ)).
    Normal {
        mean: f64,
        kappa: f64,
        rate: f64,
        precision: Gamma,
    },
    /// A fixed value (non-Thompson rules).
    Fixed(f64),
}

impl Sampler {
    #[inline]
    fn draw<R: RandomSource + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            Sampler::Beta(beta) => beta.sample(rng),
            Sampler::Normal {
                mean,
                kappa,
                rate,
                precision,
            } => {
                let precision = precision.sample(rng) / rate;
                mean + standard_normal(rng) / (kappa * precision).sqrt()
            }
            Sampler::Fixed(v) => v,
        }
    }
}

/// A running argmax with ties broken uniformly at random (the n-th tied value takes the lead
/// with probability 1/n); NaN never leads, and index 0 leads when nothing was offered.
#[derive(Debug, Clone, Copy)]
struct Leader {
    value: f64,
    index: usize,
    ties: u64,
}

impl Leader {
    const EMPTY: Leader = Leader {
        value: f64::NEG_INFINITY,
        index: 0,
        ties: 0,
    };

    #[inline]
    fn offer<R: RandomSource + ?Sized>(&mut self, index: usize, value: f64, rng: &mut R) {
        let ahead = value > self.value;
        self.index = if ahead { index } else { self.index };
        self.ties = if ahead { 1 } else { self.ties };
        self.value = if ahead { value } else { self.value };
        if !ahead && value == self.value {
            self.ties += 1;
            if self.ties == 1 || rng.below(self.ties) == 0 {
                self.index = index;
            }
        }
    }
}

/// The arm with the highest draw, one draw per arm in arm order (ties broken at random). The
/// draws of a batch of arms are made before any comparison: which arm leads is random, and a
/// mispredicted comparison would otherwise discard the next arm's draw in flight (a quarter
/// of a Thompson choice's time).
#[inline(always)]
fn argmax_of_draws<R: RandomSource + ?Sized>(
    arms: &[Arm],
    rng: &mut R,
    mut draw: impl FnMut(&Arm, &mut R) -> f64,
) -> usize {
    const BATCH: usize = 16;
    let mut leader = Leader::EMPTY;
    let mut values = [0.0; BATCH];
    for (c, chunk) in arms.chunks(BATCH).enumerate() {
        for (value, arm) in values.iter_mut().zip(chunk) {
            *value = draw(arm, rng);
        }
        for (j, value) in values.iter().take(chunk.len()).enumerate() {
            leader.offer(c * BATCH + j, *value, rng);
        }
    }
    leader.index
}

/// A uniformly random index among the flagged ones (index 0 when none is flagged).
fn pick_among<R: RandomSource + ?Sized>(
    flags: impl Iterator<Item = bool> + Clone,
    rng: &mut R,
) -> usize {
    let count = flags.clone().filter(|&f| f).count() as u64;
    if count <= 1 {
        return flags.clone().position(|f| f).unwrap_or(0);
    }
    let chosen = rng.below(count) as usize;
    flags
        .enumerate()
        .filter(|(_, f)| *f)
        .nth(chosen)
        .map_or(0, |(i, _)| i)
}

/// Equal shares among the flagged indices.
fn split(flags: impl Iterator<Item = bool> + Clone, k: usize) -> Vec<f64> {
    let count = flags.clone().filter(|&f| f).count().max(1) as f64;
    let mut out: Vec<f64> = flags.map(|f| if f { 1.0 / count } else { 0.0 }).collect();
    out.resize(k, 0.0);
    out
}

/// Everything on the maximum, ties split.
fn split_max(values: &[f64]) -> Vec<f64> {
    let best = values
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(f64::NEG_INFINITY, f64::max);
    split(values.iter().map(|&v| v == best), values.len())
}

/// w_i = floor + (1 - k·floor) p_i (the floor capped at 1/k), renormalised.
fn apply_floor(weights: &[f64], floor: f64) -> Vec<f64> {
    let k = weights.len() as f64;
    let floor = floor.min(1.0 / k);
    let total: f64 = weights.iter().sum();
    let norm = if total > 0.0 { total } else { 1.0 };
    weights
        .iter()
        .map(|w| floor + (1.0 - k * floor) * (w / norm))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_upper_newton_matches_bisection() {
        for p in [0.0, 1e-6, 0.01, 0.1, 0.3, 0.5, 0.77, 0.99, 0.999_999, 1.0] {
            for budget in [0.0, 1e-9, 1e-6, 1e-3, 0.01, 0.1, 0.5, 1.0, 5.0, 50.0] {
                let newton = kl_upper(p, budget);
                // (Bisection is itself off by up to ~sqrt(ε) where KL is flat, near q = p.)
                let bisection = kl_upper_bisection(p, budget);
                assert!(
                    (newton - bisection).abs() <= 1e-8,
                    "p {p}, budget {budget}: {newton} vs {bisection}"
                );
                assert!((p..=1.0).contains(&newton));
            }
        }
    }
}
