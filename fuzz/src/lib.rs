//! The bodies of Litmus's fuzz targets. Each takes the fuzzer's bytes, drives one entry point
//! of `litmus-core` (or the server's body decoding) and checks the invariants that must hold
//! whatever the input: no panic (core promises it), and answers that are well-formed (indices in
//! range, probabilities in [0, 1], the same answer twice). A broken invariant panics, which
//! libFuzzer reports as a crash with the input that caused it.
//!
//! `fuzz_targets/*.rs` hand each body to libFuzzer (`bash scripts/fuzz/run.sh`); the tests in
//! `tests/replay.rs` run them over the stored corpora and seeded random inputs on stable Rust.

#![allow(clippy::panic, clippy::indexing_slicing)]

use arbitrary::{Arbitrary, Unstructured};
use litmus_core::bandit::{Arm, Options, Policy, Rule};
use litmus_core::events::parse_batch;
use litmus_core::rng::Xoshiro256PlusPlus;
use litmus_core::stats::{
    self, Alternative, CoMoments, Correction, Moments, Proportion, ProportionMethod, ZVariance,
};
use litmus_core::{Attributes, Engine, Timestamp};
use serde_json::{Value, json};

/// A probability that must lie in [0, 1] (NaN is allowed: a test with no data has none).
fn probability(what: &str, p: f64) {
    assert!(!(p < 0.0 || p > 1.0), "{what} = {p} is outside [0, 1]");
}

/// Config documents: lenient and strict parsing, then every experiment assigned, twice.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = litmus_core::config::validate_strict(text);
    let strict_ok = Engine::from_json_strict(text).is_ok();
    let Ok(engine) = Engine::from_json(text) else {
        assert!(
            !strict_ok,
            "strict parsing accepted what lenient parsing refused"
        );
        return;
    };
    let attributes = Attributes::new()
        .with("country", "US")
        .with("age", 30.0)
        .with("beta", true);
    let keys: Vec<String> = engine.experiments().map(|(k, _)| k.to_owned()).collect();
    let at = Some(Timestamp::from_unix_millis(1_780_000_000_000));
    for key in &keys {
        for unit in ["", "u1", "user-42", "\u{0}\u{ffff}"] {
            let a = engine.assign_at(key, unit, &attributes, at);
            let b = engine.assign_at(key, unit, &attributes, at);
            assert_eq!(
                a.variant_key(),
                b.variant_key(),
                "assignment is not deterministic"
            );
            assert_eq!(a.reason(), b.reason());
        }
    }
    let all = engine.assign_all_at("u1", &attributes, at).count();
    assert!(all <= keys.len());
    derived_metrics(text);
}

/// A JSON value of the kinds attributes and condition values take.
#[derive(Debug, Arbitrary)]
enum Scalar {
    Null,
    Bool(bool),
    Number(f64),
    Small(i8),
    Text(String),
    Version(u8, u8, u8, bool),
    Named(u8),
}

impl Scalar {
    fn json(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => json!(b),
            Scalar::Number(x) => {
                serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number)
            }
            Scalar::Small(i) => json!(i),
            Scalar::Text(s) => json!(s),
            Scalar::Version(a, b, c, v) => {
                json!(format!("{}{a}.{b}.{c}", if *v { "v" } else { "" }))
            }
            Scalar::Named(i) => json!(WORDS[usize::from(*i) % WORDS.len()]),
        }
    }
}

/// Strings that make comparisons and patterns meet.
const WORDS: [&str; 8] = ["US", "us", "pro", "", "1.2.3", "^p.*o$", "(?i)US", "[a-"];

#[derive(Debug, Arbitrary)]
enum Operand {
    One(Scalar),
    List(Vec<Scalar>),
}

impl Operand {
    fn json(&self) -> Value {
        match self {
            Operand::One(s) => s.json(),
            Operand::List(l) => Value::Array(l.iter().map(Scalar::json).collect()),
        }
    }
}

/// Operator names that do not exist, besides core's own (`config::OPERATORS`).
const NOT_OPERATORS: [&str; 3] = ["nope", "EQ", ""];

/// Operator `i`, among core's and a few that do not exist.
fn operator(i: u8) -> &'static str {
    let ops = litmus_core::config::OPERATORS;
    let i = usize::from(i) % (ops.len() + NOT_OPERATORS.len());
    ops.get(i)
        .copied()
        .unwrap_or_else(|| NOT_OPERATORS[i - ops.len()])
}

