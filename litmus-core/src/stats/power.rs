//! Planning: power, sample size and minimum detectable effect of a two-sample test under the
//! normal approximation, as statsmodels' `NormalIndPower` (effect sizes are standardized:
//! `(mean1 - mean2) / sd` for means, Cohen's h for proportions).
//!
//! With `nobs1` units in the first group and `ratio * nobs1` in the second, the effective size
//! is `n = 1 / (1/nobs1 + 1/nobs2)` and, two-sided, power = Φ̄(z_{α/2} - d √n) + Φ(-z_{α/2} - d √n).
//! Sample size and detectable effect invert that exactly (both tails), by bracketing and
//! bisection to full precision.

use super::dist::{normal_cdf, normal_isf, normal_sf};
use super::ttest::Alternative;
use crate::error::Error;

fn check(name: &'static str, value: f64, lo: f64, hi: f64) -> Result<f64, Error> {
    if value.is_finite() && value > lo && value < hi {
        Ok(value)
    } else {
        Err(Error::argument(
            name,
            format!("{value} must be in ({lo}, {hi})"),
        ))
    }
}

/// Power of the two-sample z-test for a standardized effect `effect_size` with `nobs1` units
/// in the first group and `ratio * nobs1` in the second, at level `alpha`.
pub fn power(
    effect_size: f64,
    nobs1: f64,
    ratio: f64,
    alpha: f64,
    alternative: Alternative,
) -> Result<f64, Error> {
    if !effect_size.is_finite() {
        return Err(Error::argument(
            "effect_size",
            format!("{effect_size} must be finite"),
        ));
    }
    check("nobs1", nobs1, 0.0, f64::INFINITY)?;
    check("ratio", ratio, 0.0, f64::INFINITY)?;
    check("alpha", alpha, 0.0, 1.0)?;
    Ok(power_unchecked(
        effect_size,
        nobs1,
        ratio,
        alpha,
        alternative,
    ))
}

fn power_unchecked(d: f64, nobs1: f64, ratio: f64, alpha: f64, alternative: Alternative) -> f64 {
    let n = 1.0 / (1.0 / nobs1 + 1.0 / (nobs1 * ratio));
    let shift = d * n.sqrt();
    match alternative {
        Alternative::TwoSided => {
            let crit = normal_isf(alpha / 2.0);
            normal_sf(crit - shift) + normal_cdf(-crit - shift)
        }
        Alternative::Greater => normal_sf(normal_isf(alpha) - shift),
        Alternative::Less => normal_cdf(-normal_isf(alpha) - shift),
    }
}

/// Bisection on a monotone increasing function of `x` in (0, `cap`), on a log scale: the `x`
/// where it reaches `target` (doubling from 1, or from just under the cap, to bracket it).
pub(crate) fn solve_increasing(f: impl Fn(f64) -> f64, target: f64, cap: f64) -> Option<f64> {
    let below_cap = cap * (1.0 - 1e-12);
    let (mut lo, mut hi) = (1e-12_f64, 1.0_f64.min(cap / 2.0));
    let mut steps = 0;
    while f(hi) < target {
        lo = hi;
        hi = (hi * 2.0).min(below_cap);
        steps += 1;
        if steps > 1100 || !hi.is_finite() || hi <= lo {
            return None;
        }
    }
    for _ in 0..200 {
        let mid = if hi / lo > 4.0 {
            (lo * hi).sqrt()
        } else {
            0.5 * (lo + hi)
        };
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-15 * hi {
            break;
        }
    }
    Some(0.5 * (lo + hi))
}

fn check_power(target: f64, alpha: f64, alternative: Alternative) -> Result<(), Error> {
    check("power", target, 0.0, 1.0)?;
    check("alpha", alpha, 0.0, 1.0)?;
    let floor = match alternative {
        Alternative::TwoSided | Alternative::Greater | Alternative::Less => alpha,
    };
    if target <= floor {
        return Err(Error::argument(
            "power",
            format!("{target} must exceed alpha {alpha} (the power of a zero effect)"),
        ));
    }
    Ok(())
}

/// The first group's size (fractional, as statsmodels) reaching `target_power` for a
/// standardized effect; the second group has `ratio` times as many units.
pub fn sample_size(
    effect_size: f64,
    target_power: f64,
    ratio: f64,
    alpha: f64,
    alternative: Alternative,
) -> Result<f64, Error> {
    check_power(target_power, alpha, alternative)?;
    check("ratio", ratio, 0.0, f64::INFINITY)?;
    let wrong_side = match alternative {
        Alternative::TwoSided => effect_size == 0.0,
        Alternative::Greater => effect_size <= 0.0,
        Alternative::Less => effect_size >= 0.0,
    };
    if wrong_side || !effect_size.is_finite() {
        return Err(Error::argument(
            "effect_size",
            format!("{effect_size} cannot reach power {target_power} for this alternative"),
        ));
    }
    solve_increasing(
        |n| power_unchecked(effect_size, n, ratio, alpha, alternative),
        target_power,
        f64::INFINITY,
    )
    .ok_or_else(|| Error::degenerate("no finite sample size reaches that power"))
}

/// The smallest standardized effect (positive; negative for `Less`) detected with
/// `target_power` by groups of `nobs1` and `ratio * nobs1` units.
pub fn minimum_detectable_effect(
    nobs1: f64,
    target_power: f64,
    ratio: f64,
    alpha: f64,
    alternative: Alternative,
) -> Result<f64, Error> {
    check_power(target_power, alpha, alternative)?;
    check("nobs1", nobs1, 0.0, f64::INFINITY)?;
    check("ratio", ratio, 0.0, f64::INFINITY)?;
    let sign = if alternative == Alternative::Less {
        -1.0
    } else {
        1.0
    };
    solve_increasing(
        |d| power_unchecked(sign * d, nobs1, ratio, alpha, alternative),
        target_power,
        f64::INFINITY,
    )
    .map(|d| sign * d)
    .ok_or_else(|| Error::degenerate("no finite effect reaches that power"))
}

/// Cohen's h, the standardized effect of two proportions: 2 asin √p1 - 2 asin √p2 (statsmodels'
/// `proportion_effectsize`).
pub fn proportion_effect_size(p1: f64, p2: f64) -> Result<f64, Error> {
    for (name, p) in [("prop1", p1), ("prop2", p2)] {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::argument(name, format!("{p} must be in [0, 1]")));
        }
    }
    Ok(2.0 * libm::asin(p1.sqrt()) - 2.0 * libm::asin(p2.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let d = 0.1;
        let n = sample_size(d, 0.8, 1.0, 0.05, Alternative::TwoSided).unwrap_or(0.0);
        // statsmodels NormalIndPower().solve_power(0.1, power=0.8, alpha=0.05) = 1569.78...
        assert!((n - 1_569.772_101_865_24).abs() < 1e-9 * n, "{n}");
        let p = power(d, n, 1.0, 0.05, Alternative::TwoSided).unwrap_or(0.0);
        assert!((p - 0.8).abs() < 1e-12);
        let mde =
            minimum_detectable_effect(n, 0.8, 1.0, 0.05, Alternative::TwoSided).unwrap_or(0.0);
        assert!((mde - d).abs() < 1e-12);
        assert!(sample_size(0.0, 0.8, 1.0, 0.05, Alternative::TwoSided).is_err());
        assert!(sample_size(0.1, 0.01, 1.0, 0.05, Alternative::TwoSided).is_err());
        assert!(sample_size(-0.1, 0.8, 1.0, 0.05, Alternative::Greater).is_err());
    }
}
