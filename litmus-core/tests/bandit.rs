//! Bandit policies: posteriors against closed forms, probability of best against exact values,
//! floors, reproducibility, input validation and a regret sanity check.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use litmus_core::bandit::{Arm, Options, Policy, Rule};
use litmus_core::rng::{RandomSource, Xoshiro256PlusPlus};
use litmus_core::stats::{self, BetaPosterior, Moments};

fn beta_policy(options: Options) -> Policy {
    Policy::new(
        Rule::ThompsonBeta {
            prior_alpha: 1.0,
            prior_beta: 1.0,
        },
        options,
    )
    .unwrap()
}

/// P(B > A) for Beta posteriors with integer alpha_b: Evan Miller's exact sum.
fn exact_prob_beats(a1: f64, b1: f64, a2: f64, b2: f64) -> f64 {
    let lbeta = |a: f64, b: f64| ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
    (0..a2 as u64)
        .map(|i| {
            let i = i as f64;
            (lbeta(a1 + i, b1 + b2) - (b2 + i).ln() - lbeta(1.0 + i, b2) - lbeta(a1, b1)).exp()
        })
        .sum()
}

fn ln_gamma(x: f64) -> f64 {
    // Stirling with corrections after shifting x up by 10 (accurate to ~1e-14 here).
    let mut shift = 0.0;
    let mut x = x;
    while x < 10.0 {
        shift -= x.ln();
        x += 1.0;
    }
    let inv = 1.0 / x;
    shift + (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + inv / 12.0
        - inv.powi(3) / 360.0
        + inv.powi(5) / 1260.0
}

/// Mean and variance of `n` posterior draws.
fn draw_moments(policy: &Policy, arm: &Arm, n: usize, seed: u64) -> (f64, f64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut m = Moments::new();
    for _ in 0..n {
        m.push(policy.sample(arm, &mut rng)).unwrap();
    }
    (m.mean(), m.variance().unwrap())
}

#[test]
fn beta_posterior_draws_match_the_closed_form() {
    let policy = Policy::new(
        Rule::ThompsonBeta {
            prior_alpha: 2.0,
            prior_beta: 3.0,
        },
        Options::default(),
    )
    .unwrap();
    let mut arm = Arm::from_counts(30, 100).unwrap();
    arm.update_batch(&[1.0, 0.0, 1.0]).unwrap();
    // Posterior Beta(2 + 32, 3 + 71).
    let (a, b) = (34.0_f64, 74.0_f64);
    let (mean, var) = (a / (a + b), a * b / ((a + b).powi(2) * (a + b + 1.0)));
    let n = 200_000;
    let (m, v) = draw_moments(&policy, &arm, n, 11);
    assert!(
        (m - mean).abs() < 5.0 * (var / n as f64).sqrt(),
        "{m} vs {mean}"
    );
    assert!((v - var).abs() < 0.02 * var, "{v} vs {var}");
}

#[test]
fn two_beta_arms_are_exact_within_1e_6() {
    let policy = beta_policy(Options::default());
    for (s1, n1, s2, n2) in [
        (10, 100, 14, 100),
        (3, 40, 1, 35),
        (120, 1_000, 131, 990),
        (0, 5, 2, 5),
    ] {
        let arms = [
            Arm::from_counts(s1, n1).unwrap(),
            Arm::from_counts(s2, n2).unwrap(),
        ];
        let w = policy.weights(&arms, 10_000, 1).unwrap();
        let exact = exact_prob_beats(
            1.0 + s1 as f64,
            1.0 + (n1 - s1) as f64,
            1.0 + s2 as f64,
            1.0 + (n2 - s2) as f64,
        );
        assert!(
            (w[1] - exact).abs() < 1e-6,
            "{s1}/{n1} vs {s2}/{n2}: {} vs {exact}",
            w[1]
        );
        assert!((w[0] + w[1] - 1.0).abs() < 1e-12);
    }
}

#[test]
fn k_arm_monte_carlo_is_within_its_error() {
    let policy = beta_policy(Options::default());
    let counts = [(10u64, 100u64), (14, 100), (12, 100), (9, 80)];
    let arms: Vec<Arm> = counts
        .iter()
        .map(|&(s, n)| Arm::from_counts(s, n).unwrap())
        .collect();
    let draws = 200_000;
    let w = policy.weights_monte_carlo(&arms, draws, 7).unwrap();
    let posts: Vec<BetaPosterior> = counts
        .iter()
        .map(|&(s, n)| BetaPosterior::new(1.0 + s as f64, 1.0 + (n - s) as f64).unwrap())
        .collect();
    let exact = stats::prob_best(&posts).unwrap();
    for (mc, ex) in w.iter().zip(&exact) {
        let se = (ex * (1.0 - ex) / draws as f64).sqrt();
        assert!((mc - ex).abs() < 4.0 * se + 1e-9, "{w:?} vs {exact:?}");
    }
    // Same seed, same weights; another seed, (slightly) different ones.
    assert_eq!(w, policy.weights_monte_carlo(&arms, draws, 7).unwrap());
    assert_ne!(w, policy.weights_monte_carlo(&arms, draws, 8).unwrap());
}

#[test]
fn k_arm_quadrature_matches_the_incomplete_beta_integral() {
    // `weights` integrates on a shared grid with CDFs accumulated from the densities;
    // `stats::prob_best` integrates with incomplete beta CDFs (Gauss-Legendre): two
    // independent quadratures.
    let policy = beta_policy(Options::default());
    let cases: [&[(u64, u64)]; 5] = [
        &[(10, 100), (14, 100), (12, 100), (9, 80)],
        &[
            (100, 1_000),
            (107, 1_000),
            (114, 1_000),
            (121, 1_000),
            (128, 1_000),
            (135, 1_000),
            (142, 1_000),
            (149, 1_000),
            (156, 1_000),
            (163, 1_000),
        ],
        &[(3, 40), (1, 35), (0, 3)],
        &[(5_000, 100_000), (5_100, 100_000), (40, 900)],
        &[(990, 1_000), (995, 1_000)],
    ];
    for counts in cases {
        let arms: Vec<Arm> = counts
            .iter()
            .map(|&(s, n)| Arm::from_counts(s, n).unwrap())
            .collect();
        let w = policy.weights(&arms, 10_000, 1).unwrap();
        let posts: Vec<BetaPosterior> = counts
            .iter()
            .map(|&(s, n)| BetaPosterior::new(1.0 + s as f64, 1.0 + (n - s) as f64).unwrap())
            .collect();
        let exact = stats::prob_best(&posts).unwrap();
        for (q, ex) in w.iter().zip(&exact) {
            assert!((q - ex).abs() < 1e-7, "{counts:?}: {w:?} vs {exact:?}");
        }
        // Deterministic: the seed and the number of draws do not matter.
        assert_eq!(w, policy.weights(&arms, 5, 99).unwrap());
    }
}

#[test]
fn normal_quadrature_matches_monte_carlo_and_hard_cases_fall_back() {
    let normal = Policy::new(
        Rule::ThompsonNormal {
            prior_mean: 0.0,
            prior_kappa: 1.0,
            prior_alpha: 1.0,
            prior_beta: 1.0,
        },
        Options::default(),
    )
    .unwrap();
    let arm = |values: &[f64]| {
        let mut a = Arm::new();
        a.update_batch(values).unwrap();
        a
    };
    let arms = [
        arm(&(0..50).map(|i| (i % 7) as f64 * 0.3).collect::<Vec<_>>()),
        arm(&(0..60).map(|i| (i % 5) as f64 * 0.45).collect::<Vec<_>>()),
        arm(&(0..40).map(|i| (i % 9) as f64 * 0.25).collect::<Vec<_>>()),
    ];
    let q = normal.weights(&arms, 10, 1).unwrap();
    let draws = 1_000_000;
    let mc = normal.weights_monte_carlo(&arms, draws, 3).unwrap();
    assert_ne!(q, mc);
    for (a, b) in q.iter().zip(&mc) {
        let se = (a * (1.0 - a) / draws as f64).sqrt();
        assert!((a - b).abs() < 4.0 * se + 1e-9, "{q:?} vs {mc:?}");
    }
    // Two observations each: a heavy-tailed posterior (t with 4 degrees of freedom): the
    // quadrature cannot vouch for itself and Monte Carlo answers.
    let few = [arm(&[0.1, 0.4]), arm(&[0.3, 0.2])];
    assert_eq!(
        normal.weights(&few, 50_000, 5).unwrap(),
        normal.weights_monte_carlo(&few, 50_000, 5).unwrap()
    );
    // A Jeffreys prior with no data has an infinite density at 0: Monte Carlo again.
    let jeffreys = Policy::new(
        Rule::ThompsonBeta {
            prior_alpha: 0.5,
            prior_beta: 0.5,
        },
        Options::default(),
    )
    .unwrap();
    let fresh = [Arm::new(), Arm::from_counts(3, 10).unwrap()];
    assert_eq!(
        jeffreys.weights(&fresh, 50_000, 5).unwrap(),
        jeffreys.weights_monte_carlo(&fresh, 50_000, 5).unwrap()
    );
}

#[test]
fn normal_posterior_draws_match_the_normal_gamma_closed_form() {
    let (mu0, kappa0, alpha0, beta0) = (0.0, 1.0, 2.0, 2.0);
    let policy = Policy::new(
        Rule::ThompsonNormal {
            prior_mean: mu0,
            prior_kappa: kappa0,
            prior_alpha: alpha0,
            prior_beta: beta0,
        },
        Options::default(),
    )
    .unwrap();
    let mut arm = Arm::new();
    arm.update_batch(&[4.1, 5.3, 3.8, 4.9, 5.6, 4.4, 5.0, 4.7])
        .unwrap();
    let (n, mean, m2) = (arm.pulls() as f64, arm.mean(), arm.m2());
    let kappa = kappa0 + n;
    let mu = (kappa0 * mu0 + n * mean) / kappa;
    let alpha = alpha0 + n / 2.0;
    let beta = beta0 + 0.5 * m2 + kappa0 * n * (mean - mu0).powi(2) / (2.0 * kappa);
    // The marginal of the mean is Student's t with 2 alpha dof, scale^2 = beta / (alpha kappa).
    let var = beta / (alpha * kappa) * (2.0 * alpha) / (2.0 * alpha - 2.0);
    let n_draws = 200_000;
    let (m, v) = draw_moments(&policy, &arm, n_draws, 13);
    assert!(
        (m - mu).abs() < 5.0 * (var / n_draws as f64).sqrt(),
        "{m} vs {mu}"
    );
    assert!((v - var).abs() < 0.03 * var, "{v} vs {var}");
    assert!(var > 0.0);
}

#[test]
fn floors_are_respected_and_weights_sum_to_one() {
    for rule in [
        Rule::ThompsonBeta {
            prior_alpha: 1.0,
            prior_beta: 1.0,
        },
        Rule::Ucb1 { exploration: 2.0 },
        Rule::KlUcb { c: 0.0 },
        Rule::EpsilonGreedy {
            epsilon: 0.1,
            decay: None,
        },
        Rule::EpsilonGreedy {
            epsilon: 0.5,
            decay: Some(1.0),
        },
    ] {
        let policy = Policy::new(
            rule,
            Options {
                floor: 0.05,
                ..Options::default()
            },
        )
        .unwrap();
        let arms: Vec<Arm> = [(5u64, 100u64), (50, 100), (10, 100)]
            .iter()
            .map(|&(s, n)| Arm::from_counts(s, n).unwrap())
            .collect();
        let w = policy.weights(&arms, 10_000, 3).unwrap();
        assert!(w.iter().all(|&x| x >= 0.05 - 1e-15), "{rule:?}: {w:?}");
        assert!(
            (w.iter().sum::<f64>() - 1.0).abs() < 1e-12,
            "{rule:?}: {w:?}"
        );
        assert!(
            w[1] > w[0] && w[1] > w[2],
            "{rule:?} should favour the best arm: {w:?}"
        );
    }
}

#[test]
fn burn_in_and_zero_pulls() {
    let policy = beta_policy(Options {
        burn_in: 10,
        ..Options::default()
    });
    let arms = [
        Arm::from_counts(5, 20).unwrap(),
        Arm::from_counts(0, 3).unwrap(),
        Arm::from_counts(2, 10).unwrap(),
    ];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    for _ in 0..20 {
        assert_eq!(
            policy.choose(&arms, &mut rng).unwrap(),
            1,
            "the least-pulled arm during burn-in"
        );
    }
    assert_eq!(policy.weights(&arms, 100, 1).unwrap(), vec![1.0 / 3.0; 3]);
    let fresh = [Arm::new(); 4];
    for rule in [
        Rule::Ucb1 { exploration: 2.0 },
        Rule::KlUcb { c: 0.0 },
        Rule::ThompsonBeta {
            prior_alpha: 1.0,
            prior_beta: 1.0,
        },
    ] {
        let p = Policy::new(rule, Options::default()).unwrap();
        assert!(p.choose(&fresh, &mut rng).unwrap() < 4);
        let w = p.weights(&fresh, 1_000, 1).unwrap();
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn invalid_input_is_rejected_with_codes() {
    let mut arm = Arm::new();
    assert_eq!(
        arm.update(f64::NAN).map_err(|e| e.code()),
        Err("invalid_argument")
    );
    assert_eq!(
        arm.update_batch(&[1.0, f64::INFINITY])
            .map_err(|e| e.code()),
        Err("invalid_argument")
    );
    assert_eq!(arm.pulls(), 0);
    let policy = beta_policy(Options::default());
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    assert!(policy.choose(&[], &mut rng).is_err());
    assert!(policy.weights(&[Arm::new()], 0, 1).is_err());
    for rule in [
        Rule::ThompsonBeta {
            prior_alpha: 0.0,
            prior_beta: 1.0,
        },
        Rule::ThompsonNormal {
            prior_mean: f64::NAN,
            prior_kappa: 1.0,
            prior_alpha: 1.0,
            prior_beta: 1.0,
        },
        Rule::Ucb1 { exploration: -1.0 },
        Rule::KlUcb { c: f64::NAN },
        Rule::EpsilonGreedy {
            epsilon: 1.5,
            decay: None,
        },
    ] {
        assert_eq!(
            Policy::new(rule, Options::default()).map_err(|e| e.code()),
            Err("invalid_argument")
        );
    }
    assert!(
        Policy::new(
            Rule::Ucb1 { exploration: 2.0 },
            Options {
                floor: -0.1,
                ..Options::default()
            }
        )
        .is_err()
    );
}

#[test]
fn thompson_regret_is_far_below_uniform_and_reproducible() {
    let means = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    let run = |seed: u64| -> (f64, Vec<usize>) {
        let policy = beta_policy(Options::default());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut arms = vec![Arm::new(); means.len()];
        let mut regret = 0.0;
        let mut first = Vec::new();
        for t in 0..10_000 {
            let i = policy.choose(&arms, &mut rng).unwrap();
            if t < 20 {
                first.push(i);
            }
            regret += 0.9 - means[i];
            let reward = if rng.next_f64() < means[i] { 1.0 } else { 0.0 };
            arms[i].update(reward).unwrap();
        }
        (regret, first)
    };
    let (regret, first) = run(5);
    assert_eq!(run(5).1, first, "same seed, same choices");
    // Uniform play would lose 0.4 per pull (4,000); Lai-Robbins' bound is about 28 ln T.
    assert!(regret < 400.0, "regret {regret}");
}

#[test]
fn published_weights_drive_hash_assignment() {
    use litmus_core::bandit::publish_weights;
    use litmus_core::config::wire::WireConfig;
    use litmus_core::{Engine, NoAttributes};

    let mut config: WireConfig = serde_json::from_value(serde_json::json!({
        "schema_version": 1,
        "experiments": [
            {"key": "hero", "kind": "bandit", "status": "running",
             "variants": [{"key": "a"}, {"key": "b"}, {"key": "c"}]},
            {"key": "plain", "status": "running",
             "variants": [{"key": "x"}, {"key": "y"}]}
        ]
    }))
    .unwrap();
    let arms = [
        Arm::from_counts(40, 1_000).unwrap(),
        Arm::from_counts(55, 1_000).unwrap(),
        Arm::from_counts(50, 1_000).unwrap(),
    ];
    let policy = beta_policy(Options {
        floor: 0.05,
        ..Options::default()
    });
    let weights = policy.weights(&arms, 20_000, 11).unwrap();
    publish_weights(&mut config, "hero", &weights).unwrap();
    let engine = Engine::from_json(&serde_json::to_string(&config).unwrap()).unwrap();
    assert!(engine.problems().is_empty());
    let mut seen = [0.0f64; 3];
    let n = 200_000;
    for i in 0..n {
        let a = engine.assign("hero", &format!("unit-{i}"), &NoAttributes);
        seen[a.variant().unwrap().index()] += 1.0;
    }
    // The engine splits units by the published weights (chi-squared goodness of fit).
    let fit = stats::chisquare(&seen, &weights).unwrap();
    assert!(fit.pvalue() > 1e-4, "{seen:?} vs {weights:?}: {fit:?}");

    // Errors leave the config untouched.
    let before = config.clone();
    let code = |r: Result<(), litmus_core::Error>| r.unwrap_err().code();
    assert_eq!(
        code(publish_weights(&mut config, "nope", &weights)),
        "unknown_reference"
    );
    assert_eq!(
        code(publish_weights(&mut config, "plain", &[0.5, 0.5])),
        "invalid_value"
    );
    assert_eq!(
        code(publish_weights(&mut config, "hero", &[0.5, 0.5])),
        "invalid_argument"
    );
    assert_eq!(
        code(publish_weights(&mut config, "hero", &[0.5, f64::NAN, 0.5])),
        "invalid_argument"
    );
    assert_eq!(
        code(publish_weights(&mut config, "hero", &[0.0, 0.0, 0.0])),
        "invalid_argument"
    );
    assert_eq!(config, before);
}