/// Attribute names: a few shared ones, so conditions meet attributes.
const NAMES: [&str; 4] = ["country", "age", "version", "tags"];

#[derive(Debug, Arbitrary)]
enum Condition {
    Leaf {
        attribute: u8,
        op: u8,
        value: Option<Operand>,
    },
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    fn json(&self) -> Value {
        match self {
            Condition::Leaf {
                attribute,
                op,
                value,
            } => {
                let mut leaf = json!({
                    "attribute": NAMES[usize::from(*attribute) % NAMES.len()],
                    "op": operator(*op),
                });
                if let (Some(v), Some(obj)) = (value, leaf.as_object_mut()) {
                    obj.insert("value".into(), v.json());
                }
                leaf
            }
            Condition::All(c) => json!({"all": c.iter().map(Condition::json).collect::<Vec<_>>()}),
            Condition::Any(c) => json!({"any": c.iter().map(Condition::json).collect::<Vec<_>>()}),
            Condition::Not(c) => json!({"not": c.json()}),
        }
    }
}

#[derive(Debug, Arbitrary)]
struct TargetingInput {
    condition: Condition,
    attributes: Vec<(u8, Operand)>,
    unit: String,
}

fn running(key: &str, targeting: Value) -> Value {
    json!({"key": key, "status": "running", "traffic": 1.0,
           "variants": [{"key": "only"}], "targeting": targeting})
}

/// Targeting: a condition tree and attributes of every type. A condition and its negation
/// never agree, and `all`/`any` of one condition is the condition.
pub fn targeting(data: &[u8]) {
    let Ok(input) = TargetingInput::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let c = input.condition.json();
    let doc = json!({"schema_version": 1, "experiments": [
        running("c", c.clone()),
        running("not", json!({"not": c.clone()})),
        running("all", json!({"all": [c.clone()]})),
        running("any", json!({"any": [c]})),
    ]});
    let Ok(engine) = Engine::from_value(doc) else {
        return;
    };
    let attrs: serde_json::Map<String, Value> = input
        .attributes
        .iter()
        .map(|(n, v)| (NAMES[usize::from(*n) % NAMES.len()].to_owned(), v.json()))
        .collect();
    let Some(attributes) = Attributes::from_json(&Value::Object(attrs.clone())) else {
        return;
    };
    let in_ = |key: &str| {
        let a = engine.assign(key, &input.unit, &attributes);
        (a.in_experiment(), a.reason())
    };
    let case = || {
        format!(
            "condition {}, unit {:?}, attributes {attrs:?}",
            input.condition.json(),
            input.unit
        )
    };
    // A wrapper adds a level, so it may be over the depth limit where the condition is not:
    // such an experiment is invalid (and says so), and is compared with nothing.
    let compiled = |key: &str| {
        let (inside, reason) = in_(key);
        (reason != litmus_core::Reason::InvalidConfig).then_some(inside)
    };
    let Some(c) = compiled("c") else {
        return;
    };
    if let Some(not) = compiled("not") {
        assert_ne!(c, not, "a condition and its negation agree: {}", case());
    }
    for wrapper in ["all", "any"] {
        if let Some(w) = compiled(wrapper) {
            assert_eq!(
                c,
                w,
                "{wrapper} of one condition differs from it: {}",
                case()
            );
        }
    }
}

/// Event batches as the server receives them: plain, gzip (the fuzzer's bytes as a gzip
/// stream, and its bytes compressed), or an unknown encoding; then read by core.
pub fn events(data: &[u8]) {
    use axum::http::{HeaderMap, HeaderValue, header};
    use std::io::Write;
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let mut headers = HeaderMap::new();
    let body = match mode % 4 {
        0 => body.to_vec(),
        1 => body.to_vec(), // read as gzip below
        2 => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = gz.write_all(body);
            gz.finish().unwrap_or_default()
        }
        _ => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            body.to_vec()
        }
    };
    if mode % 4 == 1 || mode % 4 == 2 {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    let plain = litmus_server::routes::events::decompressed(&headers, body.into());
    if mode % 4 == 2 {
        let got = plain.as_ref().map(|b| b.to_vec()).ok();
        let fits = data.len() - 1 <= litmus_core::events::MAX_BATCH_BYTES;
        assert_eq!(got.as_deref() == Some(&data[1..]), fits, "gzip round trip");
    }
    let Ok(plain) = plain else {
        return;
    };
    let sent_at = match mode / 4 % 4 {
        0 => None,
        1 => Some("2026-11-27T10:00:00Z"),
        2 => Some("yesterday"),
        _ => Some("2026-11-27T10:00:00.123+05:30"),
    };
    let received = Timestamp::from_unix_millis(1_780_000_000_000);
    if let Ok(batch) = parse_batch(&plain, received, sent_at) {
        let mut seen: Vec<usize> = batch
            .events
            .iter()
            .map(|(i, _)| *i)
            .chain(batch.rejected.iter().map(|r| r.index))
            .collect();
        let n = seen.len();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(
            seen.len(),
            n,
            "an event is both kept and rejected, or kept twice"
        );
        assert!(n <= litmus_core::events::MAX_BATCH_EVENTS);
    }
}

