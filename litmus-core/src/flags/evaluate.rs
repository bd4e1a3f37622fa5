//! Flag evaluation on the engine: the switch, then the rules in order, first match wins
//! (`docs/flags.md`). Allocation-free, like `assign`.

use super::EngineFlags;
use super::evaluation::{EvaluationError, FlagReason};
use super::flag::{Action, Flag};
use super::wire::FlagType;
use super::{Evaluation, compile::MAX_PREREQUISITE_DEPTH};
use crate::Reason;
use crate::attributes::AttributeSource;
use crate::time::Timestamp;
use crate::{Engine, Error};

/// A sticky-assignment memory for [`Engine::evaluate_sticky_at`]: the variant remembered for
/// the unit in an experiment, by experiment key.
pub type Remembered<'r> = dyn Fn(&str) -> Option<&'r str> + 'r;

impl Engine {
    /// Evaluates the flag `flag` for `unit`, at the time set with [`Engine::set_now`].
    #[inline]
    pub fn evaluate<A: AttributeSource + ?Sized>(
        &self,
        flag: &str,
        unit: &str,
        attributes: &A,
    ) -> Evaluation<'_> {
        self.evaluate_at(flag, unit, attributes, self.now())
    }

    /// Evaluates the flag `flag` for `unit` at the instant `now` (`None`: no time known, so
    /// the flag is as configured, before any scheduled change, and experiments with a time
    /// window assign nobody).
    #[inline]
    pub fn evaluate_at<A: AttributeSource + ?Sized>(
        &self,
        flag: &str,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
    ) -> Evaluation<'_> {
        match self.flags.index.get(flag) {
            None => Evaluation::failed(None, EvaluationError::FlagNotFound),
            Some(i) => self.evaluate_index(i as usize, unit, attributes, now, None, 0),
        }
    }

    /// As [`Engine::evaluate_at`], for a caller that keeps sticky assignments: an experiment
    /// rule keeps the variant `remembered(experiment)` names for the unit while the unit still
    /// qualifies (as [`Engine::assign_sticky_at`] does), whatever the weights and traffic are
    /// now. Remember the variant of an evaluation whose assignment's reason is
    /// [`Reason::Assigned`]. Prerequisites are evaluated with the same memory.
    pub fn evaluate_sticky_at<'r, A: AttributeSource + ?Sized>(
        &self,
        flag: &str,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        remembered: &Remembered<'r>,
    ) -> Evaluation<'_> {
        match self.flags.index.get(flag) {
            None => Evaluation::failed(None, EvaluationError::FlagNotFound),
            Some(i) => self.evaluate_index(i as usize, unit, attributes, now, Some(remembered), 0),
        }
    }

    /// As [`Engine::evaluate_at`], for a caller that wants a value of type `wanted`: a flag of
    /// another type evaluates to an error ([`EvaluationError::TypeMismatch`]), so the caller
    /// serves its own default (OpenFeature's typed resolution).
    #[inline]
    pub fn evaluate_as<A: AttributeSource + ?Sized>(
        &self,
        flag: &str,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        wanted: FlagType,
    ) -> Evaluation<'_> {
        let e = self.evaluate_at(flag, unit, attributes, now);
        match e.flag {
            Some(f) if f.value_type != wanted => {
                Evaluation::failed(Some(f), EvaluationError::TypeMismatch)
            }
            _ => e,
        }
    }

    /// The value of the boolean flag `flag` for `unit` at `now`, or `default` when it cannot
    /// be evaluated (unknown, rejected, or not a boolean flag).
    pub fn boolean_flag<A: AttributeSource + ?Sized>(
        &self,
        flag: &str,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        default: bool,
    ) -> bool {
        self.evaluate_at(flag, unit, attributes, now)
            .boolean()
            .unwrap_or(default)
    }

    /// The value of the string flag `flag` for `unit` at `now`, or `default`.
    pub fn string_flag<'e, A: AttributeSource + ?Sized>(
        &'e self,
        flag: &str,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        default: &'e str,
    ) -> &'e str {
        self.evaluate_at(flag, unit, attributes, now)
            .string()
            .unwrap_or(default)
    }

    /// The value of the number flag `flag` for `unit` at `now`, or `default`.
    pub fn number_flag<A: AttributeSource + ?Sized>(
        &self,
        flag: &str,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        default: f64,
    ) -> f64 {
        self.evaluate_at(flag, unit, attributes, now)
            .number()
            .unwrap_or(default)
    }

    /// The value of the `json` flag `flag` for `unit` at `now`, or `default`.
    pub fn json_flag<'e, A: AttributeSource + ?Sized>(
        &'e self,
        flag: &str,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        default: &'e serde_json::Value,
    ) -> &'e serde_json::Value {
        self.evaluate_at(flag, unit, attributes, now)
            .json()
            .unwrap_or(default)
    }

    /// The position of the flag `key` in [`Engine::flags`] (valid or rejected), `None` for a
    /// key the config does not have.
    pub fn flag_position(&self, key: &str) -> Option<usize> {
        self.flags.index.get(key).map(|i| i as usize)
    }

    /// The attributes evaluating the flag at `position` can read: its rules' conditions (in
    /// every scheduled rule list), its experiment rules' experiments' (targeting and
    /// dimensions) and its prerequisites' (theirs, recursively), each once. An SDK that passes
    /// attributes across a language boundary need pass only these.
    pub fn flag_attribute_names(&self, position: usize) -> Vec<&str> {
        let mut names = Vec::new();
        let mut visited = Vec::new();
        self.add_flag_attribute_names(position, &mut names, &mut visited);
        names
    }

    fn add_flag_attribute_names<'e>(
        &'e self,
        position: usize,
        names: &mut Vec<&'e str>,
        visited: &mut Vec<usize>,
    ) {
        if visited.contains(&position) {
            return;
        }
        visited.push(position);
        let Some(Ok(flag)) = self.flags.slots.get(position) else {
            return;
        };
        for rule in flag.rule_sets.iter().flat_map(|rules| rules.iter()) {
            if let Some(c) = &rule.condition {
                c.attribute_names(names);
            }
            match &rule.action {
                Action::Experiment { experiment, .. } => {
                    let read = self.experiment_at(*experiment).map(|e| e.attribute_names());
                    for name in read.unwrap_or_default() {
                        if !names.contains(&name) {
                            names.push(name);
                        }
                    }
                }
                Action::Prerequisite { flag, .. } => {
                    self.add_flag_attribute_names(*flag, names, visited);
                }
                _ => {}
            }
        }
    }

    /// The compiled flag with this key (`None` if unknown or rejected).
    pub fn flag(&self, key: &str) -> Option<&Flag> {
        let i = self.flags.index.get(key)?;
        self.flags.slots.get(i as usize)?.as_ref().ok()
    }

    /// Every flag key in the config with its compiled flag or the error that rejected it, in
    /// config order.
    pub fn flags(&self) -> impl ExactSizeIterator<Item = (&str, Result<&Flag, &Error>)> {
        self.flags
            .keys
            .iter()
            .zip(self.flags.slots.iter())
            .map(|(k, s)| (&**k, s.as_ref()))
    }

    /// Evaluates every flag for `unit` at `now`, in config order (rejected flags give
    /// errors). Lazy: each flag is evaluated as the iterator is advanced.
    pub fn evaluate_all<'e, A: AttributeSource + ?Sized>(
        &'e self,
        unit: &'e str,
        attributes: &'e A,
        now: Option<Timestamp>,
    ) -> impl Iterator<Item = (&'e str, Evaluation<'e>)> + 'e {
        self.flags
            .keys
            .iter()
            .enumerate()
            .map(move |(i, k)| (&**k, self.evaluate_index(i, unit, attributes, now, None, 0)))
    }

    fn evaluate_index<A: AttributeSource + ?Sized>(
        &self,
        index: usize,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        sticky: Option<&Remembered<'_>>,
        depth: usize,
    ) -> Evaluation<'_> {
        match self.flags.slots.get(index) {
            Some(Ok(flag)) => self.evaluate_flag(flag, unit, attributes, now, sticky, depth),
            // A rejected flag still has its place: counted as evaluated.
            Some(Err(_)) => Evaluation {
                index: super::evaluation::index_of(index),
                ..Evaluation::failed(None, EvaluationError::InvalidConfig)
            },
            None => Evaluation::failed(None, EvaluationError::FlagNotFound),
        }
    }

    /// The switch, then the rules in order.
    #[inline]
    fn evaluate_flag<'e, A: AttributeSource + ?Sized>(
        &'e self,
        flag: &'e Flag,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        sticky: Option<&Remembered<'_>>,
        depth: usize,
    ) -> Evaluation<'e> {
        let phase = flag.phase_at(now);
        if !phase.enabled {
            return Evaluation::served(flag, &flag.default, FlagReason::Disabled, None);
        }
        let rules = flag.rule_sets.get(phase.rules).map_or(&[][..], |r| &**r);
        for rule in rules {
            if let Some(condition) = &rule.condition {
                if condition.eval(attributes).is_err() {
                    continue;
                }
            }
            let matched = if rule.condition.is_some() {
                FlagReason::TargetingMatch
            } else {
                FlagReason::Static
            };
            match &rule.action {
                Action::Force(value) => {
                    return Evaluation::served(flag, value, matched, Some(rule));
                }
                Action::Rollout {
                    seed, bound, value, ..
                } => {
                    if u64::from(seed.bucket(unit)) < *bound {
                        return Evaluation::served(flag, value, FlagReason::Split, Some(rule));
                    }
                }
                Action::Experiment { experiment, values } => {
                    let kept = sticky.and_then(|remembered| {
                        let exp = self.experiment_at(*experiment)?;
                        exp.variant(remembered(exp.key())?)
                    });
                    let Some(a) = self.assign_index(*experiment, unit, attributes, now, kept)
                    else {
                        continue;
                    };
                    let reason = match a.reason() {
                        Reason::Assigned | Reason::Sticky => FlagReason::Split,
                        Reason::Override => FlagReason::TargetingMatch,
                        _ => continue,
                    };
                    let Some(value) = a.variant().and_then(|v| values.get(v.index())) else {
                        continue;
                    };
                    let mut e = Evaluation::served(flag, value, reason, Some(rule));
                    e.assignment = Some(a);
                    return e;
                }
                Action::Prerequisite {
                    flag: parent,
                    is,
                    value,
                    ..
                } => {
                    if depth >= MAX_PREREQUISITE_DEPTH {
                        continue;
                    }
                    let p = self.evaluate_index(*parent, unit, attributes, now, sticky, depth + 1);
                    if p.value.is_some_and(|v| super::same_value(v, is)) {
                        return Evaluation::served(
                            flag,
                            value,
                            FlagReason::TargetingMatch,
                            Some(rule),
                        );
                    }
                }
            }
        }
        let reason = if rules.is_empty() {
            FlagReason::Static
        } else {
            FlagReason::Default
        };
        Evaluation::served(flag, &flag.default, reason, None)
    }
}

