//! The config client's protocol, sans I/O: when to fetch `GET /sdk/config`, when to follow
//! `GET /sdk/stream`, how long to wait, which config to serve and what to report.
//!
//! The shell (Python's `ConfigClient`, the npm package's `ConfigClient`) does the I/O, threads
//! and timers: it feeds the machine what happened (an answer, a chunk of the stream, a timer,
//! whether the engine took a config) with the time, and carries out the [`SyncAction`]s it
//! takes from [`ConfigSync::poll_action`] in order. At most one action awaits an answer at a
//! time (a fetch, a stream, a wait, a load or a cache read); the others (reports, updates,
//! cache writes) are done at once.
//!
//! The behaviour, the same in every package:
//! - **Start**: a bootstrap config, when given, is loaded at once (the engine works before
//!   the server answers); then the config is fetched once. When that does not give a good
//!   config from the server and a cache file is configured, the cache is read and served if
//!   there is no config yet or its version is at least the bootstrap's (the cache wins a tie:
//!   it came from this server). Then the client is *ready*.
//! - **Fetches** send `If-None-Match` with the last ETag, so an unchanged config costs a 304.
//! - **Poll mode** fetches every `poll_interval` times a factor in [0.9, 1.1]. After an error
//!   it retries sooner, with exponential backoff and full jitter from `retry_delay`, never
//!   later than the interval; after 401 or 403 it waits the longer of the interval and
//!   `max_retry_delay`.
//! - **Stream mode** follows the Server-Sent Events stream, sending `Last-Event-ID`. When the
//!   server ends the stream, it reconnects after a backoff. When the stream fails (network,
//!   error answer, silence for `idle_timeout`; only silence and error answers are reported: a
//!   stream cut off is routine), it fetches at once, keeps fetching every
//!   `poll_interval` while the stream is down, and reconnects after a backoff (full jitter,
//!   base `retry_delay` or the server's `retry:` of at least 10 ms, doubling per failure up to
//!   `max_retry_delay`; any event or keep-alive resets it). After 401 or 403 it waits
//!   `max_retry_delay` and does not poll meanwhile.
//! - **Configs**: versions only grow: a config older than the server's one served (from an
//!   instance that is behind) is not served. A config text equal to the one served is not
//!   loaded again; one the engine
//!   refused is not tried again (its ETag and event id are kept, so it is not downloaded
//!   again either), and the good one stays. A good config from the server is written to the
//!   cache file.
//! - **Staleness**: the served config may be behind the server's while it came from a
//!   bootstrap or cache file, while the last attempt to reach the server failed, or while the
//!   server's latest config was refused.
//! - **Reports**: every failure is reported once as it happens; the first of each kind after
//!   things went well is marked as such (log it as a warning, repeats at debug level), and
//!   [`SyncAction::Recovered`] says when the last error no longer holds.

use std::collections::VecDeque;

use crate::error::Error;
use crate::rng::Xoshiro256PlusPlus;

use super::backoff::{Backoff, jittered};
use super::reply::{ErrorReply, is_auth};
use super::report::{Report, ReportKind, ReportLog};
use super::sse::SseDecoder;

/// The longest duration an option may have: about 31 years (timers overflow beyond it).
pub const MAX_DURATION_MS: f64 = 1e12;

/// How the client follows the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Server-Sent Events, polling while the stream is down.
    Stream,
    /// Polling only.
    Poll,
}

impl SyncMode {
    /// `"stream"` or `"poll"`.
    ///
    /// # Errors
    /// `invalid_argument` for anything else.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "stream" => Ok(SyncMode::Stream),
            "poll" => Ok(SyncMode::Poll),
            other => Err(Error::argument(
                "mode",
                format!("must be \"stream\" or \"poll\", not {other:?}"),
            )),
        }
    }
}

/// Where a served config came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// The server.
    Server,
    /// The cache file of an earlier run.
    Cache,
    /// The bootstrap config given by the app.
    Bootstrap,
}

