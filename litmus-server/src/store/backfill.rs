//! Derived metrics recomputed from the stored events: when the metric program asks for a
//! metric of an experiment whose rows the rollups do not hold (a new metric, a changed
//! definition, which has a new rollup id, or one used again after a while), the worker
//! recomputes its rows and its units' values from every applied event of the experiment's
//! units, in the order they were applied, before the round's own batches.
//!
//! The store keeps which (experiment, metric) rows it holds in `metric_rows`, with the
//! retention cutoff in force when they were recomputed (`since_ms`: events before it were
//! deleted, so the rows count what was left; `None`: complete). A pair the program no longer
//! asks for is forgotten; asked for again, its stale rows are deleted and recomputed.
//!
//! The recomputation runs core's rules on scratch unit states holding only those units
//! (`litmus_core::events::unit_state::Round` with the whole program), then keeps the rows of
//! the pairs being recomputed, and hands their units' values to the worker's cache
//! (`RollupCache::absorb`).

use std::collections::{BTreeSet, HashMap};

use litmus_core::events::derived::Bound;
use litmus_core::events::unit_state::{Names, Round, UnitState};
use litmus_core::events::{Event, EventKind};
use litmus_core::metrics::Program;

use super::unit_state::SketchKey;

/// An (experiment, metric rollup id) pair of rows.
pub(crate) type Pair = (String, String);

/// The pairs `program` computes: each experiment's derived metrics and ratios.
pub(crate) fn required(program: &Program) -> BTreeSet<Pair> {
    let mut out = BTreeSet::new();
    for (experiment, uses) in program.experiments() {
        for &d in &uses.derived {
            if let Some(derived) = program.derived().get(d) {
                out.insert((experiment.to_owned(), derived.id.clone()));
            }
        }
        for &r in &uses.ratios {
            if let Some(ratio) = program.ratios().get(r) {
                out.insert((experiment.to_owned(), ratio.id.clone()));
            }
        }
    }
    out
}

/// The rollup ids of a pair's rows: its id, or one per funnel step.
pub(crate) fn row_ids(program: &Program, id: &str) -> Vec<String> {
    program
        .derived()
        .iter()
        .find(|d| d.id == id)
        .map_or_else(|| vec![id.to_owned()], Program::row_ids)
}

/// What a round does about the pairs: the ones to recompute (the program asks for them and
/// the rollups do not hold them) and the ones to forget (held, no longer asked for).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Plan {
    /// To recompute.
    pub(crate) missing: BTreeSet<Pair>,
    /// To forget.
    pub(crate) stale: Vec<Pair>,
}

/// The plan for `program` when the rollups hold `known`.
pub(crate) fn plan(program: &Program, known: &BTreeSet<Pair>) -> Plan {
    let required = required(program);
    Plan {
        missing: required.difference(known).cloned().collect(),
        stale: known.difference(&required).cloned().collect(),
    }
}

impl Plan {
    /// The experiments whose units' events a recomputation reads, each once.
    pub(crate) fn experiments(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.missing.iter().map(|(e, _)| e).collect();
        set.into_iter().cloned().collect()
    }
}

/// What a round writes about the pairs, besides their rows (which join the round's rows).
#[derive(Debug, Default)]
pub(crate) struct Writes {
    /// Pairs recomputed: their old rows are deleted first (row ids of each), and they are
    /// recorded with `since_ms`.
    pub(crate) recomputed: Vec<(String, String, Vec<String>)>,
    /// Pairs forgotten.
    pub(crate) stale: Vec<Pair>,
    /// The retention cutoff in force (events before it were deleted), if any.
    pub(crate) since_ms: Option<i64>,
    /// The segments' subjects of each recomputed experiment, whose rows of the pairs are
    /// deleted too (`litmus_core::segments`).
    pub(crate) subjects: std::collections::BTreeMap<String, Vec<String>>,
}

