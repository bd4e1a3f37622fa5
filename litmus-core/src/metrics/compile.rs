//! Metric definitions checked and compiled: filters become targeting conditions over event
//! properties, windows milliseconds, and each metric gets the rollup ids its figures are kept
//! under (see [`Metric::rollup`]).

use std::collections::HashMap;

use serde_json::json;

use super::definition::{Aggregation, Format, MetricDefinition, QuantileLevel, WireCap, WireStep};
use crate::assign::targeting::{self, Condition};
use crate::attributes::{AttrRef, AttributeSource, json_as_attr};
use crate::config::compile::check_key;
use crate::error::{Error, FieldPath};
use crate::results::{Goal, MetricKind, MetricSpec, Source};

/// The longest event name (as events accept).
pub const MAX_EVENT_CHARS: usize = 256;
/// The most steps in a funnel.
pub const MAX_STEPS: usize = 10;
/// The longest window, in hours (ten years).
pub const MAX_WINDOW_HOURS: f64 = 87_660.0;
/// The first character of a derived metric's rollup id: one no real event name is expected
/// to start with, so derived rows never mix with an event's own.
pub const DERIVED_PREFIX: char = '\u{1}';

const HOUR_MS: f64 = 3_600_000.0;

/// When events count after a unit's first exposure, in ms: `[delay, delay + length]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// From the exposure to the window's start.
    pub delay_ms: i64,
    /// The window's length.
    pub length_ms: i64,
}

impl Window {
    /// Whether an event at `event_ms` counts for a unit first exposed at `first_ms`.
    pub fn holds(&self, first_ms: i64, event_ms: i64) -> bool {
        let since = event_ms.saturating_sub(first_ms);
        first_ms <= event_ms && since >= self.delay_ms && since <= self.end_ms()
    }

    /// Whether an event at `event_ms` counts for a unit first exposed at `first_ms` in
    /// `window`, or (without one) within `default_ms` of the exposure (the attribution window).
    pub fn counts(window: Option<Window>, first_ms: i64, event_ms: i64, default_ms: i64) -> bool {
        match window {
            Some(w) => w.holds(first_ms, event_ms),
            None => crate::events::attributed(first_ms, event_ms, default_ms),
        }
    }

    /// The window's end after the exposure.
    pub fn end_ms(&self) -> i64 {
        self.delay_ms.saturating_add(self.length_ms)
    }
}

/// A cap on unit values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cap {
    /// Values above it count as it.
    Absolute(f64),
    /// A percentile of the units' values, computed when the results are.
    Percentile(f64),
}

/// A compiled filter: a condition on an event's properties.
#[derive(Debug, Clone)]
pub struct Filter(Condition);

/// An event's properties as a targeting condition reads them.
struct Properties<'a>(Option<&'a serde_json::Map<String, serde_json::Value>>);

impl AttributeSource for Properties<'_> {
    fn attribute(&self, name: &str) -> Option<AttrRef<'_>> {
        match self.0?.get(name)? {
            serde_json::Value::Null => None,
            v => Some(json_as_attr(v)),
        }
    }
}

impl Filter {
    /// Whether an event with these properties passes.
    pub fn matches(&self, properties: Option<&serde_json::Map<String, serde_json::Value>>) -> bool {
        self.0.eval(&Properties(properties)).is_ok()
    }
}

/// Which events a metric counts, and what each is worth.
#[derive(Debug, Clone)]
pub struct EventRule {
    /// The event's name.
    pub event: String,
    /// Only events whose properties pass.
    pub filter: Option<Filter>,
    /// The numeric property read as the value (events without it do not count).
    pub property: Option<String>,
}

