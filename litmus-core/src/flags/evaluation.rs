//! The result of evaluating a flag for one unit: a value with the rule and the reason that
//! served it, OpenFeature's way.

use serde_json::Value;

use super::flag::{Flag, Rule};
use super::wire::FlagType;
use crate::assign::Assignment;
use crate::error::Error;

/// Why a flag served its value: OpenFeature's resolution reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlagReason {
    /// The flag is on with no rules, or a rule without a condition served: the same value for
    /// every unit.
    Static,
    /// A rule's targeting condition (or a prerequisite) matched the unit.
    TargetingMatch,
    /// A pseudorandom split served the value: a rollout, or an experiment's variant.
    Split,
    /// The flag is switched off: it serves its default.
    Disabled,
    /// No rule matched: the flag's default.
    Default,
    /// The flag could not be evaluated; see [`Evaluation::error`].
    Error,
}

impl FlagReason {
    /// OpenFeature's spelling: `STATIC`, `TARGETING_MATCH`, `SPLIT`, `DISABLED`, `DEFAULT` or
    /// `ERROR`. The same in every binding.
    pub fn code(self) -> &'static str {
        match self {
            FlagReason::Static => "STATIC",
            FlagReason::TargetingMatch => "TARGETING_MATCH",
            FlagReason::Split => "SPLIT",
            FlagReason::Disabled => "DISABLED",
            FlagReason::Default => "DEFAULT",
            FlagReason::Error => "ERROR",
        }
    }

    /// Every reason.
    pub const ALL: [FlagReason; 6] = [
        FlagReason::Static,
        FlagReason::TargetingMatch,
        FlagReason::Split,
        FlagReason::Disabled,
        FlagReason::Default,
        FlagReason::Error,
    ];

    /// The reason with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.code() == code)
    }
}

/// Why a flag could not be evaluated. An evaluation error is a value (reason
/// [`FlagReason::Error`]), never a panic: the caller serves its own default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EvaluationError {
    /// No flag has this key.
    FlagNotFound,
    /// The flag is in the config but was rejected when the config was loaded
    /// ([`crate::Engine::problems`] says why).
    InvalidConfig,
    /// The caller asked for a type the flag does not have.
    TypeMismatch,
}

impl EvaluationError {
    /// The stable snake_case code: `flag_not_found`, `invalid_config` or `type_mismatch`.
    pub fn code(self) -> &'static str {
        match self {
            EvaluationError::FlagNotFound => "flag_not_found",
            EvaluationError::InvalidConfig => "invalid_config",
            EvaluationError::TypeMismatch => "type_mismatch",
        }
    }

    /// OpenFeature's error code: `FLAG_NOT_FOUND`, `PARSE_ERROR` or `TYPE_MISMATCH`.
    pub fn openfeature_code(self) -> &'static str {
        match self {
            EvaluationError::FlagNotFound => "FLAG_NOT_FOUND",
            EvaluationError::InvalidConfig => "PARSE_ERROR",
            EvaluationError::TypeMismatch => "TYPE_MISMATCH",
        }
    }
}

/// The result of evaluating one flag for one unit. It borrows from the engine and allocates
/// nothing.
#[derive(Debug, Clone, Copy)]
pub struct Evaluation<'e> {
    pub(crate) flag: Option<&'e Flag>,
    pub(crate) value: Option<&'e Value>,
    pub(crate) reason: FlagReason,
    pub(crate) rule: Option<&'e Rule>,
    pub(crate) assignment: Option<Assignment<'e>>,
    pub(crate) error: Option<EvaluationError>,
    /// The flag's position in the engine's flags, [`NO_INDEX`] for an unknown key. A `u16`
    /// fits the struct's padding: an evaluation is copied on the hot path, and a larger one
    /// costs the size-optimized wasm engine a `memory.copy` per copy.
    pub(crate) index: u16,
}

/// [`Evaluation`]'s index of no flag (an unknown key, or past the 65,535th flag of a config
/// over [`super::MAX_FLAGS`], which a lenient load keeps).
pub(crate) const NO_INDEX: u16 = u16::MAX;

/// The index of the flag at `position` in the engine's flags.
pub(crate) fn index_of(position: usize) -> u16 {
    u16::try_from(position).unwrap_or(NO_INDEX)
}

const _: () = assert!(super::MAX_FLAGS < NO_INDEX as usize);

impl<'e> Evaluation<'e> {
    pub(crate) fn served(
        flag: &'e Flag,
        value: &'e Value,
        reason: FlagReason,
        rule: Option<&'e Rule>,
    ) -> Self {
        Evaluation {
            flag: Some(flag),
            value: Some(value),
            reason,
            rule,
            assignment: None,
            error: None,
            index: flag.index,
        }
    }