/// Sets each flag's `timed`: scheduled changes or an experiment rule on a windowed experiment,
/// then, repeatedly, a prerequisite on a timed flag (chains are at most
/// [`MAX_PREREQUISITE_DEPTH`] long, so that many rounds reach every flag).
fn mark_timed(flags: &mut [Result<Flag, Error>], experiments: &[Result<crate::Experiment, Error>]) {
    let windowed = |i: usize| {
        experiments
            .get(i)
            .and_then(|e| e.as_ref().ok())
            .is_some_and(|e| e.start_time().is_some() || e.end_time().is_some())
    };
    for flag in flags.iter_mut().flatten() {
        flag.timed = flag.phases.len() > 1
            || flag.rule_sets.iter().flat_map(|s| s.iter()).any(|r| {
                matches!(r.action, Action::Experiment { experiment, .. } if windowed(experiment))
            });
    }
    for _ in 0..=MAX_PREREQUISITE_DEPTH {
        let timed: Vec<bool> = flags
            .iter()
            .map(|f| f.as_ref().is_ok_and(|f| f.timed))
            .collect();
        let mut changed = false;
        for flag in flags.iter_mut().flatten() {
            if flag.timed {
                continue;
            }
            let parent_timed = flag.rule_sets.iter().flat_map(|s| s.iter()).any(|r| {
                matches!(r.action, Action::Prerequisite { flag, .. } if timed.get(flag).copied().unwrap_or(false))
            });
            if parent_timed {
                flag.timed = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

impl EngineFlags {
    /// Flags compiled from a document, with the document's compiled experiments.
    pub(crate) fn new(
        compiled: Vec<(Box<str>, Result<Flag, Error>)>,
        experiments: &[Result<crate::Experiment, Error>],
    ) -> Self {
        let (keys, mut slots): (Vec<Box<str>>, Vec<Result<Flag, Error>>) =
            compiled.into_iter().unzip();
        for (i, slot) in slots.iter_mut().enumerate() {
            if let Ok(flag) = slot {
                flag.index = super::evaluation::index_of(i);
            }
        }
        mark_timed(&mut slots, experiments);
        let index = crate::assign::key_index::KeyIndex::new(
            keys.iter().enumerate().map(|(i, k)| (&**k, i as u32)),
        );
        EngineFlags {
            keys: keys.into_boxed_slice(),
            slots: slots.into_boxed_slice(),
            index,
        }
    }
}
