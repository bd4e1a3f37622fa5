//! The one error type of `litmus-core`.
//!
//! Every variant has a stable snake_case [`Error::code`] that bindings and the server pass on
//! unchanged (documented in `docs/errors.md`). Normal outcomes such as "not in the experiment"
//! are not errors: they are [`crate::Reason`]s of an [`crate::Assignment`].

use std::fmt;

/// A config path such as `experiments[checkout-button].variants[1].weight`.
///
/// Paths name objects by their key where they have one, so a message points at the experiment
/// and the field a person has to fix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath(String);

impl FieldPath {
    /// The path of the document root.
    pub fn root() -> Self {
        FieldPath(String::new())
    }

    /// This path extended by a field name.
    pub fn field(&self, name: &str) -> Self {
        if self.0.is_empty() {
            FieldPath(name.to_owned())
        } else {
            // Built by hand rather than with `format!`: config loading makes one per field.
            let mut path = String::with_capacity(self.0.len() + 1 + name.len());
            path.push_str(&self.0);
            path.push('.');
            path.push_str(name);
            FieldPath(path)
        }
    }

    /// This path extended by an index or key in brackets: `variants[1]`, `experiments[checkout]`.
    pub fn item(&self, index: impl fmt::Display) -> Self {
        use fmt::Write as _;
        let mut path = String::with_capacity(self.0.len() + 24);
        path.push_str(&self.0);
        path.push('[');
        let _ = write!(path, "{index}");
        path.push(']');
        FieldPath(path)
    }

    /// A path from its text (for paths rewritten by the crate).
    pub(crate) fn from_text(text: String) -> Self {
        FieldPath(text)
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(root)")
        } else {
            f.write_str(&self.0)
        }
    }
}

