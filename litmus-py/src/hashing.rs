//! Bucketing spec v1 primitives (`docs/spec/bucketing-v1.md`), for checking the spec's golden
//! vectors from Python and for tools that need a unit's bucket.

use litmus_core::hash::{Purpose, Seed, bound, cumulative_bounds, pick};
use pyo3::prelude::*;

use crate::errors::argument;

fn purpose<'a>(py: Python<'_>, name: &'a str) -> PyResult<Purpose<'a>> {
    Purpose::parse(name).ok_or_else(|| {
        argument(
            py,
            format!("purpose {name:?}: expected traffic, variant, layer, holdout or factor:NAME"),
        )
    })
}

/// The 64-bit seed of (salt, purpose).
#[pyfunction]
pub(crate) fn seed(py: Python<'_>, salt: &str, purpose: &str) -> PyResult<u64> {
    Ok(Seed::new(salt, self::purpose(py, purpose)?).value())
}

/// The 64-bit hash of a unit under (salt, purpose).
#[pyfunction]
pub(crate) fn unit_hash(py: Python<'_>, salt: &str, purpose: &str, unit_id: &str) -> PyResult<u64> {
    Ok(Seed::new(salt, self::purpose(py, purpose)?).hash(unit_id))
}

/// The unit's bucket in [0, 2^32) under (salt, purpose).
#[pyfunction]
pub(crate) fn bucket(py: Python<'_>, salt: &str, purpose: &str, unit_id: &str) -> PyResult<u32> {
    Ok(Seed::new(salt, self::purpose(py, purpose)?).bucket(unit_id))
}

/// The index of the variant owning `bucket` for these weights.
#[pyfunction]
pub(crate) fn pick_variant(py: Python<'_>, bucket: u32, weights: Vec<f64>) -> PyResult<usize> {
    let bounds = cumulative_bounds(&weights).ok_or_else(|| {
        argument(
            py,
            "weights must be finite, >= 0, not empty, with a positive total",
        )
    })?;
    Ok(pick(bucket, &bounds))
}

/// Whether `bucket` is inside the first `traffic` share of the buckets.
#[pyfunction]
pub(crate) fn in_traffic(bucket: u32, traffic: f64) -> bool {
    u64::from(bucket) < bound(traffic)
}