impl ConfigSource {
    /// `"server"`, `"cache"` or `"bootstrap"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigSource::Server => "server",
            ConfigSource::Cache => "cache",
            ConfigSource::Bootstrap => "bootstrap",
        }
    }
}

/// The options of a [`ConfigSync`]; durations in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncOptions {
    /// The server's base URL, for messages only.
    pub base_url: String,
    /// Stream or poll.
    pub mode: SyncMode,
    /// Between polls (30 s).
    pub poll_interval_ms: f64,
    /// A stream that sends nothing, not even its 15 s keep-alive, for this long is dead (45 s).
    pub idle_timeout_ms: f64,
    /// The first reconnection waits up to this (1 s), unless the server's `retry:` says
    /// otherwise.
    pub retry_delay_ms: f64,
    /// The longest wait between reconnections, and the wait after 401 or 403 (30 s).
    pub max_retry_delay_ms: f64,
    /// Whether a cache file is configured (read when the first fetch fails).
    pub has_cache: bool,
    /// Seeds the jitter (draw it from the system's random source; tests fix it).
    pub seed: u64,
}

impl SyncOptions {
    /// The defaults for `base_url` and `mode`.
    pub fn new(base_url: impl Into<String>, mode: SyncMode) -> Self {
        SyncOptions {
            base_url: base_url.into(),
            mode,
            poll_interval_ms: 30_000.0,
            idle_timeout_ms: 45_000.0,
            retry_delay_ms: 1_000.0,
            max_retry_delay_ms: 30_000.0,
            has_cache: false,
            seed: 0,
        }
    }

    /// Checks every duration: positive, finite, at most [`MAX_DURATION_MS`].
    ///
    /// # Errors
    /// `invalid_argument` naming the first bad option.
    pub fn validate(&self) -> Result<(), Error> {
        for (name, value) in [
            ("poll_interval", self.poll_interval_ms),
            ("idle_timeout", self.idle_timeout_ms),
            ("retry_delay", self.retry_delay_ms),
            ("max_retry_delay", self.max_retry_delay_ms),
        ] {
            check_duration(name, value)?;
        }
        Ok(())
    }
}

/// Checks a duration option: positive, finite, at most [`MAX_DURATION_MS`].
///
/// # Errors
/// `invalid_argument` naming `name`.
pub fn check_duration(name: &'static str, ms: f64) -> Result<(), Error> {
    if ms.is_finite() && ms > 0.0 && ms <= MAX_DURATION_MS {
        Ok(())
    } else {
        Err(Error::argument(
            name,
            format!("must be a positive duration of at most 1e12 ms, not {ms}"),
        ))
    }
}

/// What the shell must do next.
/// As JSON ([`SyncAction::to_json`]), an action is an object with its `type` in snake_case
/// and its fields: the shape the shared fixtures expect.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncAction {
    /// `GET /sdk/config`, with `If-None-Match` when given; answer with
    /// [`ConfigSync::fetched`] or [`ConfigSync::unreachable`].
    Fetch {
        /// The ETag to send as `If-None-Match`.
        if_none_match: Option<String>,
    },
    /// `GET /sdk/stream`, with `Last-Event-ID` when given; answer with
    /// [`ConfigSync::stream_opened`] or [`ConfigSync::unreachable`].
    OpenStream {
        /// The id to send as `Last-Event-ID`.
        last_event_id: Option<String>,
        /// Fail the stream (with [`ConfigSync::stream_failed`]) after this long without data.
        idle_timeout_ms: f64,
    },
    /// Read the next chunk of the open stream; answer with [`ConfigSync::stream_data`],
    /// [`ConfigSync::stream_ended`] or [`ConfigSync::stream_failed`].
    ReadStream,
    /// Wait, then call [`ConfigSync::timer_fired`].
    Wait {
        /// How long.
        ms: f64,
    },
    /// Build the engine from this config, or update it; answer with [`ConfigSync::loaded`]
    /// or [`ConfigSync::refused`].
    Load {
        /// The config's JSON text.
        text: String,
        /// Where it came from.
        source: ConfigSource,
    },
    /// Read the cache file; answer with [`ConfigSync::cache_read`].
    ReadCache,
    /// Write this config to the cache file (atomically), now.
    WriteCache {
        /// The config's JSON text.
        text: String,
    },
    /// A new config is served: tell the app (`on_update`).
    Updated {
        /// The new version.
        version: Option<String>,
        /// The version served before, if any.
        previous_version: Option<String>,
        /// Where the new one came from.
        source: ConfigSource,
    },
    /// Report a problem (`on_error`, the last error).
    Report {
        /// The problem.
        report: Report,
    },
    /// The last error reported no longer holds: clear it.
    Recovered,
    /// The first attempt is settled: the client is ready (with an engine or without).
    Ready {
        /// Whether a config is served.
        has_engine: bool,
    },
}