/// Everything that can go wrong in `litmus-core`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The document is not JSON, or a value has the wrong JSON type.
    #[error("invalid JSON at {path}: {message}")]
    InvalidJson {
        /// Where the problem is (the root when the text itself is not JSON).
        path: FieldPath,
        /// The parser's description, with line and column where known.
        message: String,
    },
    /// The document's `schema_version` is not one this library reads.
    #[error("unsupported schema_version {found}: this library reads version {supported}")]
    UnsupportedSchemaVersion {
        /// The version found in the document.
        found: u64,
        /// The version this library reads.
        supported: u64,
    },
    /// An experiment asks for a bucketing algorithm this library does not implement.
    #[error("{path}: unsupported hash_version {found}: this library implements version 1")]
    UnsupportedHashVersion {
        /// The field.
        path: FieldPath,
        /// The version asked for.
        found: u64,
    },
    /// A required field is absent.
    #[error("{path}: missing required field")]
    MissingField {
        /// The missing field.
        path: FieldPath,
    },
    /// A field that this schema does not define (admin input is strict; SDK snapshots are not).
    #[error("{path}: unknown field")]
    UnknownField {
        /// The unknown field.
        path: FieldPath,
    },
    /// A field holds a value outside its allowed range or form.
    #[error("{path}: {message}")]
    InvalidValue {
        /// The field.
        path: FieldPath,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// Two objects of one kind share a key.
    #[error("{path}: duplicate key {key:?}")]
    DuplicateKey {
        /// The second object with the key.
        path: FieldPath,
        /// The key.
        key: String,
    },
    /// A reference to an experiment, variant or layer that does not exist.
    #[error("{path}: unknown reference {key:?}")]
    UnknownReference {
        /// The referring field.
        path: FieldPath,
        /// The key that names nothing.
        key: String,
    },
    /// A targeting regular expression that does not compile.
    #[error("{path}: invalid regular expression: {message}")]
    InvalidRegex {
        /// The field.
        path: FieldPath,
        /// The regex engine's message.
        message: String,
    },
    /// Two experiments of one layer claim overlapping bucket ranges.
    #[error("{path}: range overlaps the range of experiment {other:?}")]
    OverlappingRanges {
        /// The range that overlaps an earlier one.
        path: FieldPath,
        /// The experiment owning the earlier range.
        other: String,
    },
    /// A config exceeds a size limit (experiments, variants, condition depth, ...).
    #[error("{path}: too large: {message}")]
    LimitExceeded {
        /// The field.
        path: FieldPath,
        /// Which limit and its value.
        message: String,
    },
    /// A statistics argument is out of its domain (a negative count, a confidence level
    /// outside (0, 1), NaN, mismatched lengths, ...).
    #[error("invalid argument `{argument}`: {message}")]
    InvalidArgument {
        /// The argument's name.
        argument: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// An event is larger, as JSON, than the server takes.
    #[error(
        "the {kind} event is {bytes} bytes of JSON; the server takes at most {limit} (shorten its properties)"
    )]
    EventTooLarge {
        /// The event's type (`exposure`, `track`).
        kind: String,
        /// Its size in bytes.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The data cannot support the computation (zero variance in both groups, fewer than two
    /// observations, an empty row of a table, ...).
    #[error("degenerate data: {message}")]
    DegenerateData {
        /// Why the statistic is undefined for this data.
        message: String,
    },
    /// A change that the lifecycle rules forbid between the stored config and the next one
    /// (`config::lifecycle`): it would move units already assigned.
    #[error("{path}: {message}")]
    InvalidTransition {
        /// The object or field whose change is refused.
        path: FieldPath,
        /// Which rule, and what to do instead.
        message: String,
    },
    /// Flags whose prerequisites form a cycle: none of them could ever be evaluated.
    #[error("{path}: prerequisite cycle {}", cycle.join(" -> "))]
    PrerequisiteCycle {
        /// The prerequisite rule's `flag` field, in one flag of the cycle.
        path: FieldPath,
        /// The flags of one cycle through it, in order, ending where it started.
        cycle: Vec<String>,
    },
    /// A flag's value was asked for as a type the flag does not have.
    #[error("flag {flag:?} is a {found} flag, not a {expected} flag")]
    TypeMismatch {
        /// The flag's key.
        flag: String,
        /// The type asked for.
        expected: &'static str,
        /// The flag's type.
        found: &'static str,
    },
    /// A flag's value was asked for, but the flag could not be evaluated (unknown, or rejected
    /// when the config was loaded).
    #[error("the flag could not be evaluated: {reason}")]
    FlagUnavailable {
        /// The evaluation error's code (`flag_not_found`, `invalid_config`).
        reason: &'static str,
    },
    /// A webhook delivery carries no `Litmus-Signature` header, or an empty one
    /// ([`crate::webhooks::verify`]).
    #[error("the webhook delivery has no Litmus-Signature header")]
    SignatureMissing,
    /// A webhook's `Litmus-Signature` header cannot be read: no `t`, a `t` that is not an
    /// integer, no `v1` signature, a `v1` that is not 64 lowercase hex digits, an entry that is
    /// not `name=value`.
    #[error("malformed Litmus-Signature header: {reason}")]
    SignatureMalformed {
        /// What is wrong with the header.
        reason: &'static str,
    },
    /// A webhook's signed timestamp is further from the receiver's clock than the tolerance
    /// allows (a replayed or long-delayed delivery, or a clock far off).
    #[error("webhook signature expired: t={timestamp} is more than {tolerance} s from now ({now})")]
    SignatureExpired {
        /// The signed timestamp (unix seconds).
        timestamp: i64,
        /// The receiver's time (unix seconds).
        now: i64,
        /// The tolerance (seconds).
        tolerance: i64,
    },
    /// No `v1` signature of a webhook's header matches the body and the secret.
    #[error("no webhook signature matches the body and secret (verify the raw body bytes)")]
    SignatureMismatch,
    /// Several problems at once (strict validation reports all it finds).
    #[error("{} problems in config; first: {}", errors.len(), errors.first().map(ToString::to_string).unwrap_or_default())]
    Multiple {
        /// Each problem, in document order.
        errors: Vec<Error>,
    },
}

