//! The flag usage sender of `litmus_core::sdk::usage` for the package's config client
//! (`js/client.mjs`), which reads the engine's counts (`EngineCore::flagUsage`), does the
//! `POST /sdk/usage` and keeps the timer; every decision is core's. Actions cross as JSON text
//! shaped like the shared fixtures (`fixtures/sdk/usage.json`). Few exports: each costs the
//! engine module's size budget.

use litmus_core::sdk::{SendResult, UsageOptions, UsageSender as Core};
use wasm_bindgen::prelude::*;

use crate::error;

/// The flag usage sender; times in milliseconds since the epoch (`Date.now()`).
#[wasm_bindgen]
pub struct UsageSender {
    inner: Core,
}

#[wasm_bindgen]
impl UsageSender {
    /// A sender reporting every `interval_ms` (at least 1,000).
    #[wasm_bindgen(constructor)]
    pub fn new(base_url: &str, interval_ms: f64) -> Result<UsageSender, JsValue> {
        let mut options = UsageOptions::new(base_url);
        options.interval_ms = interval_ms;
        Ok(UsageSender {
            inner: Core::new(options).map_err(|e| error(&e))?,
        })
    }

    /// Records `evaluations` more of `flag` (a count that is not a positive number is none).
    pub fn record(&mut self, flag: &str, evaluations: f64) {
        // Saturating: NaN and negatives are 0, beyond 2^64 is the largest count.
        self.inner.record(flag, evaluations as u64);
    }

    /// The next action as JSON text.
    pub fn tick(&mut self, now_ms: f64) -> String {
        self.inner.tick(now_ms).to_json().to_string()
    }

    /// How the request in flight ended: the server's `status`, `Retry-After` and body, or,
    /// with status 0, no answer (`body` says what happened).
    pub fn sent(&mut self, status: u16, retry_after: Option<String>, body: &[u8], now_ms: f64) {
        let message = String::from_utf8_lossy(body);
        let result = match status {
            0 => SendResult::Unreachable { message: &message },
            _ => SendResult::Answered {
                status,
                retry_after: retry_after.as_deref(),
                body,
            },
        };
        self.inner.sent(result, now_ms);
    }

    /// Closes: what is left is sent at once, until `now_ms + timeout_ms`.
    pub fn close(&mut self, timeout_ms: f64, now_ms: f64) {
        self.inner.close(timeout_ms, now_ms);
    }

    /// The counters as JSON: `{"pending", "stored", "dropped" (evaluations), "stopped"}`.
    pub fn state(&self) -> String {
        let s = &self.inner;
        format!(
            r#"{{"pending":{},"stored":{},"dropped":{},"stopped":{}}}"#,
            s.pending(),
            s.stored(),
            s.dropped(),
            s.is_stopped()
        )
    }
}
