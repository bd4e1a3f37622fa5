//! The event tracker's queue and sending policy, sans I/O.
//!
//! The shell (Python's `EventTracker`, the npm package's `EventTracker`) encodes events with
//! [`super::wire`] (or lets [`Tracker::track`] and [`Tracker::exposure`] do it), queues them
//! here, and loops: take the next [`TrackerAction`], carry it out, feed back the answer.
//!
//! The behaviour, the same in every package:
//! - **Queue**: at most `max_queue` events wait (queued or in flight); beyond it new events
//!   are dropped, counted, and reported at most once a second with their number (code
//!   `queue_full`). Events tracked after close are dropped and reported alike (`closed`).
//! - **Batches**: at most `max_batch` events and 1 MiB of JSON per request (gzipped by the
//!   shell above `gzip_min_bytes`). A full batch is sent at once; otherwise everything queued
//!   is sent when the oldest event has waited `flush_interval`, or on `flush`.
//! - **Answers**: 2xx acknowledges the batch; events the server rejected in it are dropped and
//!   reported with their codes (`events_rejected`), and a 200 without the promised JSON is
//!   reported (`bad_response`) though its events count as sent. 408, 429, 5xx and network
//!   failures put the batch back in front, unchanged (the same message ids: the server stores
//!   each once), and back off: full jitter from `retry_delay` doubling to `max_retry_delay`,
//!   and at least the server's `Retry-After` (seconds or an HTTP date). 413 splits the batch
//!   in two halves sent in order (the first is the larger when the count is odd); a single
//!   event answered 413 is dropped (the server's code, else `event_too_large`). 401 and 403
//!   drop the batch and wait the longer of `max_retry_delay` and `Retry-After` before the
//!   next request. Any other answer drops the batch. Every drop is counted and reported.
//! - **Close**: everything queued becomes due at once, whatever the backoff after failures
//!   (but not before a 401/403 pause ends: the key will not have changed); retries go on with
//!   their backoff while the next attempt would start before the deadline; what is left then
//!   is dropped and reported (`closed`).
//!
//! Every `now_ms` is the wall clock in milliseconds since the Unix epoch: a body's `sent_at`
//! is written from it (the server corrects clock skew with it), and a `Retry-After` date is
//! read against it.

use std::collections::VecDeque;

use crate::error::Error;
use crate::events::MAX_BATCH_EVENTS;
use crate::rng::Xoshiro256PlusPlus;
use crate::time::Timestamp;

use super::backoff::Backoff;
use super::config_sync::check_duration;
use super::reply::{ErrorReply, is_auth, is_retryable, retry_after_ms};
use super::report::{Report, ReportKind, ReportLog, action_json};
use super::wire;

/// At most one report of dropped events per this many milliseconds.
pub const REPORT_EVERY_MS: f64 = 1_000.0;

/// The options of a [`Tracker`]; durations in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackerOptions {
    /// The server's base URL, for messages only.
    pub base_url: String,
    /// How long the oldest queued event waits before the queue is sent (1 s).
    pub flush_interval_ms: f64,
    /// Events per request, 1 to 2,500 (500).
    pub max_batch: usize,
    /// Events kept, queued or in flight (10,000).
    pub max_queue: usize,
    /// The first retry waits up to this (1 s).
    pub retry_delay_ms: f64,
    /// The longest wait between retries, and the wait after 401 or 403 (30 s).
    pub max_retry_delay_ms: f64,
    /// Bodies longer than this are to be gzipped (1,024 bytes).
    pub gzip_min_bytes: usize,
    /// Seeds the jitter (draw it from the system's random source; tests fix it).
    pub seed: u64,
}