impl EventRule {
    /// The value of an event of this rule's name, or `None` when it does not count.
    pub fn value(
        &self,
        value: f64,
        properties: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Option<f64> {
        if let Some(f) = &self.filter {
            if !f.matches(properties) {
                return None;
            }
        }
        match &self.property {
            None => Some(value),
            Some(p) => properties?.get(p)?.as_f64().filter(|v| v.is_finite()),
        }
    }
}

/// How a metric is computed.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Conversion, mean, retention and quantile: one event rule, per-unit aggregation.
    Events {
        /// The events counted.
        rule: EventRule,
        /// How a unit's events add up.
        aggregation: Aggregation,
        /// When they count (`None`: the server's attribution window).
        window: Option<Window>,
        /// A cap on unit values (means).
        cap: Option<Cap>,
        /// A quantile metric's quantile and level.
        quantile: Option<(f64, QuantileLevel)>,
    },
    /// The sum of one metric over the sum of another, per variant.
    Ratio {
        /// The numerator.
        numerator: Box<Metric>,
        /// The denominator.
        denominator: Box<Metric>,
    },
    /// Ordered steps, each counted for units that did the previous one, at or after it.
    Funnel {
        /// The steps.
        steps: Vec<EventRule>,
        /// When the steps count after the exposure (`None`: the attribution window).
        window: Option<Window>,
    },
}

/// A checked metric.
#[derive(Debug, Clone)]
pub struct Metric {
    key: String,
    name: Option<String>,
    kind: MetricKind,
    goal: Goal,
    guardrail: bool,
    format: Format,
    currency: Option<String>,
    rule: Rule,
    rollup: String,
}

impl Metric {
    /// The metric's key.
    pub fn key(&self) -> &str {
        &self.key
    }
    /// Its human name, when it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// Its kind.
    pub fn kind(&self) -> MetricKind {
        self.kind
    }
    /// Which direction is good.
    pub fn goal(&self) -> Goal {
        self.goal
    }
    /// Whether it is a guardrail.
    pub fn guardrail(&self) -> bool {
        self.guardrail
    }
    /// How its figures are shown.
    pub fn format(&self) -> Format {
        self.format
    }
    /// A currency metric's currency.
    pub fn currency(&self) -> Option<&str> {
        self.currency.as_deref()
    }
    /// How it is computed.
    pub fn rule(&self) -> &Rule {
        &self.rule
    }
    /// The id its rollup rows carry: the event's name for a plain conversion or mean (the
    /// rows every event has), else [`DERIVED_PREFIX`], the key, `@` and a hash of what the
    /// computation depends on (so a changed definition gets rows of its own). A funnel's
    /// steps are `{id}#{step}`.
    pub fn rollup(&self) -> &str {
        &self.rollup
    }
    /// Whether its rows are the source event's own (no filter, property, window or cap, the
    /// default aggregation).
    pub fn is_plain(&self) -> bool {
        !self.rollup.starts_with(DERIVED_PREFIX)
    }
    /// The analysis's view of it.
    pub fn spec(&self) -> MetricSpec {
        let mut source = Source {
            rollup: if self.is_plain() {
                String::new()
            } else {
                self.rollup.clone()
            },
            format: (self.format != Format::Number).then(|| self.format.as_str().to_owned()),
            currency: self.currency.clone(),
            name: self.name.clone(),
            ..Source::default()
        };
        if self.is_plain() && self.rollup != self.key {
            source.rollup = self.rollup.clone();
        }
        match &self.rule {
            Rule::Events {
                window,
                cap,
                quantile,
                ..
            } => {
                if self.kind == MetricKind::Retention {
                    source.matures_after_ms = window.map(|w| w.end_ms());
                }
                match cap {
                    Some(Cap::Percentile(p)) => source.percentile_cap = Some(*p),
                    Some(Cap::Absolute(c)) => source.cap = Some(*c),
                    None => {}
                }
                if let Some((q, level)) = quantile {
                    source.quantile = Some(*q);
                    source.unit_quantile = *level == QuantileLevel::Unit;
                }
            }
            Rule::Ratio {
                numerator,
                denominator,
            } => {
                source.numerator = Some(numerator.rollup.clone());
                source.denominator = Some(denominator.rollup.clone());
            }
            Rule::Funnel { steps, .. } => source.steps = Some(steps.len()),
        }
        MetricSpec {
            key: self.key.clone(),
            kind: self.kind,
            goal: self.goal,
            guardrail: self.guardrail,
            source,
        }
    }

    /// The same metric with this experiment's goal and guardrail.
    pub(crate) fn with_role(mut self, goal: Option<Goal>, guardrail: Option<bool>) -> Self {
        self.goal = goal.unwrap_or(self.goal);
        self.guardrail = guardrail.unwrap_or(self.guardrail);
        self
    }
}

