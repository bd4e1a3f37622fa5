//! The engine module's metric catalogue check: `litmus_core::metrics::validate_catalogue`,
//! the admin API's own validation, so codes, messages and paths are the server's.

use wasm_bindgen::prelude::*;

use crate::error;

/// Checks a metric catalogue (the JSON text of an array of definitions) and returns JSON
/// `[{"key", "kind", "rollup"}]`, one per metric in the order written.
#[wasm_bindgen(js_name = validateMetrics)]
pub fn validate_metrics(catalogue: &str) -> Result<String, JsValue> {
    let metrics = litmus_core::metrics::validate_catalogue(catalogue).map_err(|e| error(&e))?;
    let out: Vec<serde_json::Value> = metrics
        .iter()
        .map(|m| serde_json::json!({"key": m.key(), "kind": m.kind().as_str(), "rollup": m.rollup()}))
        .collect();
    Ok(serde_json::Value::Array(out).to_string())
}
