//! Environments (`docs/flags.md`, Environments): one document holds every environment's state
//! of its flags and experiments. A flag's `enabled`, `rules` and `schedule` and an experiment's
//! `status` are the default environment's (`production`); `environments.{name}` holds another
//! environment's, and an environment without an entry has the flag off with no rules and the
//! experiment as a draft. Everything else (keys, types, defaults, variants, targeting of
//! experiments, layers, holdouts, metrics) is shared.
//!
//! [`project`] gives the document one environment's SDKs receive; strict validation
//! ([`super::validate_strict`]) checks every
//! environment's document strictly, naming problems at their overlay's path; [`promote`] copies
//! one environment's flag states to another and lists what changes.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::wire::{Status, WireConfig};
use crate::error::{Error, FieldPath};
use crate::flags::wire::{WireFlag, WireFlagChange, WireFlagEnvironment, WireRule};

/// The default environment: the one a flag's and an experiment's own fields describe.
pub const DEFAULT_ENVIRONMENT: &str = "production";

/// Every environment a document's overlays name, sorted.
pub fn named(doc: &WireConfig) -> BTreeSet<String> {
    let flags = doc.flags.iter().flat_map(|f| f.environments.keys());
    let experiments = doc.experiments.iter().flat_map(|e| e.environments.keys());
    flags.chain(experiments).cloned().collect()
}

/// The document the SDKs of `environment` receive: each flag's and experiment's state there,
/// with no overlays left.
pub fn project(doc: &WireConfig, environment: &str) -> WireConfig {
    let mut out = doc.clone();
    let default = environment == DEFAULT_ENVIRONMENT;
    for flag in &mut out.flags {
        let overlay = flag.environments.remove(environment);
        flag.environments.clear();
        if !default {
            let state = overlay.unwrap_or_default();
            flag.enabled = state.enabled.unwrap_or(false);
            flag.rules = state.rules;
            flag.schedule = state.schedule;
        }
    }
    for experiment in &mut out.experiments {
        let overlay = experiment.environments.remove(environment);
        experiment.environments.clear();
        if !default {
            experiment.status = overlay.and_then(|o| o.status).unwrap_or(Status::Draft);
        }
    }
    out
}