impl SyncAction {
    /// The action as JSON: `{"type": "fetch", "if_none_match": ...}` and so on, the shape of
    /// the shared fixtures and of what the bindings hand their shells.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        let text = |t: &Option<String>| Value::from(t.clone());
        let (kind, fields): (&str, Vec<(&str, Value)>) = match self {
            SyncAction::Fetch { if_none_match } => {
                ("fetch", vec![("if_none_match", text(if_none_match))])
            }
            SyncAction::OpenStream {
                last_event_id,
                idle_timeout_ms,
            } => (
                "open_stream",
                vec![
                    ("last_event_id", text(last_event_id)),
                    ("idle_timeout_ms", (*idle_timeout_ms).into()),
                ],
            ),
            SyncAction::ReadStream => ("read_stream", vec![]),
            SyncAction::Wait { ms } => ("wait", vec![("ms", (*ms).into())]),
            SyncAction::Load { text, source } => (
                "load",
                vec![
                    ("text", text.as_str().into()),
                    ("source", source.as_str().into()),
                ],
            ),
            SyncAction::ReadCache => ("read_cache", vec![]),
            SyncAction::WriteCache { text } => {
                ("write_cache", vec![("text", text.as_str().into())])
            }
            SyncAction::Updated {
                version,
                previous_version,
                source,
            } => (
                "updated",
                vec![
                    ("version", text(version)),
                    ("previous_version", text(previous_version)),
                    ("source", source.as_str().into()),
                ],
            ),
            SyncAction::Report { report } => ("report", vec![("report", report.to_json())]),
            SyncAction::Recovered => ("recovered", vec![]),
            SyncAction::Ready { has_engine } => {
                ("ready", vec![("has_engine", (*has_engine).into())])
            }
        };
        super::report::action_json(kind, fields)
    }
}

/// A served config.
#[derive(Debug, Clone)]
struct Served {
    text: String,
    version: Option<String>,
    source: ConfigSource,
}

/// What a fetch was for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Purpose {
    First,
    Poll,
    /// While the stream is down; it reconnects at this instant.
    WhileDown(f64),
}

/// How a fetch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Auth,
    Failed,
}

/// What comes after a load.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AfterLoad {
    FirstFetch,
    Fetch(Purpose),
    Ready(Outcome),
    Stream,
}

/// What a timer leads to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AfterWait {
    Fetch(Purpose),
    Connect,
}

#[derive(Debug, Clone)]
struct PendingLoad {
    text: String,
    source: ConfigSource,
    etag: Option<String>,
    event_id: Option<String>,
    then: AfterLoad,
}

#[derive(Debug, Clone)]
enum Phase {
    Idle,
    Fetching(Purpose),
    ReadingCache(Outcome),
    Loading(Box<PendingLoad>),
    Waiting(AfterWait),
    Connecting,
    Streaming,
    Closed,
}

/// The config client's state machine: see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct ConfigSync {
    options: SyncOptions,
    rng: Xoshiro256PlusPlus,
    backoff: Backoff,
    phase: Phase,
    actions: VecDeque<SyncAction>,
    served: Option<Served>,
    rejected: Option<String>,
    etag: Option<String>,
    last_event_id: Option<String>,
    failing: bool,
    reports: ReportLog,
    decoder: SseDecoder,
    comments_seen: u64,
}

