//! WebAssembly bindings of `litmus-core` for the `litmus-experiments` npm package.
//!
//! The exports are deliberately narrow and cheap to call: strings and numbers in, numbers or
//! JSON text out. The package's JavaScript layer (`litmus-wasm/js/`) turns them into the
//! JavaScript API (`new Engine(config)`, `engine.assign(...)` returning plain objects, errors
//! with `name` and `code`). Every decision is the core's; an assignment crosses the boundary
//! as one packed `u32` (see [`engine::pack`]).
//!
//! The package ships two WebAssembly modules, built from this crate with different features,
//! so an application that only assigns never downloads the statistics:
//! - `engine` (`litmus_engine.wasm`): the engine, the hashing functions, the SDK protocol
//!   machines ([`sdk`]: config sync, tracker policy, SSE, event encoding; [`usage`]: the flag
//!   usage sender) and the metric catalogue check ([`metrics`]);
//! - `analysis` (`litmus_analysis.wasm`): statistics (quantile sketches in [`quantiles`]),
//!   bandits, the analysis settings check ([`settings`]) and webhook signatures
//!   ([`webhooks`]).
//!
//! Native builds (tests, docs) enable both.

#[cfg(feature = "analysis")]
pub mod bandit;
#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "engine")]
pub mod flags;
#[cfg(feature = "engine")]
pub mod metrics;
#[cfg(feature = "analysis")]
pub mod quantiles;
#[cfg(feature = "engine")]
mod scratch;
#[cfg(feature = "engine")]
pub mod sdk;
#[cfg(feature = "analysis")]
pub mod settings;
#[cfg(feature = "analysis")]
pub mod stats;
#[cfg(feature = "engine")]
pub mod usage;
#[cfg(feature = "analysis")]
pub mod webhooks;

use wasm_bindgen::prelude::*;

/// An error for the JavaScript layer: JSON text `{"code", "message", "path"}`, which it turns
/// into a thrown `Error` with `name = "LitmusError"` and `code`. A `multiple` error also lists
/// each problem (`"problems": [{"code", "message", "path"}]`).
fn error(e: &litmus_core::Error) -> JsValue {
    let mut json = error_value(e);
    if let (litmus_core::Error::Multiple { errors }, Some(map)) = (e, json.as_object_mut()) {
        map.insert(
            "problems".to_owned(),
            errors.iter().map(error_value).collect(),
        );
    }
    JsValue::from_str(&json.to_string())
}

fn error_value(e: &litmus_core::Error) -> serde_json::Value {
    serde_json::json!({"code": e.code(), "message": e.to_string(), "path": e.path().map(|p| p.as_str())})
}

/// An `invalid_argument` error for the JavaScript layer.
fn argument(message: &str) -> JsValue {
    error_json("invalid_argument", message, None)
}

fn error_json(code: &str, message: &str, path: Option<&str>) -> JsValue {
    let json = serde_json::json!({"code": code, "message": message, "path": path});
    JsValue::from_str(&json.to_string())
}

/// The library version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Traps on purpose (a WebAssembly `unreachable`), so the JavaScript layer's recovery from an
/// aborted instance can be tested; the core itself never panics on any input.
#[wasm_bindgen(js_name = __testTrap)]
pub fn test_trap() {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
}
