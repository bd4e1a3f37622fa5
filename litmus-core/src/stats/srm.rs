//! Sample-ratio mismatch: do the units that reached each variant match the configured weights?
//! A mismatch means the assignment or the logging is broken, and the experiment's results
//! cannot be trusted until it is explained.

use super::chi2::chisquare;
use crate::error::Error;

/// The p-value under which a split counts as a mismatch by default (GrowthBook's and most
/// platforms' choice: rare enough to alert on, given how many checks run).
pub const SRM_THRESHOLD: f64 = 0.001;

/// The outcome of a sample-ratio check.
#[derive(Debug, Clone, PartialEq)]
pub struct SrmCheck {
    statistic: f64,
    pvalue: f64,
    mismatch: bool,
    observed_shares: Vec<f64>,
    expected_shares: Vec<f64>,
}

impl SrmCheck {
    /// The chi-squared goodness-of-fit statistic.
    pub fn statistic(&self) -> f64 {
        self.statistic
    }

    /// Its p-value.
    pub fn pvalue(&self) -> f64 {
        self.pvalue
    }

    /// Whether the p-value is below the threshold: the split does not match the weights.
    pub fn mismatch(&self) -> bool {
        self.mismatch
    }

    /// Each variant's share of the observed units.
    pub fn observed_shares(&self) -> &[f64] {
        &self.observed_shares
    }

    /// Each variant's share by the configured weights.
    pub fn expected_shares(&self) -> &[f64] {
        &self.expected_shares
    }
}

/// Checks the units counted per variant (`observed`) against the configured `weights` with a
/// chi-squared goodness-of-fit test; a p-value below `threshold` (in (0, 1); usually
/// [`SRM_THRESHOLD`]) is a mismatch.
pub fn srm_check(observed: &[f64], weights: &[f64], threshold: f64) -> Result<SrmCheck, Error> {
    if !(threshold > 0.0 && threshold < 1.0) {
        return Err(Error::argument(
            "threshold",
            format!("{threshold} must be in (0, 1)"),
        ));
    }
    let test = chisquare(observed, weights)?;
    let shares = |v: &[f64]| {
        let total: f64 = v.iter().sum();
        v.iter().map(|x| x / total).collect::<Vec<f64>>()
    };
    Ok(SrmCheck {
        statistic: test.statistic(),
        pvalue: test.pvalue(),
        mismatch: test.pvalue() < threshold,
        observed_shares: shares(observed),
        expected_shares: shares(weights),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::indexing_slicing)]
    fn balanced_and_broken_splits() {
        let ok = srm_check(&[50_110.0, 49_890.0], &[1.0, 1.0], SRM_THRESHOLD)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!ok.mismatch() && ok.pvalue() > 0.05);
        assert_eq!(ok.expected_shares(), &[0.5, 0.5]);
        let bad = srm_check(&[51_000.0, 49_000.0], &[1.0, 1.0], SRM_THRESHOLD)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(bad.mismatch() && bad.pvalue() < 1e-9);
        assert!((bad.observed_shares()[0] - 0.51).abs() < 1e-12);
        let weighted = srm_check(&[20_100.0, 79_900.0], &[1.0, 4.0], SRM_THRESHOLD)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!weighted.mismatch());
        for threshold in [0.0, 1.0, f64::NAN] {
            let err = srm_check(&[1.0, 2.0], &[1.0, 1.0], threshold)
                .err()
                .map(|e| e.code());
            assert_eq!(err, Some("invalid_argument"));
        }
    }
}