impl Writes {
    /// The names whose rows of `experiment`'s recomputed pairs are deleted: the experiment
    /// and its segments' subjects.
    pub(crate) fn names_of<'a>(&'a self, experiment: &'a str) -> impl Iterator<Item = &'a str> {
        std::iter::once(experiment).chain(
            self.subjects
                .get(experiment)
                .into_iter()
                .flatten()
                .map(String::as_str),
        )
    }
}

/// `batches` with the first exposures (experiment, unit, variant, first ms) the events no
/// longer hold (retention deleted them) put before them, so every exposed unit counts.
pub(crate) fn with_exposures(
    batches: Vec<Vec<Event>>,
    first: Vec<(String, String, String, i64)>,
) -> Vec<Vec<Event>> {
    let stored: std::collections::HashSet<(&str, &str)> = batches
        .iter()
        .flatten()
        .filter_map(|e| match &e.kind {
            EventKind::Exposure { experiment, .. } => {
                Some((experiment.as_str(), e.unit_id.as_str()))
            }
            EventKind::Track { .. } => None,
        })
        .collect();
    let missing: Vec<Event> = first
        .into_iter()
        .filter(|(e, u, _, _)| !stored.contains(&(e.as_str(), u.as_str())))
        .map(|(experiment, unit_id, variant, first_ms)| Event {
            message_id: String::new(),
            unit_id,
            time: litmus_core::Timestamp::from_unix_millis(first_ms),
            client_time: None,
            // Its dimension values went with its events: the unit counts as missing them.
            kind: EventKind::Exposure {
                experiment,
                variant,
                dimensions: Vec::new(),
            },
        })
        .collect();
    if missing.is_empty() {
        return batches;
    }
    std::iter::once(missing).chain(batches).collect()
}

impl Writes {
    /// What a round writes for `plan`, recomputed with retention cutoff `since_ms`.
    pub(crate) fn of(program: &Program, plan: Plan, since_ms: Option<i64>) -> Self {
        Writes {
            recomputed: plan
                .missing
                .iter()
                .map(|(e, id)| (e.clone(), id.clone(), row_ids(program, id)))
                .collect(),
            stale: plan.stale,
            since_ms,
            subjects: std::collections::BTreeMap::new(),
        }
    }
}

/// What a recomputation gives: the rows of its pairs and their units' values.
#[derive(Debug, Default)]
pub(crate) struct Recomputed {
    /// The pairs recomputed.
    pub(crate) pairs: Vec<Pair>,
    /// Their rows: (experiment, variant, metric row id, minute) and what to add.
    pub(crate) metrics: Vec<crate::store::unit_state::MetricRow>,
    /// Their sketch rows.
    pub(crate) sketches: Vec<(SketchKey, i64)>,
    /// Per unit, its recomputed state (names as text): the pairs' values and the histories of
    /// their metrics.
    pub(crate) units: HashMap<String, UnitValues>,
}

/// A unit's recomputed values of the pairs: (experiment, metric) to (events, total,
/// covariate), and metric to its history.
#[derive(Debug, Default)]
pub(crate) struct UnitValues {
    /// The pairs' running figures.
    pub(crate) totals: Vec<(String, String, u64, f64, f64)>,
    /// The histories of the pairs' metrics.
    pub(crate) history: Vec<(String, f64)>,
}