    pub(crate) fn failed(flag: Option<&'e Flag>, error: EvaluationError) -> Self {
        Evaluation {
            flag,
            value: None,
            reason: FlagReason::Error,
            rule: None,
            assignment: None,
            error: Some(error),
            index: flag.map_or(NO_INDEX, |f| f.index),
        }
    }

    /// The value served (`None` only when the evaluation failed: serve your own default).
    pub fn value(&self) -> Option<&'e Value> {
        self.value
    }

    /// Why this value.
    pub fn reason(&self) -> FlagReason {
        self.reason
    }

    /// The rule that served the value (`None` for the default).
    pub fn rule(&self) -> Option<&'e Rule> {
        self.rule
    }

    /// The id of the rule that served the value.
    pub fn rule_id(&self) -> Option<&'e str> {
        self.rule.map(Rule::id)
    }

    /// OpenFeature's variant: the experiment's variant key when an experiment served the
    /// value, the rule's id for other rules, `default` for the default, none on error.
    pub fn variant(&self) -> Option<&'e str> {
        if let Some(v) = self.assignment.and_then(|a| a.variant_key()) {
            return Some(v);
        }
        match (self.rule, self.reason) {
            (Some(rule), _) => Some(rule.id()),
            (None, FlagReason::Error) => None,
            (None, _) => Some("default"),
        }
    }

    /// When an experiment rule served the value: the unit's assignment to it. Log its
    /// exposure when [`Assignment::in_experiment`] is true (an override is not counted).
    pub fn assignment(&self) -> Option<Assignment<'e>> {
        self.assignment
    }

    /// The number of the value served among the flag's outcomes ([`Flag::outcomes`]): 0 for
    /// the default (and on error), else the serving rule's (and variant's) number. Stable for
    /// one loaded config, so a binding can cache each outcome's converted value.
    pub fn outcome(&self) -> u32 {
        let Some(rule) = self.rule else {
            return 0;
        };
        let variant = match rule.action {
            super::flag::Action::Experiment { .. } => self
                .assignment
                .and_then(|a| a.variant())
                .map_or(0, |v| v.index() as u32),
            _ => 0,
        };
        rule.outcome.saturating_add(variant)
    }

    /// Why the evaluation failed, when it did.
    pub fn error(&self) -> Option<EvaluationError> {
        self.error
    }

    /// The flag evaluated (`None` when unknown or rejected).
    pub fn flag(&self) -> Option<&'e Flag> {
        self.flag
    }

    /// The position of the flag asked for in [`crate::Engine::flags`] (stable for one loaded
    /// config), also when it was rejected or is of another type than asked; `None` for a key
    /// the config does not have (`flag_not_found`), and past the 65,535th flag of a config
    /// over [`crate::flags::MAX_FLAGS`] (which a lenient load keeps). A binding counts
    /// evaluations by it ([`crate::sdk::usage::FlagCounter`]) without looking the key up
    /// again.
    #[inline(always)]
    pub fn flag_index(&self) -> Option<usize> {
        (self.index != NO_INDEX).then_some(self.index as usize)
    }

    /// The value as a boolean.
    pub fn boolean(&self) -> Result<bool, Error> {
        self.typed(FlagType::Boolean, Value::as_bool)
    }

    /// The value as a string.
    pub fn string(&self) -> Result<&'e str, Error> {
        self.typed(FlagType::String, Value::as_str)
    }

    /// The value as a number.
    pub fn number(&self) -> Result<f64, Error> {
        self.typed(FlagType::Number, Value::as_f64)
    }

    /// The value of a `json` flag.
    pub fn json(&self) -> Result<&'e Value, Error> {
        self.typed(FlagType::Json, Some)
    }

    fn typed<T>(
        &self,
        wanted: FlagType,
        read: impl FnOnce(&'e Value) -> Option<T>,
    ) -> Result<T, Error> {
        let key = || self.flag.map(|f| f.key().to_owned()).unwrap_or_default();
        let found = self.flag.map(Flag::value_type);
        match (self.value, found) {
            (Some(value), Some(t)) if t == wanted => {
                read(value).ok_or_else(|| mismatch(key(), wanted, t))
            }
            (_, Some(t)) => Err(mismatch(key(), wanted, t)),
            (_, None) => Err(Error::FlagUnavailable {
                reason: self.error.unwrap_or(EvaluationError::FlagNotFound).code(),
            }),
        }
    }
}

fn mismatch(flag: String, wanted: FlagType, found: FlagType) -> Error {
    Error::TypeMismatch {
        flag,
        expected: wanted.as_str(),
        found: found.as_str(),
    }
}
