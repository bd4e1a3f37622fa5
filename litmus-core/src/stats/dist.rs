//! Distribution functions: normal, Student's t, chi-squared and F tails and quantiles.
//!
//! Tails are computed directly (never as `1 - cdf` of the far side), so p-values keep their
//! relative precision down to about 1e-300. Invalid parameters give NaN; the public tests
//! validate their input before they get here.

use super::special::{
    beta_inc, gamma_pq, ln_beta, norm_cdf, norm_pdf, norm_sf, norm_upper_quantile,
};

/// `z` with P(Z <= z) = p, for p in (0, 1); ±∞ at 0 and 1.
pub fn normal_ppf(p: f64) -> f64 {
    super::special::norm_ppf(p)
}

/// P(Z > z) for the standard normal.
pub fn normal_sf(z: f64) -> f64 {
    norm_sf(z)
}

/// P(Z <= z) for the standard normal.
pub fn normal_cdf(z: f64) -> f64 {
    norm_cdf(z)
}

/// The standard normal density.
pub fn normal_pdf(z: f64) -> f64 {
    norm_pdf(z)
}

/// `z` with P(Z > z) = q, for q in (0, 1).
pub fn normal_isf(q: f64) -> f64 {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        f64::NAN
    } else if q <= 0.5 {
        if q == 0.0 {
            f64::INFINITY
        } else {
            norm_upper_quantile(q)
        }
    } else {
        -normal_isf(1.0 - q)
    }
}

/// `(x, y)` = `(df / (df + t²), t² / (df + t²))`, each formed without overflow or loss.
fn t_beta_args(t: f64, df: f64) -> (f64, f64) {
    let t2 = t * t;
    if t2 > df {
        let r = df / t2;
        (r / (1.0 + r), 1.0 / (1.0 + r))
    } else {
        let r = t2 / df;
        (1.0 / (1.0 + r), r / (1.0 + r))
    }
}

/// P(T > t) for Student's t with `df > 0` degrees of freedom (df = ∞ is the normal).
pub fn student_t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if df == f64::INFINITY {
        return norm_sf(t);
    }
    if t < 0.0 {
        return 1.0 - student_t_sf(-t, df);
    }
    let (x, y) = t_beta_args(t, df);
    0.5 * beta_inc(0.5 * df, 0.5, x, y).0
}

/// P(T <= t) for Student's t.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    student_t_sf(-t, df)
}

/// The density of Student's t.
pub fn student_t_pdf(t: f64, df: f64) -> f64 {
    if df == f64::INFINITY {
        return norm_pdf(t);
    }
    let ln =
        -ln_beta(0.5 * df, 0.5) - 0.5 * libm::log(df) - 0.5 * (df + 1.0) * libm::log1p(t * t / df);
    libm::exp(ln)
}

/// `t` with P(T > t) = q for Student's t, q in (0, 1).
pub fn student_t_isf(q: f64, df: f64) -> f64 {
    if q.is_nan() || df.is_nan() || df <= 0.0 || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    if q > 0.5 {
        return -student_t_isf(1.0 - q, df);
    }
    if q == 0.0 {
        return f64::INFINITY;
    }
    if df == f64::INFINITY {
        return norm_upper_quantile(q);
    }
    if df == 1.0 {
        // Cauchy: exact, as the cotangent so that small q keeps its precision.
        return 1.0 / libm::tan(std::f64::consts::PI * q);
    }
    // Start from the normal quantile with the first Cornish-Fisher terms, then a safeguarded
    // Newton iteration on log P(T > t) (well conditioned in the far tail).
    let z = norm_upper_quantile(q);
    let z3 = z * z * z;
    let mut t =
        z + (z3 + z) / (4.0 * df) + (5.0 * z3 * z * z + 16.0 * z3 + 3.0 * z) / (96.0 * df * df);
    if !t.is_finite() || t <= 0.0 {
        t = z.max(1.0);
    }
    let (mut lo, mut hi) = (0.0_f64, f64::INFINITY);
    let target = libm::log(q);
    for _ in 0..200 {
        let sf = student_t_sf(t, df);
        if sf > q {
            lo = t;
        } else {
            hi = t;
        }
        let pdf = student_t_pdf(t, df);
        // d/dt ln sf = -pdf / sf.
        let next = if sf > 0.0 && pdf > 0.0 {
            t + (libm::log(sf) - target) * sf / pdf
        } else {
            f64::NAN
        };
        let next = if next.is_finite() && next > lo && next < hi {
            next
        } else if hi.is_finite() {
            0.5 * (lo + hi)
        } else {
            2.0 * t.max(1.0)
        };
        if (next - t).abs() <= 1e-15 * t.abs() {
            return next;
        }
        t = next;
    }
    t
}

/// P(X > x) for chi-squared with `k > 0` degrees of freedom.
pub fn chi2_sf(x: f64, k: f64) -> f64 {
    if x.is_nan() || k.is_nan() || k <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    gamma_pq(0.5 * k, 0.5 * x).1
}

