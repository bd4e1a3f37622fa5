//! Multiple-testing corrections, as statsmodels' `multipletests`: Bonferroni and Holm control
//! the family-wise error rate, Benjamini-Hochberg the false discovery rate.

use crate::error::Error;

/// A correction method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Correction {
    /// p · m, capped at 1.
    Bonferroni,
    /// Holm's step-down.
    Holm,
    /// Benjamini-Hochberg step-up (statsmodels' `fdr_bh`).
    BenjaminiHochberg,
    /// No correction: each p-value as it is (the family-wise error rate grows with the
    /// number of tests).
    None,
}

impl Correction {
    /// The name the analysis settings use: `holm`, `benjamini_hochberg`, `bonferroni`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Correction::Holm => "holm",
            Correction::BenjaminiHochberg => "benjamini_hochberg",
            Correction::Bonferroni => "bonferroni",
            Correction::None => "none",
        }
    }

    /// Parses statsmodels' names: `bonferroni`, `holm`, `fdr_bh` (and `none`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "none" => Ok(Correction::None),
            "bonferroni" => Ok(Correction::Bonferroni),
            "holm" => Ok(Correction::Holm),
            "fdr_bh" | "bh" | "benjamini_hochberg" => Ok(Correction::BenjaminiHochberg),
            other => Err(Error::argument(
                "method",
                format!("{other:?} is not bonferroni, holm, fdr_bh or none"),
            )),
        }
    }
}

/// Adjusted p-values and decisions for a family of tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjusted {
    reject: Vec<bool>,
    pvalues: Vec<f64>,
}

impl Adjusted {
    /// Whether each hypothesis is rejected at the family's alpha.
    pub fn reject(&self) -> &[bool] {
        &self.reject
    }
    /// The adjusted p-values, in the input order.
    pub fn pvalues(&self) -> &[f64] {
        &self.pvalues
    }
}

/// Adjusts `pvalues` (each in [0, 1]) for multiple testing at level `alpha`.
pub fn multipletests(pvalues: &[f64], alpha: f64, method: Correction) -> Result<Adjusted, Error> {
    if !(0.0..1.0).contains(&alpha) || alpha == 0.0 {
        return Err(Error::argument(
            "alpha",
            format!("{alpha} must be in (0, 1)"),
        ));
    }
    if let Some(p) = pvalues.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(Error::argument(
            "pvals",
            format!("{p} is not a p-value in [0, 1]"),
        ));
    }
    let m = pvalues.len();
    let mf = m as f64;
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| {
        pvalues
            .get(i)
            .partial_cmp(&pvalues.get(j))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let sorted: Vec<f64> = order
        .iter()
        .filter_map(|&i| pvalues.get(i).copied())
        .collect();
    let adjusted_sorted: Vec<f64> = match method {
        Correction::None => sorted.clone(),
        Correction::Bonferroni => sorted.iter().map(|p| (p * mf).min(1.0)).collect(),
        Correction::Holm => {
            // max over j <= i of (m - j) p_(j), capped at 1.
            let mut running: f64 = 0.0;
            sorted
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    running = running.max((mf - i as f64) * p);
                    running.min(1.0)
                })
                .collect()
        }
        Correction::BenjaminiHochberg => {
            // min over j >= i of m p_(j) / j, capped at 1.
            let mut out = vec![0.0; m];
            let mut running = f64::INFINITY;
            for i in (0..m).rev() {
                let p = sorted.get(i).copied().unwrap_or(1.0);
                running = running.min(mf * p / (i + 1) as f64);
                if let Some(slot) = out.get_mut(i) {
                    *slot = running.min(1.0);
                }
            }
            out
        }
    };
    let mut adjusted = vec![0.0; m];
    for (&i, &p) in order.iter().zip(&adjusted_sorted) {
        if let Some(slot) = adjusted.get_mut(i) {
            *slot = p;
        }
    }
    // Rejecting where the adjusted p-value is at most alpha is each method's own rule
    // (Bonferroni p <= alpha/m, Holm's step-down, Benjamini-Hochberg's step-up).
    let reject = adjusted.iter().map(|&p| p <= alpha).collect();
    Ok(Adjusted {
        reject,
        pvalues: adjusted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_statsmodels_example() {
        // statsmodels.stats.multitest.multipletests([0.01, 0.04, 0.03, 0.2], alpha=0.05, method=...)
        let p = [0.01, 0.04, 0.03, 0.2];
        let b = multipletests(&p, 0.05, Correction::Bonferroni).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.pvalues(), &[0.04, 0.16, 0.12, 0.8]);
        let h = multipletests(&p, 0.05, Correction::Holm).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.pvalues(), &[0.04, 0.09, 0.09, 0.2]);
        assert_eq!(h.reject(), &[true, false, false, false]);
        let bh = multipletests(&p, 0.05, Correction::BenjaminiHochberg)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!((bh.pvalues()[0] - 0.04).abs() < 1e-15);
        assert!((bh.pvalues()[1] - 0.053_333_333_333_333_33).abs() < 1e-15);
        assert!(multipletests(&[1.5], 0.05, Correction::Holm).is_err());
        assert!(multipletests(&[], 0.05, Correction::Holm).is_ok_and(|a| a.pvalues().is_empty()));
    }
}
