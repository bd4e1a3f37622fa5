//! What the rollups compute for the metrics in use, beyond each event's own rows (which every
//! tracked event has: they serve plain conversions and means).
//!
//! A [`Program`] lists, per experiment, the derived metrics it uses (each with its rollup id
//! and rules) and the ratios whose per-unit cross products it needs, and, per event name, the
//! rules that read that event. The rollup worker builds one per config version and applies it
//! with core's rules (`crate::events::unit_state`).

use std::collections::HashMap;

use super::compile::{Cap, EventRule, Metric, Rule, Window, step_id};
use super::definition::Aggregation;
use crate::results::MetricKind;

/// How a derived metric's rows are kept.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A per-unit value: the aggregation of the unit's matching events in the window, capped.
    /// Rows hold the change of the sum and the sum of squares of the capped values.
    Total {
        /// How a unit's events add up.
        aggregation: Aggregation,
        /// When events count (`None`: the server's attribution window).
        window: Option<Window>,
        /// An absolute cap on unit values (a percentile cap is applied at analysis).
        cap: Option<f64>,
        /// Rows keyed by the unit's exposure minute instead of the event's (retention: the
        /// results count only the cohorts whose window has passed).
        cohort: bool,
        /// Whether the unit's value before its exposure is kept as its covariate (CUPED).
        covariate: bool,
        /// A quantile metric's sketch rows: of each event's value, or of the units' values.
        quantile: Option<super::definition::QuantileLevel>,
    },
    /// A funnel: step `k`'s row (`{id}#{k}`) counts the units that reached it.
    Funnel {
        /// How many steps.
        steps: usize,
        /// When the steps count (`None`: the attribution window).
        window: Option<Window>,
    },
}

/// A derived metric's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    /// The rollup id.
    pub id: String,
    /// How its rows are kept.
    pub shape: Shape,
}

/// One part of a ratio: the rollup id of its per-unit values, and their absolute cap.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The rollup id (an event's name for a plain metric).
    pub id: String,
    /// The cap applied to its unit values.
    pub cap: Option<f64>,
}

/// A ratio's cross-product rows: the change of Σ numerator × denominator over units.
#[derive(Debug, Clone, PartialEq)]
pub struct Ratio {
    /// The ratio's rollup id (its rows hold only `cross` and `events`).
    pub id: String,
    /// The numerator.
    pub numerator: Part,
    /// The denominator.
    pub denominator: Part,
}

/// An event rule feeding a derived metric (or a funnel's step).
#[derive(Debug, Clone)]
pub struct Feed {
    /// The index of the derived metric in [`Program::derived`].
    pub derived: usize,
    /// The funnel step it counts (0 for other metrics).
    pub step: usize,
    /// The events it reads.
    pub rule: EventRule,
}

/// What one experiment needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Uses {
    /// Indexes into [`Program::derived`].
    pub derived: Vec<usize>,
    /// Indexes into [`Program::ratios`].
    pub ratios: Vec<usize>,
}

/// The rollup program (see the module's documentation).
#[derive(Debug, Clone, Default)]
pub struct Program {
    derived: Vec<Derived>,
    ratios: Vec<Ratio>,
    feeds: HashMap<String, Vec<Feed>>,
    experiments: HashMap<String, Uses>,
    /// Event names some feed reads a property of (a filter or a property value).
    property_events: std::collections::BTreeSet<String>,
    /// Each experiment's dimensions (segments), for experiments that declare any.
    dimensions: HashMap<String, Vec<crate::segments::Dimension>>,
}

fn absolute(cap: Option<Cap>) -> Option<f64> {
    match cap {
        Some(Cap::Absolute(c)) => Some(c),
        _ => None,
    }
}

