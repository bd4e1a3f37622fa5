//! The rules that protect bucketing across config versions, and the holdout-coverage rule.
//!
//! A config is valid on its own (see [`super::validate_strict`]), but some changes between two
//! valid configs would move units that were already assigned. [`check`] compares the stored
//! config with the one a change would produce and refuses, with
//! [`Error::InvalidTransition`] (code `invalid_transition`), what would reshuffle units:
//!
//! - an experiment's status moves `draft -> running -> paused/stopped` (`running` and `paused`
//!   may alternate; `stopped` is final and a stopped experiment does not change at all);
//! - a started (running or paused) experiment keeps its `salt`, `hash_version` and `kind`, and
//!   every variant it had (a variant is retired by giving it weight 0), and it is stopped
//!   before it is deleted;
//! - a layer keeps its `salt` while a started experiment is in it;
//! - a holdout keeps its `salt` and `share`, and is not deleted, while it covers a started
//!   experiment ([`holdout_covers`]).
//!
//! References (an experiment's layer, a holdout's scope) are checked by validation itself.

use std::collections::{HashMap, HashSet};

use crate::Status;
use crate::config::wire::{WireConfig, WireExperiment, WireHoldout, WireLayer};
use crate::error::{Error, FieldPath};

/// Who a holdout applies to: every experiment (`all`), the experiments it names, and the
/// experiments of the layers it names. The one statement of the rule, used by compilation
/// (which experiments a compiled holdout guards) and by [`check`].
pub(crate) struct Scope<'a> {
    all: bool,
    experiments: HashSet<&'a str>,
    layers: HashSet<&'a str>,
}

impl<'a> Scope<'a> {
    /// The scope of `all`, the experiment keys and the layer keys a holdout lists.
    pub(crate) fn new(
        all: bool,
        experiments: impl IntoIterator<Item = &'a str>,
        layers: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Scope {
            all,
            experiments: experiments.into_iter().collect(),
            layers: layers.into_iter().collect(),
        }
    }

    /// The scope of a wire holdout.
    pub(crate) fn of(holdout: &'a WireHoldout) -> Self {
        Self::new(
            holdout.all,
            holdout.experiments.iter().map(String::as_str),
            holdout.layers.iter().map(String::as_str),
        )
    }

    /// Whether the experiment `key`, in layer `layer` (if any), is covered.
    pub(crate) fn covers(&self, key: &str, layer: Option<&str>) -> bool {
        self.all || self.experiments.contains(key) || layer.is_some_and(|l| self.layers.contains(l))
    }
}

/// Whether `holdout` applies to `experiment`: it covers every experiment, names it, or names
/// its layer.
pub fn holdout_covers(holdout: &WireHoldout, experiment: &WireExperiment) -> bool {
    Scope::of(holdout).covers(&experiment.key, layer_of(experiment))
}

/// Whether an experiment has started: its assignments are in use (running or paused).
pub fn started(experiment: &WireExperiment) -> bool {
    matches!(experiment.status, Status::Running | Status::Paused)
}

