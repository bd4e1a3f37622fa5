//! No statistics entry point panics or loops on any input: NaN, infinities, zero variance,
//! n = 0 or 1, counts of 1e12. Bad input is an error with a code; results are numbers in range.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use litmus_core::stats::{
    self, Alternative, CoMoments, Correction, Moments, Proportion, ProportionMethod, ZVariance,
    dist, power,
};
use proptest::prelude::*;

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(1e-300),
        Just(1e300),
        Just(f64::MAX),
        -1e6f64..1e6,
        any::<f64>(),
    ]
}

fn any_count() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(2),
        Just(1_000_000_000_000),
        0u64..10_000,
        any::<u64>()
    ]
}

fn codes_ok<T>(r: Result<T, litmus_core::Error>) {
    if let Err(e) = r {
        assert!(
            matches!(e.code(), "invalid_argument" | "degenerate_data"),
            "unexpected code {}",
            e.code()
        );
    }
}

fn probability(p: f64) -> bool {
    (0.0..=1.0).contains(&p)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn tests_never_panic(m1 in any_f64(), s1 in any_f64(), n1 in any_count(), m2 in any_f64(), s2 in any_f64(), n2 in any_count(), eq in any::<bool>()) {
        for alt in [Alternative::TwoSided, Alternative::Less, Alternative::Greater] {
            match stats::ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, eq, alt) {
                Ok(t) => prop_assert!(probability(t.pvalue()), "p {} for {:?}", t.pvalue(), t),
                Err(e) => codes_ok::<()>(Err(e)),
            }
        }
        if let (Ok(a), Ok(b)) = (Moments::from_mean_std(n1, m1, s1), Moments::from_mean_std(n2, m2, s2)) {
            for alpha in [0.05, 0.0, 1.0, f64::NAN] {
                codes_ok(stats::diff_means_confint(&a, &b, alpha, eq));
                codes_ok(stats::relative_lift_confint(&a, &b, alpha));
                codes_ok(stats::mean_confint(&a, alpha));
                codes_ok(stats::msprt_means(&a, &b, 1.0, alpha));
            }
            codes_ok(stats::f_oneway(&[a, b]));
            codes_ok(stats::compare_to_control(&a, &[b, a], 0.05, Correction::Holm));
            if let (Ok(pa), Ok(pb)) = (stats::NormalPosterior::from_data(&a), stats::NormalPosterior::from_data(&b)) {
                let p = stats::normal_prob_beats(&pa, &pb);
                prop_assert!(probability(p) || p.is_nan());
            }
        }
    }

    #[test]
    fn proportions_never_panic(x1 in any_count(), n1 in any_count(), x2 in any_count(), n2 in any_count(), alpha in any_f64()) {
        let (a, b) = (Proportion::new(x1, n1), Proportion::new(x2, n2));
        if let (Ok(a), Ok(b)) = (a, b) {
            for v in [ZVariance::Pooled, ZVariance::Unpooled] {
                match stats::proportions_ztest(&a, &b, v, Alternative::TwoSided) {
                    Ok(z) => prop_assert!(probability(z.pvalue()), "p {}", z.pvalue()),
                    Err(e) => codes_ok::<()>(Err(e)),
                }
            }
            for m in [ProportionMethod::Normal, ProportionMethod::Wilson, ProportionMethod::AgrestiCoull] {
                codes_ok(stats::proportion_confint(&a, alpha, m));
            }
            codes_ok(stats::newcombe_diff_confint(&a, &b, alpha));
            codes_ok(stats::msprt_proportions(&a, &b, 0.01, 0.05));
            if let (Ok(pa), Ok(pb)) = (stats::BetaPosterior::from_data(&a, 1.0, 1.0), stats::BetaPosterior::from_data(&b, 1.0, 1.0)) {
                if a.trials() < 1_000_000 && b.trials() < 1_000_000 {
                    let p = stats::prob_beats(&pa, &pb);
                    prop_assert!(probability(p), "p {p}");
                    prop_assert!(stats::expected_loss(&pa, &pb) >= 0.0);
                }
            }
            codes_ok(stats::chi2_contingency(&[x1 as f64, (n1 - x1) as f64, x2 as f64, (n2 - x2) as f64], 2, true));
        }
    }

    #[test]
    fn tables_and_lists_never_panic(cells in prop::collection::vec(any_f64(), 0..12), rows in 0usize..5, weights in prop::collection::vec(any_f64(), 0..6), alpha in any_f64()) {
        codes_ok(stats::chi2_contingency(&cells, rows, true));
        codes_ok(stats::chisquare(&cells, &weights));
        codes_ok(stats::multipletests(&cells, alpha, Correction::BenjaminiHochberg));
        codes_ok(Moments::from_slice(&cells));
        codes_ok(CoMoments::from_slices(&cells, &weights));
        let levels: Vec<usize> = weights.iter().map(|w| (w.abs() as usize) % 4).collect();
        let moments: Vec<Moments> = cells.iter().filter_map(|c| Moments::from_mean_std(3, *c, 1.0).ok()).collect();
        codes_ok(stats::factorial_anova(&levels, &moments));
    }

    #[test]
    fn distributions_and_planning_never_panic(x in any_f64(), a in any_f64(), b in any_f64()) {
        for v in [dist::normal_sf(x), dist::student_t_sf(x, a), dist::chi2_sf(x, a), dist::f_sf(x, a, b), dist::beta_cdf(x, a, b)] {
            prop_assert!(v.is_nan() || probability(v), "{v}");
        }
        let _ = dist::normal_ppf(x);
        let _ = dist::student_t_isf(x, a);
        codes_ok(power::power(x, a, b, 0.05, Alternative::TwoSided));
        codes_ok(power::sample_size(x, 0.8, 1.0, 0.05, Alternative::TwoSided));
        codes_ok(power::minimum_detectable_effect(a.abs(), 0.8, 1.0, 0.05, Alternative::Greater));
        codes_ok(stats::msprt(x, a, b, 0.05));
    }
}