impl TrackerOptions {
    /// The defaults for `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        TrackerOptions {
            base_url: base_url.into(),
            flush_interval_ms: 1_000.0,
            max_batch: 500,
            max_queue: 10_000,
            retry_delay_ms: 1_000.0,
            max_retry_delay_ms: 30_000.0,
            gzip_min_bytes: 1024,
            seed: 0,
        }
    }

    /// Checks every option.
    ///
    /// # Errors
    /// `invalid_argument` naming the first bad option.
    pub fn validate(&self) -> Result<(), Error> {
        check_duration("flush_interval", self.flush_interval_ms)?;
        check_duration("retry_delay", self.retry_delay_ms)?;
        check_duration("max_retry_delay", self.max_retry_delay_ms)?;
        if !(1..=MAX_BATCH_EVENTS).contains(&self.max_batch) {
            return Err(Error::argument(
                "max_batch",
                format!(
                    "must be from 1 to {MAX_BATCH_EVENTS}, not {}",
                    self.max_batch
                ),
            ));
        }
        if self.max_queue == 0 {
            return Err(Error::argument("max_queue", "must be at least 1"));
        }
        Ok(())
    }
}

/// What the shell must do next.
/// As JSON ([`TrackerAction::to_json`]), an action is an object with its `type` in snake_case
/// and its fields (the body as text): the shape the shared fixtures expect.
#[derive(Debug, Clone, PartialEq)]
pub enum TrackerAction {
    /// `POST /events` with this body (gzipped when `gzip`); answer with
    /// [`Tracker::answered`] or [`Tracker::unreachable`], naming `id`.
    Send {
        /// The request's id.
        id: u64,
        /// The JSON body.
        body: Vec<u8>,
        /// Events in it.
        events: usize,
        /// Whether to send it with `Content-Encoding: gzip`.
        gzip: bool,
    },
    /// Report a problem (`on_error`, the last error).
    Report {
        /// The problem.
        report: Report,
    },
    /// The last error reported no longer holds: clear it.
    Recovered,
    /// Nothing to do for this long (None: until an event is queued, a flush, a close or an
    /// answer); then ask again.
    Wait {
        /// Milliseconds, or None for no limit.
        ms: Option<f64>,
    },
    /// Closed and done: nothing is left, or the deadline passed (what was left is dropped and
    /// reported just before).
    Done,
}

impl TrackerAction {
    /// The action as JSON: `{"type": "send", "id", "body" (text), "events", "gzip"}`,
    /// `{"type": "wait", "ms"}` and so on, the shape of the shared fixtures.
    pub fn to_json(&self) -> serde_json::Value {
        let (kind, fields): (&str, Vec<(&str, serde_json::Value)>) = match self {
            TrackerAction::Send {
                id,
                body,
                events,
                gzip,
            } => (
                "send",
                vec![
                    ("id", (*id).into()),
                    ("body", String::from_utf8_lossy(body).into()),
                    ("events", (*events).into()),
                    ("gzip", (*gzip).into()),
                ],
            ),
            TrackerAction::Report { report } => ("report", vec![("report", report.to_json())]),
            TrackerAction::Recovered => ("recovered", vec![]),
            TrackerAction::Wait { ms } => ("wait", vec![("ms", (*ms).into())]),
            TrackerAction::Done => ("done", vec![]),
        };
        action_json(kind, fields)
    }
}

/// One queued event.
#[derive(Debug, Clone)]
struct Queued {
    seq: u64,
    data: Vec<u8>,
}

/// The tracker's state machine: see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Tracker {
    options: TrackerOptions,
    rng: Xoshiro256PlusPlus,
    backoff: Backoff,
    queue: VecDeque<Queued>,
    /// Batches to send before the queue, in order: retries and the halves of a 413.
    pending: VecDeque<Vec<Queued>>,
    /// Requests in flight, by id (rarely more than two: one, and a keep-alive).
    in_flight: Vec<(u64, Vec<Queued>)>,
    next_id: u64,
    next_seq: u64,
    /// Every event before this seq is due now (a flush, a close or a tick).
    due_seq: u64,
    /// When the oldest queued event's wait ends.
    tick_at: Option<f64>,
    /// No request before this (a backoff after a failure; close cuts it short).
    not_before: f64,
    /// No request before this either (the pause after 401 or 403; close keeps it).
    paused_until: f64,
    sent: u64,
    dropped: u64,
    /// Drops not reported yet: on a full queue, and after close.
    unreported: Unreported,
    reported_at: f64,
    closing_deadline: Option<f64>,
    done: bool,
    reports: ReportLog,
    actions: VecDeque<TrackerAction>,
}

