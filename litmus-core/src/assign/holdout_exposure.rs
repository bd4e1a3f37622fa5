//! Holdout exposures: what a holdout's readout compares. A unit a holdout holds out of an
//! experiment is logged as an exposure to the holdout's `holdout` arm; a unit that enters an
//! experiment a holdout covers, as an exposure to its `exposed` arm. Their rows are kept under
//! the holdout's subject (`holdout!KEY`, a name no experiment key can take), so the rollups and
//! results treat a holdout as an experiment with these two arms.

use super::{Engine, Reason};

/// The arm of the units a holdout holds out.
pub const HELD_OUT: &str = "holdout";
/// The arm of the units that entered an experiment the holdout covers.
pub const EXPOSED: &str = "exposed";
/// Between `holdout` and the holdout's key in its subject: a character keys cannot hold.
const MARK: &str = "holdout!";

/// The name a holdout's rows are kept under: `holdout!KEY`.
pub fn subject(holdout: &str) -> String {
    let mut s = String::with_capacity(MARK.len() + holdout.len());
    s.push_str(MARK);
    s.push_str(holdout);
    s
}

/// The holdout a rollup name belongs to, for a holdout's subject.
pub fn holdout_of(name: &str) -> Option<&str> {
    name.strip_prefix(MARK)
}

impl Engine {
    /// The holdout exposures of `unit`'s assignment to `experiment` (its `reason`): for a
    /// unit held out, the holdout that held it out and [`HELD_OUT`]; for a unit in the
    /// experiment, each holdout covering it and [`EXPOSED`]; none otherwise (a unit outside
    /// the targeting or the traffic is in neither arm). SDKs log each once per unit.
    pub fn holdout_exposures(
        &self,
        experiment: &str,
        unit: &str,
        reason: Reason,
    ) -> Vec<(&str, &'static str)> {
        let Some(exp) = self.experiment(experiment) else {
            return Vec::new();
        };
        let holdouts = exp.holdouts.iter().filter_map(|&h| self.holdouts.get(h));
        match reason {
            Reason::Holdout => holdouts
                .filter(|h| h.holds_out(unit))
                .take(1)
                .map(|h| (&*h.key, HELD_OUT))
                .collect(),
            Reason::Assigned | Reason::Sticky => holdouts.map(|h| (&*h.key, EXPOSED)).collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::NoAttributes;

    #[test]
    fn held_out_units_and_exposed_units_are_each_in_one_arm() {
        let config = serde_json::json!({
            "schema_version": 1,
            "experiments": [
                {"key": "a", "status": "running", "variants": [{"key": "x"}]},
                {"key": "b", "status": "running", "variants": [{"key": "x"}],
                 "targeting": {"attribute": "plan", "op": "eq", "value": "pro"}}
            ],
            "holdouts": [{"key": "h", "share": 0.2, "all": true}]
        });
        let engine = Engine::from_json(&config.to_string()).unwrap();
        let (mut held, mut exposed) = (0, 0);
        for i in 0..2_000 {
            let unit = format!("u{i}");
            let a = engine.assign_at("a", &unit, &NoAttributes, None);
            let got = engine.holdout_exposures("a", &unit, a.reason());
            match a.reason() {
                Reason::Holdout => {
                    assert_eq!(got, vec![("h", HELD_OUT)]);
                    held += 1;
                }
                Reason::Assigned => {
                    assert_eq!(got, vec![("h", EXPOSED)]);
                    exposed += 1;
                }
                other => panic!("{other:?}"),
            }
            // Outside the targeting: in neither arm.
            let b = engine.assign_at("b", &unit, &NoAttributes, None);
            assert!(engine.holdout_exposures("b", &unit, b.reason()).is_empty());
        }
        assert!((350..450).contains(&held), "{held}");
        assert_eq!(held + exposed, 2_000);
        assert!(
            engine
                .holdout_exposures("nope", "u", Reason::Assigned)
                .is_empty()
        );
        assert_eq!(holdout_of(&subject("h")), Some("h"));
        assert_eq!(holdout_of("a"), None);
    }
}
