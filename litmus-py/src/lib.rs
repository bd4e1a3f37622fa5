//! `litmus._litmus`: the native module of the `litmus` Python package. It converts Python
//! values, calls `litmus-core` and maps errors; every decision is the core's.

mod assignment;
mod attributes;
mod bandit;
mod clock;
mod convert;
mod engine;
mod errors;
mod flags;
mod hashing;
mod metrics;
mod quantiles;
mod sdk;
mod stats;
mod sticky;
mod usage;
mod webhooks;

use pyo3::prelude::*;

/// Panics inside the binding edge, so the tests can check that a Rust panic reaches Python
/// as `litmus.InternalError`, never as PyO3's `PanicException`.
#[pyfunction]
#[pyo3(name = "_panic_for_tests")]
#[allow(clippy::panic)] // the point of the function
fn panic_for_tests(py: Python<'_>, message: &str) -> PyResult<()> {
    errors::guard(py, || panic!("{message}"))
}

/// The native module.
#[pymodule]
fn _litmus(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ERROR_CODES", litmus_core::Error::CODES.to_vec())?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<assignment::Assignment>()?;
    m.add_class::<flags::FlagEvaluation>()?;
    m.add_class::<bandit::Arm>()?;
    m.add_class::<bandit::Random>()?;
    m.add_class::<bandit::Policy>()?;
    m.add_class::<bandit::Bandit>()?;
    m.add_function(wrap_pyfunction!(panic_for_tests, m)?)?;
    sdk::register(m)?;
    m.add_class::<usage::UsageSender>()?;
    m.add_function(wrap_pyfunction!(hashing::seed, m)?)?;
    m.add_function(wrap_pyfunction!(hashing::unit_hash, m)?)?;
    m.add_function(wrap_pyfunction!(hashing::bucket, m)?)?;
    m.add_function(wrap_pyfunction!(hashing::pick_variant, m)?)?;
    m.add_function(wrap_pyfunction!(hashing::in_traffic, m)?)?;
    m.add_function(wrap_pyfunction!(stats::moments_from_f64_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(stats::ttest_ind_from_stats, m)?)?;
    m.add_function(wrap_pyfunction!(stats::ttest_ind_moments, m)?)?;
    m.add_function(wrap_pyfunction!(stats::proportions_ztest, m)?)?;
    m.add_function(wrap_pyfunction!(stats::proportion_confint, m)?)?;
    m.add_function(wrap_pyfunction!(stats::chisquare, m)?)?;
    m.add_function(wrap_pyfunction!(stats::chi2_contingency, m)?)?;
    m.add_function(wrap_pyfunction!(stats::multipletests, m)?)?;
    m.add_function(wrap_pyfunction!(stats::distribution, m)?)?;
    m.add_function(wrap_pyfunction!(stats::comoments_from_f64_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(stats::srm_check, m)?)?;
    m.add_function(wrap_pyfunction!(stats::f_oneway, m)?)?;
    m.add_function(wrap_pyfunction!(stats::factorial_anova, m)?)?;
    m.add_function(wrap_pyfunction!(stats::mean_confint, m)?)?;
    m.add_function(wrap_pyfunction!(stats::diff_means_confint, m)?)?;
    m.add_function(wrap_pyfunction!(stats::relative_lift_confint, m)?)?;
    m.add_function(wrap_pyfunction!(stats::newcombe_confint, m)?)?;
    m.add_function(wrap_pyfunction!(stats::planning, m)?)?;
    m.add_function(wrap_pyfunction!(stats::msprt_means, m)?)?;
    m.add_function(wrap_pyfunction!(stats::msprt_proportions, m)?)?;
    m.add_function(wrap_pyfunction!(stats::cuped, m)?)?;
    m.add_function(wrap_pyfunction!(stats::ratio_ztest, m)?)?;
    m.add_function(wrap_pyfunction!(stats::beta_compare, m)?)?;
    m.add_function(wrap_pyfunction!(stats::beta_prob_best, m)?)?;
    m.add_function(wrap_pyfunction!(stats::normal_compare, m)?)?;
    m.add_class::<quantiles::QuantileSketch>()?;
    m.add_function(wrap_pyfunction!(quantiles::quantile_interval, m)?)?;
    m.add_function(wrap_pyfunction!(quantiles::quantile_ztest, m)?)?;
    m.add_function(wrap_pyfunction!(
        quantiles::exact_quantile_from_f64_bytes,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(quantiles::sketch_key, m)?)?;
    m.add_function(wrap_pyfunction!(quantiles::sketch_value, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::validate_metrics, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::validate_analysis, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::plan_experiment, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::bandit_stratified, m)?)?;
    m.add_function(wrap_pyfunction!(webhooks::webhook_sign, m)?)?;
    m.add_function(wrap_pyfunction!(webhooks::webhook_verify, m)?)?;
    Ok(())
}