impl ConfigSync {
    /// A client that has not started.
    ///
    /// # Errors
    /// `invalid_argument` for a bad option.
    pub fn new(options: SyncOptions) -> Result<Self, Error> {
        options.validate()?;
        Ok(ConfigSync {
            rng: Xoshiro256PlusPlus::seed_from_u64(options.seed),
            backoff: Backoff::new(options.retry_delay_ms, options.max_retry_delay_ms),
            options,
            phase: Phase::Idle,
            actions: VecDeque::new(),
            served: None,
            rejected: None,
            etag: None,
            last_event_id: None,
            failing: false,
            reports: ReportLog::default(),
            decoder: SseDecoder::new(),
            comments_seen: 0,
        })
    }

    /// The next action, or None while the machine awaits the answer to one (or is closed).
    pub fn poll_action(&mut self) -> Option<SyncAction> {
        self.actions.pop_front()
    }

    /// Starts: loads `bootstrap` when given, then fetches. Does nothing after the first call.
    pub fn start(&mut self, bootstrap: Option<&str>) {
        if !matches!(self.phase, Phase::Idle) {
            return;
        }
        match bootstrap {
            Some(text) => self.load(
                text.to_owned(),
                ConfigSource::Bootstrap,
                None,
                None,
                AfterLoad::FirstFetch,
            ),
            None => self.fetch(Purpose::First),
        }
    }

    /// The shell lost the action it owed an answer to (a forked child has none of its
    /// parent's threads or connections): start over from a fetch, then go on as after any
    /// fetch (stream mode reconnects at once). Does nothing before start or after close.
    pub fn resume(&mut self, now_ms: f64) {
        if matches!(self.phase, Phase::Idle | Phase::Closed) {
            return;
        }
        self.actions.clear();
        match self.options.mode {
            SyncMode::Poll => self.fetch(Purpose::Poll),
            SyncMode::Stream => self.fetch(Purpose::WhileDown(now_ms)),
        }
    }

    /// Stops for good: no more actions.
    pub fn close(&mut self) {
        self.phase = Phase::Closed;
        self.actions.clear();
    }

    /// Whether [`ConfigSync::close`] was called.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// The served config's version, if any.
    pub fn version(&self) -> Option<&str> {
        self.served.as_ref().and_then(|s| s.version.as_deref())
    }

    /// Where the served config came from, if one is served.
    pub fn source(&self) -> Option<ConfigSource> {
        self.served.as_ref().map(|s| s.source)
    }

    /// Whether the served config may be behind the server's (see the module documentation).
    pub fn is_stale(&self) -> bool {
        self.served
            .as_ref()
            .is_none_or(|s| s.source != ConfigSource::Server)
            || self.failing
            || self.rejected.is_some()
    }

    /// The ETag sent as `If-None-Match`.
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// The id sent as `Last-Event-ID`.
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    // -- answers ---------------------------------------------------------------------------

    /// The answer to [`SyncAction::Fetch`]: its status, `ETag` header and body.
    pub fn fetched(&mut self, status: u16, etag: Option<&str>, body: &[u8], now_ms: f64) {
        let Phase::Fetching(purpose) = self.phase else {
            return;
        };
        let outcome = match status {
            304 if self.etag.is_some() => {
                self.contact_ok();
                Outcome::Ok
            }
            200 => match std::str::from_utf8(body) {
                Ok(text) => return self.fetched_config(text, etag, purpose, now_ms),
                Err(_) => {
                    let message = format!("{}: the body is not UTF-8", self.what("/sdk/config"));
                    self.fail(ReportKind::BadResponse, "bad_response", message, Some(200));
                    Outcome::Failed
                }
            },
            _ => self.error_answer(status, body, "/sdk/config", true),
        };
        self.after_fetch(purpose, outcome, now_ms);
    }