impl Tracker {
    /// An empty tracker.
    ///
    /// # Errors
    /// `invalid_argument` for a bad option.
    pub fn new(options: TrackerOptions) -> Result<Self, Error> {
        options.validate()?;
        Ok(Tracker {
            rng: Xoshiro256PlusPlus::seed_from_u64(options.seed),
            backoff: Backoff::new(options.retry_delay_ms, options.max_retry_delay_ms),
            options,
            queue: VecDeque::new(),
            pending: VecDeque::new(),
            in_flight: Vec::new(),
            next_id: 1,
            next_seq: 0,
            due_seq: 0,
            tick_at: None,
            not_before: f64::NEG_INFINITY,
            paused_until: f64::NEG_INFINITY,
            sent: 0,
            dropped: 0,
            unreported: Unreported::default(),
            reported_at: f64::NEG_INFINITY,
            closing_deadline: None,
            done: false,
            reports: ReportLog::default(),
            actions: VecDeque::new(),
        })
    }

    // -- counters --------------------------------------------------------------------------

    /// Events queued or in flight (neither sent nor dropped yet).
    pub fn queued(&self) -> u64 {
        let batched: usize = self
            .pending
            .iter()
            .chain(self.in_flight.iter().map(|(_, b)| b))
            .map(Vec::len)
            .sum();
        (self.queue.len() + batched) as u64
    }

    /// Events the server acknowledged.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Events given up.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many events were ever queued: a flush waits until [`Tracker::settled`] reaches the
    /// value this had when it began.
    pub fn enqueued(&self) -> u64 {
        self.next_seq
    }

    /// Every event queued before this count is sent or dropped.
    pub fn settled(&self) -> u64 {
        let batched = self
            .pending
            .iter()
            .chain(self.in_flight.iter().map(|(_, b)| b));
        batched
            .filter_map(|b| b.first())
            .chain(self.queue.front())
            .map(|q| q.seq)
            .min()
            .unwrap_or(self.next_seq)
    }

    /// Whether close was called.
    pub fn is_closing(&self) -> bool {
        self.closing_deadline.is_some()
    }

    // -- events ----------------------------------------------------------------------------

    /// Queues an encoded event (see [`super::wire`]). Answers whether it was queued: false
    /// when it was dropped (a full queue or a closed tracker; counted, and reported within a
    /// second).
    pub fn enqueue(&mut self, data: Vec<u8>, now_ms: f64) -> bool {
        let reason = if self.closing_deadline.is_some() {
            Some("closed")
        } else if self.queued() >= self.options.max_queue as u64 {
            Some("queue_full")
        } else {
            None
        };
        if let Some(code) = reason {
            self.dropped += 1;
            self.unreported.count(code);
            return false;
        }
        self.queue.push_back(Queued {
            seq: self.next_seq,
            data,
        });
        self.next_seq += 1;
        if self.tick_at.is_none() {
            self.tick_at = Some(now_ms + self.options.flush_interval_ms);
        }
        true
    }

    /// Encodes and queues an exposure; `random` makes its message id. Answers the message
    /// id, or None when the event was dropped.
    ///
    /// # Errors
    /// As [`wire::encode_exposure`].
    #[allow(clippy::too_many_arguments)]
    pub fn exposure(
        &mut self,
        unit_id: &str,
        experiment: &str,
        variant: &str,
        dimensions_json: Option<&str>,
        at: Timestamp,
        random: [u8; 16],
        now_ms: f64,
    ) -> Result<Option<String>, Error> {
        let id = wire::message_id(random);
        let data = wire::encode_exposure(unit_id, experiment, variant, dimensions_json, at, &id)?;
        Ok(self.enqueue(data, now_ms).then_some(id))
    }

