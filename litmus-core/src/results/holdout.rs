//! What a holdout's readout covers: its two arms (`holdout`, the units it held out, as the
//! control; `exposed`, the units that entered an experiment it covers) and the metrics of the
//! experiments it covers, each once (`crate::assign::holdout_exposure`).

use super::plan::Plan;
use super::spec::MetricSpec;
use crate::Engine;
use crate::assign::holdout_exposure::{EXPOSED, HELD_OUT};

/// The readout plan of holdout `key`, and the experiments it covers (in config order); `None`
/// when the config has no valid holdout `key`.
pub fn plan(engine: &Engine, key: &str) -> Option<(Plan, Vec<String>)> {
    let (index, holdout) = engine
        .holdouts
        .iter()
        .enumerate()
        .find(|(_, h)| &*h.key == key)?;
    let share = holdout.share();
    let mut covered = Vec::new();
    let mut metrics: Vec<MetricSpec> = Vec::new();
    for (name, experiment) in engine.experiments() {
        let Ok(experiment) = experiment else { continue };
        if !experiment.holdouts.contains(&index) {
            continue;
        }
        covered.push(name.to_owned());
        for m in experiment.metrics() {
            if !metrics.iter().any(|x| x.key == m.key && x.kind == m.kind) {
                metrics.push(m.clone());
            }
        }
    }
    let plan = Plan {
        variants: vec![
            (HELD_OUT.to_owned(), share),
            (EXPOSED.to_owned(), 1.0 - share),
        ],
        metrics,
        // The exposed arm is the units that entered an experiment, not a random share.
        check_srm: false,
    };
    Some((plan, covered))
}
