//! Compiled, validated experiments: everything `assign` needs, precomputed.

use super::key_index::KeyIndex;
use super::targeting::Condition;
use crate::config::wire::{Kind, Status};
use crate::hash::{self, Seed};
use crate::results::MetricSpec;
use crate::time::Timestamp;

/// One variant of a compiled experiment. In a multivariate experiment each combination of
/// factor levels is a variant, keyed `factor=level,factor=level`.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub(crate) key: Box<str>,
    pub(crate) index: usize,
    pub(crate) weight: f64,
    pub(crate) payload: Option<serde_json::Value>,
    pub(crate) levels: Box<[(Box<str>, Box<str>)]>,
}

impl Variant {
    /// The variant's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The variant's position in the experiment's variants (stable for analysis).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The weight from the config; for a multivariate cell, the product of its levels' shares.
    pub fn weight(&self) -> f64 {
        self.weight
    }

    /// The variant's JSON payload. A multivariate cell's payload is an object of the payloads
    /// of its levels, by factor key (absent when no level has one).
    pub fn payload(&self) -> Option<&serde_json::Value> {
        self.payload.as_ref()
    }

    /// The factor -> level pairs of a multivariate cell, in the factors' declared order (empty
    /// for other kinds).
    pub fn factors(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.levels.iter().map(|(f, l)| (&**f, &**l))
    }

    /// The level of one factor, for a multivariate cell.
    pub fn level(&self, factor: &str) -> Option<&str> {
        self.levels
            .iter()
            .find(|(f, _)| &**f == factor)
            .map(|(_, l)| &**l)
    }
}

/// A factor of a multivariate experiment, drawn with its own hash.
#[derive(Debug, Clone)]
pub(crate) struct Factor {
    pub(crate) key: Box<str>,
    pub(crate) seed: Seed,
    pub(crate) levels: Box<[Box<str>]>,
    pub(crate) bounds: Box<[u64]>,
    /// Cells between consecutive levels of this factor (row-major over factors).
    pub(crate) stride: usize,
}

/// How a unit in the experiment is mapped to a variant.
#[derive(Debug, Clone)]
pub(crate) enum Arms {
    /// One hash over cumulative weights (A/B/n, bandit).
    Weighted { seed: Seed, bounds: Box<[u64]> },
    /// One hash per factor; the cell is the combination of levels.
    Factorial { factors: Box<[Factor]> },
}

/// An experiment's slice of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LayerSlot {
    pub(crate) layer: usize,
    pub(crate) lo: u64,
    pub(crate) hi: u64,
}

/// A compiled experiment.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub(crate) key: Box<str>,
    pub(crate) kind: Kind,
    pub(crate) status: Status,
    pub(crate) start: Option<Timestamp>,
    pub(crate) end: Option<Timestamp>,
    pub(crate) traffic: f64,
    pub(crate) traffic_bound: u64,
    pub(crate) traffic_seed: Seed,
    pub(crate) variants: Box<[Variant]>,
    pub(crate) arms: Arms,
    pub(crate) targeting: Option<Condition>,
    pub(crate) overrides: KeyIndex,
    pub(crate) layer: Option<LayerSlot>,
    pub(crate) holdouts: Box<[usize]>,
    /// The metrics its results show (not used by assignment).
    pub(crate) metrics: Box<[MetricSpec]>,
    /// Its analysis settings, when its config sets any (not used by assignment).
    pub(crate) analysis: Option<Box<crate::results::AnalysisSettings>>,
    /// The dimensions its results break down by (not used by assignment).
    pub(crate) dimensions: Box<[crate::segments::Dimension]>,
    /// Running, always live, and nothing but the variant pick applies (no override, targeting,
    /// holdout, layer, or traffic below 1): `assign` takes a one-branch path. Set by
    /// [`Experiment::finish`] once holdouts are attached.
    pub(crate) plain: bool,
    /// Its position in the config's experiments (set by the engine that holds it).
    pub(crate) position: usize,
}

impl Experiment {
    /// The experiment's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// A/B(/n), multivariate or bandit.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Lifecycle status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The share of eligible units in the experiment.
    pub fn traffic(&self) -> f64 {
        self.traffic
    }

