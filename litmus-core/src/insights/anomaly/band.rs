//! The band a point is judged against: the floors on the spread, the skew term of counts,
//! and the verdict.

use super::{Anomaly, Direction, Method};
use crate::error::Error;

/// The relative floor on the spread, against floating-point noise in constant series.
const RELATIVE_FLOOR: f64 = 1e-9;

/// How a detector turns a baseline and a raw spread into a band: the options both share.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scale {
    threshold: f64,
    min_spread: f64,
    counts: bool,
}

/// A band, ready to judge one point.
#[derive(Debug, Clone, Copy)]
pub(super) struct Band {
    baseline: f64,
    pub(super) spread: f64,
    center: f64,
    lower: f64,
    upper: f64,
}

impl Scale {
    /// The options checked: a finite threshold > 0, a finite `min_spread` >= 0.
    pub(super) fn new(threshold: f64, min_spread: f64, counts: bool) -> Result<Self, Error> {
        if !(threshold.is_finite() && threshold > 0.0) {
            return Err(Error::argument(
                "threshold",
                format!("{threshold} must be finite and > 0"),
            ));
        }
        if !(min_spread.is_finite() && min_spread >= 0.0) {
            return Err(Error::argument(
                "min_spread",
                format!("{min_spread} must be finite and >= 0"),
            ));
        }
        Ok(Scale {
            threshold,
            min_spread,
            counts,
        })
    }

    /// The spread with every floor applied (never NaN: `f64::max` ignores a NaN operand).
    pub(super) fn spread(&self, baseline: f64, raw: f64) -> f64 {
        let poisson = if self.counts {
            baseline.max(1.0).sqrt()
        } else {
            0.0
        };
        raw.max(poisson)
            .max(self.min_spread)
            .max(RELATIVE_FLOOR * baseline.abs().max(1.0))
    }

    /// The band around `baseline` (plus the skew term for counts), `threshold` floored
    /// spreads wide on each side.
    pub(super) fn band(&self, baseline: f64, raw_spread: f64) -> Band {
        let spread = self.spread(baseline, raw_spread);
        let skew = if self.counts {
            ((self.threshold * self.threshold - 1.0) / 6.0).max(0.0)
        } else {
            0.0
        };
        let center = finite(baseline + skew);
        let half = self.threshold * spread;
        Band {
            baseline,
            spread,
            center,
            lower: finite(center - half),
            upper: finite(center + half),
        }
    }
}

impl Band {
    /// The alarm for `value` at `index`, if it is one, and the value clipped to the band.
    pub(super) fn judge(&self, index: usize, value: f64, threshold: f64, method: Method) -> Judged {
        let score = finite((value - self.center) / self.spread);
        let clipped = value.max(self.lower).min(self.upper);
        let anomaly = (score.abs() > threshold).then_some(Anomaly {
            index,
            value,
            baseline: self.baseline,
            spread: self.spread,
            lower: self.lower,
            upper: self.upper,
            score,
            direction: if score > 0.0 {
                Direction::Spike
            } else {
                Direction::Drop
            },
            method,
        });
        Judged { anomaly, clipped }
    }
}

/// A judged point.
pub(super) struct Judged {
    pub(super) anomaly: Option<Anomaly>,
    pub(super) clipped: f64,
}

/// `x` clamped to the finite range: overflow to ±∞ becomes ±`f64::MAX` (NaN cannot arise
/// from checked input; it would become 0 rather than escape).
fn finite(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-f64::MAX, f64::MAX)
    }
}
