//! The config format (`docs/spec/config-v1.md`): wire types that mirror the JSON, parsed one
//! object at a time, then compiled into validated types the engine runs.
//!
//! Two ways to read a document:
//! - **lenient** (SDK snapshots, [`crate::Engine::from_json`]): unknown fields are ignored for
//!   forward compatibility, and an experiment that fails validation is set aside with its error
//!   while the others run;
//! - **strict** (admin input, [`crate::Engine::from_json_strict`], [`validate_strict`]): unknown
//!   fields and every problem are errors.
//!
//! A change to a stored config is validated strictly and then against the lifecycle rules
//! ([`validate_change`], [`lifecycle`]), which keep units where they were assigned.

pub(crate) mod compile;
pub(crate) mod decode;
pub mod environments;
pub mod lifecycle;
pub mod limits;
pub(crate) mod parse;
#[cfg(feature = "schema")]
pub mod schema;
#[cfg(not(feature = "schema"))]
pub(crate) mod schema {}
pub mod wire;

pub use crate::assign::targeting::OPERATORS;
pub use parse::SCHEMA_VERSION;

use crate::error::Error;

/// Validates admin input strictly: the document must be valid as a whole, with no unknown
/// field. Returns the wire form (defaults filled in), ready to store.
pub fn validate_strict(text: &str) -> Result<wire::WireConfig, Error> {
    let value = strict_value(text)?;
    let compiled = compile::compile(parse::parse_value(value.clone())?);
    strict_result(&compiled)?;
    let wire =
        <wire::WireConfig as decode::Decode>::decode(&value, &crate::error::FieldPath::root())?;
    environments::check(&wire)?;
    Ok(wire)
}

/// Validates a change to a stored config: `text`, the config the change would produce, is
/// validated strictly ([`validate_strict`]) and then compared with `previous`, the config as
/// stored, by the lifecycle rules ([`lifecycle::check`]: what may change once an experiment
/// has started, and holdout coverage). Returns the wire form to store.
pub fn validate_change(previous: &wire::WireConfig, text: &str) -> Result<wire::WireConfig, Error> {
    let next = validate_strict(text)?;
    lifecycle::check(previous, &next)?;
    Ok(next)
}

/// Admin input as JSON: it must parse, and hold no U+0000 (see [`nul_at`]).
pub(crate) fn strict_value(text: &str) -> Result<serde_json::Value, Error> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::InvalidJson {
        path: crate::error::FieldPath::root(),
        message: e.to_string(),
    })?;
    match nul_at(&value, &crate::error::FieldPath::root()) {
        Some(path) => Err(nul_error(path)),
        None => Ok(value),
    }
}

/// The path of the first string (or object key) in `value` that holds U+0000, if any. Admin
/// input and events may not hold it: PostgreSQL cannot store it in `text` or `jsonb`, so a
/// document or event with it would be accepted by one store and refused by the other.
pub(crate) fn nul_at(
    value: &serde_json::Value,
    at: &crate::error::FieldPath,
) -> Option<crate::error::FieldPath> {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0').then(|| at.clone()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_at(v, &at.item(i))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(at.field(k))
            } else {
                nul_at(v, &at.field(k))
            }
        }),
        _ => None,
    }
}

/// The error for a U+0000 at `path`.
pub(crate) fn nul_error(path: crate::error::FieldPath) -> Error {
    Error::invalid(path, "must not contain U+0000 (NUL)")
}

/// Every problem of a compiled document, unknown fields first, as one error.
pub(crate) fn strict_result(compiled: &compile::Compiled) -> Result<(), Error> {
    let mut errors: Vec<Error> = compiled
        .unknown
        .iter()
        .map(|path| Error::UnknownField { path: path.clone() })
        .collect();
    errors.extend(compiled.problems.iter().cloned());
    match Error::from_list(errors) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
