//! Statistics for experiment analysis, checked against scipy and statsmodels on generated
//! fixtures (`fixtures/stats/`, written by `scripts/gen_stats_fixtures.py`).
//!
//! - [`summary`]: mergeable sufficient statistics ([`Moments`], [`Proportion`],
//!   [`CoMoments`]).
//! - [`ttest`]: Welch's and Student's t-tests from summaries.
//! - [`proportions`]: the two-proportion z-test and rate intervals (Wald, Wilson,
//!   Agresti-Coull, Newcombe).
//! - [`chi2`]: chi-squared independence and goodness of fit.
//! - [`interval`]: intervals for means, differences and relative lift (delta method).
//! - [`anova`]: one-way ANOVA for A/B/n; [`compare`]: each variant against the control.
//! - [`factorial`]: main effects and two-way interactions of multivariate experiments.
//! - [`multiple`]: Bonferroni, Holm and Benjamini-Hochberg corrections.
//! - [`power`]: power, sample size and minimum detectable effect.
//! - [`variance_reduction`]: CUPED and ratio metrics by the delta method.
//! - [`sketch`]: a mergeable quantile sketch (DDSketch) with relative accuracy, addressed by
//!   integer keys that a database can store and sum, with signed counts for rows of changes.
//! - [`quantile`]: quantiles with distribution-free (order-statistic) intervals, and the
//!   comparison of a quantile between groups (difference and relative change).
//! - [`sequential`]: the always-valid mSPRT for continuous monitoring.
//! - [`bayes`]: Beta-Binomial and Normal posteriors, probability to beat control and to be
//!   best, expected loss.
//! - [`dist`]: normal, Student's t, chi-squared, F and Beta distribution functions with tails
//!   accurate to about 1e-300.
//!
//! Every entry point validates its input: degenerate data (`degenerate_data`) and arguments
//! out of their domain (`invalid_argument`) are errors with a code, never a panic or a NaN.

pub mod anova;
pub mod bayes;
pub mod chi2;
pub mod compare;
pub mod dist;
pub mod factorial;
pub mod interval;
pub mod multiple;
pub mod power;
pub mod proportions;
pub mod quantile;
pub mod sequential;
pub mod sketch;
pub(crate) mod special;
pub mod srm;
pub mod summary;
pub mod ttest;
pub mod variance_reduction;

pub use anova::{Anova, f_oneway};
pub use bayes::{
    BetaPosterior, NormalPosterior, expected_loss, expected_losses, normal_expected_loss,
    normal_prob_beats, normal_prob_best, prob_beats, prob_best,
};
pub use chi2::{ChiSquared, chi2_contingency, chisquare};
pub use compare::{Comparison, compare_to_control};
pub use factorial::{Factorial, TermTest, factorial_anova};
pub use interval::{Interval, diff_means_confint, mean_confint, relative_lift_confint};
pub use multiple::{Adjusted, Correction, multipletests};
pub use proportions::{
    ProportionMethod, ZVariance, newcombe_diff_confint, proportion_confint, proportions_ztest,
};
pub use quantile::{
    QuantileComparison, QuantileEstimate, exact_quantile, quantile_interval, quantile_ztest,
};
pub use sequential::{Sequential, SequentialState, msprt, msprt_means, msprt_proportions};
pub use sketch::{DEFAULT_RELATIVE_ACCURACY, KEY_OFFSET, QuantileSketch};
pub use srm::{SRM_THRESHOLD, SrmCheck, srm_check};
pub use summary::{CoMoments, Moments, Proportion};
pub use ttest::{Alternative, TTest, ZTest, ttest_ind, ttest_ind_from_stats};
pub use variance_reduction::{Cuped, Ratio, RatioComparison, cuped, ratio_metric, ratio_ztest};

/// Whether `x` is a finite number above zero (false for NaN).
pub(crate) fn positive_finite(x: f64) -> bool {
    x.is_finite() && x > 0.0
}
