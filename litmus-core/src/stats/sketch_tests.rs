//! Unit tests of the quantile sketch.

use super::*;
use crate::rng::{RandomSource, Xoshiro256PlusPlus};
use proptest::prelude::*;

/// Values from 1e-12 to 1e300 in magnitude, both signs, and zeros.
fn spread(rng: &mut Xoshiro256PlusPlus, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let magnitude = 10f64.powf(rng.next_f64() * 312.0 - 12.0);
            match i % 5 {
                0 => -magnitude,
                1 => 0.0,
                _ => magnitude,
            }
        })
        .collect()
}

fn within(got: f64, want: f64, alpha: f64) -> bool {
    if want.abs() < MIN_INDEXABLE {
        return got == 0.0;
    }
    (got - want).abs() <= alpha * want.abs() * (1.0 + 1e-9)
}

#[test]
fn keys_are_never_zero_for_nonzero_values_and_fit_the_documented_range() {
    for alpha in [MIN_RELATIVE_ACCURACY, 0.01, MAX_RELATIVE_ACCURACY] {
        let m = Mapping::new(alpha).unwrap();
        assert!(m.min_index + KEY_OFFSET > 0, "alpha {alpha}: {m:?}");
        assert!(m.max_index.checked_add(KEY_OFFSET).is_some());
        for x in [MIN_INDEXABLE, 1.0, f64::MAX] {
            let k = key(x, alpha).unwrap();
            assert!(
                (22_407..=387_660).contains(&k),
                "alpha {alpha} x {x}: key {k}"
            );
            assert_eq!(key(-x, alpha), Some(-k));
            assert!(within(value(k, alpha).unwrap(), x, alpha), "x {x}");
        }
        for tiny in [0.0, -0.0, 9.99e-10, f64::MIN_POSITIVE, 5e-324] {
            assert_eq!(key(tiny, alpha), Some(0));
        }
    }
    assert_eq!(Mapping::new(0.001).map(|m| m.min_index), Some(-10_361));
    assert_eq!(Mapping::new(0.001).map(|m| m.max_index), Some(354_892));
    assert_eq!(key(f64::NAN, 0.01), None);
    assert_eq!(key(f64::INFINITY, 0.01), None);
    assert_eq!(key(1.0, 0.2), None);
    assert_eq!(value(0, 0.01), Some(0.0));
    assert_eq!(value(1, 0.01), None);
    assert_eq!(value(i32::MIN, 0.01), None);
    assert_eq!(value(KEY_OFFSET, f64::NAN), None);
}

#[test]
fn keys_sort_like_values_and_representatives_are_within_alpha() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    for alpha in [0.001, 0.01, 0.05] {
        let mut values = spread(&mut rng, 5_000);
        values.sort_by(f64::total_cmp);
        let keys: Vec<i32> = values.iter().map(|&x| key(x, alpha).unwrap()).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "alpha {alpha}");
        for (&x, &k) in values.iter().zip(&keys) {
            let v = value(k, alpha).unwrap();
            assert!(within(v, x, alpha), "alpha {alpha}: {x} -> key {k} -> {v}");
        }
    }
}

#[test]
fn bucket_edges_are_within_alpha_of_the_representative() {
    let alpha = 0.01;
    let gamma: f64 = 1.01 / 0.99;
    for k in [-500, -1, 0, 1, 7, 500] {
        let edge = gamma.powi(k);
        for x in [edge * (1.0 - 1e-12), edge * (1.0 + 1e-12)] {
            let v = value(key(x, alpha).unwrap(), alpha).unwrap();
            assert!(within(v, x, alpha), "{x} -> {v}");
        }
    }
}

#[test]
fn add_then_remove_leaves_an_empty_sketch() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let values = spread(&mut rng, 1_000);
    let mut s = QuantileSketch::default();
    values.iter().try_for_each(|&x| s.add(x)).unwrap();
    assert_eq!(s.count(), 1_000);
    values.iter().rev().try_for_each(|&x| s.remove(x)).unwrap();
    assert!(s.is_empty());
    assert_eq!(s.count(), 0);
    assert_eq!(s, QuantileSketch::default());
}

#[test]
fn merging_equals_adding_everything_to_one_sketch() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let values = spread(&mut rng, 3_000);
    let mut all = QuantileSketch::new(0.02).unwrap();
    let mut parts = [all.clone(), all.clone(), all.clone()];
    for (i, &x) in values.iter().enumerate() {
        all.add(x).unwrap();
        parts[i % 3].add(x).unwrap();
    }
    let mut merged = QuantileSketch::new(0.02).unwrap();
    for p in &parts {
        merged.merge(p).unwrap();
    }
    assert_eq!(merged, all);
    assert_eq!(
        merged.buckets().collect::<Vec<_>>(),
        all.buckets().collect::<Vec<_>>()
    );
}

