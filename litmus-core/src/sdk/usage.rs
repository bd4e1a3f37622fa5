//! Flag usage reports, sans I/O: how many times each flag was evaluated, counted by the
//! bindings and sent periodically to `POST /sdk/usage`, so the server can show when each flag
//! was last evaluated and teams can find stale flags (`docs/sdk-protocol.md`, "Flag usage").
//!
//! Two pieces:
//! - [`FlagCounter`]: one counter per flag of a loaded config, indexed by the flag's position
//!   in [`crate::Engine::flags`] ([`crate::Evaluation::flag_index`]), so counting is one relaxed atomic add:
//!   no lookup, no allocation. When the config is replaced, [`FlagCounter::remap`] carries the
//!   counts of the flags the new config still has, by key.
//! - [`UsageSender`]: when to send what, and what to do with the answer. The shell (the Python
//!   and npm config clients) loops: it [records](UsageSender::record) what the engine
//!   counted, asks [`UsageSender::tick`] for the next [`UsageAction`], carries it out and
//!   feeds the answer to [`UsageSender::sent`].
//!
//! The policy, the same in every package:
//! - **When**: every `interval_ms` (60 s by default, at least 1 s) from the first tick, and
//!   once more on close (within its timeout). Nothing is sent when nothing was counted.
//! - **What**: `{"flags": [{"flag": "<key>", "evaluations": <n>}, ...]}`: only flags with
//!   evaluations, each once, ordered by key; at most [`MAX_USAGE_ENTRIES`] entries per request
//!   (a larger report goes as several requests, one after the other).
//! - **Answers**: 2xx stores the report. 401/403 keep the counts (reported as `auth`) and
//!   408, 429, 5xx and network failures keep them too (reported): they are merged into the
//!   next report, sent at the next interval and not before `Retry-After`. 404 (a server
//!   without the route) stops the sender for its life and drops the counts, which the shell
//!   logs once at debug level. Any other answer (400, 413, 422, ...) drops that request's
//!   counts and is reported; they are not sent again.
//! - **Close**: everything counted is due at once; each entry is sent at most once more
//!   (a failure drops it), and what is left at the deadline is dropped.
//!
//! Every `now_ms` is the wall clock in milliseconds since the Unix epoch (a `Retry-After`
//! date is read against it); a wait's `until_ms` is on the same clock.

use crate::error::Error;
use crate::time::Timestamp;

use super::config_sync::MAX_DURATION_MS;
use super::reply::{ErrorReply, is_auth, is_retryable, retry_after_ms};
use super::report::{Report, ReportKind, ReportLog, action_json};

mod counter;

pub use counter::FlagCounter;

/// The most entries (flags) in one request; a larger report is split.
pub const MAX_USAGE_ENTRIES: usize = 5_000;

/// The default interval between reports: a minute.
pub const DEFAULT_USAGE_INTERVAL_MS: f64 = 60_000.0;

/// The shortest interval between reports: a second.
pub const MIN_USAGE_INTERVAL_MS: f64 = 1_000.0;

// -- sending ----------------------------------------------------------------------------------

/// The options of a [`UsageSender`].
#[derive(Debug, Clone, PartialEq)]
pub struct UsageOptions {
    /// The server's base URL, for messages only.
    pub base_url: String,
    /// Milliseconds between reports: at least [`MIN_USAGE_INTERVAL_MS`]
    /// ([`DEFAULT_USAGE_INTERVAL_MS`]).
    pub interval_ms: f64,
}

impl UsageOptions {
    /// The defaults for `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        UsageOptions {
            base_url: base_url.into(),
            interval_ms: DEFAULT_USAGE_INTERVAL_MS,
        }
    }

    /// Checks every option.
    ///
    /// # Errors
    /// `invalid_argument` for an interval that is not a duration of at least a second.
    pub fn validate(&self) -> Result<(), Error> {
        let ms = self.interval_ms;
        if (MIN_USAGE_INTERVAL_MS..=MAX_DURATION_MS).contains(&ms) {
            return Ok(());
        }
        Err(Error::argument(
            "usage_interval",
            format!("must be from 1000 ms (1 s) to 1e12 ms, not {ms}"),
        ))
    }
}

