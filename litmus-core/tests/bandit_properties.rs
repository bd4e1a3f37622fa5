//! Property tests for bandits: no rule panics on any arm state, choices are valid indices,
//! and weights are probabilities that respect the floor and sum to 1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use litmus_core::bandit::{Arm, Options, Policy, Rule};
use litmus_core::rng::Xoshiro256PlusPlus;
use proptest::prelude::*;

fn positive() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(1e-9),
        Just(0.5),
        Just(1.0),
        Just(2.0),
        Just(1e6),
        0.01f64..100.0,
    ]
}

fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![
        (positive(), positive()).prop_map(|(prior_alpha, prior_beta)| Rule::ThompsonBeta {
            prior_alpha,
            prior_beta
        }),
        (-1e3f64..1e3, positive(), positive(), positive()).prop_map(
            |(prior_mean, prior_kappa, prior_alpha, prior_beta)| Rule::ThompsonNormal {
                prior_mean,
                prior_kappa,
                prior_alpha,
                prior_beta,
            }
        ),
        positive().prop_map(|exploration| Rule::Ucb1 { exploration }),
        (0.0f64..3.0).prop_map(|c| Rule::KlUcb { c }),
        (0.0f64..=1.0, prop::option::of(positive()))
            .prop_map(|(epsilon, decay)| Rule::EpsilonGreedy { epsilon, decay }),
    ]
}

fn arm() -> impl Strategy<Value = Arm> {
    prop_oneof![
        Just(Arm::new()),
        (0u64..2_000_000_000, 0u64..2_000_000_000).prop_map(|(a, b)| {
            let (s, n) = if a <= b { (a, b) } else { (b, a) };
            Arm::from_counts(s, n).unwrap()
        }),
        (0u64..50, 0u64..50).prop_map(|(a, b)| Arm::from_counts(a.min(b), a.max(b)).unwrap()),
        prop::collection::vec(
            prop_oneof![-1e12f64..1e12, 0.0f64..1.0, Just(0.0), Just(1.0)],
            0..40
        )
        .prop_map(|rewards| {
            let mut arm = Arm::new();
            arm.update_batch(&rewards).unwrap();
            arm
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn policies_never_panic_and_weights_are_probabilities(
        rule in rule(),
        arms in prop::collection::vec(arm(), 1..8),
        floor in prop_oneof![Just(0.0), 0.0f64..0.5],
        burn_in in 0u64..5,
        seed in any::<u64>(),
    ) {
        let options = Options { burn_in, floor, optimistic: None };
        let Ok(policy) = Policy::new(rule, options) else {
            return Ok(());
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let chosen = policy.choose(&arms, &mut rng).unwrap();
        prop_assert!(chosen < arms.len());
        for weights in [
            policy.weights(&arms, 500, seed).unwrap(),
            policy.weights_monte_carlo(&arms, 500, seed).unwrap(),
        ] {
            prop_assert_eq!(weights.len(), arms.len());
            let total: f64 = weights.iter().sum();
            prop_assert!((total - 1.0).abs() < 1e-9, "{:?}", weights);
            let least = floor.min(1.0 / arms.len() as f64);
            for w in &weights {
                prop_assert!(w.is_finite() && *w >= least - 1e-12 && *w <= 1.0 + 1e-12, "{:?}", weights);
            }
        }
    }
}