/// The rollup id of funnel step `k` of a funnel whose id is `id`.
pub fn step_id(id: &str, k: usize) -> String {
    format!("{id}#{k}")
}

fn check_event(name: &str, path: &FieldPath) -> Result<(), Error> {
    if name.is_empty() || name.chars().count() > MAX_EVENT_CHARS {
        return Err(Error::invalid(
            path.clone(),
            format!("an event name has 1 to {MAX_EVENT_CHARS} characters"),
        ));
    }
    Ok(())
}

fn filter(value: Option<&serde_json::Value>, path: &FieldPath) -> Result<Option<Filter>, Error> {
    value
        .map(|v| targeting::compile(v, path).map(Filter))
        .transpose()
}

fn window(d: &MetricDefinition, path: &FieldPath) -> Result<Option<Window>, Error> {
    let Some(w) = d.window else { return Ok(None) };
    let at = path.field("window");
    if !(w.delay_hours.is_finite() && w.delay_hours >= 0.0) {
        return Err(Error::invalid(at.field("delay_hours"), "must be 0 or more"));
    }
    if !(w.hours.is_finite() && w.hours > 0.0) {
        return Err(Error::invalid(at.field("hours"), "must be more than 0"));
    }
    if w.delay_hours + w.hours > MAX_WINDOW_HOURS {
        return Err(Error::invalid(
            at,
            format!("the window must end within {MAX_WINDOW_HOURS} hours"),
        ));
    }
    Ok(Some(Window {
        delay_ms: (w.delay_hours * HOUR_MS).round() as i64,
        length_ms: (w.hours * HOUR_MS).round() as i64,
    }))
}

/// Fields that `kind` does not take, when set, as an error at the first.
fn forbid(d: &MetricDefinition, path: &FieldPath, names: &[&str]) -> Result<(), Error> {
    for name in names {
        let set = match *name {
            "event" => d.event.is_some(),
            "filter" => d.filter.is_some(),
            "property" => d.property.is_some(),
            "aggregation" => d.aggregation.is_some(),
            "window" => d.window.is_some(),
            "cap" => d.cap.is_some(),
            "numerator" => d.numerator.is_some(),
            "denominator" => d.denominator.is_some(),
            "quantile" => d.quantile.is_some(),
            "level" => d.level.is_some(),
            "steps" => !d.steps.is_empty(),
            _ => false,
        };
        if set {
            return Err(Error::invalid(
                path.field(name),
                format!("a {} metric has no `{name}`", d.kind.as_str()),
            ));
        }
    }
    Ok(())
}

/// Checks and compiles definitions; ratios look their parts up among `catalogue` (the
/// catalogue's metrics compiled so far, by key).
pub(crate) fn compile(
    d: &MetricDefinition,
    path: &FieldPath,
    catalogue: &HashMap<String, Metric>,
    catalogue_key: bool,
) -> Result<Metric, Error> {
    if catalogue_key {
        check_key(&d.key, &path.field("key"))?;
    } else {
        check_event(&d.key, &path.field("key"))?;
    }
    match (&d.format, &d.currency) {
        (Format::Currency, Some(c))
            if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => {}
        (Format::Currency, _) => {
            return Err(Error::invalid(
                path.field("currency"),
                "a currency metric names its ISO 4217 currency (three capital letters, `USD`)",
            ));
        }
        (_, Some(_)) => {
            return Err(Error::invalid(
                path.field("currency"),
                "only a metric with format `currency` has a currency",
            ));
        }
        _ => {}
    }
    let rule = match d.kind {
        MetricKind::Ratio => ratio(d, path, catalogue)?,
        MetricKind::Funnel => funnel(d, path)?,
        _ => events(d, path, catalogue_key)?,
    };
    let rollup = rollup_id(d, &rule);
    Ok(Metric {
        key: d.key.clone(),
        name: d.name.clone(),
        kind: d.kind,
        goal: d.goal,
        guardrail: d.guardrail,
        format: d.format,
        currency: d.currency.clone(),
        rule,
        rollup,
    })
}

