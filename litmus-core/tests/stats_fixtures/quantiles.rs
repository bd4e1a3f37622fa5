//! Quantiles against numpy (`fixtures/stats/quantiles.json`): `exact_quantile` equals
//! `numpy.quantile(method="lower")` to 1e-12 relative; the sketch's quantiles and interval
//! bounds are within its relative accuracy of numpy's, at the same order-statistic ranks.

use litmus_core::stats::{self, QuantileSketch};
use serde_json::Value;

use super::{int, load, num};

fn values(sample: &Value) -> Vec<f64> {
    sample["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// `got` within `rel` of `want`, relatively (exactly 0 when `want` is).
fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs()
}

#[test]
fn quantiles_match_numpy() {
    let cases = load("quantiles.json");
    let (mut checks, mut worst_exact, mut worst_sketch) = (0usize, 0.0f64, 0.0f64);
    for sample in cases["samples"].as_array().unwrap() {
        let x = values(sample);
        let kind = sample["kind"].as_str().unwrap();
        for alpha in [0.001, 0.01, 0.05] {
            let mut sketch = QuantileSketch::new(alpha).unwrap();
            x.iter().try_for_each(|&v| sketch.add(v)).unwrap();
            let tolerance = alpha * (1.0 + 1e-9);
            for c in sample["quantiles"].as_array().unwrap() {
                let (q, want) = (num(c, "q"), num(c, "value"));
                let exact = stats::exact_quantile(&x, q).unwrap();
                let got = sketch.quantile(q).unwrap();
                assert!(close(exact, want, 1e-12), "{kind} q {q}: {exact} vs {want}");
                assert!(
                    close(got, want, tolerance),
                    "{kind} alpha {alpha} q {q}: {got} vs {want}"
                );
                worst_exact = worst_exact.max((exact - want).abs() / want.abs().max(1e-300));
                worst_sketch =
                    worst_sketch.max((got - want).abs() / want.abs().max(1e-300) / alpha);
                checks += 1;
            }
            for c in sample["intervals"].as_array().unwrap() {
                let (q, level) = (num(c, "q"), num(c, "alpha"));
                let e = stats::quantile_interval(&sketch, q, level).unwrap();
                let what = format!("{kind} n {} alpha {alpha} q {q} level {level}", x.len());
                assert_eq!(e.lower_rank(), int(c, "lower_rank"), "{what}");
                assert_eq!(e.upper_rank(), int(c, "upper_rank"), "{what}");
                for (got, want) in [
                    (e.interval().lower(), num(c, "lower")),
                    (e.interval().upper(), num(c, "upper")),
                ] {
                    assert!(close(got, want, tolerance), "{what}: {got} vs {want}");
                }
                // |se' - se| <= alpha (|upper| + |lower|) / (2 z).
                let (lo, hi, z) = (num(c, "lower"), num(c, "upper"), num(c, "z"));
                let bound = tolerance * (lo.abs() + hi.abs()) / (2.0 * z);
                assert!(
                    (e.std_error() - (hi - lo) / (2.0 * z)).abs() <= bound,
                    "{what}"
                );
                checks += 1;
            }
        }
    }
    println!(
        "quantiles: {checks} checks; exact worst relative error {worst_exact:.2e}, sketch worst \
         {worst_sketch:.3} of its alpha"
    );
}