    /// A request (fetch or stream) got no answer: the network failed or it timed out.
    /// `message` says what happened.
    pub fn unreachable(&mut self, message: &str, now_ms: f64) {
        match self.phase {
            Phase::Fetching(purpose) => {
                let text = format!("{}: {message}", self.what("/sdk/config"));
                self.fail(ReportKind::Unavailable, "unavailable", text, None);
                self.after_fetch(purpose, Outcome::Failed, now_ms);
            }
            Phase::Connecting => {
                let text = format!("{}: {message}", self.what("/sdk/stream"));
                self.report(ReportKind::Unavailable, "unavailable", text, None);
                self.stream_down(true, now_ms);
            }
            _ => {}
        }
    }

    /// The answer to [`SyncAction::OpenStream`]: its status, `Content-Type` and, for an error
    /// answer, its body.
    pub fn stream_opened(
        &mut self,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        now_ms: f64,
    ) {
        if !matches!(self.phase, Phase::Connecting) {
            return;
        }
        if status != 200 {
            let outcome = self.error_answer(status, body, "/sdk/stream", false);
            if outcome == Outcome::Auth {
                self.backoff.next_delay(&mut self.rng);
                self.wait(self.options.max_retry_delay_ms, AfterWait::Connect);
            } else {
                self.stream_down(true, now_ms);
            }
            return;
        }
        let kind = content_type
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if kind != "text/event-stream" {
            let message = format!("{}: Content-Type {kind:?}", self.what("/sdk/stream"));
            self.report(ReportKind::BadResponse, "bad_response", message, Some(200));
            self.stream_down(true, now_ms);
            return;
        }
        self.contact_ok();
        self.decoder = SseDecoder::new();
        self.comments_seen = 0;
        self.phase = Phase::Streaming;
        self.actions.push_back(SyncAction::ReadStream);
    }

    /// A chunk of the stream (any size; it may cut a line or a character).
    pub fn stream_data(&mut self, chunk: &[u8], now_ms: f64) {
        if !matches!(self.phase, Phase::Streaming) {
            return;
        }
        let events = self.decoder.feed(chunk);
        if !events.is_empty() || self.decoder.comments() != self.comments_seen {
            self.backoff.reset();
            self.comments_seen = self.decoder.comments();
        }
        if let Some(ms) = self.decoder.retry_ms() {
            self.backoff.set_base(ms as f64);
        }
        // Each config event is a whole snapshot: only the last one of a chunk matters.
        let config = events.into_iter().rfind(|e| e.kind == "config");
        match config {
            Some(event) => {
                let id = (!event.id.is_empty()).then_some(event.id);
                self.receive(event.data, id, None, AfterLoad::Stream, now_ms);
            }
            None => self.actions.push_back(SyncAction::ReadStream),
        }
    }

    /// The server ended the stream: reconnect after a backoff.
    pub fn stream_ended(&mut self, _now_ms: f64) {
        if !matches!(self.phase, Phase::Streaming) {
            return;
        }
        let delay = self.backoff.next_delay(&mut self.rng);
        self.wait(delay, AfterWait::Connect);
    }

    /// Reading the stream failed: `idle` when nothing came for the idle timeout, else the
    /// network failed (the message, for the shell's own logs, is not reported: a stream cut
    /// off is routine).
    pub fn stream_failed(&mut self, _message: &str, idle: bool, now_ms: f64) {
        if !matches!(self.phase, Phase::Streaming) {
            return;
        }
        if idle {
            // Silence is a fault (a proxy buffering the stream, a dead connection); a stream
            // cut off is routine (a deploy, a proxy's timeout): the fetch that follows decides.
            let text = format!(
                "{}: nothing for {} ms",
                self.what("/sdk/stream"),
                self.options.idle_timeout_ms
            );
            self.report(ReportKind::Unavailable, "unavailable", text, None);
        }
        self.stream_down(true, now_ms);
    }

