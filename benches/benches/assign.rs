//! Assignment hot path against the floor of a bare XXH3 bucket.
//!
//! `cargo bench -p litmus-benches --bench assign` runs the criterion groups, then prints each
//! benchmark's time as a ratio to the floor (from criterion's own estimates).
#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group};
use litmus_benches::{N_USERS, SALT, engine, user_ids};
use litmus_core::hash::{Purpose, Seed};
use litmus_core::{Attributes, NoAttributes};

const GROUP: &str = "assign";

fn benches(c: &mut Criterion) {
    let ids = user_ids();
    let engine20 = engine(18);
    let us = Attributes::new().with("country", "US");
    let seed = Seed::new(SALT, Purpose::Variant);
    let mut g = c.benchmark_group(GROUP);

    let mut i = 0usize;
    g.bench_function("xxh3_bucket_floor", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            black_box(seed.bucket(black_box(&ids[i])))
        })
    });
    // The peers' floor (shared/peers/rust-floor): hash of "<unit>:<salt>" built in a stack buffer.
    g.bench_function("xxh3_concat_floor", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            let unit = black_box(&ids[i]).as_bytes();
            let mut buf = [0u8; 64];
            let n = unit.len() + 1 + SALT.len();
            buf[..unit.len()].copy_from_slice(unit);
            buf[unit.len()] = b':';
            buf[unit.len() + 1..n].copy_from_slice(SALT.as_bytes());
            black_box(xxhash_rust::xxh3::xxh3_64(&buf[..n]) % 10_000)
        })
    });
    g.bench_function("assign_plain", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            black_box(
                engine20
                    .assign(black_box("exp-plain"), black_box(&ids[i]), &NoAttributes)
                    .variant_key(),
            )
        })
    });
    g.bench_function("assign_targeted", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            black_box(
                engine20
                    .assign(black_box("exp-targeted"), black_box(&ids[i]), &us)
                    .variant_key(),
            )
        })
    });
    g.bench_function("assign_all_20", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            engine20
                .assign_all(black_box(&ids[i]), &us)
                .filter(|a| a.in_experiment())
                .count()
        })
    });
    g.bench_function("assign_unknown_experiment", |b| {
        b.iter(|| {
            i = (i + 1) & (N_USERS - 1);
            black_box(
                engine20
                    .assign(black_box("exp-none"), black_box(&ids[i]), &NoAttributes)
                    .reason(),
            )
        })
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
    let (Some(floor), Some(concat)) = (mean_ns("xxh3_bucket_floor"), mean_ns("xxh3_concat_floor"))
    else {
        return;
    };
    println!(
        "\nratios to the floors: seeded xxh3 bucket {floor:.2} ns, peers' concat+xxh3 {concat:.2} ns"
    );
    for name in [
        "assign_plain",
        "assign_targeted",
        "assign_all_20",
        "assign_unknown_experiment",
    ] {
        if let Some(ns) = mean_ns(name) {
            println!(
                "  {name:<28} {ns:>8.2} ns  {:>6.2}x bucket floor  {:>6.2}x concat floor",
                ns / floor,
                ns / concat
            );
        }
    }
}