impl Error {
    /// The stable snake_case code of this error, the same in every language binding and in the
    /// server's responses.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidJson { .. } => "invalid_json",
            Error::UnsupportedSchemaVersion { .. } => "unsupported_schema_version",
            Error::UnsupportedHashVersion { .. } => "unsupported_hash_version",
            Error::MissingField { .. } => "missing_field",
            Error::UnknownField { .. } => "unknown_field",
            Error::InvalidValue { .. } => "invalid_value",
            Error::DuplicateKey { .. } => "duplicate_key",
            Error::UnknownReference { .. } => "unknown_reference",
            Error::InvalidRegex { .. } => "invalid_regex",
            Error::OverlappingRanges { .. } => "overlapping_ranges",
            Error::LimitExceeded { .. } => "limit_exceeded",
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::EventTooLarge { .. } => "event_too_large",
            Error::DegenerateData { .. } => "degenerate_data",
            Error::InvalidTransition { .. } => "invalid_transition",
            Error::PrerequisiteCycle { .. } => "prerequisite_cycle",
            Error::TypeMismatch { .. } => "type_mismatch",
            Error::FlagUnavailable { .. } => "flag_unavailable",
            Error::SignatureMissing => "signature_missing",
            Error::SignatureMalformed { .. } => "signature_malformed",
            Error::SignatureExpired { .. } => "signature_expired",
            Error::SignatureMismatch => "signature_mismatch",
            Error::Multiple { .. } => "multiple",
        }
    }

    /// The config path the error points at, when it has one.
    pub fn path(&self) -> Option<&FieldPath> {
        match self {
            Error::InvalidJson { path, .. }
            | Error::UnsupportedHashVersion { path, .. }
            | Error::MissingField { path }
            | Error::UnknownField { path }
            | Error::InvalidValue { path, .. }
            | Error::DuplicateKey { path, .. }
            | Error::UnknownReference { path, .. }
            | Error::InvalidRegex { path, .. }
            | Error::OverlappingRanges { path, .. }
            | Error::LimitExceeded { path, .. }
            | Error::InvalidTransition { path, .. }
            | Error::PrerequisiteCycle { path, .. } => Some(path),
            Error::UnsupportedSchemaVersion { .. }
            | Error::InvalidArgument { .. }
            | Error::EventTooLarge { .. }
            | Error::DegenerateData { .. }
            | Error::TypeMismatch { .. }
            | Error::FlagUnavailable { .. }
            | Error::SignatureMissing
            | Error::SignatureMalformed { .. }
            | Error::SignatureExpired { .. }
            | Error::SignatureMismatch
            | Error::Multiple { .. } => None,
        }
    }

    /// Every code this crate can return, for documentation and binding tests.
    pub const CODES: &'static [&'static str] = &[
        "invalid_json",
        "unsupported_schema_version",
        "unsupported_hash_version",
        "missing_field",
        "unknown_field",
        "invalid_value",
        "duplicate_key",
        "unknown_reference",
        "invalid_regex",
        "overlapping_ranges",
        "limit_exceeded",
        "invalid_argument",
        "event_too_large",
        "degenerate_data",
        "invalid_transition",
        "prerequisite_cycle",
        "type_mismatch",
        "flag_unavailable",
        "signature_missing",
        "signature_malformed",
        "signature_expired",
        "signature_mismatch",
        "multiple",
    ];

    pub(crate) fn invalid(path: FieldPath, message: impl Into<String>) -> Self {
        Error::InvalidValue {
            path,
            message: message.into(),
        }
    }

    pub(crate) fn argument(argument: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            argument,
            message: message.into(),
        }
    }

    pub(crate) fn degenerate(message: impl Into<String>) -> Self {
        Error::DegenerateData {
            message: message.into(),
        }
    }

    /// Folds a list of problems into one error: the error itself when there is one.
    pub(crate) fn from_list(mut errors: Vec<Error>) -> Option<Self> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Error::Multiple { errors }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_objects_and_fields() {
        let p = FieldPath::root()
            .field("experiments")
            .item("checkout")
            .field("variants")
            .item(1)
            .field("weight");
        assert_eq!(p.as_str(), "experiments[checkout].variants[1].weight");
        assert_eq!(FieldPath::root().to_string(), "(root)");
    }

    #[test]
    fn codes_are_unique_and_listed() {
        let mut codes = Error::CODES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Error::CODES.len());
        let e = Error::invalid(FieldPath::root().field("traffic"), "must be in [0, 1]");
        assert!(Error::CODES.contains(&e.code()));
        assert_eq!(e.to_string(), "traffic: must be in [0, 1]");
    }

    #[test]
    fn multiple_reports_count_and_first() {
        let e = Error::from_list(vec![
            Error::MissingField {
                path: FieldPath::root().field("a"),
            },
            Error::MissingField {
                path: FieldPath::root().field("b"),
            },
        ]);
        let e = e.unwrap_or_else(|| Error::invalid(FieldPath::root(), "none"));
        assert_eq!(e.code(), "multiple");
        assert_eq!(
            e.to_string(),
            "2 problems in config; first: a: missing required field"
        );
    }
}