fn events(d: &MetricDefinition, path: &FieldPath, catalogue_key: bool) -> Result<Rule, Error> {
    forbid(d, path, &["numerator", "denominator", "steps"])?;
    // An inline metric's event defaults to its key.
    let event = match (&d.event, catalogue_key) {
        (Some(e), _) => e.clone(),
        (None, false) => d.key.clone(),
        (None, true) => {
            return Err(Error::MissingField {
                path: path.field("event"),
            });
        }
    };
    check_event(&event, &path.field("event"))?;
    let rule = EventRule {
        event,
        filter: filter(d.filter.as_ref(), &path.field("filter"))?,
        property: d.property.clone(),
    };
    if let Some(p) = &d.property {
        if p.is_empty() {
            return Err(Error::invalid(path.field("property"), "names a property"));
        }
    }
    let kind = d.kind;
    let counts = matches!(kind, MetricKind::Conversion | MetricKind::Retention);
    if counts {
        forbid(d, path, &["property", "quantile", "level", "cap"])?;
        if d.aggregation.is_some_and(|a| a != Aggregation::Unique) {
            return Err(Error::invalid(
                path.field("aggregation"),
                format!(
                    "a {} metric counts units with an event: `unique`",
                    kind.as_str()
                ),
            ));
        }
    }
    let quantile = if kind == MetricKind::Quantile {
        forbid(d, path, &["cap"])?;
        let q = d.quantile.ok_or_else(|| Error::MissingField {
            path: path.field("quantile"),
        })?;
        if !(q > 0.0 && q < 1.0) {
            return Err(Error::invalid(
                path.field("quantile"),
                "a quantile is in (0, 1): 0.9 for p90",
            ));
        }
        let level = d.level.unwrap_or_default();
        if level == QuantileLevel::Event && d.aggregation.is_some() {
            return Err(Error::invalid(
                path.field("aggregation"),
                "an event-level quantile ranks events' values: it has no aggregation",
            ));
        }
        Some((q, level))
    } else {
        forbid(d, path, &["quantile", "level"])?;
        None
    };
    if kind == MetricKind::Retention && d.window.is_none() {
        return Err(Error::MissingField {
            path: path.field("window"),
        });
    }
    let cap = match d.cap {
        None => None,
        Some(WireCap::Absolute(c)) if c.is_finite() && c >= 0.0 => Some(Cap::Absolute(c)),
        Some(WireCap::Absolute(_)) => {
            return Err(Error::invalid(
                path.field("cap").field("absolute"),
                "a cap is finite and 0 or more",
            ));
        }
        Some(WireCap::Percentile(p)) if p > 0.0 && p < 1.0 => Some(Cap::Percentile(p)),
        Some(WireCap::Percentile(_)) => {
            return Err(Error::invalid(
                path.field("cap").field("percentile"),
                "a percentile cap is in (0, 1): 0.99 caps at the 99th percentile",
            ));
        }
    };
    let aggregation = d.aggregation.unwrap_or(if counts {
        Aggregation::Unique
    } else {
        Aggregation::Sum
    });
    Ok(Rule::Events {
        rule,
        aggregation,
        window: window(d, path)?,
        cap,
        quantile,
    })
}