    /// The wait of [`SyncAction::Wait`] is over.
    pub fn timer_fired(&mut self, _now_ms: f64) {
        let Phase::Waiting(next) = self.phase else {
            return;
        };
        match next {
            AfterWait::Fetch(purpose) => self.fetch(purpose),
            AfterWait::Connect => self.connect(),
        }
    }

    /// The engine took the config of [`SyncAction::Load`]; `version` is its version.
    pub fn loaded(&mut self, version: Option<&str>, now_ms: f64) {
        let Some(pending) = self.take_pending() else {
            return;
        };
        let previous_version = self.version().map(str::to_owned);
        if pending.source == ConfigSource::Server {
            self.etag = pending.etag;
            self.last_event_id = pending.event_id.or_else(|| event_id_of(version));
            self.rejected = None;
            if self.options.has_cache {
                let text = pending.text.clone();
                self.actions.push_back(SyncAction::WriteCache { text });
            }
            self.contact_ok();
        }
        self.served = Some(Served {
            text: pending.text,
            version: version.map(str::to_owned),
            source: pending.source,
        });
        self.actions.push_back(SyncAction::Updated {
            version: version.map(str::to_owned),
            previous_version,
            source: pending.source,
        });
        self.after_load(pending.then, now_ms);
    }

    /// The engine refused the config of [`SyncAction::Load`] with this error.
    pub fn refused(&mut self, code: &str, message: &str, now_ms: f64) {
        let Some(pending) = self.take_pending() else {
            return;
        };
        if pending.source == ConfigSource::Server {
            // Remembered all the same, so it is neither downloaded nor tried again.
            let version = version_of(&pending.text);
            self.etag = pending.etag;
            self.last_event_id = pending.event_id.or_else(|| event_id_of(version.as_deref()));
            self.rejected = Some(pending.text);
        }
        let message = format!(
            "the {} config was refused: {message}",
            pending.source.as_str()
        );
        self.report(ReportKind::ConfigRefused, code, message, None);
        self.after_load(pending.then, now_ms);
    }

    /// The answer to [`SyncAction::ReadCache`]: the file's text, or None when there is none
    /// (or it could not be read: the shell reports that itself).
    pub fn cache_read(&mut self, text: Option<&str>, now_ms: f64) {
        let Phase::ReadingCache(outcome) = self.phase else {
            return;
        };
        let newer = match (text, &self.served) {
            (Some(_), None) => true,
            (Some(t), Some(s)) => {
                s.source == ConfigSource::Bootstrap
                    && version_number(version_of(t).as_deref())
                        >= version_number(s.version.as_deref())
            }
            (None, _) => false,
        };
        match text {
            Some(t) if newer && self.served.as_ref().is_none_or(|s| s.text != t) => {
                self.load(
                    t.to_owned(),
                    ConfigSource::Cache,
                    None,
                    None,
                    AfterLoad::Ready(outcome),
                );
            }
            _ => self.ready(outcome, now_ms),
        }
    }

    // -- steps -----------------------------------------------------------------------------

