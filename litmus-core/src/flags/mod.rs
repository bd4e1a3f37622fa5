//! Feature flags (`docs/flags.md`): typed values served by ordered rules, first match wins.
//!
//! A flag has a key, a [`FlagType`], a default value, an on/off switch and rules of four
//! kinds: *force* (a targeting condition serves a value), *rollout* (a share of the matching
//! units, by the bucketing spec, so raising the share keeps everyone already in), *experiment*
//! (the unit's variant of an experiment decides the value) and *prerequisite* (the rule applies
//! when another flag evaluates to a given value). Scheduled changes switch the flag or replace
//! its rules from an instant on, by the clock the caller passes.
//!
//! Flags live in the config document next to the experiments (`flags`), compile once with it,
//! and evaluate with [`crate::Engine::evaluate`] into an [`Evaluation`]: the value, the rule, an
//! OpenFeature [`FlagReason`] and, when an experiment served the value, the unit's
//! assignment whose exposure to log.

mod compile;
mod evaluate;
mod evaluation;
mod flag;
pub mod hygiene;
pub mod wire;

pub(crate) use compile::compile_flags;
pub use compile::{MAX_FLAGS, MAX_PREREQUISITE_DEPTH, MAX_RULES, MAX_SCHEDULE, MAX_TAGS};
pub use evaluate::Remembered;
pub use evaluation::{Evaluation, EvaluationError, FlagReason};
pub use flag::{Flag, FlagOutcome, Rule};
pub use wire::{FlagType, RuleKind};

use crate::assign::key_index::KeyIndex;
use crate::error::Error;

/// The engine's flags: keys in config order, each compiled or with the error that rejected
/// it, and an index by key.
#[derive(Debug, Default)]
pub(crate) struct EngineFlags {
    pub(crate) keys: Box<[Box<str>]>,
    pub(crate) slots: Box<[Result<Flag, Error>]>,
    pub(crate) index: KeyIndex,
}

/// Whether two flag values are equal, numbers by value (`1` equals `1.0`).
pub(crate) fn same_value(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}
