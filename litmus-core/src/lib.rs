//! # litmus-core
//!
//! The pure core of Litmus, an experimentation engine: every assignment decision is made here,
//! and the Python, JavaScript and server front ends only convert arguments and call it.
//!
//! ## Architecture
//!
//! - [`config`]: the JSON config format. Wire types mirror the JSON; each experiment is parsed
//!   and compiled on its own into validated types, so one bad experiment is reported (naming
//!   its key and field) without stopping the others. Admin input is validated strictly.
//! - [`hash`]: bucketing spec v1 (`docs/spec/bucketing-v1.md`), the only code that hashes.
//! - [`insights`]: pure functions over rollup data for the dashboard: anomaly detection in
//!   per-minute metric series (robust z-score and EWMA), each alarm with its baseline and band.
//! - [`Engine`]: the compiled config. [`Engine::assign`] looks the experiment up, applies
//!   overrides, status and time window, targeting, holdouts, layers and traffic, and picks a
//!   variant. It returns an [`Assignment`] with a [`Reason`]; outcomes are values, not errors.
//! - [`results`]: experiment results from the rollups (lifts, intervals, always-valid and
//!   Bayesian figures, guardrails, SRM) and their cumulative series.
//! - [`webhooks`]: signed webhook deliveries, sans I/O: the `Litmus-Signature` scheme
//!   (HMAC-SHA256 of the timestamp and the raw body, several signatures while a secret
//!   rotates), its verification with a timestamp tolerance, and the retry schedule.
//! - [`Error`]: one error enum with a stable [`Error::code`] per variant.
//!
//! The crate is pure: no I/O, no clock (time is an argument), no global random numbers. It
//! never panics on any input.
//!
//! ```
//! use litmus_core::{Attributes, Engine};
//!
//! let engine = Engine::from_json(r#"{"schema_version":1,"experiments":[{"key":"checkout-button",
//!     "salt":"cb-2026","status":"running","traffic":1.0,
//!     "variants":[{"key":"control","weight":1},{"key":"treatment","weight":1}]}]}"#)?;
//! let a = engine.assign("checkout-button", "user-42", &Attributes::new());
//! assert!(a.in_experiment());
//! assert!(matches!(a.variant_key(), Some("control" | "treatment")));
//! # Ok::<(), litmus_core::Error>(())
//! ```

pub mod assign;
pub mod attributes;
pub mod bandit;
pub mod config;
pub mod error;
pub mod events;
pub mod exposure;
pub mod flags;
pub mod hash;
pub mod insights;
pub mod metrics;
pub mod results;
pub mod rng;
pub mod sdk;
pub mod segments;
pub mod stats;
pub mod time;
pub mod webhooks;

pub use assign::{Assignment, Engine, Experiment, MissKind, Reason, Variant};
pub use attributes::{AttrRef, AttributeSource, Attributes, ListRef, NoAttributes, Value};
pub use config::wire::{Kind, Status};
pub use error::{Error, FieldPath};
pub use exposure::ExposureMemory;
pub use flags::{Evaluation, EvaluationError, Flag, FlagReason, FlagType};
pub use time::Timestamp;