    /// The load awaited, if one is (the phase is left as it is otherwise).
    fn take_pending(&mut self) -> Option<PendingLoad> {
        if !matches!(self.phase, Phase::Loading(_)) {
            return None;
        }
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Loading(pending) => Some(*pending),
            _ => None,
        }
    }

    fn fetch(&mut self, purpose: Purpose) {
        self.phase = Phase::Fetching(purpose);
        self.actions.push_back(SyncAction::Fetch {
            if_none_match: self.etag.clone(),
        });
    }

    fn connect(&mut self) {
        self.phase = Phase::Connecting;
        self.actions.push_back(SyncAction::OpenStream {
            last_event_id: self.last_event_id.clone().filter(|id| !id.is_empty()),
            idle_timeout_ms: self.options.idle_timeout_ms,
        });
    }

    fn wait(&mut self, ms: f64, then: AfterWait) {
        self.phase = Phase::Waiting(then);
        self.actions.push_back(SyncAction::Wait { ms: ms.max(0.0) });
    }

    fn load(
        &mut self,
        text: String,
        source: ConfigSource,
        etag: Option<String>,
        event_id: Option<String>,
        then: AfterLoad,
    ) {
        self.actions.push_back(SyncAction::Load {
            text: text.clone(),
            source,
        });
        self.phase = Phase::Loading(Box::new(PendingLoad {
            text,
            source,
            etag,
            event_id,
            then,
        }));
    }

    /// A config from the server (a fetch or a stream event).
    fn receive(
        &mut self,
        text: String,
        event_id: Option<String>,
        etag: Option<String>,
        then: AfterLoad,
        now_ms: f64,
    ) {
        let same = self.served.as_ref().is_some_and(|s| s.text == text);
        // Versions only grow: an older config than the server's one served comes from a
        // server instance that is behind, and is not served.
        let older = !same
            && self.served.as_ref().is_some_and(|s| {
                let incoming = version_number(version_of(&text).as_deref());
                s.source == ConfigSource::Server
                    && incoming >= 0
                    && incoming < version_number(s.version.as_deref())
            });
        if older {
            self.etag = etag;
            self.contact_ok();
            self.phase = Phase::Idle;
            return self.after_load(then, now_ms);
        }
        if same || self.rejected.as_deref() == Some(text.as_str()) {
            let version = if same {
                self.version().map(str::to_owned)
            } else {
                version_of(&text)
            };
            self.etag = etag;
            self.last_event_id = event_id.or_else(|| event_id_of(version.as_deref()));
            if same {
                self.rejected = None;
                if let Some(served) = self
                    .served
                    .as_mut()
                    .filter(|s| s.source != ConfigSource::Server)
                {
                    served.source = ConfigSource::Server;
                    if self.options.has_cache {
                        self.actions.push_back(SyncAction::WriteCache { text });
                    }
                }
            }
            self.contact_ok();
            self.phase = Phase::Idle;
            return self.after_load(then, now_ms);
        }
        self.load(text, ConfigSource::Server, etag, event_id, then);
    }

    fn fetched_config(&mut self, text: &str, etag: Option<&str>, purpose: Purpose, now_ms: f64) {
        self.contact_ok();
        let then = if purpose == Purpose::First {
            AfterLoad::Ready(Outcome::Ok)
        } else {
            AfterLoad::Fetch(purpose)
        };
        self.receive(text.to_owned(), None, etag.map(str::to_owned), then, now_ms);
    }

    fn after_load(&mut self, then: AfterLoad, now_ms: f64) {
        match then {
            AfterLoad::FirstFetch => self.fetch(Purpose::First),
            AfterLoad::Ready(outcome) => self.ready(outcome, now_ms),
            AfterLoad::Fetch(purpose) => self.after_fetch(purpose, Outcome::Ok, now_ms),
            AfterLoad::Stream => {
                self.phase = Phase::Streaming;
                self.actions.push_back(SyncAction::ReadStream);
            }
        }
    }

    fn after_fetch(&mut self, purpose: Purpose, outcome: Outcome, now_ms: f64) {
        match purpose {
            Purpose::First => {
                let from_server = self
                    .served
                    .as_ref()
                    .is_some_and(|s| s.source == ConfigSource::Server);
                if !from_server && self.options.has_cache {
                    self.phase = Phase::ReadingCache(outcome);
                    self.actions.push_back(SyncAction::ReadCache);
                } else {
                    self.ready(outcome, now_ms);
                }
            }
            Purpose::Poll => self.schedule_poll(outcome),
            Purpose::WhileDown(reconnect_at) => self.while_down(outcome, reconnect_at, now_ms),
        }
    }

    fn ready(&mut self, outcome: Outcome, now_ms: f64) {
        self.actions.push_back(SyncAction::Ready {
            has_engine: self.served.is_some(),
        });
        match (self.options.mode, outcome) {
            (SyncMode::Poll, _) => self.schedule_poll(outcome),
            (SyncMode::Stream, Outcome::Ok) => self.connect(),
            (SyncMode::Stream, Outcome::Auth) => {
                self.wait(self.options.max_retry_delay_ms, AfterWait::Connect);
            }
            (SyncMode::Stream, Outcome::Failed) => self.stream_down(false, now_ms),
        }
    }

    fn schedule_poll(&mut self, outcome: Outcome) {
        let interval = jittered(self.options.poll_interval_ms, &mut self.rng);
        let delay = match outcome {
            Outcome::Ok => {
                self.backoff.reset();
                interval
            }
            Outcome::Auth => self
                .options
                .poll_interval_ms
                .max(self.options.max_retry_delay_ms),
            Outcome::Failed => interval.min(self.backoff.next_delay(&mut self.rng)),
        };
        self.wait(delay, AfterWait::Fetch(Purpose::Poll));
    }

    /// The stream is down: reconnect after a backoff, fetching now (`fetch_now`) and every
    /// poll interval meanwhile.
    fn stream_down(&mut self, fetch_now: bool, now_ms: f64) {
        let reconnect_at = now_ms + self.backoff.next_delay(&mut self.rng);
        if fetch_now {
            self.fetch(Purpose::WhileDown(reconnect_at));
        } else {
            self.while_down(Outcome::Failed, reconnect_at, now_ms);
        }
    }

    fn while_down(&mut self, outcome: Outcome, reconnect_at: f64, now_ms: f64) {
        if outcome == Outcome::Auth {
            return self.wait(self.options.max_retry_delay_ms, AfterWait::Connect);
        }
        let left = reconnect_at - now_ms;
        let step = jittered(self.options.poll_interval_ms, &mut self.rng);
        if left <= step {
            self.wait(left, AfterWait::Connect);
        } else {
            self.wait(step, AfterWait::Fetch(Purpose::WhileDown(reconnect_at)));
        }
    }

    // -- reports ---------------------------------------------------------------------------

    fn what(&self, path: &str) -> String {
        format!("GET {}{path}", self.options.base_url.trim_end_matches('/'))
    }

    /// An error answer: reported; `counts` when it makes the client stale (a fetch).
    fn error_answer(&mut self, status: u16, body: &[u8], path: &str, counts: bool) -> Outcome {
        let reply = ErrorReply::decode(status, body);
        let kind = if reply.is_auth() {
            ReportKind::Auth
        } else {
            ReportKind::Server
        };
        let message = reply.describe(&self.what(path));
        if counts {
            self.fail(kind, &reply.code, message, Some(status));
        } else {
            self.report(kind, &reply.code, message, Some(status));
        }
        if is_auth(status) {
            Outcome::Auth
        } else {
            Outcome::Failed
        }
    }

    /// A fetch failed: the served config may be stale.
    fn fail(&mut self, kind: ReportKind, code: &str, message: String, status: Option<u16>) {
        self.failing = true;
        self.report(kind, code, message, status);
    }

    fn report(&mut self, kind: ReportKind, code: &str, message: String, status: Option<u16>) {
        let report = self.reports.report(kind, code, message, status, 0);
        self.actions.push_back(SyncAction::Report { report });
    }

    /// The server answered well.
    fn contact_ok(&mut self) {
        self.failing = false;
        if self.rejected.is_none() && self.reports.recover() {
            self.actions.push_back(SyncAction::Recovered);
        }
    }
}

/// The `version` of a config text (`"v3"`), if it is JSON with one.
pub fn version_of(text: &str) -> Option<String> {
    let mut doc = serde_json::from_str::<serde_json::Value>(text).ok()?;
    match doc.get_mut("version").map(serde_json::Value::take) {
        Some(serde_json::Value::String(version)) => Some(version),
        _ => None,
    }
}

/// N of a version `"vN"`, or -1 when there is none.
pub fn version_number(version: Option<&str>) -> i64 {
    version
        .and_then(|v| v.strip_prefix('v'))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1)
}

/// The stream's event id of a version: `"v3"` -> `"3"`.
pub fn event_id_of(version: Option<&str>) -> Option<String> {
    (version_number(version) >= 0).then(|| version_number(version).to_string())
}