/// What the shell must do next.
/// As JSON ([`UsageAction::to_json`]), an action is an object with its `type` in snake_case and
/// its fields (the body as text): the shape the shared fixtures expect.
#[derive(Debug, Clone, PartialEq)]
pub enum UsageAction {
    /// `POST /sdk/usage` with this JSON body; answer with [`UsageSender::sent`].
    Send {
        /// The JSON body.
        body: Vec<u8>,
        /// Entries (flags) in it.
        flags: usize,
        /// Evaluations in it, all flags together.
        evaluations: u64,
    },
    /// Report a problem (`on_error`, the last error).
    Report {
        /// The problem.
        report: Report,
    },
    /// The last problem reported no longer holds: clear it.
    Recovered,
    /// Nothing to do until `until_ms` (on the `now_ms` clock), or, when None, until the
    /// answer to the request in flight; then tick again.
    Wait {
        /// When to tick again.
        until_ms: Option<f64>,
    },
    /// Nothing more to do, ever: closed, or the server has no usage route. `message` says why
    /// the first time after a 404 (log it at debug level); None otherwise.
    Stop {
        /// Why the sender stopped, once.
        message: Option<String>,
    },
}

impl UsageAction {
    /// The action as JSON: `{"type": "send", "body" (text), "flags", "evaluations"}`,
    /// `{"type": "wait", "until_ms"}` and so on, the shape of the shared fixtures.
    pub fn to_json(&self) -> serde_json::Value {
        let (kind, fields): (&str, Vec<(&str, serde_json::Value)>) = match self {
            UsageAction::Send {
                body,
                flags,
                evaluations,
            } => (
                "send",
                vec![
                    ("body", String::from_utf8_lossy(body).into()),
                    ("flags", (*flags).into()),
                    ("evaluations", (*evaluations).into()),
                ],
            ),
            UsageAction::Report { report } => ("report", vec![("report", report.to_json())]),
            UsageAction::Recovered => ("recovered", vec![]),
            UsageAction::Wait { until_ms } => ("wait", vec![("until_ms", (*until_ms).into())]),
            UsageAction::Stop { message } => ("stop", vec![("message", message.clone().into())]),
        };
        action_json(kind, fields)
    }
}

