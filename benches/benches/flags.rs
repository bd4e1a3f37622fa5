//! Flag evaluation against assignment in the same run, per-call cost at 10 and 10,000 flags,
//! and the load time of a 10,000-flag, 2,000-experiment document.
//!
//! `cargo bench -p litmus-benches --bench flags` runs the criterion groups, then prints the
//! ratios the flags issue sets goals for: `evaluate` of a boolean flag with one rollout rule
//! against a plain `assign` (goal: at most 2x), and the per-call cost at 10,000 flags against
//! 10 (goal: flat).
#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group};
use litmus_benches::{N_USERS, flag_document, user_ids};
use litmus_core::{Attributes, Engine, NoAttributes};

const GROUP: &str = "flags";

fn benches(c: &mut Criterion) {
    let ids = user_ids();
    let small = Engine::from_json(&flag_document(10, 10)).unwrap();
    let large_text = flag_document(10_000, 2_000);
    let large = Engine::from_json(&large_text).unwrap();
    assert!(
        large.problems().is_empty(),
        "{:?}",
        large.problems().first()
    );
    let enterprise = Attributes::new()
        .with("plan", "enterprise")
        .with("country", "US");
    let mut g = c.benchmark_group(GROUP);
    let mut i = 0usize;
    g.bench_function("assign_plain", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            black_box(
                small
                    .assign(black_box("fx-0"), black_box(&ids[i]), &NoAttributes)
                    .variant_key(),
            )
        })
    });
    g.bench_function("evaluate_rollout_10_flags", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            black_box(
                small
                    .evaluate(black_box("flag-0"), black_box(&ids[i]), &NoAttributes)
                    .value(),
            )
        })
    });
    g.bench_function("evaluate_rollout_10k_flags", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            black_box(
                large
                    .evaluate(black_box("flag-0"), black_box(&ids[i]), &NoAttributes)
                    .value(),
            )
        })
    });
    g.bench_function("boolean_flag_10k_flags", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            black_box(large.boolean_flag(
                black_box("flag-0"),
                black_box(&ids[i]),
                &NoAttributes,
                None,
                false,
            ))
        })
    });
    g.bench_function("evaluate_targeted_experiment_rule", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            black_box(
                large
                    .evaluate(black_box("flag-4"), black_box(&ids[i]), &enterprise)
                    .value(),
            )
        })
    });
    g.bench_function("evaluate_experiment_rule", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            black_box(
                large
                    .evaluate(black_box("flag-4"), black_box(&ids[i]), &NoAttributes)
                    .value(),
            )
        })
    });
    g.finish();
    let mut g = c.benchmark_group(GROUP);
    g.sample_size(10);
    g.bench_function("load_10k_flags_2k_experiments", |b| {
        b.iter_custom(|iterations| litmus_benches::time_loads(iterations, &large_text))
    });
    g.finish();
}

criterion_group!(group, benches);

fn mean_ns(name: &str) -> Option<f64> {
    litmus_benches::criterion_mean_ns(GROUP, name)
}

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
    let (Some(assign), Some(small), Some(large)) = (
        mean_ns("assign_plain"),
        mean_ns("evaluate_rollout_10_flags"),
        mean_ns("evaluate_rollout_10k_flags"),
    ) else {
        return;
    };
    println!("\nflags, this run:");
    println!("  assign_plain                         {assign:>8.2} ns");
    println!(
        "  evaluate (1 rollout rule), 10 flags  {small:>8.2} ns  {:>5.2}x assign (goal <= 2x)",
        small / assign
    );
    println!(
        "  evaluate (1 rollout rule), 10k flags {large:>8.2} ns  {:>5.2}x the 10-flag call (goal: flat)",
        large / small
    );
    if let Some(load) = mean_ns("load_10k_flags_2k_experiments") {
        println!(
            "  load 10k flags + 2k experiments      {:>8.2} ms (goal < 100 ms)",
            load / 1e6
        );
    }
}