/// Checks the change from `before` (the config as stored) to `after` (the config the change
/// would produce, already validated) against the lifecycle rules of this module. Answers the
/// first rule broken, in document order (experiments, layers, holdouts).
pub fn check(before: &WireConfig, after: &WireConfig) -> Result<(), Error> {
    let next: HashMap<&str, &WireExperiment> = after
        .experiments
        .iter()
        .map(|e| (e.key.as_str(), e))
        .collect();
    for b in &before.experiments {
        let path = FieldPath::root().field("experiments").item(&b.key);
        match next.get(b.key.as_str()) {
            Some(a) => check_experiment(b, a, &path)?,
            None if started(b) => {
                return Err(transition(
                    path,
                    format!(
                        "experiment {:?} is {}: stop it before deleting it",
                        b.key,
                        b.status.as_str()
                    ),
                ));
            }
            None => {}
        }
    }
    let running: Vec<&WireExperiment> = before.experiments.iter().filter(|e| started(e)).collect();
    let layers: HashMap<&str, &WireLayer> =
        after.layers.iter().map(|l| (l.key.as_str(), l)).collect();
    for b in &before.layers {
        let in_use = running.iter().any(|e| layer_of(e) == Some(b.key.as_str()));
        let salt_moved = layers.get(b.key.as_str()).is_some_and(|a| a.salt != b.salt);
        if in_use && salt_moved {
            return Err(transition(
                FieldPath::root().field("layers").item(&b.key).field("salt"),
                format!(
                    "layer {:?} has started experiments: its salt is fixed",
                    b.key
                ),
            ));
        }
    }
    let holdouts: HashMap<&str, &WireHoldout> =
        after.holdouts.iter().map(|h| (h.key.as_str(), h)).collect();
    for b in &before.holdouts {
        let scope = Scope::of(b);
        if !running.iter().any(|e| scope.covers(&e.key, layer_of(e))) {
            continue;
        }
        let path = FieldPath::root().field("holdouts").item(&b.key);
        match holdouts.get(b.key.as_str()) {
            None => {
                return Err(transition(
                    path,
                    format!(
                        "holdout {:?} covers started experiments: it cannot be deleted",
                        b.key
                    ),
                ));
            }
            Some(a) if a.salt != b.salt || a.share != b.share => {
                return Err(transition(
                    path,
                    format!(
                        "holdout {:?} covers started experiments: its salt and share are fixed",
                        b.key
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The lifecycle rules between a stored experiment and its replacement.
fn check_experiment(
    before: &WireExperiment,
    after: &WireExperiment,
    path: &FieldPath,
) -> Result<(), Error> {
    let allowed = match before.status {
        Status::Draft => true,
        Status::Running | Status::Paused => after.status != Status::Draft,
        Status::Stopped => after.status == Status::Stopped,
    };
    if !allowed {
        return Err(transition(
            path.field("status"),
            format!(
                "status {} cannot become {} (draft -> running -> paused/stopped; stopped is final)",
                before.status.as_str(),
                after.status.as_str()
            ),
        ));
    }
    if started(before) {
        let fixed = [
            ("salt", before.salt != after.salt),
            ("hash_version", before.hash_version != after.hash_version),
            ("kind", before.kind != after.kind),
        ];
        if let Some((field, _)) = fixed.iter().find(|(_, moved)| *moved) {
            return Err(transition(
                path.field(field),
                "the salt, hash_version and kind of a started experiment are fixed: changing them would reshuffle its units",
            ));
        }
        let kept: HashSet<&str> = after.variants.iter().map(|v| v.key.as_str()).collect();
        if let Some(gone) = before
            .variants
            .iter()
            .find(|v| !kept.contains(v.key.as_str()))
        {
            return Err(transition(
                path.field("variants").item(&gone.key),
                format!(
                    "variant {:?} cannot be removed from a started experiment (set its weight to 0)",
                    gone.key
                ),
            ));
        }
    }
    if before.status == Status::Stopped && before != after {
        return Err(transition(
            path.clone(),
            "a stopped experiment cannot change",
        ));
    }
    Ok(())
}

/// The key of an experiment's layer, if it has one.
fn layer_of(experiment: &WireExperiment) -> Option<&str> {
    experiment.layer.as_ref().map(|slot| slot.key.as_str())
}

fn transition(path: FieldPath, message: impl Into<String>) -> Error {
    Error::InvalidTransition {
        path,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    fn doc(json: serde_json::Value) -> WireConfig {
        crate::config::validate_strict(&json.to_string()).unwrap()
    }

    fn experiment(status: &str, salt: &str, variants: &[&str]) -> serde_json::Value {
        let variants: Vec<_> = variants
            .iter()
            .map(|k| serde_json::json!({"key": k, "weight": 1}))
            .collect();
        serde_json::json!({"key": "e", "status": status, "salt": salt, "variants": variants})
    }

    fn one(e: serde_json::Value) -> WireConfig {
        doc(serde_json::json!({"schema_version": 1, "experiments": [e]}))
    }

    fn code(r: Result<(), Error>) -> Option<&'static str> {
        r.err().map(|e| e.code())
    }

    #[test]
    fn status_moves_forward_only() {
        let draft = one(experiment("draft", "s", &["a", "b"]));
        let running = one(experiment("running", "s", &["a", "b"]));
        let stopped = one(experiment("stopped", "s", &["a", "b"]));
        assert_eq!(check(&draft, &running), Ok(()));
        assert_eq!(code(check(&running, &draft)), Some("invalid_transition"));
        assert_eq!(check(&running, &stopped), Ok(()));
        assert_eq!(code(check(&stopped, &running)), Some("invalid_transition"));
    }

    #[test]
    fn a_started_experiment_keeps_its_salt_and_variants() {
        let running = one(experiment("running", "s", &["a", "b"]));
        let resalted = one(experiment("running", "t", &["a", "b"]));
        let e = check(&running, &resalted).unwrap_err();
        assert_eq!(e.path().map(FieldPath::as_str), Some("experiments[e].salt"));
        let fewer = one(experiment("running", "s", &["a"]));
        let e = check(&running, &fewer).unwrap_err();
        assert_eq!(
            e.path().map(FieldPath::as_str),
            Some("experiments[e].variants[b]")
        );
        let more = one(experiment("running", "s", &["a", "b", "c"]));
        assert_eq!(check(&running, &more), Ok(()));
        let empty = WireConfig::default();
        assert_eq!(code(check(&running, &empty)), Some("invalid_transition"));
    }

    #[test]
    fn holdouts_covering_started_experiments_stay() {
        let with = |share: f64, status: &str| {
            doc(serde_json::json!({"schema_version": 1,
                "experiments": [experiment(status, "s", &["a"])],
                "holdouts": [{"key": "h", "share": share, "experiments": ["e"]}]}))
        };
        assert_eq!(
            code(check(&with(0.1, "running"), &with(0.2, "running"))),
            Some("invalid_transition")
        );
        assert_eq!(check(&with(0.1, "draft"), &with(0.2, "draft")), Ok(()));
        let d = with(0.1, "running");
        assert!(holdout_covers(&d.holdouts[0], &d.experiments[0]));
    }
}
