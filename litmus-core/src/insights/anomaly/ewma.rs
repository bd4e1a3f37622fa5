//! The EWMA detector: each point against an exponentially weighted mean and variance.

use super::band::Scale;
use super::estimate::{HUBER_K, HUBER_KAPPA, Robust, clip};
use super::{Anomaly, Method, check_series, check_weight};
use crate::error::Error;

/// Options of [`ewma`]. Fields are public; [`ewma`] validates them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EwmaOptions {
    /// The mean's smoothing weight, in (0, 1] (default 0.1: the mean remembers about
    /// `(2 - λ) / λ` = 19 points; larger follows faster and forgives more).
    pub lambda: f64,
    /// The variance's smoothing weight, in (0, 1] (default 0.02, about 100 points: a slow
    /// variance keeps the band's width steady, so the threshold means what it says).
    pub variance_lambda: f64,
    /// A point alarms when its |score| exceeds this (finite, > 0; default 5).
    pub threshold: f64,
    /// The first points, which only teach the baseline (at least 3; default 30).
    pub warmup: usize,
    /// The least spread, in the series' units (finite, >= 0; default 0).
    pub min_spread: f64,
    /// The values are event counts: Poisson floor on the spread and skew term on the band
    /// (see the [module documentation](super); default false).
    pub counts: bool,
}

impl Default for EwmaOptions {
    fn default() -> Self {
        EwmaOptions {
            lambda: 0.1,
            variance_lambda: 0.02,
            threshold: 5.0,
            warmup: 30,
            min_spread: 0.0,
            counts: false,
        }
    }
}

impl EwmaOptions {
    /// The defaults with `counts` on, for series of event counts per minute.
    pub fn for_counts() -> Self {
        EwmaOptions {
            counts: true,
            ..EwmaOptions::default()
        }
    }
}

/// EWMA anomalies of `series` (one value per minute, in time order).
///
/// The first `warmup` points set the baseline: their median plus the mean of their
/// deviations clipped to ±2 robust spreads, and the variance from those clipped deviations
/// (the one Huber step of the [module documentation](super)). From then on each point is
/// judged against the one-step-ahead forecast: baseline = the weighted mean `m`, spread = the
/// square root of the weighted variance `v` of past forecast errors (floored as the module
/// documentation describes), and it alarms when `|value - center| / spread > threshold`.
/// Then every point, flagged or not, updates the state with its deviation `d = value - m`
/// clipped to ±2 spreads (a Huber update): `m += λ d`, `v += w (d² / κ - v)` with
/// `w = max(variance_lambda, 1 / points seen)` and κ = 0.9205 correcting for the clipping.
///
/// So a spike moves the mean by at most 0.2 spreads and widens the spread by about 3%; a
/// lasting change of level alarms for its first points (about 8 for a shift of 8 sd) while
/// the mean moves and the variance grows to take it in, then is the baseline, with a wider
/// band for the next hundred or so points while the variance forgets the step.
///
/// False alarms per point on independent noise, after the warm-up (default options
/// otherwise; 10⁷ points each; the normal two-sided tail in brackets). The in-control average
/// run length is about the inverse: 420,000 points (290 days of minutes) at the default.
///
/// | threshold | Gaussian | Poisson, mean 3 (`for_counts`) |
/// |---|---|---|
/// | 3 | 3.4e-3 (2.7e-3) | 1.2e-3 |
/// | 4 | 1.2e-4 (6.3e-5) | 2.5e-5 |
/// | 5 (default) | 2.4e-6 (5.7e-7) | 2e-7 |
///
/// Errors (`invalid_argument`): a value that is not finite or exceeds
/// [`super::MAX_ABS_VALUE`], `lambda` or `variance_lambda` outside (0, 1], `warmup < 3`, a
/// threshold that is not finite and positive, a negative or non-finite `min_spread`. A series
/// of at most `warmup` points has no alarms.
pub fn ewma(series: &[f64], options: EwmaOptions) -> Result<Vec<Anomaly>, Error> {
    let scale = Scale::new(options.threshold, options.min_spread, options.counts)?;
    check_weight("lambda", options.lambda)?;
    check_weight("variance_lambda", options.variance_lambda)?;
    if options.warmup < 3 {
        return Err(Error::argument(
            "warmup",
            format!("{} must be at least 3", options.warmup),
        ));
    }
    check_series(series)?;
    let Some(head) = series.get(..options.warmup) else {
        return Ok(Vec::new());
    };
    let mut state = State::learn(head, &scale, options.lambda);
    let mut alarms = Vec::new();
    for (index, &value) in series.iter().enumerate().skip(options.warmup) {
        let band = scale.band(state.mean, state.variance.sqrt());
        let judged = band.judge(index, value, options.threshold, Method::Ewma);
        if let Some(anomaly) = judged.anomaly {
            alarms.push(anomaly);
        }
        state.update(value, band.spread, &options);
    }
    Ok(alarms)
}

/// The weighted mean and variance, and how many points they have seen.
struct State {
    mean: f64,
    variance: f64,
    seen: f64,
}

impl State {
    /// The state after the warm-up points `head` (not empty): a one-step Huber estimate from
    /// the median and MAD, the variance scaled to a forecast error's (`2 / (2 - λ)`: the
    /// mean's own error adds `λ / (2 - λ)` of it).
    fn learn(head: &[f64], scale: &Scale, lambda: f64) -> Self {
        let robust = Robust::of(head, None, scale, &mut Vec::with_capacity(head.len()));
        let (mean, sd) = robust.map_or((0.0, 0.0), |r| (r.median + r.mean_clipped, r.sd));
        State {
            mean,
            variance: sd * sd * (2.0 / (2.0 - lambda)),
            seen: head.len() as f64,
        }
    }

    /// Learns `value`, judged with `spread`.
    fn update(&mut self, value: f64, spread: f64, options: &EwmaOptions) {
        let d = clip(value - self.mean, HUBER_K * spread);
        self.seen += 1.0;
        let w = options.variance_lambda.max(1.0 / self.seen);
        self.variance += w * (d * d / HUBER_KAPPA - self.variance);
        self.mean += options.lambda * d;
    }
}