    /// Encodes and queues a holdout exposure (`unit_id` in `arm` of `holdout`); `random`
    /// makes its message id. Answers the message id, or None when the event was dropped.
    ///
    /// # Errors
    /// As [`wire::encode_holdout_exposure`].
    pub fn holdout_exposure(
        &mut self,
        unit_id: &str,
        holdout: &str,
        arm: &str,
        at: Timestamp,
        random: [u8; 16],
        now_ms: f64,
    ) -> Result<Option<String>, Error> {
        let id = wire::message_id(random);
        let data = wire::encode_holdout_exposure(unit_id, holdout, arm, at, &id)?;
        Ok(self.enqueue(data, now_ms).then_some(id))
    }

    /// Encodes and queues a track event; `random` makes its message id. Answers the message
    /// id, or None when the event was dropped.
    ///
    /// # Errors
    /// As [`wire::encode_track`].
    #[allow(clippy::too_many_arguments)]
    pub fn track(
        &mut self,
        unit_id: &str,
        event: &str,
        value: Option<f64>,
        properties_json: Option<&str>,
        at: Timestamp,
        random: [u8; 16],
        now_ms: f64,
    ) -> Result<Option<String>, Error> {
        let id = wire::message_id(random);
        let data = wire::encode_track(unit_id, event, value, properties_json, at, &id)?;
        Ok(self.enqueue(data, now_ms).then_some(id))
    }

    /// Makes everything queued so far due now (still not within a backoff).
    pub fn flush(&mut self) {
        self.due_seq = self.due_seq.max(self.next_seq);
    }

    /// Closes: everything queued is due at once, whatever the backoff; what is left at
    /// `now_ms + timeout_ms` is dropped. Later events are dropped. Idempotent (the first
    /// deadline holds).
    pub fn close(&mut self, timeout_ms: f64, now_ms: f64) {
        if self.closing_deadline.is_some() {
            return;
        }
        self.closing_deadline = Some(now_ms + timeout_ms.max(0.0));
        self.due_seq = self.next_seq;
        self.not_before = f64::NEG_INFINITY;
    }

    /// Takes the oldest queued events that fit in a request of `max_bytes` (at least one)
    /// as a request to send now, without gzip: for a last keep-alive request when a page is
    /// hidden. None when nothing is queued.
    pub fn take_for_keepalive(&mut self, max_bytes: usize, now_ms: f64) -> Option<TrackerAction> {
        let batch = self.take(MAX_BATCH_EVENTS, max_bytes);
        if batch.is_empty() {
            return None;
        }
        Some(self.send(batch, false, now_ms))
    }

    // -- the loop --------------------------------------------------------------------------

    /// The next action at `now_ms`.
    pub fn next_action(&mut self, now_ms: f64) -> TrackerAction {
        if let Some(action) = self.actions.pop_front() {
            return action;
        }
        if !self.unreported.is_empty() && now_ms >= self.reported_at + REPORT_EVERY_MS {
            self.reported_at = now_ms;
            self.report_drops();
            if let Some(action) = self.actions.pop_front() {
                return action;
            }
        }
        if self.done {
            // Events tracked after the end are still reported, at most once a second, to a
            // shell that asks.
            return TrackerAction::Done;
        }
        let report_at = (!self.unreported.is_empty()).then_some(self.reported_at + REPORT_EVERY_MS);
        if let Some(deadline) = self.closing_deadline {
            let nothing_left = self.queued() == 0;
            let next_at = self.not_before.max(self.paused_until);
            if nothing_left || now_ms >= deadline || next_at >= deadline {
                return self.finish();
            }
        }
        let due = match self.due_at(now_ms) {
            Some(at) if at <= now_ms => {
                if let Some(action) = self.send_due(now_ms) {
                    return action;
                }
                None
            }
            other => other,
        };
        let deadline = self.closing_deadline;
        let until = [due, report_at, deadline]
            .into_iter()
            .flatten()
            .reduce(f64::min);
        TrackerAction::Wait {
            ms: until.map(|t| (t - now_ms).max(0.0)),
        }
    }

