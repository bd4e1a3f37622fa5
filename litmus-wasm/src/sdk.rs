//! The SDK protocol machines of `litmus_core::sdk` for the package's JavaScript shells
//! (`js/client.mjs`, `js/tracker.mjs`): they do the fetches and timers; every decision is
//! core's. Actions cross as JSON text shaped like the shared fixtures (`fixtures/sdk/`).

use litmus_core::Timestamp;
use litmus_core::sdk::{
    ConfigSync as CoreSync, SyncMode, SyncOptions, Tracker as CoreTracker, TrackerOptions, sticky,
};
use wasm_bindgen::prelude::*;

use crate::{argument, error};

/// A JavaScript number as a seed (the jitter's; any number, NaN is 0).
fn seed_of(seed: f64) -> u64 {
    seed as u64
}

/// The config client's state machine; times in milliseconds on the caller's clock.
#[wasm_bindgen]
pub struct ConfigSync {
    inner: CoreSync,
}

#[wasm_bindgen]
impl ConfigSync {
    /// A machine: `mode` is "stream" or "poll"; durations in milliseconds.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        base_url: &str,
        mode: &str,
        poll_interval_ms: f64,
        idle_timeout_ms: f64,
        retry_delay_ms: f64,
        max_retry_delay_ms: f64,
        has_cache: bool,
        seed: f64,
    ) -> Result<ConfigSync, JsValue> {
        let mode = SyncMode::parse(mode).map_err(|e| error(&e))?;
        let mut options = SyncOptions::new(base_url, mode);
        options.poll_interval_ms = poll_interval_ms;
        options.idle_timeout_ms = idle_timeout_ms;
        options.retry_delay_ms = retry_delay_ms;
        options.max_retry_delay_ms = max_retry_delay_ms;
        options.has_cache = has_cache;
        options.seed = seed_of(seed);
        Ok(ConfigSync {
            inner: CoreSync::new(options).map_err(|e| error(&e))?,
        })
    }

    /// The next action as JSON text, or undefined while an answer is awaited.
    #[wasm_bindgen(js_name = pollAction)]
    pub fn poll_action(&mut self) -> Result<Option<String>, JsValue> {
        self.inner
            .poll_action()
            .map(|a| Ok(a.to_json().to_string()))
            .transpose()
    }

    /// Starts, with a bootstrap config's text when given.
    pub fn start(&mut self, bootstrap: Option<String>) {
        self.inner.start(bootstrap.as_deref());
    }

    /// Stops for good.
    pub fn close(&mut self) {
        self.inner.close();
    }

    /// Starts over from a fetch (the action awaited was lost).
    pub fn resume(&mut self, now_ms: f64) {
        self.inner.resume(now_ms);
    }

    /// The answer to a fetch.
    pub fn fetched(&mut self, status: u16, etag: Option<String>, body: &[u8], now_ms: f64) {
        self.inner.fetched(status, etag.as_deref(), body, now_ms);
    }

    /// A request got no answer.
    pub fn unreachable(&mut self, message: &str, now_ms: f64) {
        self.inner.unreachable(message, now_ms);
    }

    /// The answer to opening the stream.
    #[wasm_bindgen(js_name = streamOpened)]
    pub fn stream_opened(
        &mut self,
        status: u16,
        content_type: Option<String>,
        body: &[u8],
        now_ms: f64,
    ) {
        self.inner
            .stream_opened(status, content_type.as_deref(), body, now_ms);
    }

    /// A chunk of the stream.
    #[wasm_bindgen(js_name = streamData)]
    pub fn stream_data(&mut self, chunk: &[u8], now_ms: f64) {
        self.inner.stream_data(chunk, now_ms);
    }

    /// The server ended the stream.
    #[wasm_bindgen(js_name = streamEnded)]
    pub fn stream_ended(&mut self, now_ms: f64) {
        self.inner.stream_ended(now_ms);
    }

    /// Reading the stream failed (`idle`: nothing came for the idle timeout).
    #[wasm_bindgen(js_name = streamFailed)]
    pub fn stream_failed(&mut self, message: &str, idle: bool, now_ms: f64) {
        self.inner.stream_failed(message, idle, now_ms);
    }

    /// A wait is over.
    #[wasm_bindgen(js_name = timerFired)]
    pub fn timer_fired(&mut self, now_ms: f64) {
        self.inner.timer_fired(now_ms);
    }

    /// The engine took the config.
    pub fn loaded(&mut self, version: Option<String>, now_ms: f64) {
        self.inner.loaded(version.as_deref(), now_ms);
    }

    /// The engine refused the config.
    pub fn refused(&mut self, code: &str, message: &str, now_ms: f64) {
        self.inner.refused(code, message, now_ms);
    }

    /// The cache file's text (undefined: none).
    #[wasm_bindgen(js_name = cacheRead)]
    pub fn cache_read(&mut self, text: Option<String>, now_ms: f64) {
        self.inner.cache_read(text.as_deref(), now_ms);
    }

    /// Whether the served config may be behind the server's.
    #[wasm_bindgen(getter)]
    pub fn stale(&self) -> bool {
        self.inner.is_stale()
    }

    /// The served config's version.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> Option<String> {
        self.inner.version().map(str::to_owned)
    }

    /// Where the served config came from.
    #[wasm_bindgen(getter)]
    pub fn source(&self) -> Option<String> {
        self.inner.source().map(|s| s.as_str().to_owned())
    }

    /// The ETag sent as If-None-Match.
    #[wasm_bindgen(getter)]
    pub fn etag(&self) -> Option<String> {
        self.inner.etag().map(str::to_owned)
    }

    /// The id sent as Last-Event-ID.
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> Option<String> {
        self.inner.last_event_id().map(str::to_owned)
    }

    /// Whether close was called.
    #[wasm_bindgen(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }
}