/// Recomputes `pairs` from `batches`: every applied batch's events of the pairs' experiments'
/// units, in applied order, attributing within `window_ms`, with the segments' values `book`
/// admits (the rollups' own, so each unit lands in the segments it has). The rows and values
/// of the pairs' experiments' segments are recomputed with them.
pub(crate) fn recompute(
    program: &Program,
    pairs: &BTreeSet<Pair>,
    batches: &[Vec<Event>],
    window_ms: i64,
    mut book: litmus_core::segments::SegmentBook,
) -> Recomputed {
    let mut names = Names::default();
    let bound = Bound::new(program, &mut names);
    let mut units: HashMap<String, UnitState> = HashMap::new();
    let mut round = Round::default();
    for batch in batches {
        round.apply_with(&bound, &mut book, &mut names, &mut units, batch, window_ms);
    }
    let of = |name: String| litmus_core::segments::experiment_of(&name).to_owned();
    let text = |id: u32| names.name(id).to_owned();
    // Row ids to the pair they belong to.
    let mut rows_of: HashMap<(String, String), ()> = HashMap::new();
    for (experiment, id) in pairs {
        for row in row_ids(program, id) {
            rows_of.insert((experiment.clone(), row), ());
        }
    }
    let mut out = Recomputed {
        pairs: pairs.iter().cloned().collect(),
        ..Recomputed::default()
    };
    for ((e, v, k, m), r) in round.metrics {
        if rows_of.contains_key(&(of(text(e)), text(k))) {
            out.metrics.push(((text(e), text(v), text(k), m), r));
        }
    }
    for ((e, v, k, h, b), n) in round.sketches {
        if n != 0 && rows_of.contains_key(&(of(text(e)), text(k))) {
            out.sketches.push(((text(e), text(v), text(k), h, b), n));
        }
    }
    let metrics: BTreeSet<&str> = pairs.iter().map(|(_, id)| id.as_str()).collect();
    for (unit, state) in units {
        let mut values = UnitValues::default();
        for t in &state.totals {
            let (e, m) = (text(t.experiment), text(t.metric));
            if pairs.contains(&(of(e.clone()), m.clone())) {
                values.totals.push((e, m, t.events, t.total, t.covariate));
            }
        }
        for &(m, x) in &state.history {
            let m = text(m);
            if metrics.contains(m.as_str()) {
                values.history.push((m, x));
            }
        }
        out.units.insert(unit, values);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use litmus_core::Timestamp;
    use litmus_core::events::EventKind;
    use serde_json::json;

    fn program() -> Program {
        let config: litmus_core::config::wire::WireConfig = serde_json::from_value(json!({
            "schema_version": 1,
            "metrics": [{"key": "big", "kind": "mean", "event": "buy", "cap": {"absolute": 5}}],
            "experiments": [{"key": "e", "variants": [{"key": "a"}],
                             "metrics": [{"metric": "big"}, {"key": "buy", "kind": "mean"}]}]
        }))
        .unwrap();
        Program::from_config(&config)
    }

    fn event(unit: &str, t: i64, kind: EventKind) -> Event {
        Event {
            message_id: format!("{unit}-{t}"),
            unit_id: unit.into(),
            time: Timestamp::from_unix_millis(t),
            client_time: None,
            kind,
        }
    }

    #[test]
    fn a_recomputation_keeps_only_its_pairs_rows_and_values() {
        let p = program();
        let pairs = required(&p);
        assert_eq!(pairs.len(), 1, "the plain metric has the event's own rows");
        let buy = |unit: &str, t: i64, value: f64| {
            event(
                unit,
                t,
                EventKind::Track {
                    event: "buy".into(),
                    value,
                    properties: None,
                },
            )
        };
        let expose = event(
            "u",
            10,
            EventKind::Exposure {
                experiment: "e".into(),
                variant: "a".into(),
                dimensions: Vec::new(),
            },
        );
        let batches = vec![
            vec![buy("u", 1, 2.0)],
            vec![expose],
            vec![buy("u", 20, 9.0)],
        ];
        let r = recompute(&p, &pairs, &batches, i64::MAX, Default::default());
        assert_eq!(r.metrics.len(), 1);
        let row = r.metrics[0].1;
        assert_eq!((row.sum, row.covariate_sum), (5.0, 2.0), "capped at 5");
        let u = &r.units["u"];
        assert_eq!(u.totals.len(), 1);
        assert_eq!((u.totals[0].2, u.totals[0].3, u.totals[0].4), (1, 9.0, 2.0));
        assert_eq!(u.history[0].1, 11.0);
    }
}