/// How a request ended, for [`UsageSender::sent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResult<'a> {
    /// The server answered.
    Answered {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` header, if any.
        retry_after: Option<&'a str>,
        /// The body (an error answer's code and message are read from it).
        body: &'a [u8],
    },
    /// No answer: a network failure or a timeout, described by `message`.
    Unreachable {
        /// What happened.
        message: &'a str,
    },
}

/// One flag's evaluations, owned.
type Entry = (Box<str>, u64);

/// The usage sender's state machine: see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct UsageSender {
    options: UsageOptions,
    /// Counted and not yet taken into a round, in any order and maybe several per key (merged
    /// and ordered by key when a round starts; plain vectors keep the wasm module small).
    pending: Vec<Entry>,
    /// `pending` is merged when it grows to this many entries.
    compact_at: usize,
    /// The round being sent: entries not sent yet, in key order (sent from the front).
    round: Vec<Entry>,
    /// The request in flight.
    in_flight: Option<Vec<Entry>>,
    /// When the next round starts (None before the first tick).
    due: Option<f64>,
    /// No round before this (`Retry-After`).
    not_before: f64,
    closing_deadline: Option<f64>,
    stopped: bool,
    stop_message: Option<String>,
    stored: u64,
    dropped: u64,
    reports: ReportLog,
    /// An action to answer before anything else (a report, a recovery).
    next: Option<UsageAction>,
}

impl UsageSender {
    /// A sender with nothing counted.
    ///
    /// # Errors
    /// `invalid_argument` for a bad option.
    pub fn new(options: UsageOptions) -> Result<Self, Error> {
        options.validate()?;
        Ok(UsageSender {
            options,
            pending: Vec::new(),
            compact_at: COMPACT_AT,
            round: Vec::new(),
            in_flight: None,
            due: None,
            not_before: f64::NEG_INFINITY,
            closing_deadline: None,
            stopped: false,
            stop_message: None,
            stored: 0,
            dropped: 0,
            reports: ReportLog::default(),
            next: None,
        })
    }

    // -- counters ----------------------------------------------------------------------------

    /// Evaluations recorded and not yet stored nor dropped (waiting, or in flight).
    pub fn pending(&self) -> u64 {
        let in_flight = self.in_flight.as_deref().map_or(0, total);
        total(&self.pending)
            .saturating_add(total(&self.round))
            .saturating_add(in_flight)
    }

    /// Evaluations the server stored (answered 2xx).
    pub fn stored(&self) -> u64 {
        self.stored
    }

    /// Evaluations given up: refused by the server, dropped by a 404 or left at close.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Whether the sender stopped for good (closed and done, or a 404).
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    // -- events ------------------------------------------------------------------------------

    /// Records `evaluations` more of `flag` (merged with what is waiting for it). Ignored
    /// when zero, for an empty key, after close and once stopped.
    pub fn record(&mut self, flag: &str, evaluations: u64) {
        if evaluations == 0 || flag.is_empty() || self.stopped || self.closing_deadline.is_some() {
            return;
        }
        self.pending.push((flag.into(), evaluations));
        if self.pending.len() >= self.compact_at {
            compact(&mut self.pending);
            self.compact_at = COMPACT_AT.max(self.pending.len() * 2);
        }
    }

    /// Closes: everything recorded is due at once and sent (each entry at most once more)
    /// until `now_ms + timeout_ms`; what is left then is dropped. Later records are ignored.
    /// Idempotent (the first deadline holds).
    pub fn close(&mut self, timeout_ms: f64, now_ms: f64) {
        if self.closing_deadline.is_none() {
            let timeout = if timeout_ms.is_nan() {
                0.0
            } else {
                timeout_ms.max(0.0)
            };
            self.closing_deadline = Some(now_ms + timeout);
        }
    }

    /// The next action at `now_ms`.
    pub fn tick(&mut self, now_ms: f64) -> UsageAction {
        if let Some(action) = self.next.take() {
            return action;
        }
        if self.stopped {
            return UsageAction::Stop {
                message: self.stop_message.take(),
            };
        }
        if self.in_flight.is_some() {
            return UsageAction::Wait { until_ms: None };
        }
        if let Some(deadline) = self.closing_deadline {
            if now_ms >= deadline || (self.round.is_empty() && self.pending.is_empty()) {
                let left = self.pending();
                self.dropped = self.dropped.saturating_add(left);
                self.pending.clear();
                self.round.clear();
                self.stopped = true;
                return UsageAction::Stop { message: None };
            }
            if self.round.is_empty() {
                self.start_round();
            }
            return self.send_next();
        }
        let Some(due) = self.due else {
            let first = now_ms + self.options.interval_ms;
            self.due = Some(first);
            return UsageAction::Wait {
                until_ms: Some(first),
            };
        };
        if !self.round.is_empty() {
            return self.send_next();
        }
        let start = due.max(self.not_before);
        if now_ms < start {
            return UsageAction::Wait {
                until_ms: Some(start),
            };
        }
        let next = now_ms + self.options.interval_ms;
        self.due = Some(next);
        if self.pending.is_empty() {
            return UsageAction::Wait {
                until_ms: Some(next),
            };
        }
        self.start_round();
        self.send_next()
    }

    /// The answer to the request in flight (ignored when none is).
    pub fn sent(&mut self, result: SendResult<'_>, now_ms: f64) {
        let Some(batch) = self.in_flight.take() else {
            return;
        };
        let evaluations = total(&batch);
        let what = format!(
            "POST {}/sdk/usage",
            self.options.base_url.trim_end_matches('/')
        );
        let (status, retry_after, code, described) = match result {
            SendResult::Answered { status, .. } if (200..300).contains(&status) => {
                self.stored = self.stored.saturating_add(evaluations);
                if self.reports.recover() {
                    self.next = Some(UsageAction::Recovered);
                }
                return;
            }
            SendResult::Answered {
                status,
                retry_after,
                body,
            } => {
                let reply = ErrorReply::decode(status, body);
                let described = reply.describe(&what);
                (Some(status), retry_after, reply.code, described)
            }
            SendResult::Unreachable { message } => (
                None,
                None,
                "unavailable".to_owned(),
                format!("{what}: {message}"),
            ),
        };
        if status == Some(404) {
            let left = evaluations.saturating_add(self.pending());
            self.dropped = self.dropped.saturating_add(left);
            self.pending.clear();
            self.round.clear();
            self.stopped = true;
            self.stop_message = Some(format!(
                "{described}: the server takes no flag usage reports; not sending them again"
            ));
            return;
        }
        let kind = match status {
            None => ReportKind::Unavailable,
            Some(s) if is_auth(s) => ReportKind::Auth,
            Some(_) => ReportKind::Server,
        };
        let kept = status.is_none_or(|s| is_auth(s) || is_retryable(s));
        let (dropped, outcome) = if kept && self.closing_deadline.is_none() {
            self.pending.extend(batch);
            self.pending.append(&mut self.round);
            let wait = retry_after
                .and_then(|v| retry_after_ms(v, Timestamp::from_unix_millis(wall_ms(now_ms))))
                .map_or(0.0, |ms| ms as f64);
            self.not_before = now_ms + wait;
            (0, "kept for the next report")
        } else {
            self.dropped = self.dropped.saturating_add(evaluations);
            (evaluations, "dropped")
        };
        let message = format!("{described}; the flag counts are {outcome}");
        let report = self.reports.report(kind, code, message, status, dropped);
        self.next = Some(UsageAction::Report { report });
    }

    // -- inside ------------------------------------------------------------------------------

    /// Moves everything pending into a new round, merged and in key order.
    fn start_round(&mut self) {
        compact(&mut self.pending);
        self.round = std::mem::take(&mut self.pending);
        self.compact_at = COMPACT_AT;
    }

    /// Sends the next request of the round (at most [`MAX_USAGE_ENTRIES`] entries).
    fn send_next(&mut self) -> UsageAction {
        let rest = self
            .round
            .split_off(self.round.len().min(MAX_USAGE_ENTRIES));
        let batch = std::mem::replace(&mut self.round, rest);
        let action = UsageAction::Send {
            body: body(&batch),
            flags: batch.len(),
            evaluations: total(&batch),
        };
        self.in_flight = Some(batch);
        action
    }
}

/// Pending entries are merged when there are this many (and twice as many as after the last
/// merge), so a shell that records often holds about one entry per flag.
const COMPACT_AT: usize = 4_096;

/// Orders `entries` by key and merges those of the same key.
fn compact(entries: &mut Vec<Entry>) {
    // The keys are sorted as `&str`, with the sort the event tracker already instantiates
    // (the wasm engine module has a size budget), then summed by binary search.
    let mut keys: Vec<&str> = entries.iter().map(|e| &*e.0).collect();
    keys.sort_unstable();
    let mut merged: Vec<Entry> = Vec::with_capacity(keys.len());
    for key in keys {
        if merged.last().is_none_or(|e| *e.0 != *key) {
            merged.push((key.into(), 0));
        }
    }
    for (key, n) in entries.iter() {
        if let Ok(i) = merged.binary_search_by(|e| (*e.0).cmp(key)) {
            if let Some(slot) = merged.get_mut(i) {
                slot.1 = slot.1.saturating_add(*n);
            }
        }
    }
    *entries = merged;
}

/// The evaluations in `entries`.
fn total(entries: &[Entry]) -> u64 {
    entries.iter().fold(0u64, |sum, e| sum.saturating_add(e.1))
}

/// The request body of `batch`: `{"flags":[{"flag":"<key>","evaluations":<n>},...]}`.
fn body(batch: &[Entry]) -> Vec<u8> {
    let mut out = String::from("{\"flags\":[");
    for (i, (key, count)) in batch.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"flag\":");
        push_string(&mut out, key);
        out.push_str(",\"evaluations\":");
        out.push_str(&count.to_string());
        out.push('}');
    }
    out.push_str("]}");
    out.into_bytes()
}

/// Appends `text` as a JSON string.
fn push_string(out: &mut String, text: &str) {
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}

/// The instant of a `now_ms` (the wall clock, in milliseconds since the epoch).
fn wall_ms(now_ms: f64) -> i64 {
    // Saturating: NaN is 0.
    now_ms as i64
}

#[cfg(test)]
#[path = "usage_tests.rs"]
mod tests;