/// Checks every environment the overlays name: a valid key, not the default environment (whose
/// state is the object's own fields), and a document that validates strictly. A problem of an
/// environment's document is reported at its overlay's path
/// (`flags[checkout].environments[staging].rules[0].percentage`); problems of shared fields
/// are the default environment's, reported once by the caller's validation.
pub(crate) fn check(doc: &WireConfig) -> Result<(), Error> {
    let mut problems = Vec::new();
    for environment in named(doc) {
        if environment == DEFAULT_ENVIRONMENT || !super::compile::is_key(&environment) {
            let message = if environment == DEFAULT_ENVIRONMENT {
                "production is the object's own state: set its fields, not an overlay".to_owned()
            } else {
                format!("{environment:?} is not a valid environment key")
            };
            problems.push(Error::invalid(overlay_path(doc, &environment), message));
            continue;
        }
        let projected = project(doc, &environment);
        let text = serde_json::to_string(&projected).map_err(|e| Error::InvalidJson {
            path: FieldPath::root(),
            message: e.to_string(),
        })?;
        if let Err(e) = crate::Engine::from_json_strict(&text) {
            let errors = match e {
                Error::Multiple { errors } => errors,
                e => vec![e],
            };
            problems.extend(
                errors
                    .into_iter()
                    .filter_map(|e| in_environment(e, &environment)),
            );
        }
    }
    match Error::from_list(problems) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The first overlay path that names `environment` (for a problem with the name itself).
fn overlay_path(doc: &WireConfig, environment: &str) -> FieldPath {
    let root = FieldPath::root();
    doc.flags
        .iter()
        .find(|f| f.environments.contains_key(environment))
        .map(|f| root.field("flags").item(&f.key))
        .or_else(|| {
            doc.experiments
                .iter()
                .find(|e| e.environments.contains_key(environment))
                .map(|e| root.field("experiments").item(&e.key))
        })
        .unwrap_or(root)
        .field("environments")
        .item(environment)
}

/// A problem of `environment`'s document at its overlay's path, or `None` when it is about a
/// shared field (reported by the default environment's validation).
fn in_environment(e: Error, environment: &str) -> Option<Error> {
    let path = e.path()?.as_str().to_owned();
    let moved = ["flags[", "experiments["].iter().find_map(|prefix| {
        let rest = path.strip_prefix(prefix)?;
        let end = rest.find(']')?;
        let (key, tail) = (rest.get(..end)?, rest.get(end + 1..)?);
        let own = match *prefix {
            "flags[" => [".rules", ".schedule", ".enabled"]
                .iter()
                .any(|f| tail.starts_with(f)),
            _ => tail.starts_with(".status"),
        };
        own.then(|| format!("{prefix}{key}].environments[{environment}]{tail}"))
    })?;
    Some(with_path(e, FieldPath::from_text(moved)))
}

/// `e` with its path replaced.
fn with_path(e: Error, to: FieldPath) -> Error {
    match e {
        Error::InvalidJson { message, .. } => Error::InvalidJson { path: to, message },
        Error::MissingField { .. } => Error::MissingField { path: to },
        Error::UnknownField { .. } => Error::UnknownField { path: to },
        Error::InvalidValue { message, .. } => Error::InvalidValue { path: to, message },
        Error::DuplicateKey { key, .. } => Error::DuplicateKey { path: to, key },
        Error::UnknownReference { key, .. } => Error::UnknownReference { path: to, key },
        Error::InvalidRegex { message, .. } => Error::InvalidRegex { path: to, message },
        Error::LimitExceeded { message, .. } => Error::LimitExceeded { path: to, message },
        Error::PrerequisiteCycle { cycle, .. } => Error::PrerequisiteCycle { path: to, cycle },
        other => other,
    }
}

/// A flag's state in one environment: its switch, rules and scheduled changes.
#[derive(Debug, Clone, PartialEq)]
struct State {
    enabled: bool,
    rules: Vec<WireRule>,
    schedule: Vec<WireFlagChange>,
}

fn state(flag: &WireFlag, environment: &str) -> State {
    if environment == DEFAULT_ENVIRONMENT {
        return State {
            enabled: flag.enabled,
            rules: flag.rules.clone(),
            schedule: flag.schedule.clone(),
        };
    }
    let overlay = flag
        .environments
        .get(environment)
        .cloned()
        .unwrap_or_default();
    State {
        enabled: overlay.enabled.unwrap_or(false),
        rules: overlay.rules,
        schedule: overlay.schedule,
    }
}

fn set_state(flag: &mut WireFlag, environment: &str, state: State) {
    if environment == DEFAULT_ENVIRONMENT {
        flag.enabled = state.enabled;
        flag.rules = state.rules;
        flag.schedule = state.schedule;
        return;
    }
    let overlay = flag.environments.entry(environment.to_owned()).or_default();
    *overlay = WireFlagEnvironment {
        enabled: Some(state.enabled),
        rules: state.rules,
        schedule: state.schedule,
        unknown: std::mem::take(&mut overlay.unknown),
    };
}

/// One change a promotion makes: a flag's field in the target environment, before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// The flag's key.
    pub flag: String,
    /// `enabled`, `rules` or `schedule`.
    pub field: &'static str,
    /// The target environment's value now.
    pub before: Value,
    /// The value the promotion sets (the source environment's).
    pub after: Value,
}

/// A promotion: the document it produces, and what it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Promotion {
    /// The document with the target environment's flags set to the source's.
    pub document: WireConfig,
    /// Every field that changes, flag by flag in document order.
    pub differences: Vec<Difference>,
}

/// Copies the switch, rules and scheduled changes of the flags (`only` those listed, or every
/// flag) from environment `from` to environment `to`, and lists what changes. Experiments'
/// statuses are not promoted: starting an experiment in another environment is its own change.
pub fn promote(
    doc: &WireConfig,
    from: &str,
    to: &str,
    only: Option<&[String]>,
) -> Result<Promotion, Error> {
    if from == to {
        return Err(Error::invalid(
            FieldPath::root().field("to"),
            format!("promoting {from:?} to itself changes nothing"),
        ));
    }
    if let Some(keys) = only {
        if let Some((i, missing)) = keys
            .iter()
            .enumerate()
            .find(|(_, k)| !doc.flags.iter().any(|f| &f.key == *k))
        {
            return Err(Error::UnknownReference {
                path: FieldPath::root().field("flags").item(i),
                key: missing.clone(),
            });
        }
    }
    let mut document = doc.clone();
    let mut differences = Vec::new();
    for flag in &mut document.flags {
        if only.is_some_and(|keys| !keys.contains(&flag.key)) {
            continue;
        }
        let (source, target) = (state(flag, from), state(flag, to));
        if source == target {
            continue;
        }
        for (field, before, after) in [
            (
                "enabled",
                to_json(&target.enabled),
                to_json(&source.enabled),
            ),
            ("rules", to_json(&target.rules), to_json(&source.rules)),
            (
                "schedule",
                to_json(&target.schedule),
                to_json(&source.schedule),
            ),
        ] {
            if before != after {
                differences.push(Difference {
                    flag: flag.key.clone(),
                    field,
                    before,
                    after,
                });
            }
        }
        set_state(flag, to, source);
    }
    Ok(Promotion {
        document,
        differences,
    })
}

/// A part of a flag's state as JSON, for a difference.
fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