impl Program {
    /// The program for `experiments`: each experiment's key and resolved metrics.
    pub fn new<'a>(experiments: impl IntoIterator<Item = (&'a str, &'a [Metric])>) -> Self {
        let mut p = Program::default();
        for (experiment, metrics) in experiments {
            let mut uses = Uses::default();
            for m in metrics {
                p.add(m, &mut uses);
            }
            uses.derived.sort_unstable();
            uses.derived.dedup();
            uses.ratios.sort_unstable();
            uses.ratios.dedup();
            if uses != Uses::default() {
                p.experiments.insert(experiment.to_owned(), uses);
            }
        }
        p
    }

    /// The program of a config document: its catalogue and each experiment's metrics
    /// (definitions that do not check are left out: a stored document was checked when it
    /// was written).
    pub fn from_config(config: &crate::config::wire::WireConfig) -> Self {
        Program::from_streams([("", config)])
    }

    /// The program of several documents whose events share one store, each under its own
    /// prefix: an experiment's (and a holdout's) subject in the rollups is the prefix followed
    /// by its own subject. A server keeps each environment's events apart this way; the
    /// prefixes must not be prefixes of each other's subjects.
    pub fn from_streams<'a>(
        streams: impl IntoIterator<Item = (&'a str, &'a crate::config::wire::WireConfig)>,
    ) -> Self {
        let mut subjects: Vec<(String, Vec<Metric>)> = Vec::new();
        let mut dimensions = Vec::new();
        for (prefix, config) in streams {
            let (s, d) = Self::subjects(prefix, config);
            subjects.extend(s);
            dimensions.extend(d);
        }
        let mut program = Program::new(subjects.iter().map(|(k, m)| (k.as_str(), m.as_slice())));
        for (subject, d) in dimensions {
            program.set_dimensions(&subject, d);
        }
        program
    }

    /// One document's subjects under `prefix`, each with its metrics, and the dimensions of
    /// its experiments that declare any.
    #[allow(clippy::type_complexity)]
    fn subjects(
        prefix: &str,
        config: &crate::config::wire::WireConfig,
    ) -> (
        Vec<(String, Vec<Metric>)>,
        Vec<(String, Vec<crate::segments::Dimension>)>,
    ) {
        let (catalogue, _) = super::Catalogue::compile(&config.metrics);
        let root = crate::error::FieldPath::root();
        let resolved: Vec<(&str, Vec<Metric>)> = config
            .experiments
            .iter()
            .map(|e| {
                let metrics = e
                    .metrics
                    .iter()
                    .filter_map(|m| catalogue.resolve(std::slice::from_ref(m), &root).ok())
                    .flatten()
                    .collect();
                (e.key.as_str(), metrics)
            })
            .collect();
        // A holdout's readout reads the metrics of the experiments it covers
        // (`crate::assign::holdout_exposure`), under its subject.
        let holdouts: Vec<(String, Vec<Metric>)> = config
            .holdouts
            .iter()
            .map(|h| {
                let covers = |e: &crate::config::wire::WireExperiment| {
                    h.all
                        || h.experiments.contains(&e.key)
                        || e.layer.as_ref().is_some_and(|l| h.layers.contains(&l.key))
                };
                let metrics = config
                    .experiments
                    .iter()
                    .zip(&resolved)
                    .filter(|(e, _)| covers(e))
                    .flat_map(|(_, (_, m))| m.iter().cloned())
                    .collect();
                let subject = crate::assign::holdout_exposure::subject(&h.key);
                (format!("{prefix}{subject}"), metrics)
            })
            .collect();
        let subjects = resolved
            .into_iter()
            .map(|(k, m)| (format!("{prefix}{k}"), m))
            .chain(holdouts)
            .collect();
        // Dimensions that do not check are left out, as metrics are.
        let at = root.field("dimensions");
        let dimensions = config
            .experiments
            .iter()
            .filter_map(|e| {
                let d = crate::segments::compile(&e.dimensions, &at).ok()?;
                Some((format!("{prefix}{}", e.key), d.into_vec()))
            })
            .collect();
        (subjects, dimensions)
    }

    /// Sets `experiment`'s dimensions (none: it keeps no segments).
    pub fn set_dimensions(
        &mut self,
        experiment: &str,
        dimensions: Vec<crate::segments::Dimension>,
    ) {
        if dimensions.is_empty() {
            self.dimensions.remove(experiment);
        } else {
            self.dimensions.insert(experiment.to_owned(), dimensions);
        }
    }

    /// Each experiment's dimensions, for those that declare any.
    pub fn all_dimensions(&self) -> impl Iterator<Item = (&str, &[crate::segments::Dimension])> {
        self.dimensions
            .iter()
            .map(|(k, d)| (k.as_str(), d.as_slice()))
    }

    fn add(&mut self, m: &Metric, uses: &mut Uses) {
        match m.rule() {
            Rule::Events { .. } if m.is_plain() => {}
            Rule::Events {
                rule,
                aggregation,
                window,
                cap,
                quantile,
            } => {
                let shape = Shape::Total {
                    aggregation: *aggregation,
                    window: *window,
                    cap: absolute(*cap),
                    cohort: m.kind() == MetricKind::Retention,
                    covariate: matches!(m.kind(), MetricKind::Mean | MetricKind::Conversion),
                    quantile: quantile.map(|(_, level)| level),
                };
                let index = self.derive(m.rollup(), shape, std::slice::from_ref(rule));
                uses.derived.push(index);
            }
            Rule::Funnel { steps, window } => {
                let shape = Shape::Funnel {
                    steps: steps.len(),
                    window: *window,
                };
                let index = self.derive(m.rollup(), shape, steps);
                uses.derived.push(index);
            }
            Rule::Ratio {
                numerator,
                denominator,
            } => {
                self.add(numerator, uses);
                self.add(denominator, uses);
                let part = |m: &Metric| Part {
                    id: m.rollup().to_owned(),
                    cap: match m.rule() {
                        Rule::Events { cap, .. } => absolute(*cap),
                        _ => None,
                    },
                };
                let ratio = Ratio {
                    id: m.rollup().to_owned(),
                    numerator: part(numerator),
                    denominator: part(denominator),
                };
                let index = match self.ratios.iter().position(|r| r.id == ratio.id) {
                    Some(i) => i,
                    None => {
                        self.ratios.push(ratio);
                        self.ratios.len() - 1
                    }
                };
                uses.ratios.push(index);
            }
        }
    }

    /// The index of the derived metric `id`, added with its feeds when new.
    fn derive(&mut self, id: &str, shape: Shape, rules: &[EventRule]) -> usize {
        if let Some(i) = self.derived.iter().position(|d| d.id == id) {
            return i;
        }
        let index = self.derived.len();
        self.derived.push(Derived {
            id: id.to_owned(),
            shape,
        });
        for (step, rule) in rules.iter().enumerate() {
            if rule.filter.is_some() || rule.property.is_some() {
                self.property_events.insert(rule.event.clone());
            }
            self.feeds
                .entry(rule.event.clone())
                .or_default()
                .push(Feed {
                    derived: index,
                    step,
                    rule: rule.clone(),
                });
        }
        index
    }

    /// Whether some metric reads the properties of events named `event` (the rollups can
    /// leave out the others').
    pub fn needs_properties(&self, event: &str) -> bool {
        self.property_events.contains(event)
    }

    /// Whether this program reads properties of an event `other` does not.
    pub fn needs_more_properties_than(&self, other: &Program) -> bool {
        !self.property_events.is_subset(&other.property_events)
    }

    /// Whether the program computes nothing beyond the events' own rows.
    pub fn is_empty(&self) -> bool {
        self.derived.is_empty() && self.ratios.is_empty()
    }

    /// The derived metrics.
    pub fn derived(&self) -> &[Derived] {
        &self.derived
    }

    /// The ratios.
    pub fn ratios(&self) -> &[Ratio] {
        &self.ratios
    }

    /// The feeds reading events named `event`.
    pub fn feeds(&self, event: &str) -> &[Feed] {
        self.feeds.get(event).map_or(&[], Vec::as_slice)
    }

    /// Every event name some feed reads, with its feeds.
    pub fn all_feeds(&self) -> impl Iterator<Item = (&str, &[Feed])> {
        self.feeds.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// What `experiment` uses.
    pub fn uses(&self, experiment: &str) -> Option<&Uses> {
        self.experiments.get(experiment)
    }

    /// Every experiment with derived metrics or ratios.
    pub fn experiments(&self) -> impl Iterator<Item = (&str, &Uses)> {
        self.experiments.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The rollup ids of a derived metric's rows: its id, or one per funnel step.
    pub fn row_ids(derived: &Derived) -> Vec<String> {
        match derived.shape {
            Shape::Funnel { steps, .. } => (0..steps).map(|k| step_id(&derived.id, k)).collect(),
            Shape::Total { .. } => vec![derived.id.clone()],
        }
    }
}

/// The start of the hour holding `ms`: quantile sketches are kept per hour.
pub fn hour(ms: i64) -> i64 {
    ms.saturating_sub(ms.rem_euclid(HOUR_MS))
}

/// An hour, in ms.
pub const HOUR_MS: i64 = 3_600_000;

/// A unit value with an optional cap applied.
pub fn capped(value: f64, cap: Option<f64>) -> f64 {
    match cap {
        Some(c) if value > c => c,
        _ => value,
    }
}
