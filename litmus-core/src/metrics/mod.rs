//! Metrics: the catalogue of definitions, what each computes, and the program the rollups run
//! to keep the figures of every metric an experiment uses.
//!
//! - [`definition`]: a definition as written (`docs/metrics.md`): a source event with an
//!   optional filter on its properties and a numeric property as its value, an aggregation
//!   per unit (`sum`, `count`, `unique`, `max`), a kind (conversion, mean, ratio, quantile,
//!   retention, funnel), a window after the exposure, a cap, a goal, a guardrail flag and a
//!   display format.
//! - [`compile`](mod@compile): definitions checked (every error names its field) into
//!   [`Metric`]s, each with the rollup id its rows carry.
//! - [`Catalogue`]: the config document's metrics by key, and the experiments' metric lists
//!   resolved against it.
//! - [`program`]: what the rollup worker computes per event for the metrics in use.

pub mod compile;
pub mod definition;
pub mod program;

use std::collections::HashMap;

pub use compile::{Cap, DERIVED_PREFIX, EventRule, Filter, Metric, Rule, Window, step_id};
pub use definition::{
    Aggregation, Format, MetricDefinition, MetricReference, QuantileLevel, WireCap, WireStep,
    WireWindow,
};
pub use program::Program;

use crate::config::wire::WireMetric;
use crate::error::{Error, FieldPath};
use crate::results::MetricKind;

/// The most metrics in the catalogue.
pub const MAX_CATALOGUE: usize = 1_000;

/// Validates a metric catalogue as the admin API does (`PUT /admin/metrics/KEY` validates the
/// document it would publish with [`crate::config::validate_strict`]): `text` is the JSON of an
/// array of definitions, checked strictly (unknown fields are errors) as the `metrics` of a
/// config document, so codes, messages and paths (`metrics[revenue].cap.absolute`) are the
/// server's. Returns the compiled metrics in the order written; several problems are one
/// [`Error::Multiple`].
pub fn validate_catalogue(text: &str) -> Result<Vec<Metric>, Error> {
    use crate::config::{compile, parse};
    let value = crate::config::strict_value(text)?;
    let document = serde_json::json!({
        "schema_version": crate::config::SCHEMA_VERSION,
        "metrics": value,
    });
    // The strict check of the whole document (as `validate_strict`, without building the wire
    // form, which would cost the engine's WebAssembly module its whole decoder).
    let compiled = compile::compile(parse::parse_value(document.clone())?);
    crate::config::strict_result(&compiled)?;
    // Valid: the catalogue once more, for its metrics in the order written.
    let items: Vec<_> = parse::parse_value(document)?
        .metrics
        .into_iter()
        .map(|d| (d.path, d.value))
        .collect();
    let keys: Vec<String> = items
        .iter()
        .filter_map(|(_, d)| d.as_ref().ok().map(|d| d.key.clone()))
        .collect();
    let (catalogue, problems) = Catalogue::from_decoded(items, &mut Vec::new());
    if let Some(e) = Error::from_list(problems) {
        return Err(e);
    }
    Ok(keys
        .iter()
        .filter_map(|k| catalogue.get(k).cloned())
        .collect())
}

/// The catalogue's metrics, checked, by key.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    metrics: HashMap<String, Metric>,
    order: Vec<String>,
}

impl Catalogue {
    /// Checks and compiles the catalogue's definitions (at `metrics[KEY]` under the document's
    /// root): keys unique, ratios over metrics of the catalogue. Every problem is listed.
    pub fn compile(definitions: &[MetricDefinition]) -> (Self, Vec<Error>) {
        let root = FieldPath::root().field("metrics");
        let items = definitions
            .iter()
            .map(|d| (root.item(&d.key), Ok(d.clone())))
            .collect();
        let mut unknown = Vec::new();
        let (catalogue, mut problems) = Catalogue::from_decoded(items, &mut unknown);
        problems.extend(unknown.into_iter().map(|path| Error::UnknownField { path }));
        (catalogue, problems)
    }

    /// [`Catalogue::compile`] over definitions decoded one by one (each with its path), adding
    /// the paths of fields no schema defines to `unknown`.
    pub(crate) fn from_decoded(
        items: Vec<(FieldPath, Result<MetricDefinition, Error>)>,
        unknown: &mut Vec<FieldPath>,
    ) -> (Self, Vec<Error>) {
        let mut out = Catalogue::default();
        let mut problems = Vec::new();
        if items.len() > MAX_CATALOGUE {
            problems.push(Error::LimitExceeded {
                path: FieldPath::root().field("metrics"),
                message: format!("more than {MAX_CATALOGUE} metrics"),
            });
            return (out, problems);
        }
        let mut decoded = Vec::with_capacity(items.len());
        for (path, item) in items {
            match item {
                Ok(d) => {
                    unknown.extend(d.unknown_paths(&path));
                    decoded.push((path, d));
                }
                Err(e) => problems.push(e),
            }
        }
        // Ratios divide other metrics: those first.
        let (ratios, others): (Vec<_>, Vec<_>) = decoded
            .iter()
            .partition(|(_, d)| d.kind == MetricKind::Ratio);
        let mut seen = std::collections::HashSet::new();
        for (at, d) in others.into_iter().chain(ratios) {
            if !seen.insert(d.key.clone()) {
                problems.push(Error::DuplicateKey {
                    path: at.field("key"),
                    key: d.key.clone(),
                });
                continue;
            }
            match compile::compile(d, at, &out.metrics, true) {
                Ok(m) => {
                    out.order.push(d.key.clone());
                    out.metrics.insert(d.key.clone(), m);
                }
                Err(e) => problems.push(e),
            }
        }
        (out, problems)
    }

    /// The metric with `key`.
    pub fn get(&self, key: &str) -> Option<&Metric> {
        self.metrics.get(key)
    }

    /// Every metric, in the catalogue's order (ratios last).
    pub fn iter(&self) -> impl Iterator<Item = &Metric> {
        self.order.iter().filter_map(|k| self.metrics.get(k))
    }

    /// An experiment's metric list (`path`: its `metrics`) resolved: references looked up in
    /// the catalogue (with this experiment's goal and guardrail), inline definitions compiled.
    pub fn resolve(&self, list: &[WireMetric], path: &FieldPath) -> Result<Vec<Metric>, Error> {
        let mut out: Vec<Metric> = Vec::with_capacity(list.len());
        for (i, m) in list.iter().enumerate() {
            let at = path.item(i);
            let metric = match m {
                WireMetric::Reference(r) => self
                    .get(&r.metric)
                    .ok_or_else(|| Error::UnknownReference {
                        path: at.field("metric"),
                        key: r.metric.clone(),
                    })?
                    .clone()
                    .with_role(r.goal, r.guardrail),
                WireMetric::Inline(d) => compile::compile(d, &at, &self.metrics, false)?,
            };
            if out
                .iter()
                .any(|o| o.key() == metric.key() && o.kind() == metric.kind())
            {
                let field = if matches!(m, WireMetric::Reference(_)) {
                    "metric"
                } else {
                    "key"
                };
                return Err(Error::DuplicateKey {
                    path: at.field(field),
                    key: metric.key().to_owned(),
                });
            }
            out.push(metric);
        }
        Ok(out)
    }
}
