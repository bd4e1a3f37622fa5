//! The engine: a compiled config and the assignment entry points.

use std::sync::atomic::{AtomicI64, Ordering};

use super::assignment::{Assignment, Reason};
use super::experiment::{Experiment, Variant};
use super::key_index::KeyIndex;
use crate::attributes::AttributeSource;
use crate::config::compile::{self, Compiled, Holdout, Layer};
use crate::config::{parse, strict_result};
use crate::error::Error;
use crate::time::Timestamp;

/// No time set yet.
const NO_TIME: i64 = i64::MIN;

/// A compiled config that assigns units to experiments.
///
/// Build it once per config version and share it (`Engine` is `Send + Sync`); `assign` is a key
/// lookup, at most a few hashes and range checks, and allocates nothing.
///
/// Time is never read from a clock. Experiments with a start or end time need one: pass it to
/// [`Engine::assign_at`], or set it with [`Engine::set_now`] for [`Engine::assign`]. Without a
/// time such experiments assign nobody (`not_running`).
#[derive(Debug)]
pub struct Engine {
    slots: Box<[Result<Experiment, Error>]>,
    keys: Box<[Box<str>]>,
    index: KeyIndex,
    running: Box<[usize]>,
    layers: Box<[Layer]>,
    pub(crate) holdouts: Box<[Holdout]>,
    pub(crate) flags: crate::flags::EngineFlags,
    problems: Box<[Error]>,
    version: Option<String>,
    now: AtomicI64,
}

impl Engine {
    /// Loads an SDK config snapshot leniently: unknown fields are ignored, and an experiment
    /// that fails validation is set aside (assigning reports `invalid_config`, and
    /// [`Engine::problems`] says why) while the others run. Fails only when the text is not a
    /// config document of a supported schema version.
    pub fn from_json(text: &str) -> Result<Engine, Error> {
        Ok(Self::build(compile::compile(parse::parse_document(text)?)))
    }

    /// As [`Engine::from_json`], from a parsed JSON value.
    pub fn from_value(value: serde_json::Value) -> Result<Engine, Error> {
        Ok(Self::build(compile::compile(parse::parse_value(value)?)))
    }

    /// Loads admin input strictly: any unknown field or invalid object is an error (all of
    /// them, as [`Error::Multiple`] when there are several).
    pub fn from_json_strict(text: &str) -> Result<Engine, Error> {
        let value = crate::config::strict_value(text)?;
        let compiled = compile::compile(parse::parse_value(value)?);
        strict_result(&compiled)?;
        Ok(Self::build(compiled))
    }