    /// When the next batch is due (None: not until something happens).
    fn due_at(&mut self, now_ms: f64) -> Option<f64> {
        if !self.in_flight.is_empty() {
            return None; // one request at a time; its answer decides
        }
        let not_before = self.not_before.max(self.paused_until);
        if !self.pending.is_empty() {
            return Some(now_ms.max(not_before));
        }
        let first = self.queue.front()?;
        let at = if self.queue.len() >= self.options.max_batch || first.seq < self.due_seq {
            now_ms
        } else {
            self.tick_at.unwrap_or(now_ms)
        };
        Some(at.max(not_before))
    }

    fn send_due(&mut self, now_ms: f64) -> Option<TrackerAction> {
        let batch = match self.pending.pop_front() {
            Some(batch) => batch,
            None => {
                let first_seq = self.queue.front()?.seq;
                let full = self.queue.len() >= self.options.max_batch;
                if !full && first_seq >= self.due_seq {
                    // The oldest event's wait is over: everything queued is due.
                    self.due_seq = self.next_seq;
                    self.tick_at = None;
                }
                self.take(self.options.max_batch, crate::events::MAX_BATCH_BYTES)
            }
        };
        if self.queue.is_empty() {
            self.tick_at = None;
        }
        let gzip =
            wire::body_bytes(batch.iter().map(|q| q.data.len())) > self.options.gzip_min_bytes;
        Some(self.send(batch, gzip, now_ms))
    }

    fn take(&mut self, max_events: usize, max_bytes: usize) -> Vec<Queued> {
        let mut batch = Vec::new();
        let mut size = wire::ENVELOPE_BYTES;
        while let Some(next) = self.queue.front() {
            if batch.len() >= max_events
                || (!batch.is_empty() && !fits(size, batch.len(), next.data.len(), max_bytes))
            {
                break;
            }
            size += next.data.len() + usize::from(!batch.is_empty());
            if let Some(q) = self.queue.pop_front() {
                batch.push(q);
            }
        }
        batch
    }

    fn take_in_flight(&mut self, id: u64) -> Option<Vec<Queued>> {
        let at = self.in_flight.iter().position(|(i, _)| *i == id)?;
        Some(self.in_flight.swap_remove(at).1)
    }

    fn send(&mut self, batch: Vec<Queued>, gzip: bool, now_ms: f64) -> TrackerAction {
        // A wall clock outside what RFC 3339 writes is clamped to it, so a batch taken from
        // the queue always leaves (the server corrects skew from `sent_at` anyway).
        let sent_at = Timestamp::from_unix_millis(wall_ms(now_ms))
            .clamp(Timestamp::MIN_RFC3339, Timestamp::MAX_RFC3339);
        let body =
            wire::batch_body(batch.iter().map(|q| q.data.as_slice()), sent_at).unwrap_or_default();
        let id = self.next_id;
        self.next_id += 1;
        let events = batch.len();
        self.in_flight.push((id, batch));
        TrackerAction::Send {
            id,
            body,
            events,
            gzip,
        }
    }

    // -- answers ---------------------------------------------------------------------------