/// The event tracker's queue and policy; times in milliseconds since the epoch.
#[wasm_bindgen]
pub struct TrackerCore {
    inner: CoreTracker,
}

fn random16(random: &[u8]) -> Result<[u8; 16], JsValue> {
    random
        .try_into()
        .map_err(|_| argument("random must be 16 bytes"))
}

#[wasm_bindgen]
impl TrackerCore {
    /// A tracker's queue; durations in milliseconds.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        base_url: &str,
        flush_interval_ms: f64,
        max_batch: f64,
        max_queue: f64,
        retry_delay_ms: f64,
        max_retry_delay_ms: f64,
        gzip_min_bytes: f64,
        seed: f64,
    ) -> Result<TrackerCore, JsValue> {
        let mut options = TrackerOptions::new(base_url);
        options.flush_interval_ms = flush_interval_ms;
        options.max_batch = count(max_batch);
        options.max_queue = count(max_queue);
        options.retry_delay_ms = retry_delay_ms;
        options.max_retry_delay_ms = max_retry_delay_ms;
        options.gzip_min_bytes = count(gzip_min_bytes);
        options.seed = seed_of(seed);
        Ok(TrackerCore {
            inner: CoreTracker::new(options).map_err(|e| error(&e))?,
        })
    }

    /// Queues an encoded event (JSON text); whether it was queued.
    pub fn enqueue(&mut self, data: &str, now_ms: f64) -> bool {
        self.inner.enqueue(data.as_bytes().to_vec(), now_ms)
    }

    /// Encodes and queues a track event: its message id, or undefined when it was dropped.
    #[allow(clippy::too_many_arguments)]
    pub fn track(
        &mut self,
        unit_id: &str,
        event: &str,
        value: Option<f64>,
        properties_json: Option<String>,
        at_ms: f64,
        random: &[u8],
        now_ms: f64,
    ) -> Result<Option<String>, JsValue> {
        let at = Timestamp::from_unix_millis(at_ms as i64);
        let random = random16(random)?;
        self.inner
            .track(
                unit_id,
                event,
                value,
                properties_json.as_deref(),
                at,
                random,
                now_ms,
            )
            .map_err(|e| error(&e))
    }

    /// Encodes and queues an exposure: its message id, or undefined when it was dropped.
    #[allow(clippy::too_many_arguments)]
    pub fn exposure(
        &mut self,
        unit_id: &str,
        experiment: &str,
        variant: &str,
        dimensions_json: Option<String>,
        at_ms: f64,
        random: &[u8],
        now_ms: f64,
    ) -> Result<Option<String>, JsValue> {
        let at = Timestamp::from_unix_millis(at_ms as i64);
        let random = random16(random)?;
        self.inner
            .exposure(
                unit_id,
                experiment,
                variant,
                dimensions_json.as_deref(),
                at,
                random,
                now_ms,
            )
            .map_err(|e| error(&e))
    }

    /// Encodes and queues a holdout exposure: its message id, or undefined when it was dropped.
    #[wasm_bindgen(js_name = holdoutExposure)]
    pub fn holdout_exposure(
        &mut self,
        unit_id: &str,
        holdout: &str,
        arm: &str,
        at_ms: f64,
        random: &[u8],
        now_ms: f64,
    ) -> Result<Option<String>, JsValue> {
        let at = Timestamp::from_unix_millis(at_ms as i64);
        let random = random16(random)?;
        self.inner
            .holdout_exposure(unit_id, holdout, arm, at, random, now_ms)
            .map_err(|e| error(&e))
    }

    /// Makes everything queued so far due now.
    pub fn flush(&mut self) {
        self.inner.flush();
    }

    /// Closes, with a deadline `timeout_ms` from now.
    pub fn close(&mut self, timeout_ms: f64, now_ms: f64) {
        self.inner.close(timeout_ms, now_ms);
    }

    /// The next action as JSON text.
    #[wasm_bindgen(js_name = nextAction)]
    pub fn next_action(&mut self, now_ms: f64) -> Result<String, JsValue> {
        Ok(self.inner.next_action(now_ms).to_json().to_string())
    }

    /// A keep-alive request of what fits `max_bytes`, as JSON text, or undefined.
    #[wasm_bindgen(js_name = takeForKeepalive)]
    pub fn take_for_keepalive(
        &mut self,
        max_bytes: f64,
        now_ms: f64,
    ) -> Result<Option<String>, JsValue> {
        self.inner
            .take_for_keepalive(count(max_bytes), now_ms)
            .map(|a| Ok(a.to_json().to_string()))
            .transpose()
    }

    /// The answer to request `id`.
    pub fn answered(
        &mut self,
        id: f64,
        status: u16,
        retry_after: Option<String>,
        body: &[u8],
        now_ms: f64,
    ) {
        self.inner
            .answered(id as u64, status, retry_after.as_deref(), body, now_ms);
    }

    /// Request `id` got no answer.
    pub fn unreachable(&mut self, id: f64, message: &str, now_ms: f64) {
        self.inner.unreachable(id as u64, message, now_ms);
    }

    /// Events queued or in flight.
    #[wasm_bindgen(getter)]
    pub fn queued(&self) -> f64 {
        self.inner.queued() as f64
    }

    /// Events acknowledged.
    #[wasm_bindgen(getter)]
    pub fn sent(&self) -> f64 {
        self.inner.sent() as f64
    }

    /// Events given up.
    #[wasm_bindgen(getter)]
    pub fn dropped(&self) -> f64 {
        self.inner.dropped() as f64
    }

    /// Every event queued before this count is sent or dropped.
    #[wasm_bindgen(getter)]
    pub fn settled(&self) -> f64 {
        self.inner.settled() as f64
    }

    /// How many events were ever queued.
    #[wasm_bindgen(getter)]
    pub fn enqueued(&self) -> f64 {
        self.inner.enqueued() as f64
    }

    /// Whether close was called.
    #[wasm_bindgen(getter)]
    pub fn closing(&self) -> bool {
        self.inner.is_closing()
    }
}

/// A JavaScript number as a count (negative and NaN are 0, fractions are cut).
fn count(n: f64) -> usize {
    n as usize
}

/// The sticky store's key for (experiment, unit).
#[wasm_bindgen(js_name = stickyKey)]
pub fn sticky_key(experiment: &str, unit_id: &str) -> String {
    sticky::sticky_key(experiment, unit_id)
}

/// Whether an assignment with this reason code is remembered in a sticky store.
#[wasm_bindgen(js_name = shouldRemember)]
pub fn should_remember(reason: &str) -> bool {
    sticky::should_remember_code(reason)
}
