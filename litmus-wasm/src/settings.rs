//! The analysis module's check of an experiment's analysis settings
//! (`litmus_core::results::settings::validate_analysis`: the admin API's own validation, so
//! codes, messages and paths are the server's) and its experiment planning
//! (`litmus_core::results::planning::plan_text`).

use wasm_bindgen::prelude::*;

use crate::error;

/// Checks an experiment's `analysis` settings (JSON text of the object) and returns JSON of the
/// settings the results would use, over core's defaults.
#[wasm_bindgen(js_name = validateAnalysis)]
pub fn validate_analysis(settings: &str) -> Result<String, JsValue> {
    let shown =
        litmus_core::results::settings::validate_analysis(settings).map_err(|e| error(&e))?;
    serde_json::to_string(&shown).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// A bandit's inference stratified by its periods of constant weights (JSON text of the
/// request), as JSON (`litmus_core::results::bandit_inference_json`).
#[wasm_bindgen(js_name = banditStratified)]
pub fn bandit_stratified(request: &str) -> Result<String, JsValue> {
    let answer = litmus_core::results::bandit_inference_json::stratified_text(request)
        .map_err(|e| error(&e))?;
    serde_json::to_string(&answer).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// Plans an experiment (JSON text of the request) and returns JSON `{"plan", "baseline",
/// "settings"}`.
#[wasm_bindgen(js_name = planExperiment)]
pub fn plan_experiment(request: &str) -> Result<String, JsValue> {
    let answer = litmus_core::results::planning::plan_text(request).map_err(|e| error(&e))?;
    serde_json::to_string(&answer).map_err(|e| JsValue::from_str(&e.to_string()))
}