/// Summary statistics as callers hand them: raw values or (count, mean, m2).
#[derive(Debug, Arbitrary)]
enum Sample {
    Values(Vec<f64>),
    Parts(u64, f64, f64),
    MeanStd(u16, f64, f64),
}

impl Sample {
    fn moments(&self) -> Option<Moments> {
        match self {
            Sample::Values(v) => Moments::from_slice(v).ok(),
            Sample::Parts(n, mean, m2) => Moments::from_parts(*n, *mean, *m2).ok(),
            Sample::MeanStd(n, mean, sd) => Moments::from_mean_std(u64::from(*n), *mean, *sd).ok(),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Call {
    Dist(u8, f64, f64, f64),
    TTest(Sample, Sample, bool, u8),
    TTestStats(f64, f64, u64, f64, f64, u64, bool, u8),
    Proportions(u64, u64, u64, u64, bool, u8, f64),
    Chi2(Vec<f64>, u8, bool),
    ChiSquare(Vec<f64>, Vec<f64>),
    Srm(Vec<f64>, Vec<f64>, f64),
    Anova(Vec<Sample>),
    Factorial(Vec<u8>, Vec<Sample>),
    Compare(Sample, Vec<Sample>, f64, u8),
    Intervals(Sample, Sample, f64, bool),
    Multiple(Vec<f64>, f64, u8),
    Power(f64, f64, f64, f64, u8),
    Sequential(f64, f64, f64, f64, Sample, Sample, u64, u64, u64, u64),
    Cuped(Vec<(f64, f64)>, Vec<(f64, f64)>, f64, u8),
    Bayes(Vec<(u64, u64)>, Vec<Sample>, f64, f64),
}

fn alternative(i: u8) -> Alternative {
    [
        Alternative::TwoSided,
        Alternative::Less,
        Alternative::Greater,
    ][usize::from(i % 3)]
}

fn correction(i: u8) -> Correction {
    [
        Correction::Bonferroni,
        Correction::Holm,
        Correction::BenjaminiHochberg,
        Correction::None,
    ][usize::from(i % 4)]
}

fn co_moments(pairs: &[(f64, f64)]) -> Option<CoMoments> {
    let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    CoMoments::from_slices(&x, &y).ok()
}

/// The call [`stats`] makes of `data`, for reading a crash.
pub fn describe_stats(data: &[u8]) -> String {
    format!("{:?}", Call::arbitrary(&mut Unstructured::new(data)))
}

/// The statistics entry points with arbitrary numbers: errors are fine, panics are not, and
/// every p-value and probability returned lies in [0, 1].
pub fn stats(data: &[u8]) {
    let Ok(call) = Call::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    use stats::dist::*;
    match call {
        Call::Dist(which, a, b, c) => {
            let p = match which % 10 {
                0 => normal_cdf(a),
                1 => normal_sf(a),
                2 => student_t_cdf(a, b),
                3 => student_t_sf(a, b),
                4 => chi2_cdf(a, b),
                5 => chi2_sf(a, b),
                6 => f_sf(a, b, c),
                7 => beta_cdf(a, b, c),
                8 => {
                    let _ = (normal_ppf(a), normal_isf(a), student_t_isf(a, b));
                    0.5
                }
                _ => {
                    let _ = (normal_pdf(a), student_t_pdf(a, b));
                    0.5
                }
            };
            probability("a distribution function", p);
        }
        Call::TTest(a, b, equal, alt) => {
            if let (Some(a), Some(b)) = (a.moments(), b.moments()) {
                if let Ok(t) = stats::ttest_ind(&a, &b, equal, alternative(alt)) {
                    probability("ttest_ind", t.pvalue());
                }
            }
        }
        Call::TTestStats(m1, s1, n1, m2, s2, n2, equal, alt) => {
            if let Ok(t) =
                stats::ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal, alternative(alt))
            {
                probability("ttest_ind_from_stats", t.pvalue());
            }
        }
        Call::Proportions(s1, n1, s2, n2, pooled, alt, alpha) => {
            let (Ok(a), Ok(b)) = (Proportion::new(s1, n1), Proportion::new(s2, n2)) else {
                return;
            };
            let variance = if pooled {
                ZVariance::Pooled
            } else {
                ZVariance::Unpooled
            };
            if let Ok(z) = stats::proportions_ztest(&a, &b, variance, alternative(alt)) {
                probability("proportions_ztest", z.pvalue());
            }
            for method in [
                ProportionMethod::Normal,
                ProportionMethod::Wilson,
                ProportionMethod::AgrestiCoull,
            ] {
                let _ = stats::proportion_confint(&a, alpha, method);
            }
            let _ = stats::newcombe_diff_confint(&a, &b, alpha);
        }
        Call::Chi2(observed, rows, correction) => {
            if let Ok(c) = stats::chi2_contingency(&observed, usize::from(rows), correction) {
                probability("chi2_contingency", c.pvalue());
            }
        }
        Call::ChiSquare(observed, weights) => {
            if let Ok(c) = stats::chisquare(&observed, &weights) {
                probability("chisquare", c.pvalue());
            }
        }
        Call::Srm(observed, weights, threshold) => {
            if let Ok(c) = stats::srm_check(&observed, &weights, threshold) {
                probability("srm_check", c.pvalue());
            }
        }
        Call::Anova(groups) => {
            let groups: Vec<Moments> = groups.iter().filter_map(Sample::moments).collect();
            if let Ok(a) = stats::f_oneway(&groups) {
                probability("f_oneway", a.pvalue());
            }
        }
        Call::Factorial(levels, cells) => {
            let levels: Vec<usize> = levels.iter().map(|l| usize::from(*l)).collect();
            let cells: Vec<Moments> = cells.iter().filter_map(Sample::moments).collect();
            if let Ok(f) = stats::factorial_anova(&levels, &cells) {
                for t in f.main_effects().iter().chain(f.interactions()) {
                    probability("factorial_anova", t.pvalue());
                }
            }
        }
        Call::Compare(control, variants, alpha, c) => {
            let Some(control) = control.moments() else {
                return;
            };
            let variants: Vec<Moments> = variants.iter().filter_map(Sample::moments).collect();
            if let Ok(out) = stats::compare_to_control(&control, &variants, alpha, correction(c)) {
                assert_eq!(out.len(), variants.len());
                for c in &out {
                    probability("compare_to_control", c.adjusted_pvalue());
                }
            }
        }
        Call::Intervals(a, b, alpha, equal) => {
            let (Some(a), Some(b)) = (a.moments(), b.moments()) else {
                return;
            };
            let _ = stats::mean_confint(&a, alpha);
            let _ = stats::diff_means_confint(&a, &b, alpha, equal);
            let _ = stats::relative_lift_confint(&a, &b, alpha);
        }
        Call::Multiple(pvalues, alpha, c) => {
            if let Ok(adjusted) = stats::multipletests(&pvalues, alpha, correction(c)) {
                assert_eq!(adjusted.pvalues().len(), pvalues.len());
                for p in adjusted.pvalues() {
                    probability("multipletests", *p);
                }
            }
        }
        Call::Power(effect, n, ratio, alpha, alt) => {
            use stats::power::*;
            if let Ok(p) = power(effect, n, ratio, alpha, alternative(alt)) {
                probability("power", p);
            }
            let _ = sample_size(effect, n, ratio, alpha, alternative(alt));
            let _ = minimum_detectable_effect(n, effect, ratio, alpha, alternative(alt));
            let _ = proportion_effect_size(effect, ratio);
        }
        Call::Sequential(diff, variance, tau2, alpha, a, b, s1, n1, s2, n2) => {
            if let Ok(s) = stats::msprt(diff, variance, tau2, alpha) {
                probability("msprt", s.pvalue());
            }
            if let (Some(a), Some(b)) = (a.moments(), b.moments()) {
                if let Ok(s) = stats::msprt_means(&a, &b, tau2, alpha) {
                    probability("msprt_means", s.pvalue());
                }
            }
            if let (Ok(a), Ok(b)) = (Proportion::new(s1, n1), Proportion::new(s2, n2)) {
                if let Ok(s) = stats::msprt_proportions(&a, &b, tau2, alpha) {
                    probability("msprt_proportions", s.pvalue());
                }
            }
        }
        Call::Cuped(t, c, alpha, alt) => {
            let (Some(t), Some(c)) = (co_moments(&t), co_moments(&c)) else {
                return;
            };
            if let Ok(r) = stats::cuped(&t, &c, alpha, alternative(alt)) {
                probability("cuped", r.test().pvalue());
            }
            let _ = stats::ratio_metric(&t);
            let _ = stats::ratio_ztest(&t, &c, alpha, alternative(alt));
        }
        Call::Bayes(counts, samples, prior_a, prior_b) => {
            use stats::bayes::*;
            let betas: Vec<BetaPosterior> = counts
                .iter()
                .filter_map(|(s, n)| Proportion::new(*s, *n).ok())
                .filter_map(|p| BetaPosterior::from_data(&p, prior_a, prior_b).ok())
                .take(16)
                .collect();
            if let [a, b, ..] = betas.as_slice() {
                probability("prob_beats", prob_beats(a, b));
                let _ = expected_loss(a, b);
            }
            if let Ok(p) = prob_best(&betas) {
                p.iter().for_each(|p| probability("prob_best", *p));
            }
            let normals: Vec<NormalPosterior> = samples
                .iter()
                .filter_map(Sample::moments)
                .filter_map(|m| NormalPosterior::from_data(&m).ok())
                .take(16)
                .collect();
            if let [a, b, ..] = normals.as_slice() {
                probability("normal_prob_beats", normal_prob_beats(a, b));
                let _ = normal_expected_loss(a, b);
            }
            if let Ok(p) = normal_prob_best(&normals) {
                p.iter().for_each(|p| probability("normal_prob_best", *p));
            }
        }
    }
}

#[derive(Debug, Arbitrary)]
enum RuleInput {
    ThompsonBeta(f64, f64),
    ThompsonNormal(f64, f64, f64, f64),
    Ucb1(f64),
    KlUcb(f64),
    EpsilonGreedy(f64, Option<f64>),
}

#[derive(Debug, Arbitrary)]
enum ArmInput {
    Counts(u64, u64),
    Rewards(Vec<f64>),
}

#[derive(Debug, Arbitrary)]
struct BanditInput {
    rule: RuleInput,
    burn_in: u8,
    floor: f64,
    optimistic: Option<f64>,
    arms: Vec<ArmInput>,
    draws: u16,
    seed: u64,
}

/// Bandit policies: arbitrary priors, options and arms. A chosen arm exists, and weights are a
/// distribution over the arms.
pub fn bandit(data: &[u8]) {
    let Ok(input) = BanditInput::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let rule = match input.rule {
        RuleInput::ThompsonBeta(prior_alpha, prior_beta) => Rule::ThompsonBeta {
            prior_alpha,
            prior_beta,
        },
        RuleInput::ThompsonNormal(prior_mean, prior_kappa, prior_alpha, prior_beta) => {
            Rule::ThompsonNormal {
                prior_mean,
                prior_kappa,
                prior_alpha,
                prior_beta,
            }
        }
        RuleInput::Ucb1(exploration) => Rule::Ucb1 { exploration },
        RuleInput::KlUcb(c) => Rule::KlUcb { c },
        RuleInput::EpsilonGreedy(epsilon, decay) => Rule::EpsilonGreedy { epsilon, decay },
    };
    let options = Options {
        burn_in: u64::from(input.burn_in),
        floor: input.floor,
        optimistic: input.optimistic,
    };
    let Ok(policy) = Policy::new(rule, options) else {
        return;
    };
    let arms: Vec<Arm> = input
        .arms
        .iter()
        .filter_map(|a| match a {
            ArmInput::Counts(s, n) => Arm::from_counts(*s, *n).ok(),
            ArmInput::Rewards(r) => {
                let mut arm = Arm::new();
                arm.update_batch(r).ok().map(|()| arm)
            }
        })
        .collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(input.seed);
    if let Ok(i) = policy.choose(&arms, &mut rng) {
        assert!(i < arms.len(), "chose arm {i} of {}", arms.len());
    }
    let draws = usize::from(input.draws % 2_000) + 1;
    if let Ok(weights) = policy.weights(&arms, draws, input.seed) {
        assert_eq!(weights.len(), arms.len());
        let total: f64 = weights.iter().sum();
        assert!(
            weights.iter().all(|w| (0.0..=1.0 + 1e-9).contains(w)),
            "{weights:?}"
        );
        assert!(
            weights.is_empty() || (total - 1.0).abs() < 1e-6,
            "weights sum to {total}"
        );
    }
}

#[derive(Debug, Arbitrary)]
struct RollupInput {
    metric: u8,
    events: u32,
    units: u32,
    sum: f64,
    sum_squares: f64,
    covariate_sum: f64,
    covariate_squares: f64,
    cross: f64,
}

#[derive(Debug, Arbitrary)]
struct VariantInput {
    weight: f64,
    units: u32,
    rollups: Vec<RollupInput>,
}

#[derive(Debug, Arbitrary)]
struct ResultsInput {
    variants: Vec<VariantInput>,
    metrics: Vec<(u8, bool, bool, bool)>,
    alpha: f64,
    correction: u8,
    fixed_horizon: bool,
    sequential_tuning: f64,
    srm_threshold: f64,
    check_srm: bool,
    series: Vec<f64>,
    window: u8,
    threshold: f64,
    lambda: f64,
    /// Analysis settings: one-sided, CUPED deciding, the rate prior, the lift prior and the
    /// minimum of units (last, so the corpus's earlier inputs read as before).
    settings: (bool, bool, (f64, f64), Option<(f64, f64)>, u64),
}

/// Experiment results from arbitrary rollups (counts and sums that may contradict each other,
/// NaN, infinities), metric lists and options; and the anomaly detectors over arbitrary
/// series. Errors are fine, panics and hangs are not; every p-value returned is in [0, 1].
pub fn results(data: &[u8]) {
    use litmus_core::events::MetricRollup;
    use litmus_core::insights::anomaly::{EwmaOptions, RobustZOptions, ewma, robust_z};
    use litmus_core::results::{self, DecisionBasis, Goal, MetricKind, MetricSpec, VariantTotals};
    let Ok(input) = ResultsInput::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    const METRICS: [&str; 3] = ["buy", "click", "revenue"];
    let variants: Vec<VariantTotals> = input
        .variants
        .iter()
        .take(16)
        .enumerate()
        .map(|(i, v)| VariantTotals {
            cohort_units: Default::default(),
            caps: Default::default(),
            sketches: Default::default(),
            key: format!("v{i}"),
            weight: v.weight,
            units: u64::from(v.units),
            metrics: v
                .rollups
                .iter()
                .map(|r| {
                    let rollup = MetricRollup {
                        events: u64::from(r.events),
                        units: u64::from(r.units),
                        sum: r.sum,
                        sum_squares: r.sum_squares,
                        covariate_sum: r.covariate_sum,
                        covariate_squares: r.covariate_squares,
                        cross: r.cross,
                    };
                    (METRICS[usize::from(r.metric) % 3].to_owned(), rollup)
                })
                .collect(),
        })
        .collect();
    let metrics: Vec<MetricSpec> = input
        .metrics
        .iter()
        .take(8)
        .map(|(m, mean, decrease, guardrail)| {
            // The kind: conversion or mean, or (from the metric byte's higher bits) one of the
            // catalogue's kinds over the same rows.
            let (kind, source) = metric_kind(*m, *mean);
            MetricSpec {
                key: METRICS[usize::from(*m) % 3].to_owned(),
                kind,
                goal: if *decrease {
                    Goal::Decrease
                } else {
                    Goal::Increase
                },
                guardrail: *guardrail,
                source,
            }
        })
        .collect();
    let options = results::Options {
        alpha: input.alpha,
        correction: correction(input.correction),
        basis: if input.fixed_horizon {
            DecisionBasis::FixedHorizon
        } else {
            DecisionBasis::Sequential
        },
        sequential_tuning: input.sequential_tuning,
        srm_threshold: input.srm_threshold,
        check_srm: input.check_srm,
        sides: if input.settings.0 {
            results::Sides::One
        } else {
            results::Sides::Two
        },
        cuped: if input.settings.1 {
            results::CupedRole::Decide
        } else {
            results::CupedRole::Show
        },
        rate_prior: results::RatePrior {
            alpha: input.settings.2.0,
            beta: input.settings.2.1,
        },
        lift_prior: input
            .settings
            .3
            .map(|(mean, sd)| results::LiftPrior { mean, sd }),
        min_units: input.settings.4,
    };
    if let Ok(r) = results::analyze(&variants, &metrics, &options) {
        let text = serde_json::to_value(&r)
            .map(|v| v.to_string())
            .unwrap_or_default();
        assert!(!text.is_empty(), "results do not serialize");
    }
    let series: Vec<f64> = input.series.iter().copied().take(2_000).collect();
    let _ = robust_z(
        &series,
        RobustZOptions {
            window: usize::from(input.window),
            threshold: input.threshold,
            ..RobustZOptions::default()
        },
    );
    let _ = ewma(
        &series,
        EwmaOptions {
            lambda: input.lambda,
            threshold: input.threshold,
            ..EwmaOptions::default()
        },
    );
}

/// A metric's kind and source for the results target: conversion or mean for most bytes, and
/// every other kind over the target's rows (a ratio of two of them, a quantile whose sketch may
/// be empty, a retention and a funnel of rows that may not exist).
fn metric_kind(
    m: u8,
    mean: bool,
) -> (
    litmus_core::results::MetricKind,
    litmus_core::results::Source,
) {
    use litmus_core::results::{MetricKind, Source};
    let name = ["buy", "click", "revenue"][usize::from(m) % 3];
    match (m / 3) % 8 {
        0 => (
            MetricKind::Ratio,
            Source {
                rollup: "revenue".into(),
                numerator: Some(name.into()),
                denominator: Some("click".into()),
                ..Source::default()
            },
        ),
        1 => (
            MetricKind::Quantile,
            Source {
                quantile: Some(0.9),
                unit_quantile: mean,
                ..Source::default()
            },
        ),
        2 => (
            MetricKind::Retention,
            Source {
                matures_after_ms: Some(86_400_000),
                ..Source::default()
            },
        ),
        3 => (
            MetricKind::Funnel,
            Source {
                steps: Some(usize::from(m % 4)),
                ..Source::default()
            },
        ),
        _ if mean => (MetricKind::Mean, Source::default()),
        _ => (MetricKind::Conversion, Source::default()),
    }
}

/// The config's metric program (when it reads as a document) run over a few events of every
/// experiment and every event a metric reads, with properties of each JSON type: no panic.
fn derived_metrics(text: &str) {
    use litmus_core::events::derived::Bound;
    use litmus_core::events::unit_state::{Names, Round};
    use litmus_core::events::{Event, EventKind};
    let Ok(wire) = serde_json::from_str::<litmus_core::config::wire::WireConfig>(text) else {
        return;
    };
    let program = litmus_core::metrics::Program::from_config(&wire);
    let mut names = Names::default();
    let bound = Bound::new(&program, &mut names);
    let properties: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        r#"{"category": "books", "price": 12.5, "items": 2, "flag": true, "tags": ["a"], "n": null}"#,
    )
    .unwrap_or_default();
    let mut batch = Vec::new();
    for (i, e) in wire.experiments.iter().enumerate() {
        batch.push(Event {
            message_id: format!("x{i}"),
            unit_id: "u1".into(),
            time: Timestamp::from_unix_millis(1_780_000_000_000),
            client_time: None,
            kind: EventKind::Exposure {
                experiment: e.key.clone(),
                variant: "a".into(),
                dimensions: Vec::new(),
            },
        });
    }
    for (i, (event, _)) in program.all_feeds().enumerate() {
        for (j, value) in [1.0, -3.5, 0.0, 1e300].into_iter().enumerate() {
            batch.push(Event {
                message_id: format!("t{i}-{j}"),
                unit_id: "u1".into(),
                time: Timestamp::from_unix_millis(1_780_000_000_000 + 60_000 * j as i64),
                client_time: None,
                kind: EventKind::Track {
                    event: event.to_owned(),
                    value,
                    properties: Some(properties.clone()),
                },
            });
        }
    }
    let mut units = std::collections::HashMap::new();
    let mut round = Round::default();
    round.apply_with(&bound, &mut Default::default(), &mut names, &mut units, &batch, 86_400_000);
}