    /// The answer to request `id`: its status, `Retry-After` header and body.
    pub fn answered(
        &mut self,
        id: u64,
        status: u16,
        retry_after: Option<&str>,
        body: &[u8],
        now_ms: f64,
    ) {
        let Some(batch) = self.take_in_flight(id) else {
            return;
        };
        let wait_ms = retry_after
            .and_then(|v| retry_after_ms(v, Timestamp::from_unix_millis(wall_ms(now_ms))))
            .map_or(0.0, |ms| ms as f64);
        let what = format!(
            "POST {}/events",
            self.options.base_url.trim_end_matches('/')
        );
        if (200..300).contains(&status) {
            return self.acknowledged(batch, status, body, &what);
        }
        if status == 413 && batch.len() > 1 {
            let mut first = batch;
            let second = first.split_off(first.len().div_ceil(2));
            self.pending.push_front(second);
            self.pending.push_front(first);
            return;
        }
        let reply = ErrorReply::decode(status, body);
        if is_retryable(status) {
            let message = reply.describe(&what);
            let kind = ReportKind::Server;
            return self.retry(
                batch,
                kind,
                &reply.code,
                message,
                Some(status),
                wait_ms,
                now_ms,
            );
        }
        let n = batch.len() as u64;
        self.dropped += n;
        let (kind, code, message) = if status == 413 {
            let bytes = batch.first().map_or(0, |q| q.data.len());
            let message = format!(
                "{}; dropped 1 event of {bytes} bytes (too large for the server)",
                reply.describe(&what)
            );
            // The server's code, else one that says what happened.
            let code = if reply.code == "http_error" {
                "event_too_large".to_owned()
            } else {
                reply.code.clone()
            };
            (ReportKind::Server, code, message)
        } else {
            let kind = if is_auth(status) {
                ReportKind::Auth
            } else {
                ReportKind::Server
            };
            let s = if n == 1 { "" } else { "s" };
            (
                kind,
                reply.code.clone(),
                format!("{}; dropped {n} event{s}", reply.describe(&what)),
            )
        };
        if is_auth(status) {
            self.paused_until = now_ms + self.options.max_retry_delay_ms.max(wait_ms);
        }
        self.backoff.reset();
        self.push_report(kind, code, message, Some(status), n);
    }

