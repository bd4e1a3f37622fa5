//! The SDK protocol machines of `litmus_core::sdk` for the Python shells (`litmus.client`,
//! `litmus.tracker`): the shells do the I/O and threads; every decision is core's.
//!
//! Actions come back as dicts shaped like the shared fixtures (`fixtures/sdk/`): a `type` and
//! its fields; a tracker's request body comes as `bytes`.

use litmus_core::Timestamp;
use litmus_core::sdk::{
    self, ConfigSync as CoreSync, SyncMode, SyncOptions, Tracker as CoreTracker, TrackerAction,
    TrackerOptions, reply, sticky, wire,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::convert::from_json;
use crate::errors::{argument, check, guard};

/// An action, as core writes it in JSON, as a dict.
fn action_dict<'py>(py: Python<'py>, action: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    from_json(py, action)
}

/// The config client's state machine (`litmus_core::sdk::config_sync`); times in
/// milliseconds on the caller's monotonic clock.
#[pyclass(module = "litmus._litmus", name = "ConfigSync")]
pub(crate) struct ConfigSync {
    inner: CoreSync,
}

#[pymethods]
impl ConfigSync {
    #[new]
    #[pyo3(signature = (base_url, mode = "stream", *, poll_interval_ms = 30_000.0, idle_timeout_ms = 45_000.0, retry_delay_ms = 1_000.0, max_retry_delay_ms = 30_000.0, has_cache = false, seed = 0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        base_url: &str,
        mode: &str,
        poll_interval_ms: f64,
        idle_timeout_ms: f64,
        retry_delay_ms: f64,
        max_retry_delay_ms: f64,
        has_cache: bool,
        seed: u64,
    ) -> PyResult<Self> {
        guard(py, || {
            let mut options = SyncOptions::new(base_url, check(py, SyncMode::parse(mode))?);
            options.poll_interval_ms = poll_interval_ms;
            options.idle_timeout_ms = idle_timeout_ms;
            options.retry_delay_ms = retry_delay_ms;
            options.max_retry_delay_ms = max_retry_delay_ms;
            options.has_cache = has_cache;
            options.seed = seed;
            Ok(ConfigSync {
                inner: check(py, CoreSync::new(options))?,
            })
        })
    }

    /// The next action as a dict, or None while an answer is awaited.
    fn poll_action<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(py, || {
            self.inner
                .poll_action()
                .map(|a| action_dict(py, &a.to_json()))
                .transpose()
        })
    }

    #[pyo3(signature = (bootstrap = None))]
    fn start(&mut self, bootstrap: Option<&str>) {
        self.inner.start(bootstrap);
    }

    fn close(&mut self) {
        self.inner.close();
    }

    fn resume(&mut self, now_ms: f64) {
        self.inner.resume(now_ms);
    }

    #[pyo3(signature = (status, etag, body, now_ms))]
    fn fetched(&mut self, status: u16, etag: Option<&str>, body: &[u8], now_ms: f64) {
        self.inner.fetched(status, etag, body, now_ms);
    }

    fn unreachable(&mut self, message: &str, now_ms: f64) {
        self.inner.unreachable(message, now_ms);
    }

    #[pyo3(signature = (status, content_type, body, now_ms))]
    fn stream_opened(&mut self, status: u16, content_type: Option<&str>, body: &[u8], now_ms: f64) {
        self.inner.stream_opened(status, content_type, body, now_ms);
    }

    fn stream_data(&mut self, chunk: &[u8], now_ms: f64) {
        self.inner.stream_data(chunk, now_ms);
    }

    fn stream_ended(&mut self, now_ms: f64) {
        self.inner.stream_ended(now_ms);
    }

    fn stream_failed(&mut self, message: &str, idle: bool, now_ms: f64) {
        self.inner.stream_failed(message, idle, now_ms);
    }

    fn timer_fired(&mut self, now_ms: f64) {
        self.inner.timer_fired(now_ms);
    }

    #[pyo3(signature = (version, now_ms))]
    fn loaded(&mut self, version: Option<&str>, now_ms: f64) {
        self.inner.loaded(version, now_ms);
    }

    fn refused(&mut self, code: &str, message: &str, now_ms: f64) {
        self.inner.refused(code, message, now_ms);
    }

    #[pyo3(signature = (text, now_ms))]
    fn cache_read(&mut self, text: Option<&str>, now_ms: f64) {
        self.inner.cache_read(text, now_ms);
    }

    #[getter]
    fn stale(&self) -> bool {
        self.inner.is_stale()
    }

    #[getter]
    fn version(&self) -> Option<&str> {
        self.inner.version()
    }

    #[getter]
    fn source(&self) -> Option<&'static str> {
        self.inner.source().map(|s| s.as_str())
    }

    #[getter]
    fn etag(&self) -> Option<&str> {
        self.inner.etag()
    }

    #[getter]
    fn last_event_id(&self) -> Option<&str> {
        self.inner.last_event_id()
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }
}

