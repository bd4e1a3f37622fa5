//! Bandit hot paths (issue 4 targets: Thompson choice among 10 arms < 300 ns, weights for 10
//! arms with 10,000 draws < 1 ms, update < 20 ns; mabwiser: 8.3 us per decision, 165 us per
//! single update). `cargo bench -p litmus-benches --bench bandit`.
#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use litmus_core::bandit::sample::{Beta, Gamma, standard_normal};
use litmus_core::bandit::{Arm, Options, Policy, Rule};
use litmus_core::rng::Xoshiro256PlusPlus;

fn arms() -> Vec<Arm> {
    (0..10u64)
        .map(|i| Arm::from_counts(100 + 7 * i, 1_000).unwrap())
        .collect()
}

fn benches(c: &mut Criterion) {
    let arms = arms();
    let mut g = c.benchmark_group("bandit");
    let thompson = Policy::thompson_beta();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    g.bench_function("thompson_choose_10_arms", |b| {
        b.iter(|| thompson.choose(black_box(&arms), &mut rng).unwrap())
    });
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
    g.bench_function("thompson_normal_choose_10_arms", |b| {
        b.iter(|| normal.choose(black_box(&arms), &mut rng).unwrap())
    });
    let ucb = Policy::new(Rule::Ucb1 { exploration: 2.0 }, Options::default()).unwrap();
    g.bench_function("ucb1_choose_10_arms", |b| {
        b.iter(|| ucb.choose(black_box(&arms), &mut rng).unwrap())
    });
    let kl = Policy::new(Rule::KlUcb { c: 0.0 }, Options::default()).unwrap();
    g.bench_function("kl_ucb_choose_10_arms", |b| {
        b.iter(|| kl.choose(black_box(&arms), &mut rng).unwrap())
    });
    g.bench_function("thompson_weights_10_arms_10k_draws", |b| {
        b.iter(|| thompson.weights(black_box(&arms), 10_000, 7).unwrap())
    });
    g.bench_function("thompson_weights_10_arms_10k_draws_monte_carlo", |b| {
        b.iter(|| {
            thompson
                .weights_monte_carlo(black_box(&arms), 10_000, 7)
                .unwrap()
        })
    });
    g.bench_function("thompson_normal_weights_10_arms", |b| {
        b.iter(|| normal.weights(black_box(&arms), 10_000, 7).unwrap())
    });
    let two = [arms[0], arms[9]];
    g.bench_function("thompson_weights_2_arms_exact", |b| {
        b.iter(|| thompson.weights(black_box(&two), 10_000, 7).unwrap())
    });
    let gamma = Gamma::new(130.0);
    let beta = Beta::new(130.0, 871.0);
    g.bench_function("sample_standard_normal", |b| {
        b.iter(|| standard_normal(&mut rng))
    });
    g.bench_function("sample_gamma_130", |b| b.iter(|| gamma.sample(&mut rng)));
    g.bench_function("sample_beta_130_871", |b| b.iter(|| beta.sample(&mut rng)));
    g.bench_function("sample_beta_130_871_with_setup", |b| {
        b.iter(|| Beta::new(black_box(130.0), black_box(871.0)).sample(&mut rng))
    });
    let mut arm = Arm::new();
    let mut x = 0.0;
    g.bench_function("arm_update", |b| {
        b.iter(|| {
            x = if x > 0.5 { 0.0 } else { 1.0 };
            arm.update(black_box(x)).unwrap()
        })
    });
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
