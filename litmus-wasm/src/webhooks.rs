//! The analysis module's webhook signatures (`litmus_core::webhooks`, `docs/webhooks.md`):
//! signing a delivery and verifying one, for receivers on Node (and tests of them). In the
//! analysis module, not the engine: a page that assigns never verifies webhooks, and the
//! engine module has no room for SHA-256 within its size budget.
//!
//! Times cross as `i64` (JavaScript BigInt): the JavaScript layer checks and converts numbers,
//! so no value is silently wrapped.

use wasm_bindgen::prelude::*;

use crate::error;

/// The `Litmus-Signature` value for `body` signed with `secret` at `timestamp` (unix
/// seconds): `t=<timestamp>,v1=<hex>`.
#[wasm_bindgen(js_name = webhookSign)]
pub fn webhook_sign(secret: &str, body: &[u8], timestamp: i64) -> Result<String, JsValue> {
    litmus_core::webhooks::sign(secret, body, timestamp).map_err(|e| error(&e))
}

/// Verifies a delivery (`header`: its `Litmus-Signature` value, "" when absent; `body`: the
/// raw body) at `now` (unix seconds) with `tolerance` seconds either way, and returns the
/// signed timestamp.
#[wasm_bindgen(js_name = webhookVerify)]
pub fn webhook_verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<i64, JsValue> {
    litmus_core::webhooks::verify(secret, header, body, now, tolerance).map_err(|e| error(&e))
}
