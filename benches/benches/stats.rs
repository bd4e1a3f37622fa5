//! Statistics hot paths, each printed as a ratio to a baseline measured in the same run.
//!
//! `cargo bench -p litmus-benches --bench stats`. Targets (issue 3): Welch's t-test from
//! summaries under 0.5 us (scipy's ttest_ind_from_stats: 35 us), chi-squared 2x2 and 4x2 under
//! 1 us (scipy's chi2_contingency: 410 us), summaries of 1e7 values under 15 ms.
#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group};
use litmus_core::stats::{self, Alternative, Moments, Proportion, ZVariance, dist};

const GROUP: &str = "stats";

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group(GROUP);
    g.bench_function("welch_ttest_from_stats", |b| {
        b.iter(|| {
            stats::ttest_ind_from_stats(
                black_box(10.2),
                black_box(2.1),
                black_box(5_000),
                black_box(10.0),
                black_box(2.3),
                black_box(5_100),
                false,
                Alternative::TwoSided,
            )
            .unwrap()
            .pvalue()
        })
    });
    g.bench_function("normal_sf_baseline", |b| {
        b.iter(|| dist::normal_sf(black_box(1.7)))
    });
    let a = Proportion::new(1_234, 10_000).unwrap();
    let z = Proportion::new(1_301, 10_050).unwrap();
    g.bench_function("proportions_ztest", |b| {
        b.iter(|| {
            stats::proportions_ztest(
                black_box(&a),
                black_box(&z),
                ZVariance::Pooled,
                Alternative::TwoSided,
            )
            .unwrap()
            .pvalue()
        })
    });
    let t22 = [1_234.0, 8_766.0, 1_301.0, 8_749.0];
    g.bench_function("chi2_contingency_2x2", |b| {
        b.iter(|| {
            stats::chi2_contingency(black_box(&t22), 2, true)
                .unwrap()
                .pvalue()
        })
    });
    let t42 = [
        1_234.0, 8_766.0, 1_301.0, 8_749.0, 1_250.0, 8_800.0, 1_199.0, 8_700.0,
    ];
    g.bench_function("chi2_contingency_4x2", |b| {
        b.iter(|| {
            stats::chi2_contingency(black_box(&t42), 4, true)
                .unwrap()
                .pvalue()
        })
    });
    g.bench_function("chi2_sf_baseline", |b| {
        b.iter(|| dist::chi2_sf(black_box(3.2), black_box(3.0)))
    });
    g.bench_function("t_sf_df_1e9", |b| {
        b.iter(|| dist::student_t_sf(black_box(2.0), black_box(1e9)))
    });
    let values: Vec<f64> = (0..10_000_000u64)
        .map(|i| ((i * 2_654_435_761) % 1_000_003) as f64 * 1e-3)
        .collect();
    g.sample_size(20);
    g.bench_function("moments_1e7", |b| {
        b.iter(|| Moments::from_slice(black_box(&values)).unwrap().variance())
    });
    g.bench_function("sum_1e7_baseline", |b| {
        b.iter(|| {
            let mut acc = [0.0f64; 4];
            for lane in black_box(&values).chunks_exact(4) {
                for (a, x) in acc.iter_mut().zip(lane) {
                    *a += x;
                }
            }
            acc.iter().sum::<f64>()
        })
    });
    let a = stats::BetaPosterior::new(1_235.0, 8_767.0).unwrap();
    let b = stats::BetaPosterior::new(1_302.0, 8_750.0).unwrap();
    g.bench_function("bayes_prob_beats", |bch| {
        bch.iter(|| stats::prob_beats(black_box(&a), black_box(&b)))
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
    println!(
        "\nstatistics (mean of criterion's estimates; ratio to the baseline of the same run):"
    );
    for (name, baseline) in [
        ("welch_ttest_from_stats", "normal_sf_baseline"),
        ("proportions_ztest", "normal_sf_baseline"),
        ("chi2_contingency_2x2", "chi2_sf_baseline"),
        ("chi2_contingency_4x2", "chi2_sf_baseline"),
        ("t_sf_df_1e9", "normal_sf_baseline"),
        ("moments_1e7", "sum_1e7_baseline"),
        ("bayes_prob_beats", "normal_sf_baseline"),
    ] {
        if let (Some(ns), Some(base)) = (mean_ns(name), mean_ns(baseline)) {
            let shown = if ns > 1e6 {
                format!("{:.2} ms", ns / 1e6)
            } else {
                format!("{ns:.1} ns")
            };
            println!("  {name:<24} {shown:>12}  {:>7.2}x {baseline}", ns / base);
        }
    }
}
