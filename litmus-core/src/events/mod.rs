//! Analytics events: what SDKs send to the server's `POST /events`, read and validated here,
//! and the rules that turn them into the statistics module's sufficient statistics.
//!
//! - [`batch`]: a request body (a JSON array, `{"sent_at", "events"}`, or NDJSON) to events,
//!   each invalid one rejected on its own with its index and an error with a code and a path,
//!   within the limits ([`MAX_EVENT_BYTES`], [`MAX_BATCH_EVENTS`], [`MAX_BATCH_BYTES`]);
//!   client clocks corrected from the batch's `sent_at`.
//! - [`rollup`]: exposure-to-metric attribution and per-minute rollups (see `docs/events.md`),
//!   as a pure reference that stores implement and tests recompute.
//! - [`unit_state`]: the same rules over per-unit records, applied a round of batches at a
//!   time (what the stores run).
//! - [`derived`]: the rules of the metrics a [`crate::metrics::Program`] derives from events
//!   (filters, aggregations, windows, caps, retention cohorts, funnels, ratios), applied by
//!   [`unit_state::Round::apply_with`].

pub mod batch;
pub mod derived;
pub mod event;
pub mod rollup;
pub mod unit_state;

pub use batch::{Batch, BatchError, Rejection, parse_batch};
pub use event::{Event, EventKind};
pub use rollup::{MetricRollup, Rollups, attributed, square_delta};

/// The largest event accepted, in bytes of JSON.
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
/// The most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 2_500;
/// The largest batch, in bytes, measured after decompression.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// The longest `message_id` accepted.
pub const MAX_MESSAGE_ID_CHARS: usize = 128;
