//! The SDK protocol, sans I/O: every decision the Python and JavaScript packages make about
//! talking to the server, written once (rule 11 of the house). The packages do the I/O,
//! threads and timers; they feed these state machines what happened, with the time, and
//! carry out the actions they answer.
//!
//! - [`sse`]: the Server-Sent Events decoder (bytes in, events out).
//! - [`config_sync`]: the config client's state machine (fetch, stream, poll, backoff, ETag
//!   and `Last-Event-ID`, bootstrap and cache, staleness, reports).
//! - [`tracker`]: the event tracker's queue, batching and retry policy (408/429/5xx with
//!   `Retry-After`, 413 splitting, drops and their reports, close).
//! - [`wire`]: how events and request bodies are written (timestamps, message ids, limits).
//! - [`reply`]: reading error bodies and `Retry-After`; which statuses are retried.
//! - [`backoff`]: exponential backoff with full jitter, and jittered intervals.
//! - [`report`]: what the machines ask the shells to report.
//! - [`sticky`]: the sticky-assignment store's keys and when to remember an assignment.
//! - [`usage`]: flag usage reports: the per-flag evaluation counter the engines' bindings
//!   keep, and when and how the counts go to `POST /sdk/usage` (splits, retries, 404, close).
//!
//! The shared fixtures in `fixtures/sdk/` script exchanges (answers, clock steps, failures)
//! with the actions expected; Rust, Python and Node run them against these machines.

pub mod backoff;
pub mod config_sync;
pub mod reply;
pub mod report;
pub mod sse;
pub mod sticky;
pub mod tracker;
pub mod usage;
pub mod wire;

pub use config_sync::{ConfigSource, ConfigSync, SyncAction, SyncMode, SyncOptions};
pub use report::{Rejected, Report, ReportKind};
pub use sse::{SseDecoder, SseEvent};
pub use tracker::{Tracker, TrackerAction, TrackerOptions};
pub use usage::{FlagCounter, SendResult, UsageAction, UsageOptions, UsageSender};