#[test]
fn summed_rows_of_changes_give_the_sketch_of_the_final_totals() {
    // Per-minute rows of (key, delta): a unit's first event enters its total's bucket, each
    // later event moves it (-1 in the old total's bucket, +1 in the new one's).
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let mut totals = vec![None::<f64>; 300];
    let mut minutes: Vec<BTreeMap<i32, i64>> = Vec::new();
    for _ in 0..50 {
        let mut row = BTreeMap::new();
        for _ in 0..40 {
            let unit = rng.below(totals.len() as u64) as usize;
            let amount = (rng.next_f64() * 100.0).round() - 20.0;
            let old = totals[unit];
            let new = old.unwrap_or(0.0) + amount;
            if let Some(old) = old {
                *row.entry(key(old, 0.01).unwrap()).or_insert(0) -= 1;
            }
            *row.entry(key(new, 0.01).unwrap()).or_insert(0) += 1;
            totals[unit] = Some(new);
        }
        minutes.push(row);
    }
    let mut from_rows = QuantileSketch::default();
    // In any order: rows summed as a database would, then fed by key.
    for row in minutes.iter().rev() {
        for (&k, &d) in row {
            from_rows.add_key(k, d).unwrap();
        }
    }
    let mut direct = QuantileSketch::default();
    for t in totals.iter().flatten() {
        direct.add(*t).unwrap();
    }
    // Units that never had an event count as zeros.
    let silent = totals.iter().filter(|t| t.is_none()).count() as u64;
    from_rows.add_zeros(silent).unwrap();
    direct.add_zeros(silent).unwrap();
    assert_eq!(from_rows, direct);
    assert_eq!(from_rows.count(), 300);
    assert!(from_rows.buckets().all(|(_, c)| c > 0));
}

#[test]
fn quantiles_use_the_lower_order_statistic() {
    let mut s = QuantileSketch::new(0.001).unwrap();
    for x in [5.0, 1.0, 4.0, 2.0, 3.0, 0.0, -7.0] {
        s.add(x).unwrap();
    }
    // Sorted: -7 0 1 2 3 4 5; q (n - 1) = 6 q.
    for (q, want) in [(0.0, -7.0), (0.2, 0.0), (0.5, 2.0), (0.99, 4.0), (1.0, 5.0)] {
        assert!(within(s.quantile(q).unwrap(), want, 0.001), "q {q}");
    }
    assert!(within(s.rank_value(6).unwrap(), 5.0, 0.001));
    assert_eq!(s.rank_value(7).unwrap_err().code(), "invalid_argument");
}

#[test]
fn bad_arguments_and_inconsistent_sketches_are_errors() {
    for alpha in [0.0, 0.0009, 0.051, 1.0, f64::NAN, -0.01] {
        assert_eq!(
            QuantileSketch::new(alpha).unwrap_err().code(),
            "invalid_argument"
        );
    }
    let mut s = QuantileSketch::default();
    assert_eq!(s.quantile(0.5).unwrap_err().code(), "degenerate_data");
    for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(s.add(x).unwrap_err().code(), "invalid_argument");
        assert_eq!(s.remove(x).unwrap_err().code(), "invalid_argument");
    }
    s.add(1.0).unwrap();
    for q in [-0.1, 1.1, f64::NAN] {
        assert_eq!(s.quantile(q).unwrap_err().code(), "invalid_argument");
    }
    assert_eq!(s.add_key(3, 1).unwrap_err().code(), "invalid_argument");
    assert_eq!(
        s.add_key(0, i64::MAX).unwrap_err().code(),
        "invalid_argument"
    );
    assert_eq!(s.count(), 1, "a failed add leaves the sketch unchanged");
    // A merge that would overflow adds none of the other's buckets.
    let mut big = QuantileSketch::default();
    big.add(1.0).unwrap();
    big.add_key(s.key(50.0).unwrap(), i64::MAX - 1).unwrap();
    let mut other = QuantileSketch::default();
    other.add(1.0).unwrap();
    other.add(50.0).unwrap();
    other.add(50.0).unwrap();
    let before = big.clone();
    assert_eq!(big.merge(&other).unwrap_err().code(), "invalid_argument");
    assert_eq!(big, before, "a failed merge leaves the sketch unchanged");
    assert_eq!(
        s.merge(&QuantileSketch::new(0.02).unwrap())
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    // A move recorded without the unit's entry: net -1 in one bucket.
    s.remove(2.0).unwrap();
    s.add(3.0).unwrap();
    assert_eq!(s.count(), 1);
    assert_eq!(s.quantile(0.5).unwrap_err().code(), "degenerate_data");
    assert_eq!(s.rank_value(0).unwrap_err().code(), "degenerate_data");
    assert_eq!(
        s.add_zeros(u64::MAX).unwrap_err().code(),
        "invalid_argument"
    );
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(5e-324),
        -1e6f64..1e6,
        any::<f64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn never_panics(
        alpha in prop_oneof![Just(0.001), Just(0.05), any::<f64>(), 0.0f64..0.1],
        xs in proptest::collection::vec(any_f64(), 0..20),
        rows in proptest::collection::vec((any::<i32>(), any::<i64>()), 0..10),
        q in prop_oneof![any_f64(), 0.0f64..=1.0],
        rank in any::<u64>(),
    ) {
        let _ = (key(xs.first().copied().unwrap_or(1.0), alpha), value(rank as i32, alpha));
        let Ok(mut s) = QuantileSketch::new(alpha) else { return Ok(()) };
        for &x in &xs {
            let _ = s.add(x);
            let key = s.key(x).unwrap_or(0);
            prop_assert!(value(key, alpha).is_some());
        }
        let mut other = s.clone();
        for &(k, c) in &rows {
            let _ = other.add_key(k, c);
            let _ = other.add_key(s.key(f64::from(k)).unwrap_or(0), c);
        }
        let _ = s.merge(&other);
        let _ = s.add_zeros(rank);
        if let Ok(v) = s.quantile(q) {
            prop_assert!(!v.is_nan());
        }
        let _ = s.rank_value(rank);
        let _ = s.rank_value(rank % 64);
        let _ = crate::stats::quantile_interval(&s, q, 0.05);
        let _ = crate::stats::quantile_ztest(&s, &other, q, 0.05);
    }
}