    fn build(compiled: Compiled) -> Engine {
        let (keys, mut slots): (Vec<Box<str>>, Vec<Result<Experiment, Error>>) =
            compiled.experiments.into_iter().unzip();
        for (position, slot) in slots.iter_mut().enumerate() {
            if let Ok(experiment) = slot {
                experiment.position = position;
                experiment.finish();
            }
        }
        let index = KeyIndex::new(keys.iter().enumerate().map(|(i, k)| (&**k, i as u32)));
        let running = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.as_ref()
                    .is_ok_and(|e| e.status == crate::config::wire::Status::Running)
            })
            .map(|(i, _)| i)
            .collect();
        let flags = crate::flags::EngineFlags::new(compiled.flags, &slots);
        Engine {
            slots: slots.into_boxed_slice(),
            keys: keys.into_boxed_slice(),
            index,
            running,
            layers: compiled.layers.into_boxed_slice(),
            holdouts: compiled.holdouts.into_boxed_slice(),
            flags,
            problems: compiled.problems.into_boxed_slice(),
            version: compiled.version,
            now: AtomicI64::new(NO_TIME),
        }
    }

    /// Sets the time [`Engine::assign`] and [`Engine::assign_all`] evaluate time windows at.
    pub fn set_now(&self, now: Timestamp) {
        self.now.store(now.unix_millis(), Ordering::Relaxed);
    }

    /// The time set with [`Engine::set_now`], if any.
    pub fn now(&self) -> Option<Timestamp> {
        match self.now.load(Ordering::Relaxed) {
            NO_TIME => None,
            ms => Some(Timestamp::from_unix_millis(ms)),
        }
    }

    /// Assigns `unit` to the experiment `experiment`, at the time set with
    /// [`Engine::set_now`].
    #[inline]
    pub fn assign<A: AttributeSource + ?Sized>(
        &self,
        experiment: &str,
        unit: &str,
        attributes: &A,
    ) -> Assignment<'_> {
        self.assign_at(experiment, unit, attributes, self.now())
    }

    /// Assigns `unit` to the experiment `experiment` at the instant `now` (`None`: no time
    /// known, so experiments with a time window assign nobody).
    #[inline]
    pub fn assign_at<A: AttributeSource + ?Sized>(
        &self,
        experiment: &str,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
    ) -> Assignment<'_> {
        self.assign_sticky_at(experiment, unit, attributes, now, None)
    }

    /// As [`Engine::assign_at`], for a unit whose first variant the caller remembers in a
    /// sticky-assignment store. When `remembered` names a variant of the experiment and the
    /// unit still qualifies (the experiment is live, the targeting matches, no holdout holds
    /// it out and its layer slice is the experiment's), the unit keeps that variant with
    /// [`Reason::Sticky`], even if the weights or the traffic changed since. Overrides still
    /// win. Otherwise the answer is [`Engine::assign_at`]'s; store its variant when its
    /// reason is [`Reason::Assigned`].
    #[inline]
    pub fn assign_sticky_at<A: AttributeSource + ?Sized>(
        &self,
        experiment: &str,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        remembered: Option<&str>,
    ) -> Assignment<'_> {
        match self.experiment_position(experiment) {
            Some(position) => self.assign_position_at(position, unit, attributes, now, remembered),
            None => Assignment::new(None, None, Reason::UnknownExperiment),
        }
    }

    /// The position of the experiment `key` in config order (valid or rejected), for
    /// [`Engine::assign_position_at`]: an SDK that assigns the same experiment many times
    /// looks its key up once.
    #[inline]
    pub fn experiment_position(&self, key: &str) -> Option<usize> {
        self.index.get(key).map(|i| i as usize)
    }

    /// As [`Engine::assign_sticky_at`], for the experiment at `position` in config order
    /// ([`Engine::experiment_position`]); a position past the last experiment is
    /// [`Reason::UnknownExperiment`].
    #[inline]
    pub fn assign_position_at<A: AttributeSource + ?Sized>(
        &self,
        position: usize,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        remembered: Option<&str>,
    ) -> Assignment<'_> {
        match self.slots.get(position) {
            None => Assignment::new(None, None, Reason::UnknownExperiment),
            Some(Err(_)) => Assignment::new(None, None, Reason::InvalidConfig),
            Some(Ok(exp)) => {
                let kept = remembered.and_then(|key| exp.variant(key));
                self.decide(exp, unit, attributes, now, kept)
            }
        }
    }

    /// Assigns `unit` to every running experiment, in config order, at the time set with
    /// [`Engine::set_now`]. Lazy: each assignment is made as the iterator is advanced.
    pub fn assign_all<'e, A: AttributeSource + ?Sized>(
        &'e self,
        unit: &'e str,
        attributes: &'e A,
    ) -> impl Iterator<Item = Assignment<'e>> + 'e {
        self.assign_all_at(unit, attributes, self.now())
    }

    /// As [`Engine::assign_all`], at the instant `now`.
    pub fn assign_all_at<'e, A: AttributeSource + ?Sized>(
        &'e self,
        unit: &'e str,
        attributes: &'e A,
        now: Option<Timestamp>,
    ) -> impl Iterator<Item = Assignment<'e>> + 'e {
        self.running
            .iter()
            .filter_map(|&i| self.slots.get(i)?.as_ref().ok())
            .map(move |exp| self.decide(exp, unit, attributes, now, None))
    }

    /// The compiled experiment at `index` in config order (`None` if rejected).
    pub fn experiment_at(&self, index: usize) -> Option<&Experiment> {
        self.slots.get(index)?.as_ref().ok()
    }

    /// The key of the experiment at `index` in config order (valid or rejected).
    pub fn experiment_key(&self, index: usize) -> Option<&str> {
        self.keys.get(index).map(|k| &**k)
    }

    /// Assigns `unit` to the experiment at `index` in config order, keeping `kept` (a variant
    /// of that experiment a sticky memory remembers) as [`Engine::assign_sticky_at`] does
    /// (`None` when the experiment was rejected at load).
    #[inline]
    pub(crate) fn assign_index<'e, A: AttributeSource + ?Sized>(
        &'e self,
        index: usize,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        kept: Option<&'e Variant>,
    ) -> Option<Assignment<'e>> {
        let exp = self.slots.get(index)?.as_ref().ok()?;
        Some(self.decide(exp, unit, attributes, now, kept))
    }

    /// The rules of section 5 of the bucketing spec, in order.
    #[inline]
    fn decide<'e, A: AttributeSource + ?Sized>(
        &'e self,
        exp: &'e Experiment,
        unit: &str,
        attributes: &A,
        now: Option<Timestamp>,
        kept: Option<&'e Variant>,
    ) -> Assignment<'e> {
        if exp.plain {
            return match kept {
                Some(v) => Assignment::new(Some(exp), Some(v), Reason::Sticky),
                None => Assignment::new(Some(exp), exp.pick(unit), Reason::Assigned),
            };
        }
        if !exp.overrides.is_empty() {
            if let Some(v) = exp.overrides.get(unit) {
                let variant = exp.variants.get(v as usize);
                return Assignment::new(Some(exp), variant, Reason::Override);
            }
        }
        if !exp.is_live(now) {
            return Assignment::new(Some(exp), None, Reason::NotRunning);
        }
        if let Some(targeting) = &exp.targeting {
            if let Err(miss) = targeting.eval(attributes) {
                return Assignment::targeting_miss(exp, miss);
            }
        }
        for &h in exp.holdouts.iter() {
            if self.holdouts.get(h).is_some_and(|h| h.holds_out(unit)) {
                return Assignment::new(Some(exp), None, Reason::Holdout);
            }
        }
        if let Some(slot) = exp.layer {
            let inside = self.layers.get(slot.layer).is_some_and(|layer| {
                let b = u64::from(layer.seed.bucket(unit));
                slot.lo <= b && b < slot.hi
            });
            if !inside {
                return Assignment::new(Some(exp), None, Reason::OtherLayerMember);
            }
        }
        if let Some(v) = kept {
            return Assignment::new(Some(exp), Some(v), Reason::Sticky);
        }
        if !exp.in_traffic(unit) {
            return Assignment::new(Some(exp), None, Reason::NotInTraffic);
        }
        Assignment::new(Some(exp), exp.pick(unit), Reason::Assigned)
    }

    /// The compiled experiment with this key (`None` if unknown or rejected).
    pub fn experiment(&self, key: &str) -> Option<&Experiment> {
        let i = self.index.get(key)?;
        self.slots.get(i as usize)?.as_ref().ok()
    }

    /// Every experiment key in the config with its compiled experiment or the error that
    /// rejected it, in config order.
    pub fn experiments(&self) -> impl Iterator<Item = (&str, Result<&Experiment, &Error>)> {
        self.keys
            .iter()
            .zip(self.slots.iter())
            .map(|(k, s)| (&**k, s.as_ref()))
    }

    /// Every problem found when the config was loaded, in document order (empty for a clean
    /// config).
    pub fn problems(&self) -> &[Error] {
        &self.problems
    }

    /// The snapshot's `version`, if it has one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Keys of the layers, in config order.
    pub fn layer_keys(&self) -> impl Iterator<Item = &str> {
        self.layers.iter().map(|l| &*l.key)
    }

    /// Keys of the holdouts, in config order.
    pub fn holdout_keys(&self) -> impl Iterator<Item = &str> {
        self.holdouts.iter().map(|h| &*h.key)
    }
}
