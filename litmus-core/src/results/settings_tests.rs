#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::events::MetricRollup;
use crate::results::analysis::{Verdict, analyze};
use crate::results::spec::{Goal, MetricKind, MetricSpec};
use crate::results::totals::VariantTotals;
use crate::stats::bayes::{BetaPosterior, prob_beats};
use crate::stats::summary::Proportion;

fn decode(text: &str) -> Result<AnalysisSettings, Error> {
    let value: Value = serde_json::from_str(text).unwrap();
    AnalysisSettings::decode(&value, &FieldPath::root().field("analysis"))
}

fn path_of(text: &str) -> String {
    match decode(text).unwrap_err() {
        Error::InvalidValue { path, .. }
        | Error::InvalidJson { path, .. }
        | Error::MissingField { path }
        | Error::UnknownField { path } => path.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn settings_decode_with_the_path_of_each_bad_value() {
    let s = decode(
        r#"{"alpha": 0.1, "test": "one_sided", "basis": "fixed_horizon", "correction": "none",
            "cuped": "decide", "min_units": 50, "sequential_tuning": 800,
            "priors": {"rate": {"alpha": 2, "beta": 30}, "lift": {"mean": 0, "sd": 0.3}},
            "later": true}"#,
    )
    .unwrap();
    assert_eq!(s.alpha, Some(0.1));
    assert_eq!(s.correction, Some(Correction::None));
    assert_eq!(
        s.rate_prior,
        Some(RatePrior {
            alpha: 2.0,
            beta: 30.0
        })
    );
    assert_eq!(
        s.unknown.len(),
        1,
        "unknown fields are kept for the admin layer to refuse"
    );
    let o = s.options();
    assert_eq!(
        (o.sides, o.cuped, o.min_units),
        (Sides::One, CupedRole::Decide, 50)
    );
    assert_eq!(o.interval_alpha(), 0.2);
    for (text, path) in [
        (r#"{"alpha": 0.6}"#, "analysis.alpha"),
        (r#"{"alpha": 0}"#, "analysis.alpha"),
        (r#"{"alpha": "0.05"}"#, "analysis.alpha"),
        (r#"{"correction": "sidak"}"#, "analysis.correction"),
        (r#"{"test": "one_sided"}"#, "analysis.basis"),
        (
            r#"{"test": "one_sided", "basis": "sequential"}"#,
            "analysis.basis",
        ),
        (
            r#"{"sequential_tuning": 0.5}"#,
            "analysis.sequential_tuning",
        ),
        (r#"{"min_units": -1}"#, "analysis.min_units"),
        (
            r#"{"priors": {"rate": {"alpha": 0.5, "beta": 1}}}"#,
            "analysis.priors.rate.alpha",
        ),
        (
            r#"{"priors": {"rate": {"alpha": 1}}}"#,
            "analysis.priors.rate.beta",
        ),
        (
            r#"{"priors": {"lift": {"mean": 0, "sd": 0}}}"#,
            "analysis.priors.lift.sd",
        ),
        (
            r#"{"priors": {"lift": {"mean": 0, "sd": 1, "df": 3}}}"#,
            "analysis.priors.lift.df",
        ),
    ] {
        assert_eq!(path_of(text), path, "{text}");
    }
}

#[test]
fn settings_layer_over_the_defaults_below() {
    let server =
        decode(r#"{"alpha": 0.1, "test": "one_sided", "basis": "fixed_horizon"}"#).unwrap();
    let experiment = decode(r#"{"correction": "bonferroni"}"#).unwrap();
    let o = experiment.over(&server).options();
    assert_eq!(
        (o.alpha, o.sides, o.correction),
        (0.1, Sides::One, Correction::Bonferroni)
    );
    // An always-valid basis set by the experiment is two-sided, whatever the server says.
    let sequential = decode(r#"{"basis": "sequential"}"#).unwrap();
    let o = sequential.over(&server).options();
    assert_eq!((o.basis, o.sides), (DecisionBasis::Sequential, Sides::Two));
    assert!(o.validate().is_ok());
    assert_eq!(AnalysisSettings::default().options(), Options::default());
}

fn conversion() -> Vec<MetricSpec> {
    vec![MetricSpec {
        key: "buy".into(),
        kind: MetricKind::Conversion,
        goal: Goal::Increase,
        guardrail: false,
        source: Default::default(),
    }]
}

fn rates(units: [u64; 2], converted: [u64; 2]) -> Vec<VariantTotals> {
    ["control", "treatment"]
        .iter()
        .zip(units.iter().zip(converted))
        .map(|(key, (&n, k))| {
            let mut v = VariantTotals::new(key, 1.0, n);
            let row = MetricRollup {
                events: k,
                units: k,
                sum: k as f64,
                sum_squares: k as f64,
                ..Default::default()
            };
            v.metrics.insert("buy".into(), row);
            v
        })
        .collect()
}

fn comparison(totals: &[VariantTotals], options: &Options) -> crate::results::analysis::Comparison {
    let r = analyze(totals, &conversion(), options).unwrap();
    r.metrics[0].variants[1].comparison.clone().unwrap()
}

#[test]
fn a_one_sided_test_halves_the_p_value_toward_better_and_widens_nothing_else() {
    let totals = rates([2_000, 2_000], [200, 236]);
    let two = Options {
        basis: DecisionBasis::FixedHorizon,
        ..Options::default()
    };
    let one = Options {
        sides: Sides::One,
        alpha: 0.025,
        ..two
    };
    let (c2, c1) = (comparison(&totals, &two), comparison(&totals, &one));
    // The shown p-value stays two-sided; the decision is one-sided.
    assert_eq!(c1.pvalue, c2.pvalue);
    assert!((c1.adjusted_pvalue - c2.pvalue / 2.0).abs() < 1e-15);
    // One-sided at 0.025 shows the two-sided 95% interval.
    assert_eq!(c1.difference, c2.difference);
    // Toward worse: the one-sided p-value is its complement.
    let worse = rates([2_000, 2_000], [236, 200]);
    let c = comparison(&worse, &one);
    assert!((c.adjusted_pvalue - (1.0 - comparison(&worse, &two).pvalue / 2.0)).abs() < 1e-15);
    assert_eq!(c.verdict, Verdict::Inconclusive);
    assert!(
        Options {
            sides: Sides::One,
            ..Options::default()
        }
        .validate()
        .is_err()
    );
}

#[test]
fn without_a_correction_and_below_min_units_the_verdicts_follow() {
    let totals = rates([2_000, 2_000], [200, 280]);
    let fixed = Options {
        basis: DecisionBasis::FixedHorizon,
        correction: Correction::None,
        ..Options::default()
    };
    let c = comparison(&totals, &fixed);
    assert_eq!(c.adjusted_pvalue, c.pvalue);
    assert_eq!(c.verdict, Verdict::Better);
    assert!(!c.below_min_units);
    let waiting = Options {
        min_units: 2_001,
        ..fixed
    };
    let c = comparison(&totals, &waiting);
    assert!(c.below_min_units);
    assert_eq!(
        c.verdict,
        Verdict::Inconclusive,
        "too few units for any verdict"
    );
}

#[test]
fn a_rate_prior_is_the_beta_the_posteriors_start_from() {
    let totals = rates([300, 300], [30, 40]);
    let prior = RatePrior {
        alpha: 20.0,
        beta: 180.0,
    };
    let c = comparison(
        &totals,
        &Options {
            rate_prior: prior,
            ..Options::default()
        },
    );
    let post = |n: u64, k: u64| {
        BetaPosterior::from_data(&Proportion::new(k, n).unwrap(), prior.alpha, prior.beta).unwrap()
    };
    assert_eq!(
        c.probability_better,
        prob_beats(&post(300, 30), &post(300, 40))
    );
    let flat = comparison(&totals, &Options::default());
    assert!(
        c.probability_better < flat.probability_better,
        "the prior shrinks toward no lift"
    );
}

#[test]
fn a_lift_prior_shrinks_the_relative_lift_by_the_conjugate_normal_rule() {
    use crate::stats::dist::normal_cdf;
    let specs = vec![MetricSpec {
        kind: MetricKind::Mean,
        ..conversion().remove(0)
    }];
    let mut totals = rates([400, 400], [100, 130]);
    // Per-unit values: the treatment's mean is higher, with spread.
    for (v, (sum, squares)) in totals.iter_mut().zip([(500.0, 2_000.0), (650.0, 2_900.0)]) {
        let row = v.metrics.get_mut("buy").unwrap();
        (row.sum, row.sum_squares) = (sum, squares);
    }
    let prior = LiftPrior {
        mean: 0.0,
        sd: 0.05,
    };
    let options = Options {
        lift_prior: Some(prior),
        ..Options::default()
    };
    let r = analyze(&totals, &specs, &options).unwrap();
    let c = r.metrics[0].variants[1].comparison.clone().unwrap();
    let rel = c.relative.unwrap();
    let se = (rel.upper - rel.lower) / (2.0 * crate::stats::dist::normal_ppf(0.975));
    let precision = 1.0 / (prior.sd * prior.sd) + 1.0 / (se * se);
    let mean = (rel.estimate / (se * se)) / precision;
    let want = normal_cdf(mean * precision.sqrt());
    assert!(
        (c.probability_better - want).abs() < 1e-12,
        "{} vs {want}",
        c.probability_better
    );
    let flat = analyze(&totals, &specs, &Options::default()).unwrap();
    let flat = flat.metrics[0].variants[1].comparison.clone().unwrap();
    assert!(c.probability_better < flat.probability_better);
}
