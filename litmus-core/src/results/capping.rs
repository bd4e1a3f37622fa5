//! Percentile caps (winsorization, as GrowthBook's and Statsig's capping): a metric's unit
//! values above the `p` quantile of the values of the units with an event, pooled across
//! variants, count as that quantile. The cap depends on all the data, so it is computed from
//! the units' records when the results are, and applied the same way to the means, variances,
//! CUPED covariates and the series (see `crate::results::Timeline::set_unit_values`).

use crate::error::Error;
use crate::stats::quantile::exact_quantile;

/// One exposed unit's figures on a metric.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitValue {
    /// The variant it was first exposed to.
    pub variant: String,
    /// When, in ms since the Unix epoch.
    pub first_ms: i64,
    /// Its attributed events (0: the unit has no value, it counts as 0).
    pub events: u64,
    /// Its value, uncapped.
    pub total: f64,
    /// Its value before its exposure (CUPED's covariate), uncapped.
    pub covariate: f64,
}

/// The cap at the `p` quantile (`numpy.quantile(values, p, method="lower")`) of the values of
/// the units with an event, pooled across variants; `None` when no unit has an event.
pub fn percentile_cap(units: &[UnitValue], p: f64) -> Result<Option<f64>, Error> {
    if !(p > 0.0 && p < 1.0) {
        return Err(Error::argument("p", format!("{p} must be in (0, 1)")));
    }
    let values: Vec<f64> = units
        .iter()
        .filter(|u| u.events > 0)
        .map(|u| u.total)
        .collect();
    if values.is_empty() {
        return Ok(None);
    }
    exact_quantile(&values, p).map(Some)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::float_cmp)]
    use super::*;
    use crate::results::Timeline;

    fn unit(variant: &str, first_ms: i64, events: u64, total: f64, covariate: f64) -> UnitValue {
        UnitValue {
            variant: variant.into(),
            first_ms,
            events,
            total,
            covariate,
        }
    }

    #[test]
    fn the_cap_is_a_quantile_of_the_units_with_events_and_applies_everywhere() {
        let units = vec![
            unit("a", 0, 1, 10.0, 50.0),
            unit("a", 0, 0, 0.0, 0.0),
            unit("b", 60_000, 2, 1_000.0, 0.0),
            unit("b", 120_000, 1, 30.0, 5.0),
        ];
        // Values with events: 10, 1000, 30; the lower 0.5 quantile is 30.
        let cap = percentile_cap(&units, 0.5).unwrap().unwrap();
        assert_eq!(cap, 30.0);
        let mut t = Timeline::new(vec![("a".into(), 1.0), ("b".into(), 1.0)]);
        t.add_exposures("a", 0, 2);
        t.add_exposures("b", 60_000, 1);
        t.add_exposures("b", 120_000, 1);
        t.set_unit_values("m", &units, cap, 60_000);
        let all = t.totals(None);
        assert_eq!(all[0].metrics["m"].sum, 10.0);
        assert_eq!(
            all[0].metrics["m"].covariate_sum, 30.0,
            "the covariate is capped too"
        );
        assert_eq!(all[1].metrics["m"].sum, 60.0);
        assert_eq!(all[1].metrics["m"].sum_squares, 1_800.0);
        assert_eq!(all[1].caps["m"], 30.0);
        // Up to a time: the units exposed by then.
        let early = t.totals(Some(60_000));
        assert_eq!(early[1].metrics["m"].sum, 30.0);
        assert_eq!(percentile_cap(&units[1..2], 0.5).unwrap(), None);
        assert!(percentile_cap(&units, 1.0).is_err());
    }
}