    /// The variants, in config order (for multivariate experiments, every cell in row-major
    /// order of the factors).
    pub fn variants(&self) -> &[Variant] {
        &self.variants
    }

    /// The metrics declared for its results (empty: every tracked event, see
    /// [`crate::results::plan()`]).
    pub fn metrics(&self) -> &[MetricSpec] {
        &self.metrics
    }

    /// The analysis settings its config sets (each absent one comes from the server's
    /// defaults, then core's: see [`crate::results::AnalysisSettings::over`]).
    pub fn analysis(&self) -> &crate::results::AnalysisSettings {
        self.analysis
            .as_deref()
            .unwrap_or(&crate::results::settings::NO_SETTINGS)
    }

    /// Its position among the config's experiments, in config order (what
    /// [`crate::Engine::assign_position_at`] takes).
    pub fn position(&self) -> usize {
        self.position
    }

    /// The attributes its assignment and its exposures read (its targeting's, then its
    /// dimensions'), each once: an SDK that passes attributes across a language boundary
    /// need pass only these.
    pub fn attribute_names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        if let Some(t) = &self.targeting {
            t.attribute_names(&mut names);
        }
        for d in self.dimensions.iter() {
            if !names.contains(&d.attribute()) {
                names.push(d.attribute());
            }
        }
        names
    }

    /// Whether it has a start or an end time: only then does its assignment depend on the
    /// instant, so an SDK reads the clock only for such experiments.
    pub fn windowed(&self) -> bool {
        self.start.is_some() || self.end.is_some()
    }

    /// Whether a holdout covers it (its units then have holdout exposures to report,
    /// `crate::assign::holdout_exposure`).
    pub fn has_holdouts(&self) -> bool {
        !self.holdouts.is_empty()
    }

    /// The variant with the given key.
    pub fn variant(&self, key: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| &*v.key == key)
    }

    /// The expected share of assigned units in each variant (the weights normalised), for
    /// sample-ratio checks.
    pub fn expected_shares(&self) -> Vec<f64> {
        let total: f64 = self.variants.iter().map(|v| v.weight).sum();
        self.variants
            .iter()
            .map(|v| if total > 0.0 { v.weight / total } else { 0.0 })
            .collect()
    }

    /// The first instant the experiment assigns units, if it has one.
    pub fn start_time(&self) -> Option<Timestamp> {
        self.start
    }

    /// The instant from which it assigns nobody, if it has one.
    pub fn end_time(&self) -> Option<Timestamp> {
        self.end
    }

    /// Whether the experiment assigns units at `now` (status and time window).
    pub fn is_live(&self, now: Option<Timestamp>) -> bool {
        if self.status != Status::Running {
            return false;
        }
        if self.start.is_none() && self.end.is_none() {
            return true;
        }
        let Some(now) = now else { return false };
        self.start.is_none_or(|s| now >= s) && self.end.is_none_or(|e| now < e)
    }

    /// Computes the derived fields once the experiment is complete.
    pub(crate) fn finish(&mut self) {
        self.plain = self.status == Status::Running
            && self.start.is_none()
            && self.end.is_none()
            && self.overrides.is_empty()
            && self.targeting.is_none()
            && self.holdouts.is_empty()
            && self.layer.is_none()
            && self.traffic_bound >= hash::SCALE;
    }

    /// The variant of a unit that is in the experiment.
    #[inline]
    pub(crate) fn pick(&self, unit: &str) -> Option<&Variant> {
        let index = match &self.arms {
            Arms::Weighted { seed, bounds } => hash::pick(seed.bucket(unit), bounds),
            Arms::Factorial { factors } => factors.iter().fold(0, |cell, f| {
                cell + f.stride * hash::pick(f.seed.bucket(unit), &f.bounds)
            }),
        };
        self.variants.get(index)
    }

    /// Whether the unit falls in the experiment's traffic.
    #[inline]
    pub(crate) fn in_traffic(&self, unit: &str) -> bool {
        self.traffic_bound >= hash::SCALE
            || u64::from(self.traffic_seed.bucket(unit)) < self.traffic_bound
    }
}
