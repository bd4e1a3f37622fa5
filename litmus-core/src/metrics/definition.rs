//! A metric definition as written: in the config document's catalogue (`metrics`), or inline in
//! an experiment's `metrics` (where a `{"metric": KEY}` entry refers to the catalogue instead).
//!
//! Like the rest of the config's wire types, definitions hold what the JSON says (defaults
//! filled in) and read through a hand-written decoder that names the exact path of any error;
//! [`super::compile`] checks them.

use serde::Serialize;
use serde_json::Value;

use crate::config::decode::{
    Decode, boolean, fields, list, no_unknown, number, one_of, optional, required, string,
};
use crate::config::wire::UnknownFields;
use crate::error::{Error, FieldPath};
use crate::results::{Goal, MetricKind};

/// How a unit's matching events become its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// The sum of the events' values.
    Sum,
    /// How many events.
    Count,
    /// 1 when the unit has any event (0 otherwise).
    Unique,
    /// The largest value.
    Max,
}

impl Aggregation {
    /// Its name in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Sum => "sum",
            Aggregation::Count => "count",
            Aggregation::Unique => "unique",
            Aggregation::Max => "max",
        }
    }

    /// A unit's value after one more event of value `v`, from `total` after `events` events
    /// (a unit without events has 0).
    pub fn add(self, total: f64, events: u64, v: f64) -> f64 {
        match self {
            Aggregation::Sum => total + v,
            Aggregation::Count => total + 1.0,
            Aggregation::Unique => 1.0,
            Aggregation::Max if events == 0 => v,
            Aggregation::Max => total.max(v),
        }
    }
}

/// How a metric's figures are shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A plain number (the default).
    #[default]
    Number,
    /// A share, shown as a percentage.
    Percent,
    /// Money, in the metric's `currency`.
    Currency,
    /// A duration in milliseconds.
    Duration,
}

/// Which values a quantile metric ranks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuantileLevel {
    /// Each attributed event's value (p90 page-load time).
    #[default]
    Event,
    /// Each exposed unit's value (units without events count as 0).
    Unit,
}

/// When, after a unit's first exposure, its events count: from `delay_hours` to
/// `delay_hours + hours`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireWindow {
    /// Hours after the exposure before events count (0 by default; 168 for day-7 retention).
    #[serde(default)]
    pub delay_hours: f64,
    /// How many hours events count for.
    pub hours: f64,
}

/// A cap on each unit's value (winsorization): an absolute value, or a percentile of the
/// exposed units' values computed from the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum WireCap {
    /// Values above this are counted as this.
    Absolute(f64),
    /// Values above this percentile (in (0, 1)) of the units with an event are counted as it.
    Percentile(f64),
}

/// One step of a funnel: an event, optionally filtered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireStep {
    /// The event's name.
    pub event: String,
    /// A condition on the event's properties (targeting syntax, `attribute` naming a property).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::config::schema::condition")
    )]
    pub filter: Option<Value>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// A metric definition as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct MetricDefinition {
    /// The metric's key: unique in the catalogue (and among an experiment's inline metrics).
    pub key: String,
    /// A human name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What it measures, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What the results compute.
    pub kind: MetricKind,
    /// The source event (conversion, mean, quantile, retention). Inline metrics default it to
    /// their key (`{"key": "purchase", "kind": "conversion"}` counts `purchase`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// A condition on the event's properties (targeting syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::config::schema::condition")
    )]
    pub filter: Option<Value>,
    /// A numeric property to read as the event's value instead of its `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// How a unit's events add up (default: `unique` for conversion and retention, `sum`
    /// otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<Aggregation>,
    /// When events count after the exposure (default: the server's attribution window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WireWindow>,
    /// A cap on each unit's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<WireCap>,
    /// A ratio's numerator: a catalogue metric's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<String>,
    /// A ratio's denominator: a catalogue metric's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<String>,
    /// A quantile metric's quantile, in (0, 1) (0.9 for p90).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantile: Option<f64>,
    /// Whether a quantile ranks events or units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<QuantileLevel>,
    /// A funnel's ordered steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<WireStep>,
    /// Which direction is good.
    #[serde(default)]
    pub goal: Goal,
    /// A guardrail: watched for harm, not counted among the decision metrics.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub guardrail: bool,
    /// How figures are shown.
    #[serde(default, skip_serializing_if = "is_default_format")]
    pub format: Format,
    /// The ISO 4217 code of a currency metric (`USD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

impl Format {
    /// Its name in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Number => "number",
            Format::Percent => "percent",
            Format::Currency => "currency",
            Format::Duration => "duration",
        }
    }
}

fn is_default_format(f: &Format) -> bool {
    *f == Format::Number
}

/// An experiment's reference to a catalogue metric, optionally overriding its direction or
/// guardrail role for this experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct MetricReference {
    /// The catalogue metric's key.
    pub metric: String,
    /// Overrides the metric's goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<Goal>,
    /// Overrides whether it is a guardrail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<bool>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

const KINDS: &[(&str, MetricKind)] = &[
    ("conversion", MetricKind::Conversion),
    ("mean", MetricKind::Mean),
    ("ratio", MetricKind::Ratio),
    ("quantile", MetricKind::Quantile),
    ("retention", MetricKind::Retention),
    ("funnel", MetricKind::Funnel),
];

const GOALS: &[(&str, Goal)] = &[("increase", Goal::Increase), ("decrease", Goal::Decrease)];

