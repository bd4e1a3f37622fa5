//! No input panics; every number returned is finite; errors are `invalid_argument`.

use super::super::{Anomaly, EwmaOptions, MAX_ABS_VALUE, RobustZOptions, ewma, robust_z};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(1.0),
        Just(MAX_ABS_VALUE),
        Just(-MAX_ABS_VALUE),
        Just(1e-300),
        Just(f64::MIN_POSITIVE),
        -10.0..10.0f64,
        -MAX_ABS_VALUE..MAX_ABS_VALUE,
        any::<f64>(),
    ]
}

fn positive() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(1e-300),
        Just(0.5),
        Just(1.0),
        Just(5.0),
        Just(1e300),
        Just(f64::MAX),
        Just(0.0),
        Just(f64::NAN),
        0.0..10.0f64,
    ]
}

fn series() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec(value(), 0..120),
        prop::collection::vec(
            prop_oneof![Just(0.0), Just(1.0), Just(3.0), 0.0..1e3f64],
            0..120
        ),
    ]
}

fn sound(r: Result<Vec<Anomaly>, crate::Error>, len: usize) {
    match r {
        Err(e) => assert_eq!(e.code(), "invalid_argument"),
        Ok(alarms) => {
            for a in alarms {
                let n = [
                    a.value(),
                    a.baseline(),
                    a.spread(),
                    a.lower(),
                    a.upper(),
                    a.score(),
                ];
                assert!(n.iter().all(|x| x.is_finite()), "{a:?}");
                assert!(a.spread() > 0.0 && a.lower() <= a.upper() && a.index() < len);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_every_number_is_finite(
        s in series(),
        window in 0usize..80,
        history in 0usize..80,
        warmup in 0usize..80,
        threshold in positive(),
        lambda in positive(),
        variance_lambda in positive(),
        min_spread in positive(),
        counts in any::<bool>(),
    ) {
        let o = RobustZOptions { window, min_history: history, threshold, min_spread, counts };
        sound(robust_z(&s, o), s.len());
        let o = EwmaOptions { lambda, variance_lambda, threshold, warmup, min_spread, counts };
        sound(ewma(&s, o), s.len());
        let o = RobustZOptions { window: usize::MAX, ..RobustZOptions::default() };
        sound(robust_z(&s, o), s.len());
        let o = EwmaOptions { warmup: usize::MAX, ..EwmaOptions::default() };
        sound(ewma(&s, o), s.len());
    }
}