/// The event tracker's queue and policy (`litmus_core::sdk::tracker`); times in milliseconds
/// since the epoch (the wall clock).
#[pyclass(module = "litmus._litmus", name = "TrackerCore")]
pub(crate) struct Tracker {
    inner: CoreTracker,
}

fn random16(py: Python<'_>, random: &[u8]) -> PyResult<[u8; 16]> {
    random
        .try_into()
        .map_err(|_| argument(py, "random must be 16 bytes"))
}

fn tracker_action<'py>(py: Python<'py>, action: TrackerAction) -> PyResult<Bound<'py, PyAny>> {
    match action {
        TrackerAction::Send {
            id,
            body,
            events,
            gzip,
        } => {
            let dict = PyDict::new(py);
            dict.set_item("type", "send")?;
            dict.set_item("id", id)?;
            dict.set_item("body", PyBytes::new(py, &body))?;
            dict.set_item("events", events)?;
            dict.set_item("gzip", gzip)?;
            Ok(dict.into_any())
        }
        other => action_dict(py, &other.to_json()),
    }
}

#[pymethods]
impl Tracker {
    #[new]
    #[pyo3(signature = (base_url, *, flush_interval_ms = 1_000.0, max_batch = 500, max_queue = 10_000, retry_delay_ms = 1_000.0, max_retry_delay_ms = 30_000.0, gzip_min_bytes = 1024, seed = 0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        base_url: &str,
        flush_interval_ms: f64,
        max_batch: usize,
        max_queue: usize,
        retry_delay_ms: f64,
        max_retry_delay_ms: f64,
        gzip_min_bytes: usize,
        seed: u64,
    ) -> PyResult<Self> {
        guard(py, || {
            let mut options = TrackerOptions::new(base_url);
            options.flush_interval_ms = flush_interval_ms;
            options.max_batch = max_batch;
            options.max_queue = max_queue;
            options.retry_delay_ms = retry_delay_ms;
            options.max_retry_delay_ms = max_retry_delay_ms;
            options.gzip_min_bytes = gzip_min_bytes;
            options.seed = seed;
            Ok(Tracker {
                inner: check(py, CoreTracker::new(options))?,
            })
        })
    }

    fn enqueue(&mut self, data: &[u8], now_ms: f64) -> bool {
        self.inner.enqueue(data.to_vec(), now_ms)
    }

    #[pyo3(signature = (unit_id, event, value, properties_json, at_ms, random, now_ms))]
    #[allow(clippy::too_many_arguments)]
    fn track(
        &mut self,
        py: Python<'_>,
        unit_id: &str,
        event: &str,
        value: Option<f64>,
        properties_json: Option<&str>,
        at_ms: i64,
        random: &[u8],
        now_ms: f64,
    ) -> PyResult<Option<String>> {
        let random = random16(py, random)?;
        let at = Timestamp::from_unix_millis(at_ms);
        check(
            py,
            self.inner
                .track(unit_id, event, value, properties_json, at, random, now_ms),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn exposure(
        &mut self,
        py: Python<'_>,
        unit_id: &str,
        experiment: &str,
        variant: &str,
        dimensions_json: Option<&str>,
        at_ms: i64,
        random: &[u8],
        now_ms: f64,
    ) -> PyResult<Option<String>> {
        let random = random16(py, random)?;
        let at = Timestamp::from_unix_millis(at_ms);
        check(
            py,
            self.inner.exposure(
                unit_id,
                experiment,
                variant,
                dimensions_json,
                at,
                random,
                now_ms,
            ),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn holdout_exposure(
        &mut self,
        py: Python<'_>,
        unit_id: &str,
        holdout: &str,
        arm: &str,
        at_ms: i64,
        random: &[u8],
        now_ms: f64,
    ) -> PyResult<Option<String>> {
        let random = random16(py, random)?;
        let at = Timestamp::from_unix_millis(at_ms);
        check(
            py,
            self.inner
                .holdout_exposure(unit_id, holdout, arm, at, random, now_ms),
        )
    }

    fn flush(&mut self) {
        self.inner.flush();
    }

    fn close(&mut self, timeout_ms: f64, now_ms: f64) {
        self.inner.close(timeout_ms, now_ms);
    }

    fn next_action<'py>(&mut self, py: Python<'py>, now_ms: f64) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || tracker_action(py, self.inner.next_action(now_ms)))
    }

    fn take_for_keepalive<'py>(
        &mut self,
        py: Python<'py>,
        max_bytes: usize,
        now_ms: f64,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(py, || {
            self.inner
                .take_for_keepalive(max_bytes, now_ms)
                .map(|a| tracker_action(py, a))
                .transpose()
        })
    }

    #[pyo3(signature = (id, status, retry_after, body, now_ms))]
    fn answered(
        &mut self,
        id: u64,
        status: u16,
        retry_after: Option<&str>,
        body: &[u8],
        now_ms: f64,
    ) {
        self.inner.answered(id, status, retry_after, body, now_ms);
    }

    fn unreachable(&mut self, id: u64, message: &str, now_ms: f64) {
        self.inner.unreachable(id, message, now_ms);
    }

    #[getter]
    fn queued(&self) -> u64 {
        self.inner.queued()
    }

    #[getter]
    fn sent(&self) -> u64 {
        self.inner.sent()
    }

    #[getter]
    fn dropped(&self) -> u64 {
        self.inner.dropped()
    }

    #[getter]
    fn settled(&self) -> u64 {
        self.inner.settled()
    }

    #[getter]
    fn enqueued(&self) -> u64 {
        self.inner.enqueued()
    }

    #[getter]
    fn closing(&self) -> bool {
        self.inner.is_closing()
    }
}