fn ratio(
    d: &MetricDefinition,
    path: &FieldPath,
    catalogue: &HashMap<String, Metric>,
) -> Result<Rule, Error> {
    forbid(
        d,
        path,
        &[
            "event",
            "filter",
            "property",
            "aggregation",
            "window",
            "cap",
            "quantile",
            "level",
            "steps",
        ],
    )?;
    let part = |name: &str, key: &Option<String>| -> Result<Metric, Error> {
        let at = path.field(name);
        let key = key
            .as_deref()
            .ok_or_else(|| Error::MissingField { path: at.clone() })?;
        if key == d.key {
            return Err(Error::invalid(
                at,
                format!("a ratio's {name} is another metric, not the ratio itself"),
            ));
        }
        let m = catalogue.get(key).ok_or_else(|| Error::UnknownReference {
            path: at.clone(),
            key: key.to_owned(),
        })?;
        match m.rule() {
            Rule::Events {
                cap: Some(Cap::Percentile(_)),
                ..
            } => Err(Error::invalid(
                at,
                format!("{key:?} has a percentile cap: a ratio's parts take absolute caps only"),
            )),
            Rule::Events { .. } if m.kind() == MetricKind::Mean => Ok(m.clone()),
            _ => Err(Error::invalid(
                at,
                format!(
                    "{key:?} is a {} metric: a ratio divides mean metrics (sums or counts per unit)",
                    m.kind().as_str()
                ),
            )),
        }
    };
    let numerator = part("numerator", &d.numerator)?;
    let denominator = part("denominator", &d.denominator)?;
    if numerator.rollup() == denominator.rollup() {
        return Err(Error::invalid(
            path.field("denominator"),
            "the numerator and the denominator are the same metric",
        ));
    }
    Ok(Rule::Ratio {
        numerator: Box::new(numerator),
        denominator: Box::new(denominator),
    })
}

fn funnel(d: &MetricDefinition, path: &FieldPath) -> Result<Rule, Error> {
    forbid(
        d,
        path,
        &[
            "event",
            "filter",
            "property",
            "aggregation",
            "cap",
            "numerator",
            "denominator",
            "quantile",
            "level",
        ],
    )?;
    let at = path.field("steps");
    if d.steps.len() < 2 || d.steps.len() > MAX_STEPS {
        return Err(Error::invalid(
            at,
            format!("a funnel has 2 to {MAX_STEPS} steps"),
        ));
    }
    let mut steps = Vec::with_capacity(d.steps.len());
    for (i, s) in d.steps.iter().enumerate() {
        let sp = at.item(i);
        check_event(&s.event, &sp.field("event"))?;
        if let Some(j) = d
            .steps
            .get(..i)
            .and_then(|before| before.iter().position(|b| same_step(b, s)))
        {
            return Err(Error::invalid(
                sp,
                format!("step {i} repeats step {j}: a funnel's steps are distinct (no cycles)"),
            ));
        }
        steps.push(EventRule {
            event: s.event.clone(),
            filter: filter(s.filter.as_ref(), &sp.field("filter"))?,
            property: None,
        });
    }
    Ok(Rule::Funnel {
        steps,
        window: window(d, path)?,
    })
}

fn same_step(a: &WireStep, b: &WireStep) -> bool {
    a.event == b.event && a.filter == b.filter
}

/// The rollup id (see [`Metric::rollup`]).
fn rollup_id(d: &MetricDefinition, rule: &Rule) -> String {
    let shape = match rule {
        Rule::Events {
            rule,
            aggregation,
            window,
            cap,
            quantile,
        } => {
            let plain = d.filter.is_none()
                && rule.property.is_none()
                && window.is_none()
                && cap.is_none()
                && match d.kind {
                    MetricKind::Conversion => *aggregation == Aggregation::Unique,
                    MetricKind::Mean => *aggregation == Aggregation::Sum,
                    _ => false,
                };
            if plain {
                return rule.event.clone();
            }
            json!({
                "kind": d.kind.as_str(), "event": rule.event, "filter": d.filter,
                "property": rule.property, "aggregation": aggregation.as_str(),
                "window": window.map(|w| [w.delay_ms, w.length_ms]),
                "cap": cap.map(|c| match c {
                    Cap::Absolute(v) => json!({"absolute": v}),
                    Cap::Percentile(p) => json!({"percentile": p}),
                }),
                "quantile": quantile.map(|(q, l)| json!([q, l])),
            })
        }
        Rule::Ratio {
            numerator,
            denominator,
        } => json!({"kind": "ratio", "numerator": numerator.rollup(),
                    "denominator": denominator.rollup()}),
        Rule::Funnel { window, .. } => json!({
            "kind": "funnel",
            "steps": d.steps.iter().map(|s| json!([s.event, s.filter])).collect::<Vec<_>>(),
            "window": window.map(|w| [w.delay_ms, w.length_ms]),
        }),
    };
    let hash = xxhash_rust::xxh3::xxh3_64(shape.to_string().as_bytes());
    format!("{DERIVED_PREFIX}{}@{hash:016x}", d.key)
}
