//! `litmus._litmus.webhook_sign` and `webhook_verify`, the native half of `litmus.webhooks`:
//! core's webhook signature scheme (`litmus_core::webhooks`, `docs/webhooks.md`). The Python
//! module converts the body to bytes and reads the clock; the HMAC runs without the GIL.

use pyo3::prelude::*;

use crate::errors::{check, guard};

/// The `Litmus-Signature` value of a delivery of `body` signed with `secret` at `timestamp`
/// (unix seconds): `t=<timestamp>,v1=<hex>`. An empty secret or a negative timestamp raises
/// `InvalidArgumentError`.
#[pyfunction]
pub(crate) fn webhook_sign(
    py: Python<'_>,
    secret: &str,
    body: &[u8],
    timestamp: i64,
) -> PyResult<String> {
    guard(py, || {
        check(
            py,
            py.detach(|| litmus_core::webhooks::sign(secret, body, timestamp)),
        )
    })
}

/// Verifies a delivery: its `Litmus-Signature` value (`""` when absent), the raw body, the
/// receiver's time `now` and the `tolerance` (seconds). Returns the signed timestamp, or
/// raises `SignatureError` (`signature_missing`, `signature_malformed`, `signature_expired`,
/// `signature_mismatch`) or `InvalidArgumentError`.
#[pyfunction]
pub(crate) fn webhook_verify(
    py: Python<'_>,
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> PyResult<i64> {
    guard(py, || {
        check(
            py,
            py.detach(|| litmus_core::webhooks::verify(secret, header, body, now, tolerance)),
        )
    })
}