/// The Server-Sent Events decoder (`litmus_core::sdk::sse`).
#[pyclass(module = "litmus._litmus", name = "SseDecoder")]
pub(crate) struct SseDecoder {
    inner: sdk::SseDecoder,
}

#[pymethods]
impl SseDecoder {
    #[new]
    fn new() -> Self {
        SseDecoder {
            inner: sdk::SseDecoder::new(),
        }
    }

    /// The events a chunk of bytes completes, as `(kind, data, id)` tuples.
    fn feed(&mut self, chunk: &[u8]) -> Vec<(String, String, String)> {
        self.inner
            .feed(chunk)
            .into_iter()
            .map(|e| (e.kind, e.data, e.id))
            .collect()
    }

    #[getter]
    fn last_event_id(&self) -> &str {
        self.inner.last_event_id()
    }

    #[getter]
    fn retry_ms(&self) -> Option<u64> {
        self.inner.retry_ms()
    }

    #[getter]
    fn comments(&self) -> u64 {
        self.inner.comments()
    }
}

/// `(code, message)` of an error answer.
#[pyfunction]
pub(crate) fn decode_error_reply(status: u16, body: &[u8]) -> (String, Option<String>) {
    let r = reply::ErrorReply::decode(status, body);
    (r.code, r.message)
}