/// P(X <= x) for chi-squared.
pub fn chi2_cdf(x: f64, k: f64) -> f64 {
    if x.is_nan() || k.is_nan() || k <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 0.0;
    }
    gamma_pq(0.5 * k, 0.5 * x).0
}

/// P(F > f) for the F distribution with `(d1, d2)` degrees of freedom.
pub fn f_sf(f: f64, d1: f64, d2: f64) -> f64 {
    if f.is_nan() || d1.is_nan() || d2.is_nan() || d1 <= 0.0 || d2 <= 0.0 {
        return f64::NAN;
    }
    if f <= 0.0 {
        return 1.0;
    }
    // x = d2 / (d2 + d1 f), y = d1 f / (d2 + d1 f); P(F > f) = I_x(d2/2, d1/2).
    let r = d1 * f / d2;
    let (x, y) = if r.is_infinite() {
        (0.0, 1.0)
    } else {
        (1.0 / (1.0 + r), r / (1.0 + r))
    };
    beta_inc(0.5 * d2, 0.5 * d1, x, y).0
}

/// P(X <= x) for Beta(a, b).
pub fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return if a > 0.0 && b > 0.0 { 0.0 } else { f64::NAN };
    }
    if x >= 1.0 {
        return if a > 0.0 && b > 0.0 { 1.0 } else { f64::NAN };
    }
    beta_inc(a, b, x, 1.0 - x).0
}

/// The distribution functions callable by name: each name with its number of arguments.
pub const BY_NAME: &[(&str, usize)] = &[
    ("normal_sf", 1),
    ("normal_cdf", 1),
    ("normal_pdf", 1),
    ("normal_ppf", 1),
    ("normal_isf", 1),
    ("t_sf", 2),
    ("t_cdf", 2),
    ("t_pdf", 2),
    ("t_isf", 2),
    ("chi2_sf", 2),
    ("chi2_cdf", 2),
    ("f_sf", 3),
    ("beta_cdf", 3),
];

/// A distribution function by name (one of [`BY_NAME`]) at its arguments, as the bindings
/// offer them (`litmus.stats` in Python, `stats` in the npm package).
///
/// # Errors
/// `invalid_argument` for an unknown name or the wrong number of arguments.
pub fn by_name(name: &str, args: &[f64]) -> Result<f64, crate::Error> {
    let Some(&(_, arity)) = BY_NAME.iter().find(|(n, _)| *n == name) else {
        return Err(crate::Error::argument(
            "name",
            format!("no distribution function {name:?}"),
        ));
    };
    if args.len() != arity {
        return Err(crate::Error::argument(
            "args",
            format!("{name} takes {arity} arguments, not {}", args.len()),
        ));
    }
    let a = |i: usize| args.get(i).copied().unwrap_or(f64::NAN);
    Ok(match name {
        "normal_sf" => normal_sf(a(0)),
        "normal_cdf" => normal_cdf(a(0)),
        "normal_pdf" => normal_pdf(a(0)),
        "normal_ppf" => normal_ppf(a(0)),
        "normal_isf" => normal_isf(a(0)),
        "t_sf" => student_t_sf(a(0), a(1)),
        "t_cdf" => student_t_cdf(a(0), a(1)),
        "t_pdf" => student_t_pdf(a(0), a(1)),
        "t_isf" => student_t_isf(a(0), a(1)),
        "chi2_sf" => chi2_sf(a(0), a(1)),
        "chi2_cdf" => chi2_cdf(a(0), a(1)),
        "f_sf" => f_sf(a(0), a(1), a(2)),
        _ => beta_cdf(a(0), a(1), a(2)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn student_t_known_values() {
        // scipy.stats.t.sf
        assert!(close(
            student_t_sf(2.0, 10.0),
            0.036_694_017_385_370_18,
            1e-12
        ));
        assert!(close(student_t_sf(1.0, 1.0), 0.25, 1e-14));
        assert!(close(
            student_t_isf(0.025, 10.0),
            2.228_138_851_986_275_3,
            1e-12
        ));
        assert!(close(
            student_t_isf(0.025, 1.0),
            12.706_204_736_174_705,
            1e-12
        ));
        assert_eq!(student_t_sf(0.0, 5.0), 0.5);
        assert_eq!(student_t_sf(f64::INFINITY, 5.0), 0.0);
        assert!(student_t_sf(1.0, -1.0).is_nan());
    }

    #[test]
    fn chi2_and_f_known_values() {
        // scipy.stats.chi2.sf / f.sf
        assert!(close(
            chi2_sf(3.841_458_820_694_124, 1.0),
            0.049_999_999_999_999_89,
            1e-12
        ));
        assert!(close(chi2_sf(10.0, 4.0), 0.040_427_681_994_512_79, 1e-12));
        assert!(close(f_sf(3.0, 2.0, 20.0), 0.072_538_150_286_405_71, 1e-11));
        assert_eq!(chi2_sf(0.0, 3.0), 1.0);
    }
}
