//! The robust z-score: each point against the median and robust spread of a trailing window.

use std::collections::VecDeque;

use super::band::Scale;
use super::estimate::Robust;
use super::{Anomaly, Method, check_series};
use crate::error::Error;

/// Options of [`robust_z`]. Fields are public; [`robust_z`] validates them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustZOptions {
    /// Points in the trailing baseline window (at least 3; default 60, an hour of minutes).
    pub window: usize,
    /// Points of history a point needs before it can alarm (3 to `window`; default 30).
    /// Fewer make the first alarms come sooner but estimate the spread from fewer points.
    pub min_history: usize,
    /// A point alarms when its |score| exceeds this (finite, > 0; default 5).
    pub threshold: f64,
    /// The least spread, in the series' units (finite, >= 0; default 0).
    pub min_spread: f64,
    /// The values are event counts: Poisson floor on the spread and skew term on the band
    /// (see the [module documentation](super); default false).
    pub counts: bool,
}

impl Default for RobustZOptions {
    fn default() -> Self {
        RobustZOptions {
            window: 60,
            min_history: 30,
            threshold: 5.0,
            min_spread: 0.0,
            counts: false,
        }
    }
}

impl RobustZOptions {
    /// The defaults with `counts` on, for series of event counts per minute.
    pub fn for_counts() -> Self {
        RobustZOptions {
            counts: true,
            ..RobustZOptions::default()
        }
    }
}

/// Robust z-score anomalies of `series` (one value per minute, in time order).
///
/// Point `i` is judged once at least `min_history` points precede it, against the last
/// `window` points before it: baseline = their median, spread = their robust standard
/// deviation (MAD × 1.4826, then one Huber step), floored as the [module
/// documentation](super) describes; it alarms when `|value - center| / spread > threshold`.
///
/// A flagged point enters the window clipped to the band's limit, so a spike moves the
/// median no more than an ordinary point above it. A lasting change of level alarms for its
/// first points (about 12 for a shift of 8 sd), until the clipped points have widened the
/// spread enough to take the new level in; the median follows once the new level fills half
/// the window, and the band stays wider until the old level has left it (60 points). The
/// median lags a trend by about half a window.
///
/// False alarms per point on independent noise, after the first `min_history` points
/// (default options otherwise; 10⁷ points each; the normal two-sided tail in brackets):
///
/// | threshold | Gaussian | Poisson, mean 3 (`for_counts`) |
/// |---|---|---|
/// | 3 | 5.3e-3 (2.7e-3) | 1.5e-3 |
/// | 4 | 3.1e-4 (6.3e-5) | 3.0e-5 |
/// | 5 (default) | 1.5e-5 (5.7e-7) | 6e-7 |
///
/// Errors (`invalid_argument`): a value that is not finite or exceeds
/// [`super::MAX_ABS_VALUE`], `window < 3`, `min_history` outside `3..=window`, a threshold
/// that is not finite and positive, a negative or non-finite `min_spread`. An empty or short
/// series has no alarms.
pub fn robust_z(series: &[f64], options: RobustZOptions) -> Result<Vec<Anomaly>, Error> {
    let scale = Scale::new(options.threshold, options.min_spread, options.counts)?;
    if options.window < 3 {
        return Err(Error::argument(
            "window",
            format!("{} must be at least 3", options.window),
        ));
    }
    if !(3..=options.window).contains(&options.min_history) {
        return Err(Error::argument(
            "min_history",
            format!(
                "{} must be in 3..={} (the window)",
                options.min_history, options.window
            ),
        ));
    }
    check_series(series)?;
    let mut window = Window::new(options.window, series.len());
    let mut alarms = Vec::new();
    for (index, &value) in series.iter().enumerate() {
        let mut entered = value;
        if window.len() >= options.min_history {
            if let Some(robust) = window.robust(&scale) {
                let band = scale.band(robust.median, robust.sd);
                let judged = band.judge(index, value, options.threshold, Method::RobustZ);
                if let Some(anomaly) = judged.anomaly {
                    alarms.push(anomaly);
                    entered = judged.clipped;
                }
            }
        }
        window.push(entered);
    }
    Ok(alarms)
}

/// The last `capacity` values, in arrival order and sorted.
struct Window {
    capacity: usize,
    order: VecDeque<f64>,
    sorted: Vec<f64>,
    scratch: Vec<f64>,
}

impl Window {
    /// An empty window; allocates for at most `capacity` and `len` values (whichever is less).
    fn new(capacity: usize, len: usize) -> Self {
        let reserve = capacity.min(len);
        Window {
            capacity,
            order: VecDeque::with_capacity(reserve),
            sorted: Vec::with_capacity(reserve),
            scratch: Vec::with_capacity(reserve),
        }
    }

    fn len(&self) -> usize {
        self.order.len()
    }

    fn push(&mut self, value: f64) {
        if self.order.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                let at = self.sorted.partition_point(|v| v.total_cmp(&old).is_lt());
                if self.sorted.get(at).is_some() {
                    self.sorted.remove(at);
                }
            }
        }
        self.order.push_back(value);
        let at = self.sorted.partition_point(|v| v.total_cmp(&value).is_lt());
        self.sorted.insert(at, value);
    }

    fn median(&self) -> Option<f64> {
        let n = self.sorted.len();
        let hi = *self.sorted.get(n / 2)?;
        if n % 2 == 1 {
            Some(hi)
        } else {
            let lo = *self.sorted.get((n / 2).checked_sub(1)?)?;
            Some(lo / 2.0 + hi / 2.0)
        }
    }

    fn robust(&mut self, scale: &Scale) -> Option<Robust> {
        let median = self.median()?;
        Robust::of(&self.sorted, Some(median), scale, &mut self.scratch)
    }
}