fn goal(v: &Value, at: &FieldPath) -> Result<Goal, Error> {
    one_of(v, at, GOALS)
}

impl Decode for WireWindow {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut delay_hours, mut hours) = (None, None);
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "delay_hours" => delay_hours = Some(number(v, at)?),
                "hours" => hours = Some(number(v, at)?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        no_unknown(&unknown, path)?;
        Ok(WireWindow {
            delay_hours: delay_hours.unwrap_or(0.0),
            hours: required(hours, path, "hours")?,
        })
    }
}

impl Decode for WireCap {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let mut cap = None;
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "absolute" => cap = Some(WireCap::Absolute(number(v, at)?)),
                "percentile" => cap = Some(WireCap::Percentile(number(v, at)?)),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        no_unknown(&unknown, path)?;
        let fields = crate::config::decode::object(value, path)?.len();
        match cap {
            Some(cap) if fields == 1 => Ok(cap),
            _ => Err(Error::invalid(
                path.clone(),
                "a cap is {\"absolute\": VALUE} or {\"percentile\": SHARE}",
            )),
        }
    }
}

impl Decode for WireStep {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut event, mut filter) = (None, None);
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "event" => event = Some(string(v, at)?),
                "filter" => filter = optional(v, at, |v, _| Ok(v.clone()))?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(WireStep {
            event: required(event, path, "event")?,
            filter,
            unknown,
        })
    }
}

impl MetricDefinition {
    /// A definition of `kind` counting the event named `key` (inline in an experiment, where
    /// the event defaults to the key), everything else by default.
    pub fn event(key: &str, kind: MetricKind) -> Self {
        MetricDefinition {
            key: key.to_owned(),
            name: None,
            description: None,
            kind,
            event: None,
            filter: None,
            property: None,
            aggregation: None,
            window: None,
            cap: None,
            numerator: None,
            denominator: None,
            quantile: None,
            level: None,
            steps: Vec::new(),
            goal: Goal::Increase,
            guardrail: false,
            format: Format::Number,
            currency: None,
            unknown: UnknownFields::new(),
        }
    }

    /// Reads a definition.
    pub(crate) fn decode_with(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let mut d = MetricDefinition::event("", MetricKind::Conversion);
        let (mut key, mut kind) = (None, None);
        d.unknown = fields(value, path, |name, v, at| {
            match name {
                "key" => key = Some(string(v, at)?),
                "name" => d.name = optional(v, at, string)?,
                "description" => d.description = optional(v, at, string)?,
                "kind" => kind = Some(one_of(v, at, KINDS)?),
                "event" => d.event = optional(v, at, string)?,
                "filter" => d.filter = optional(v, at, |v, _| Ok(v.clone()))?,
                "property" => d.property = optional(v, at, string)?,
                "aggregation" => {
                    d.aggregation = optional(v, at, |v, at| {
                        one_of(
                            v,
                            at,
                            &[
                                ("sum", Aggregation::Sum),
                                ("count", Aggregation::Count),
                                ("unique", Aggregation::Unique),
                                ("max", Aggregation::Max),
                            ],
                        )
                    })?;
                }
                "window" => d.window = optional(v, &at.path(), WireWindow::decode)?,
                "cap" => d.cap = optional(v, &at.path(), WireCap::decode)?,
                "numerator" => d.numerator = optional(v, at, string)?,
                "denominator" => d.denominator = optional(v, at, string)?,
                "quantile" => d.quantile = optional(v, at, number)?,
                "level" => {
                    d.level = optional(v, at, |v, at| {
                        one_of(
                            v,
                            at,
                            &[
                                ("event", QuantileLevel::Event),
                                ("unit", QuantileLevel::Unit),
                            ],
                        )
                    })?;
                }
                "steps" => d.steps = list(v, at, WireStep::decode)?,
                "goal" => d.goal = goal(v, &at.path())?,
                "guardrail" => d.guardrail = boolean(v, at)?,
                "format" => {
                    d.format = one_of(
                        v,
                        at,
                        &[
                            ("number", Format::Number),
                            ("percent", Format::Percent),
                            ("currency", Format::Currency),
                            ("duration", Format::Duration),
                        ],
                    )?;
                }
                "currency" => d.currency = optional(v, at, string)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        d.key = required(key, path, "key")?;
        d.kind = required(kind, path, "kind")?;
        Ok(d)
    }

    /// The paths of fields no schema defines, in this definition and its steps.
    pub(crate) fn unknown_paths(&self, path: &FieldPath) -> Vec<FieldPath> {
        let mut paths: Vec<FieldPath> = self.unknown.keys().map(|k| path.field(k)).collect();
        for (i, s) in self.steps.iter().enumerate() {
            let at = path.field("steps").item(i);
            paths.extend(s.unknown.keys().map(|k| at.field(k)));
        }
        paths
    }
}

impl Decode for MetricDefinition {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        MetricDefinition::decode_with(value, path)
    }
}

impl Decode for MetricReference {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut metric, mut goal_, mut guardrail) = (None, None, None);
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "metric" => metric = Some(string(v, at)?),
                "goal" => goal_ = optional(v, &at.path(), goal)?,
                "guardrail" => guardrail = optional(v, at, boolean)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(MetricReference {
            metric: required(metric, path, "metric")?,
            goal: goal_,
            guardrail,
            unknown,
        })
    }
}
