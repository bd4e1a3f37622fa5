//! Webhook deliveries, sans I/O: how a delivery is signed and verified, and when a failed one
//! is tried again (`docs/webhooks.md`).
//!
//! The server signs each delivery and retries it on its own schedule; receivers verify it with
//! the Python or npm package, or with any HMAC-SHA256 implementation. Both sides call this
//! module, so the scheme is written once:
//!
//! - [`header`]: the `Litmus-Signature` header's format (`t=<unix seconds>,v1=<hex>`, several
//!   `v1` entries during a secret's rotation), parsed without allocating per entry.
//! - [`signature`]: [`sign`] and [`verify`]: HMAC-SHA256 of `<t>.<raw body>` keyed by the
//!   webhook's secret, compared in constant time, with a tolerance for the timestamp.
//! - [`retry`]: [`next_attempt_ms`], the retry schedule (30 s doubling to 4 h, jittered, given
//!   up 30 h after the first attempt).
//!
//! Time is an argument everywhere (unix seconds for signatures, milliseconds for the
//! schedule), and so is the jitter: the module reads no clock and draws no random number.
//!
//! ```
//! use litmus_core::webhooks::{sign, verify, DEFAULT_TOLERANCE_S};
//!
//! let secret = "whsec_5f1c0e8e2bd7a4b0c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f405162738";
//! let body = br#"{"type":"experiment.started"}"#;
//! let header = sign(secret, body, 1_767_225_600)?;
//! assert!(header.starts_with("t=1767225600,v1="));
//! assert_eq!(verify(secret, &header, body, 1_767_225_660, DEFAULT_TOLERANCE_S)?, 1_767_225_600);
//! assert_eq!(
//!     verify(secret, &header, b"{}", 1_767_225_660, DEFAULT_TOLERANCE_S).unwrap_err().code(),
//!     "signature_mismatch"
//! );
//! # Ok::<(), litmus_core::Error>(())
//! ```

pub mod header;
pub mod retry;
pub mod signature;

pub use header::SignatureHeader;
pub use retry::{BASE_DELAY_MS, GIVE_UP_AFTER_MS, MAX_DELAY_MS, next_attempt_ms};
pub use signature::{DEFAULT_TOLERANCE_S, sign, sign_with, verify};

/// The header that carries a delivery's signatures: `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`.
pub const SIGNATURE_HEADER: &str = "Litmus-Signature";

/// The header that carries the event's id: the same for every attempt to deliver it, so a
/// receiver can drop an event it has already processed.
pub const EVENT_ID_HEADER: &str = "Litmus-Event-Id";

/// The header that carries the event's type (`experiment.started`, ...).
pub const EVENT_TYPE_HEADER: &str = "Litmus-Event-Type";

/// The header that carries the id of this delivery attempt (a new one on every retry).
pub const DELIVERY_HEADER: &str = "Litmus-Delivery";

/// How the server's webhook secrets begin (`whsec_` and 64 hex digits). The scheme keys the
/// HMAC with the whole secret's UTF-8 bytes, prefix included; nothing is decoded.
pub const SECRET_PREFIX: &str = "whsec_";