    /// Request `id` got no answer (network failure or timeout); `message` says how.
    pub fn unreachable(&mut self, id: u64, message: &str, now_ms: f64) {
        let Some(batch) = self.take_in_flight(id) else {
            return;
        };
        let text = format!(
            "POST {}/events: {message}",
            self.options.base_url.trim_end_matches('/')
        );
        self.retry(
            batch,
            ReportKind::Unavailable,
            "unavailable",
            text,
            None,
            0.0,
            now_ms,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn retry(
        &mut self,
        batch: Vec<Queued>,
        kind: ReportKind,
        code: &str,
        message: String,
        status: Option<u16>,
        retry_after_ms: f64,
        now_ms: f64,
    ) {
        self.pending.push_front(batch);
        let delay = self.backoff.next_delay(&mut self.rng).max(retry_after_ms);
        self.not_before = self.not_before.max(now_ms + delay);
        self.push_report(kind, code.to_owned(), message, status, 0);
    }

    fn acknowledged(&mut self, batch: Vec<Queued>, status: u16, body: &[u8], what: &str) {
        self.backoff.reset();
        let reply: Option<serde_json::Value> = std::str::from_utf8(body)
            .ok()
            .and_then(|text| serde_json::from_str(text).ok());
        // By index, each index once (the first entry for it).
        let mut rejected: Vec<(usize, String, String, Option<String>)> = Vec::new();
        let items = reply
            .as_ref()
            .and_then(|r| r.get("rejected"))
            .and_then(serde_json::Value::as_array);
        for item in items.into_iter().flatten() {
            let Some(index) = item.get("index").and_then(serde_json::Value::as_u64) else {
                continue;
            };
            let Ok(index) = usize::try_from(index) else {
                continue;
            };
            if index >= batch.len() || rejected.iter().any(|r| r.0 == index) {
                continue;
            }
            let text = |name: &str| {
                item.get(name)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            };
            let code = text("code")
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "rejected".to_owned());
            rejected.push((
                index,
                code,
                text("message").unwrap_or_default(),
                text("path"),
            ));
        }
        rejected.sort_unstable_by_key(|r| r.0);
        let n = batch.len() as u64;
        let refused = rejected.len() as u64;
        self.sent += n - refused;
        self.dropped += refused;
        if !rejected.is_empty() {
            let mut codes: Vec<&str> = rejected.iter().map(|r| r.1.as_str()).collect();
            codes.sort_unstable();
            let mut summary: Vec<String> = Vec::new();
            let mut rest = codes.as_slice();
            while let Some(first) = rest.first() {
                let k = rest.iter().take_while(|c| *c == first).count();
                summary.push(format!("{first} ({k})"));
                rest = rest.get(k..).unwrap_or_default();
            }
            let message = format!(
                "{what}: the server rejected {refused} of {n} events: {}",
                summary.join(", ")
            );
            let details = rejected
                .into_iter()
                .map(|(index, code, message, path)| super::report::Rejected {
                    index,
                    code,
                    message,
                    path,
                    event: batch
                        .get(index)
                        .map(|q| String::from_utf8_lossy(&q.data).into_owned())
                        .unwrap_or_default(),
                })
                .collect();
            let mut report = self.reports.report(
                ReportKind::EventsRejected,
                "events_rejected",
                message,
                Some(status),
                refused,
            );
            report.rejected = details;
            self.actions.push_back(TrackerAction::Report { report });
        } else if status == 200 && !reply.as_ref().is_some_and(serde_json::Value::is_object) {
            let message =
                format!("{what}: HTTP 200 without the promised JSON (the events count as sent)");
            self.push_report(
                ReportKind::BadResponse,
                "bad_response".to_owned(),
                message,
                Some(200),
                0,
            );
        } else if self.reports.recover() {
            self.actions.push_back(TrackerAction::Recovered);
        }
    }

    fn finish(&mut self) -> TrackerAction {
        self.done = true;
        let left: u64 = self.queued();
        self.queue.clear();
        self.pending.clear();
        self.in_flight.clear();
        if !self.unreported.is_empty() {
            self.report_drops();
        }
        if left > 0 {
            self.dropped += left;
            let s = if left == 1 { "" } else { "s" };
            let message = format!("the EventTracker closed with {left} event{s} unsent: dropped");
            self.push_report(ReportKind::Closed, "closed".to_owned(), message, None, left);
        }
        self.actions.push_back(TrackerAction::Done);
        self.actions.pop_front().unwrap_or(TrackerAction::Done)
    }

    fn report_drops(&mut self) {
        let max_queue = self.options.max_queue;
        let Unreported { queue_full, closed } = std::mem::take(&mut self.unreported);
        for (code, n) in [("queue_full", queue_full), ("closed", closed)] {
            if n == 0 {
                continue;
            }
            let s = if n == 1 { "" } else { "s" };
            let (kind, message) = if code == "closed" {
                let message =
                    format!("the EventTracker is closed: dropped {n} event{s} tracked after close");
                (ReportKind::Closed, message)
            } else {
                let message = format!(
                    "the event queue is full ({max_queue} events): dropped {n} new event{s}"
                );
                (ReportKind::QueueFull, message)
            };
            self.push_report(kind, code.to_owned(), message, None, n);
        }
    }

    fn push_report(
        &mut self,
        kind: ReportKind,
        code: String,
        message: String,
        status: Option<u16>,
        dropped: u64,
    ) {
        let report = self.reports.report(kind, code, message, status, dropped);
        self.actions.push_back(TrackerAction::Report { report });
    }
}

/// Drops not reported yet, by reason.
#[derive(Debug, Clone, Default)]
struct Unreported {
    queue_full: u64,
    closed: u64,
}

impl Unreported {
    fn count(&mut self, code: &str) {
        if code == "closed" {
            self.closed += 1;
        } else {
            self.queue_full += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.queue_full == 0 && self.closed == 0
    }
}

/// Whether an event of `next` bytes fits a body of `size` bytes holding `count` events,
/// within `max_bytes`.
fn fits(size: usize, count: usize, next: usize, max_bytes: usize) -> bool {
    size + next + usize::from(count > 0) <= max_bytes
}

/// The instant of a `now_ms` (the wall clock, in milliseconds since the epoch).
fn wall_ms(now_ms: f64) -> i64 {
    // Saturating: NaN is 0.
    now_ms as i64
}
