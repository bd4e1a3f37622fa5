//! One metric's data for one variant, read from its totals by kind, and what the comparison
//! of two variants needs from them.
//!
//! - Conversion, retention and funnel steps are rates: units with an event over the units the
//!   metric counts (all exposed units; a retention metric's matured cohorts).
//! - Means are the moments of the units' (capped) values.
//! - Quantiles are a sketch of the values ranked (events', or units' with zeros for units
//!   without events).
//! - Ratios are the joint moments of the per-unit denominators and numerators (Deng, Knoblich,
//!   Lu 2018), from the parts' rows and the ratio's cross-product rows.

use super::spec::{MetricKind, MetricSpec};
use super::totals::VariantTotals;
use crate::error::Error;
use crate::events::MetricRollup;
use crate::stats::sketch::QuantileSketch;
use crate::stats::summary::{CoMoments, Moments, Proportion};

/// A metric's data for one variant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Figures {
    /// Units with an event over units counted.
    Rate(Proportion),
    /// The moments of the per-unit values.
    Mean(Moments),
    /// Per unit: denominator (x) and numerator (y).
    Ratio(CoMoments),
    /// The sketch of the values a quantile ranks, and the quantile.
    Quantile(QuantileSketch, f64),
}

/// The rollup of `id` in `totals` (zero when it has no rows).
pub(crate) fn rows(totals: &VariantTotals, id: &str) -> MetricRollup {
    totals.metrics.get(id).copied().unwrap_or_default()
}

/// The conversions of a variant: units with an event, over the `n` units counted (capped: a
/// unit is only counted after its exposure).
pub(crate) fn proportion(n: u64, data: &MetricRollup) -> Proportion {
    Proportion::new(data.units.min(n), n).unwrap_or_default()
}

/// The moments of the per-unit values over the `n` units counted (zeros included).
pub(crate) fn moments_of(n: u64, sum: f64, sum_squares: f64) -> Result<Moments, Error> {
    if n == 0 {
        return Ok(Moments::new());
    }
    let mean = sum / n as f64;
    // Σx² - (Σx)²/n, never negative (cancellation can make it slightly so).
    let m2 = (sum_squares - sum * mean).max(0.0);
    Moments::from_parts(n, mean, m2)
}

/// The joint moments of (x, y) over `n` units from their sums, sums of squares and Σxy.
pub(crate) fn co_moments_of(
    n: u64,
    (sx, sxx): (f64, f64),
    (sy, syy): (f64, f64),
    sxy: f64,
) -> Result<CoMoments, Error> {
    if n < 2 {
        return Err(Error::degenerate("a ratio metric needs at least 2 units"));
    }
    let nf = n as f64;
    let (mx, my) = (sx / nf, sy / nf);
    let m2x = (sxx - sx * mx).max(0.0);
    let m2y = (syy - sy * my).max(0.0);
    // Rounding may push the co-moment a hair past Cauchy-Schwarz.
    let bound = (m2x * m2y).sqrt();
    let cxy = (sxy - sx * my).clamp(-bound, bound);
    CoMoments::from_parts(n, mx, my, m2x, m2y, cxy)
}

/// The rollup id of what `spec` reads at funnel step `step` (its own id otherwise).
pub(crate) fn step_rollup(spec: &MetricSpec, step: Option<usize>) -> String {
    match step {
        Some(k) => crate::metrics::step_id(spec.rollup(), k),
        None => spec.rollup().to_owned(),
    }
}

/// The figures of `spec` (at funnel step `step`) for one variant.
pub(crate) fn figures(
    totals: &VariantTotals,
    spec: &MetricSpec,
    step: Option<usize>,
) -> Result<Figures, Error> {
    let id = step_rollup(spec, step);
    let data = rows(totals, &id);
    match spec.kind {
        MetricKind::Conversion | MetricKind::Retention | MetricKind::Funnel => {
            Ok(Figures::Rate(proportion(totals.units_for(&id), &data)))
        }
        MetricKind::Mean => Ok(Figures::Mean(moments_of(
            totals.units,
            data.sum,
            data.sum_squares,
        )?)),
        MetricKind::Ratio => {
            let (Some(num), Some(den)) = (&spec.source.numerator, &spec.source.denominator) else {
                return Err(Error::argument(
                    "metrics",
                    format!("ratio {:?} names no numerator and denominator", spec.key),
                ));
            };
            let (y, x) = (rows(totals, num), rows(totals, den));
            Ok(Figures::Ratio(co_moments_of(
                totals.units,
                (x.sum, x.sum_squares),
                (y.sum, y.sum_squares),
                data.cross,
            )?))
        }
        MetricKind::Quantile => {
            let q = spec.source.quantile.ok_or_else(|| {
                Error::argument(
                    "metrics",
                    format!("quantile {:?} names no quantile", spec.key),
                )
            })?;
            let mut sketch = totals.sketches.get(&id).cloned().unwrap_or_default();
            if spec.source.unit_quantile {
                // Units without events are worth 0.
                let n = totals.units_for(&id);
                sketch.add_zeros(n.saturating_sub(data.units))?;
            }
            Ok(Figures::Quantile(sketch, q))
        }
    }
}
