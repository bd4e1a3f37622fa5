//! Wire types: the config JSON exactly as written (`docs/spec/config-v1.md`).
//!
//! They serialize with serde's derive and read through `super::decode` (also behind their
//! `serde::Deserialize`), which reports every error with its exact path.
//!
//! They hold what the document says, with defaults filled in and nothing checked beyond JSON
//! types. The compiler turns them into validated domain types. Every struct keeps the
//! fields it does not know in `unknown`, so strict (admin) parsing can reject them by name
//! while SDK snapshots ignore them.

use crate::results::MetricKind;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Fields a wire object does not define, by name.
pub type UnknownFields = BTreeMap<String, serde_json::Value>;

/// A whole config document (schema version 1).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireConfig {
    /// The config format version; this library reads 1.
    pub schema_version: u64,
    /// An opaque version or ETag of this snapshot, set by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The experiments.
    #[serde(default)]
    pub experiments: Vec<WireExperiment>,
    /// Layers of mutually exclusive experiments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<WireLayer>,
    /// Holdouts: shares of units kept out of the experiments in their scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holdouts: Vec<WireHoldout>,
    /// The metric catalogue: definitions experiments refer to by key (`docs/metrics.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<crate::metrics::MetricDefinition>,
    /// Feature flags (`docs/flags.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<crate::flags::wire::WireFlag>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// The lifecycle state of an experiment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being prepared: assigns nobody (overrides still apply, for QA).
    #[default]
    Draft,
    /// Assigning units.
    Running,
    /// Temporarily assigning nobody; resumes with the same assignments.
    Paused,
    /// Finished: assigns nobody.
    Stopped,
}

impl Status {
    /// The status as its config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// What kind of experiment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A/B and A/B/n: variants with weights.
    #[default]
    Ab,
    /// Full factorial over factors with levels.
    Multivariate,
    /// Variants whose weights a bandit policy updates (by publishing new configs).
    Bandit,
}

impl Kind {
    /// The kind as its config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ab => "ab",
            Kind::Multivariate => "multivariate",
            Kind::Bandit => "bandit",
        }
    }
}

/// One experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireExperiment {
    /// Unique key: 1 to 128 characters of letters, digits and `_ - . : /`.
    pub key: String,
    /// Hash salt; defaults to the key. Changing it reshuffles every unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Bucketing algorithm version (`docs/spec/bucketing-v1.md`); only 1 exists.
    #[serde(default = "default_hash_version")]
    pub hash_version: u64,
    /// A/B(/n), multivariate or bandit.
    #[serde(default)]
    pub kind: Kind,
    /// Lifecycle state; only `running` experiments assign units.
    #[serde(default)]
    pub status: Status,
    /// First instant (RFC 3339) the experiment assigns units, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Instant (RFC 3339) from which the experiment assigns nobody, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Share of eligible units in the experiment, in [0, 1]; defaults to 1.
    #[serde(default = "default_traffic")]
    pub traffic: f64,
    /// Variants (`ab` and `bandit` kinds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<WireVariant>,
    /// Factors (`multivariate` kind).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factors: Vec<WireFactor>,
    /// Which units are eligible (`docs/spec/config-v1.md`, Targeting); absent means everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(schema_with = "super::schema::condition"))]
    pub targeting: Option<serde_json::Value>,
    /// The layer this experiment belongs to and its slice of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<WireLayerSlot>,
    /// Forced variants by unit id (for QA); such units are not counted in the experiment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
    /// The metrics its results show (tracked event names and how to read them); absent means
    /// every event tracked for its units, as a conversion and as a mean.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<WireMetric>,
    /// How its results are computed (`docs/results.md`, Analysis settings); absent fields
    /// come from the server's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(schema_with = "super::schema::analysis"))]
    pub analysis: Option<serde_json::Value>,
    /// The dimensions its results break down by (`docs/results.md`, Segments): SDKs send
    /// each one's attribute with the unit's exposure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<WireDimension>,
    /// Its status in environments other than the default one (`production`), by environment
    /// key (`docs/flags.md`, Environments); `status` above is the default environment's, and
    /// an environment without an entry has it as a draft.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, WireExperimentEnvironment>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// An experiment's state in one environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireExperimentEnvironment {
    /// Its lifecycle status in the environment; absent means draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// A dimension an experiment's results break down by (country, platform, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireDimension {
    /// Key, unique in the experiment (a key's characters).
    pub key: String,
    /// The unit attribute it reads; defaults to the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// The values that get a segment of their own, when listed; any other value counts in
    /// `(other)`. At most `max_values` entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Without `values`: how many distinct values get a segment of their own (the first ones
    /// seen); later ones count in `(other)`. 1 to 100; defaults to 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_values: Option<u64>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// One metric of an experiment's results: a reference to the catalogue
/// (`{"metric": "revenue_per_order"}`) or a definition written inline
/// (`{"key": "purchase", "kind": "conversion"}`, the event defaulting to the key).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum WireMetric {
    /// A catalogue metric, by key.
    Reference(crate::metrics::MetricReference),
    /// A definition of its own.
    Inline(Box<crate::metrics::MetricDefinition>),
}

impl WireMetric {
    /// The metric's key (the catalogue key a reference names).
    pub fn key(&self) -> &str {
        match self {
            WireMetric::Reference(r) => &r.metric,
            WireMetric::Inline(d) => &d.key,
        }
    }

    /// An inline metric of `kind` counting the event `key`.
    pub fn event(key: &str, kind: MetricKind) -> Self {
        WireMetric::Inline(Box::new(crate::metrics::MetricDefinition::event(key, kind)))
    }
}

/// One variant of an A/B(/n) or bandit experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireVariant {
    /// Key, unique in the experiment.
    pub key: String,
    /// Relative weight, finite and >= 0; defaults to 1.
    #[serde(default = "default_weight")]
    pub weight: f64,
    /// Any JSON the application reads for this variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// One factor of a multivariate experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireFactor {
    /// Key, unique in the experiment (no `=` or `,`).
    pub key: String,
    /// The factor's levels; each unit gets one.
    pub levels: Vec<WireVariant>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// A layer of mutually exclusive experiments.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireLayer {
    /// Unique key.
    pub key: String,
    /// Hash salt; defaults to the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// An experiment's membership in a layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireLayerSlot {
    /// The layer's key.
    pub key: String,
    /// The experiment's slice `[start, end)` of the layer, as fractions in [0, 1]; slices of
    /// one layer must not overlap.
    pub range: [f64; 2],
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// A holdout.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireHoldout {
    /// Unique key.
    pub key: String,
    /// Hash salt; defaults to the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Share of units held out, in [0, 1].
    pub share: f64,
    /// Holds units out of every experiment.
    #[serde(default)]
    pub all: bool,
    /// Experiments in scope, by key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<String>,
    /// Layers in scope: every experiment of these layers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// The default `hash_version` (the decoder's and the schema's).
pub(super) fn default_hash_version() -> u64 {
    1
}
/// The default `traffic`.
pub(super) fn default_traffic() -> f64 {
    1.0
}
/// The default variant `weight`.
pub(super) fn default_weight() -> f64 {
    1.0
}