/// A `Retry-After` value in milliseconds at `now_ms` (wall clock), or None.
#[pyfunction]
pub(crate) fn retry_after_ms(value: &str, now_ms: i64) -> Option<u64> {
    reply::retry_after_ms(value, Timestamp::from_unix_millis(now_ms))
}

/// Whether a request answered `status` is sent again.
#[pyfunction]
pub(crate) fn is_retryable(status: u16) -> bool {
    reply::is_retryable(status)
}

/// RFC 3339 with milliseconds, or None outside years 0000 to 9999.
#[pyfunction]
pub(crate) fn format_millis(ms: i64) -> Option<String> {
    Timestamp::from_unix_millis(ms).to_rfc3339()
}

/// The version 4 UUID text of 16 random bytes.
#[pyfunction]
pub(crate) fn message_id(py: Python<'_>, random: &[u8]) -> PyResult<String> {
    Ok(wire::message_id(random16(py, random)?))
}

/// An exposure event, encoded.
#[pyfunction]
#[pyo3(signature = (unit_id, experiment, variant, at_ms, message_id, dimensions_json=None))]
pub(crate) fn encode_exposure<'py>(
    py: Python<'py>,
    unit_id: &str,
    experiment: &str,
    variant: &str,
    at_ms: i64,
    message_id: &str,
    dimensions_json: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    let at = Timestamp::from_unix_millis(at_ms);
    let data = check(
        py,
        wire::encode_exposure(
            unit_id,
            experiment,
            variant,
            dimensions_json,
            at,
            message_id,
        ),
    )?;
    Ok(PyBytes::new(py, &data))
}

/// A track event, encoded.
#[pyfunction]
#[pyo3(signature = (unit_id, event, value, properties_json, at_ms, message_id))]
pub(crate) fn encode_track<'py>(
    py: Python<'py>,
    unit_id: &str,
    event: &str,
    value: Option<f64>,
    properties_json: Option<&str>,
    at_ms: i64,
    message_id: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let at = Timestamp::from_unix_millis(at_ms);
    let data = check(
        py,
        wire::encode_track(unit_id, event, value, properties_json, at, message_id),
    )?;
    Ok(PyBytes::new(py, &data))
}

/// The sticky store's key for (experiment, unit).
#[pyfunction]
pub(crate) fn sticky_key(experiment: &str, unit_id: &str) -> String {
    sticky::sticky_key(experiment, unit_id)
}

/// Registers the SDK classes and functions.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ConfigSync>()?;
    m.add_class::<Tracker>()?;
    m.add_class::<SseDecoder>()?;
    m.add_function(wrap_pyfunction!(decode_error_reply, m)?)?;
    m.add_function(wrap_pyfunction!(retry_after_ms, m)?)?;
    m.add_function(wrap_pyfunction!(is_retryable, m)?)?;
    m.add_function(wrap_pyfunction!(format_millis, m)?)?;
    m.add_function(wrap_pyfunction!(message_id, m)?)?;
    m.add_function(wrap_pyfunction!(encode_exposure, m)?)?;
    m.add_function(wrap_pyfunction!(encode_track, m)?)?;
    m.add_function(wrap_pyfunction!(sticky_key, m)?)?;
    m.add("MAX_EVENT_BYTES", litmus_core::events::MAX_EVENT_BYTES)?;
    m.add("MAX_BODY_BYTES", litmus_core::events::MAX_BATCH_BYTES)?;
    m.add("MAX_BATCH_EVENTS", litmus_core::events::MAX_BATCH_EVENTS)?;
    m.add("ENVELOPE_BYTES", wire::ENVELOPE_BYTES)?;
    Ok(())
}
