"""Generates fixtures/stats/*.json: reference values from scipy and statsmodels that the Rust
core (and later the Python and JavaScript packages) must reproduce to 1e-9 relative.

    .venv/bin/pip install -r scripts/stats/requirements.txt
    .venv/bin/python scripts/gen_stats_fixtures.py [OUT_DIR] [--only=a.json,b.json]
                                                             (default: fixtures/stats, all files)

Cases are random (a fixed seed, so the output is reproducible) plus hand-picked edge cases:
counts from 2 to 1e9 per arm, tiny and huge effects, p-values down to 1e-300, unequal
variances, tables from 2x2 to 5x4.
"""

from __future__ import annotations

import json
import math
import signal
import zlib
import pathlib
import sys

import mpmath as mp
import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

REPO = pathlib.Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(20261126)


def f(x) -> float | None:
    """A plain float for JSON; non-finite values are written as null."""
    x = float(x)
    return x if math.isfinite(x) else None


mp.mp.dps = 50
DISAGREEMENTS: list[str] = []


class Timeout(Exception):
    pass


def within(seconds: float, compute):
    """compute() or None when it takes longer than `seconds` (mpmath can be slow for huge
    parameters)."""
    def alarm(signum, frame):
        raise Timeout()
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return compute()
    except Timeout:
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def reference(name: str, scipy_value: float, exact_fn) -> tuple[float, dict]:
    """The reference value of a distribution function: scipy's, unless it differs from the
    50-digit mpmath value by more than 1e-12 relative; then mpmath's, with scipy's kept.
    When mpmath takes over 5 s the value is scipy's, marked unchecked."""
    exact = within(5.0, exact_fn)
    if exact is None:
        return scipy_value, {"reference": "scipy-unchecked"}
    info = checked(name, scipy_value, exact)
    return (scipy_value if info["reference"] == "scipy" else float(exact)), info


def checked(name: str, scipy_value: float, exact) -> dict:
    """Whether scipy agrees with mpmath to 1e-12 relative."""
    exact = float(exact)
    if scipy_value == exact or abs(scipy_value - exact) <= 1e-12 * abs(exact):
        return {"reference": "scipy"}
    DISAGREEMENTS.append(f"{name}: scipy {scipy_value!r}, mpmath {exact!r}")
    return {"reference": "mpmath", "scipy": scipy_value}


def mp_t_sf(t: float, df: float):
    t, df = mp.mpf(t), mp.mpf(df)
    return mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2


def mp_f_sf(x: float, d1: float, d2: float):
    x, d1, d2 = mp.mpf(x), mp.mpf(d1), mp.mpf(d2)
    return mp.betainc(d2 / 2, d1 / 2, 0, d2 / (d2 + d1 * x), regularized=True)


def log_uniform_int(lo: float, hi: float) -> int:
    return int(round(math.exp(RNG.uniform(math.log(lo), math.log(hi)))))


def distributions() -> dict:
    out: dict[str, list] = {"normal_sf": [], "normal_ppf": [], "t_sf": [], "t_isf": [], "chi2_sf": [],
                            "f_sf": [], "beta_cdf": []}
    for z in [-3.0, -0.5, 0.0, 0.1, 1.0, 1.959963984540054, 2.5, 5.0, 8.0, 10.0, 20.0, 30.0, 37.0, 37.5]:
        sf = float(stats.norm.sf(z))
        value, ref = reference(f"norm.sf({z})", sf, lambda: mp.erfc(mp.mpf(z) / mp.sqrt(2)) / 2)
        out["normal_sf"].append({"z": z, "sf": f(value), **ref})
    for p in [1e-300, 1e-100, 1e-20, 1e-10, 1e-3, 0.025, 0.1, 0.3, 0.5, 0.7, 0.9, 0.975, 0.999, 1 - 1e-10]:
        out["normal_ppf"].append({"p": p, "ppf": f(stats.norm.ppf(p))})
    for df in [1, 2, 3.5, 10, 30, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e9]:
        for t in [0.05, 0.5, 1.0, 1.7, 2.0, 3.0, 5.0, 10.0, 30.0, 100.0, 1e3, 1e5]:
            sf = float(stats.t.sf(t, df))
            if sf > 1e-300:
                value, ref = reference(f"t.sf({t}, {df})", sf, lambda: mp_t_sf(t, df))
                out["t_sf"].append({"t": t, "df": df, "sf": f(value), **ref})
        for q in [0.4, 0.1, 0.025, 1e-5, 1e-10]:
            out["t_isf"].append({"q": q, "df": df, "isf": f(stats.t.isf(q, df))})
    for k in [1, 2, 3, 4, 6, 9, 12, 20, 100, 999]:
        for x in [0.01, 0.5, 1.0, 3.84, 10.0, 50.0, 200.0, 1000.0, 1300.0]:
            sf = float(stats.chi2.sf(x, k))
            if sf > 1e-300:
                value, ref = reference(f"chi2.sf({x}, {k})", sf,
                                       lambda: mp.gammainc(mp.mpf(k) / 2, mp.mpf(x) / 2, mp.inf, regularized=True))
                out["chi2_sf"].append({"x": x, "k": k, "sf": f(value), **ref})
    for d1 in [1, 2, 4, 9]:
        for d2 in [5, 30, 1000, 1e6, 1e9]:
            for x in [0.5, 1.0, 3.0, 10.0, 100.0]:
                sf = float(stats.f.sf(x, d1, d2))
                if sf > 1e-300:
                    value, ref = reference(f"f.sf({x}, {d1}, {d2})", sf, lambda: mp_f_sf(x, d1, d2))
                    out["f_sf"].append({"f": x, "d1": d1, "d2": d2, "sf": f(value), **ref})
    for a, b in [(0.5, 0.5), (2, 3), (10, 1), (1, 10), (30, 70), (1e3, 2e3), (1e5, 1e5), (1e6, 3e6), (5e7, 5e7)]:
        mean = a / (a + b)
        sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        for k in [-8, -3, -1, 0, 0.5, 2, 6]:
            x = mean + k * sd
            if 0 < x < 1:
                cdf = float(stats.beta.cdf(x, a, b))
                value, ref = reference(f"beta.cdf({x}, {a}, {b})", cdf,
                                       lambda: mp.betainc(mp.mpf(a), mp.mpf(b), 0, mp.mpf(x), regularized=True))
                out["beta_cdf"].append({"x": x, "a": a, "b": b, "cdf": f(value), **ref})
    return out


def t_df(s1: float, n1: int, s2: float, n2: int, equal_var: bool) -> float:
    """scipy's own degrees of freedom for ttest_ind_from_stats (its result carries none)."""
    from scipy.stats import _stats_py

    if equal_var:
        df, _ = _stats_py._equal_var_ttest_denom(s1**2, n1, s2**2, n2)
    else:
        df, _ = _stats_py._unequal_var_ttest_denom(s1**2, n1, s2**2, n2)
    return float(df)


def ttests() -> list:
    cases = []
    for i in range(400):
        n1 = log_uniform_int(2, 1e9) if i % 4 else int(RNG.integers(2, 30))
        n2 = max(2, int(n1 * RNG.uniform(0.5, 2.0))) if i % 3 else log_uniform_int(2, 1e9)
        m1 = float(RNG.normal(10, 5))
        s1 = float(RNG.uniform(0.1, 20))
        s2 = s1 * float(RNG.uniform(0.2, 5)) if i % 2 else s1
        effect = float(RNG.choice([0.0, 1e-6, 1e-3, 0.01, 0.1, 1.0, 5.0, 50.0]))
        m2 = m1 - effect * s1 * float(RNG.choice([-1, 1]))
        equal_var = bool(i % 5 == 0)
        alternative = ["two-sided", "less", "greater"][i % 3]
        r = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=equal_var, alternative=alternative)
        if not math.isfinite(r.statistic) or not math.isfinite(r.pvalue):
            continue
        cases.append({"mean1": m1, "std1": s1, "nobs1": n1, "mean2": m2, "std2": s2, "nobs2": n2,
                      "equal_var": equal_var, "alternative": alternative,
                      "statistic": f(r.statistic), "pvalue": f(r.pvalue), "df": f(t_df(s1, n1, s2, n2, equal_var))})
    return cases


def ztests() -> list:
    cases = []
    for i in range(300):
        n1 = log_uniform_int(10, 1e9)
        n2 = max(10, int(n1 * RNG.uniform(0.5, 2.0)))
        p1 = float(RNG.choice([0.001, 0.01, 0.05, 0.2, 0.5, 0.9]))
        lift = float(RNG.choice([0.0, 1e-4, 0.01, 0.05, 0.2]))
        p2 = min(0.999, p1 * (1 + lift))
        x1 = int(RNG.binomial(n1, p1))
        x2 = int(RNG.binomial(n2, p2))
        alternative = ["two-sided", "smaller", "larger"][i % 3]
        if x1 + x2 == 0 or x1 + x2 == n1 + n2:
            continue
        z, p = proportions_ztest([x1, x2], [n1, n2], alternative=alternative)
        cases.append({"count1": x1, "nobs1": n1, "count2": x2, "nobs2": n2, "alternative": alternative,
                      "statistic": f(z), "pvalue": f(p)})
    return cases


def contingency() -> list:
    cases = []
    shapes = [(2, 2), (2, 3), (3, 2), (3, 3), (4, 2), (2, 5), (4, 4), (5, 4)]
    for i in range(240):
        r, c = shapes[i % len(shapes)]
        scale = float(RNG.choice([10, 100, 1e4, 1e6, 1e8]))
        base = RNG.uniform(0.2, 1.0, size=(r, c))
        if i % 4 == 0:
            base = np.outer(RNG.uniform(0.2, 1, r), RNG.uniform(0.2, 1, c))  # near independence
        table = np.maximum(1, np.round(base * scale)).astype(np.int64)
        correction = bool(i % 2)
        res = stats.chi2_contingency(table, correction=correction)
        cases.append({"observed": table.flatten().tolist(), "rows": r, "correction": correction,
                      "statistic": f(res.statistic), "pvalue": f(res.pvalue), "dof": int(res.dof),
                      "expected": [f(v) for v in res.expected_freq.flatten()]})
    return cases


def goodness_of_fit() -> list:
    cases = []
    for i in range(150):
        k = int(RNG.integers(2, 11))
        weights = RNG.uniform(0.5, 3.0, size=k)
        weights = (np.round(weights * 4) / 4).tolist()
        n = log_uniform_int(20, 1e9)
        shares = np.array(weights) / np.sum(weights)
        if i % 3 == 0:
            shares = shares * RNG.uniform(0.98, 1.02, size=k)
            shares = shares / shares.sum()
        observed = RNG.multinomial(n, shares).astype(float)
        expected = np.array(weights) / np.sum(weights) * observed.sum()
        res = stats.chisquare(observed, expected)
        cases.append({"observed": observed.tolist(), "weights": weights,
                      "statistic": f(res.statistic), "pvalue": f(res.pvalue)})
    return cases


def intervals() -> dict:
    out: dict[str, list] = {"proportion": [], "newcombe": [], "mean": [], "diff_means": [], "relative_lift": []}
    for i in range(120):
        n = log_uniform_int(5, 1e9)
        x = int(RNG.binomial(n, float(RNG.choice([0.0005, 0.02, 0.3, 0.5, 0.97]))))
        alpha = float(RNG.choice([0.01, 0.05, 0.1, 0.2]))
        for method in ["normal", "wilson", "agresti_coull"]:
            lo, hi = proportion_confint(x, n, alpha=alpha, method=method)
            out["proportion"].append({"count": x, "nobs": n, "alpha": alpha, "method": method,
                                      "lower": f(lo), "upper": f(hi)})
        n2 = max(5, int(n * RNG.uniform(0.5, 2)))
        x2 = int(RNG.binomial(n2, min(0.99, x / n * 1.05 + 0.001)))
        lo, hi = confint_proportions_2indep(x, n, x2, n2, method="newcomb", alpha=alpha)
        out["newcombe"].append({"count1": x, "nobs1": n, "count2": x2, "nobs2": n2, "alpha": alpha,
                                "lower": f(lo), "upper": f(hi)})
    for i in range(120):
        n1 = log_uniform_int(2, 1e8)
        n2 = max(2, int(n1 * RNG.uniform(0.5, 2)))
        m1, m2 = float(RNG.normal(20, 5)), float(RNG.normal(20, 5))
        s1, s2 = float(RNG.uniform(0.5, 10)), float(RNG.uniform(0.5, 10))
        alpha = float(RNG.choice([0.01, 0.05, 0.1]))
        lo, hi = stats.t.interval(1 - alpha, n1 - 1, loc=m1, scale=s1 / math.sqrt(n1))
        out["mean"].append({"mean": m1, "std": s1, "nobs": n1, "alpha": alpha, "lower": f(lo), "upper": f(hi)})
        for equal_var in [False, True]:
            r = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=equal_var)
            se = (m1 - m2) / r.statistic if r.statistic != 0 else float("nan")
            t = stats.t.isf(alpha / 2, t_df(s1, n1, s2, n2, equal_var))
            if math.isfinite(se):
                out["diff_means"].append({"mean1": m1, "std1": s1, "nobs1": n1, "mean2": m2, "std2": s2,
                                          "nobs2": n2, "alpha": alpha, "equal_var": equal_var,
                                          "lower": f(m1 - m2 - t * se), "upper": f(m1 - m2 + t * se)})
        # Delta method for m1 / m2 - 1 (Deng, Knoblich, Lu 2018), normal critical value.
        var = s1**2 / (n1 * m2**2) + m1**2 * s2**2 / (n2 * m2**4)
        z = stats.norm.isf(alpha / 2)
        lift = m1 / m2 - 1
        out["relative_lift"].append({"mean1": m1, "std1": s1, "nobs1": n1, "mean2": m2, "std2": s2, "nobs2": n2,
                                     "alpha": alpha, "estimate": f(lift), "lower": f(lift - z * math.sqrt(var)),
                                     "upper": f(lift + z * math.sqrt(var))})
    return out


def anova() -> list:
    cases = []
    for i in range(120):
        k = int(RNG.integers(2, 7))
        groups, raw = [], []
        for g in range(k):
            n = log_uniform_int(2, 2e5)
            x = RNG.normal(10 + float(RNG.choice([0, 0.01, 0.1, 1])) * g, float(RNG.uniform(0.5, 5)), size=n)
            raw.append(x)
            mean = float(np.mean(x))
            groups.append({"count": n, "mean": mean, "m2": float(np.sum((x - mean) ** 2))})
        res = stats.f_oneway(*raw)
        cases.append({"groups": groups, "statistic": f(res.statistic), "pvalue": f(res.pvalue),
                      "df_between": k - 1, "df_within": sum(len(x) for x in raw) - k})
    return cases


def multiple_testing() -> list:
    from statsmodels.stats.multitest import multipletests

    cases = []
    for i in range(150):
        m = int(RNG.integers(1, 25))
        p = RNG.uniform(0, 1, size=m) ** float(RNG.choice([1, 3, 8]))
        if i % 5 == 0:
            p[: m // 2] = p[0]  # ties
        if i % 7 == 0:
            p[0] = 0.0
        alpha = float(RNG.choice([0.01, 0.05, 0.1]))
        method = ["bonferroni", "holm", "fdr_bh"][i % 3]
        reject, adjusted, _, _ = multipletests(p, alpha=alpha, method=method)
        cases.append({"pvals": p.tolist(), "alpha": alpha, "method": method,
                      "reject": [bool(r) for r in reject], "pvals_corrected": [f(v) for v in adjusted]})
    return cases


def power_cases() -> dict:
    from scipy.optimize import brentq
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    P = NormalIndPower()
    alts = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}
    out: dict[str, list] = {"power": [], "sample_size": [], "mde": [], "effect_size": []}
    for i in range(150):
        d = float(RNG.choice([0.001, 0.01, 0.05, 0.1, 0.3, 1.0])) * float(RNG.choice([1, -1]))
        alt = ["two-sided", "greater", "less"][i % 3]
        if alt == "greater":
            d = abs(d)
        if alt == "less":
            d = -abs(d)
        alpha = float(RNG.choice([0.01, 0.05, 0.1]))
        ratio = float(RNG.choice([1.0, 0.5, 2.0, 3.0]))
        nobs1 = float(log_uniform_int(10, 1e8))
        out["power"].append({"effect_size": d, "nobs1": nobs1, "ratio": ratio, "alpha": alpha, "alternative": alt,
                             "power": f(P.power(d, nobs1, alpha=alpha, ratio=ratio, alternative=alts[alt]))})
        target = float(RNG.choice([0.5, 0.8, 0.9, 0.95]))
        g = lambda n: P.power(d, n, alpha=alpha, ratio=ratio, alternative=alts[alt]) - target
        n = brentq(g, 1e-6, 1e13, xtol=1e-12, rtol=1e-15)
        out["sample_size"].append({"effect_size": d, "power": target, "ratio": ratio, "alpha": alpha,
                                   "alternative": alt, "nobs1": f(n)})
        sign = -1.0 if alt == "less" else 1.0
        h = lambda e: P.power(sign * e, nobs1, alpha=alpha, ratio=ratio, alternative=alts[alt]) - target
        e = brentq(h, 1e-12, 1e3, xtol=1e-16, rtol=1e-15)
        out["mde"].append({"nobs1": nobs1, "power": target, "ratio": ratio, "alpha": alpha, "alternative": alt,
                           "effect_size": f(sign * e)})
        p1 = float(RNG.uniform(0.001, 0.999))
        p2 = min(0.999, p1 * float(RNG.choice([1.0, 1.001, 1.05, 1.3])))
        out["effect_size"].append({"prop1": p2, "prop2": p1, "h": f(proportion_effectsize(p2, p1))})
    return out


def comoments(x: np.ndarray, y: np.ndarray) -> dict:
    mx, my = float(np.mean(x)), float(np.mean(y))
    return {"count": len(x), "mean_x": mx, "mean_y": my, "m2_x": float(np.sum((x - mx) ** 2)),
            "m2_y": float(np.sum((y - my) ** 2)), "c_xy": float(np.sum((x - mx) * (y - my)))}


def variance_reduction() -> dict:
    out: dict[str, list] = {"cuped": [], "ratio": []}
    for i in range(100):
        n_t, n_c = log_uniform_int(30, 2e4), log_uniform_int(30, 2e4)
        rho = float(RNG.choice([0.0, 0.3, 0.7, 0.95]))
        effect = float(RNG.choice([0.0, 0.05, 0.5]))
        groups = []
        for n, e in [(n_t, effect), (n_c, 0.0)]:
            x = RNG.normal(50, 10, size=n)
            y = 20 + rho * (x - 50) + math.sqrt(1 - rho**2) * 10 * RNG.normal(size=n) + e
            groups.append((x, y))
        (xt, yt), (xc, yc) = groups
        sxy = np.sum((xt - xt.mean()) * (yt - yt.mean())) + np.sum((xc - xc.mean()) * (yc - yc.mean()))
        sxx = np.sum((xt - xt.mean()) ** 2) + np.sum((xc - xc.mean()) ** 2)
        theta = sxy / sxx
        xbar = np.concatenate([xt, xc]).mean()
        at, ac = yt - theta * (xt - xbar), yc - theta * (xc - xbar)
        alpha = float(RNG.choice([0.05, 0.1]))
        res = stats.ttest_ind(at, ac, equal_var=False)
        raw = stats.ttest_ind(yt, yc, equal_var=False)
        se = (at.mean() - ac.mean()) / res.statistic
        se_raw = (yt.mean() - yc.mean()) / raw.statistic
        tcrit = stats.t.isf(alpha / 2, res.df)
        out["cuped"].append({"treatment": comoments(xt, yt), "control": comoments(xc, yc), "alpha": alpha,
                             "theta": f(theta), "statistic": f(res.statistic), "pvalue": f(res.pvalue),
                             "df": f(res.df), "lower": f(at.mean() - ac.mean() - tcrit * se),
                             "upper": f(at.mean() - ac.mean() + tcrit * se),
                             "variance_reduction": f(1 - (se / se_raw) ** 2)})
    for i in range(100):
        alpha = float(RNG.choice([0.05, 0.1]))
        rows = []
        for g in range(2):
            n = log_uniform_int(20, 5e4)
            x = RNG.poisson(float(RNG.uniform(1, 6)), size=n).astype(float) + 1
            y = x * RNG.gamma(2.0, float(RNG.uniform(1, 3)), size=n) * (1.03 if g == 0 else 1.0)
            r = y.sum() / x.sum()
            v = (np.var(y, ddof=1) - 2 * r * np.cov(x, y, ddof=1)[0, 1] + r * r * np.var(x, ddof=1)) / (n * x.mean() ** 2)
            rows.append((comoments(x, y), r, v))
        (mt, rt, vt), (mc, rc, vc) = rows
        se = math.sqrt(vt + vc)
        z = (rt - rc) / se
        zc = stats.norm.isf(alpha / 2)
        rel = rt / rc - 1
        rel_se = math.sqrt(vt / rc**2 + rt**2 * vc / rc**4)
        out["ratio"].append({"treatment": mt, "control": mc, "alpha": alpha, "ratio_t": f(rt), "ratio_c": f(rc),
                             "var_t": f(vt), "var_c": f(vc), "statistic": f(z), "pvalue": f(2 * stats.norm.sf(abs(z))),
                             "diff_lower": f(rt - rc - zc * se), "diff_upper": f(rt - rc + zc * se),
                             "rel_lower": f(rel - zc * rel_se), "rel_upper": f(rel + zc * rel_se)})
    return out


def bayes() -> dict:
    from scipy import integrate

    def prob_beats(a1, b1, a2, b2):
        lo = max(0.0, min(stats.beta.ppf(1e-15, a2, b2), stats.beta.ppf(1e-15, a1, b1)))
        hi = min(1.0, max(stats.beta.isf(1e-15, a2, b2), stats.beta.isf(1e-15, a1, b1)))
        v, _ = integrate.quad(lambda x: stats.beta.pdf(x, a2, b2) * stats.beta.cdf(x, a1, b1), lo, hi,
                              epsabs=1e-15, epsrel=1e-13, limit=1000, points=[a2 / (a2 + b2)])
        return v

    def exact_prob_beats(a1, b1, a2, b2):
        # Evan Miller's closed form for integer a2: sum of a2 terms, in 50-digit arithmetic.
        total = mp.mpf(0)
        for i in range(int(a2)):
            total += mp.exp(mp.log(mp.beta(a1 + i, b1 + b2)) - mp.log(b2 + i) - mp.log(mp.beta(1 + i, b2))
                            - mp.log(mp.beta(a1, b1)))
        return float(total)

    def loss(a1, b1, a2, b2):
        lo = max(0.0, min(stats.beta.ppf(1e-15, a2, b2), stats.beta.ppf(1e-15, a1, b1)))
        hi = min(1.0, max(stats.beta.isf(1e-15, a2, b2), stats.beta.isf(1e-15, a1, b1)))
        v, _ = integrate.quad(lambda x: stats.beta.cdf(x, a2, b2) * stats.beta.sf(x, a1, b1), lo, hi,
                              epsabs=1e-16, epsrel=1e-13, limit=1000)
        return v

    out: dict[str, list] = {"beta": [], "beta_best": [], "normal": []}
    for i in range(80):
        n1 = log_uniform_int(20, 1e5) if i % 4 else int(RNG.integers(0, 60))
        n2 = max(1, int(n1 * RNG.uniform(0.5, 2)))
        p = float(RNG.choice([0.01, 0.1, 0.4]))
        x1 = int(RNG.binomial(n1, p))
        x2 = int(RNG.binomial(n2, p * float(RNG.choice([1.0, 1.05, 1.3]))))
        a1, b1, a2, b2 = 1.0 + x1, 1.0 + n1 - x1, 1.0 + x2, 1.0 + n2 - x2
        case = {"a1": a1, "b1": b1, "a2": a2, "b2": b2, "prob_beats": f(prob_beats(a1, b1, a2, b2)),
                "expected_loss": f(loss(a1, b1, a2, b2)), "reference": "scipy.integrate.quad"}
        if a2 <= 400:
            exact = exact_prob_beats(a1, b1, a2, b2)
            case["prob_beats"] = f(exact)
            case["reference"] = "exact sum (mpmath); loss by quad"
        out["beta"].append(case)
    for i in range(30):
        k = int(RNG.integers(2, 6))
        arms = []
        for j in range(k):
            n = log_uniform_int(50, 5e4)
            x = int(RNG.binomial(n, 0.1 * (1 + 0.02 * j)))
            arms.append((1.0 + x, 1.0 + n - x))
        lo = min(stats.beta.ppf(1e-15, a, b) for a, b in arms)
        hi = max(stats.beta.isf(1e-15, a, b) for a, b in arms)
        probs = []
        for j, (a, b) in enumerate(arms):
            def g(x, j=j, a=a, b=b):
                v = stats.beta.pdf(x, a, b)
                for m, (c, d) in enumerate(arms):
                    if m != j:
                        v *= stats.beta.cdf(x, c, d)
                return v
            probs.append(integrate.quad(g, lo, hi, epsabs=1e-15, epsrel=1e-12, limit=1000)[0])
        out["beta_best"].append({"arms": [[a, b] for a, b in arms], "prob_best": [f(p / sum(probs)) for p in probs]})
    for i in range(60):
        m1, m2 = float(RNG.normal(10, 1)), float(RNG.normal(10, 1))
        v1, v2 = float(RNG.uniform(0.001, 1)), float(RNG.uniform(0.001, 1))
        m, s = m1 - m2, math.sqrt(v1 + v2)
        out["normal"].append({"mean1": m1, "var1": v1, "mean2": m2, "var2": v2,
                              "prob_beats": f(stats.norm.cdf((m2 - m1) / s)),
                              "expected_loss": f(s * stats.norm.pdf(m / s) + m * stats.norm.cdf(m / s))})
    return out


def factorial() -> list:
    import itertools

    import pandas as pd
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    cases = []
    designs = [[2, 2], [2, 3], [3, 3], [2, 2, 2], [2, 3, 2], [4, 2]]
    for i in range(36):
        levels = designs[i % len(designs)]
        k = len(levels)
        effects = [RNG.normal(0, float(RNG.choice([0.0, 0.2, 1.0])), size=l) for l in levels]
        inter = float(RNG.choice([0.0, 0.5]))
        rows, cells = [], []
        for combo in itertools.product(*[range(l) for l in levels]):
            n = int(RNG.integers(5, 200))
            mu = 10 + sum(e[c] for e, c in zip(effects, combo)) + inter * (combo[0] * combo[1])
            y = RNG.normal(mu, 2.0, size=n)
            mean = float(np.mean(y))
            cells.append({"count": n, "mean": mean, "m2": float(np.sum((y - mean) ** 2))})
            for v in y:
                rows.append({**{f"f{j}": c for j, c in enumerate(combo)}, "y": v})
        df = pd.DataFrame(rows)
        formula = "y ~ " + " * ".join(f"C(f{j})" for j in range(k))
        table = anova_lm(smf.ols(formula, data=df).fit(), typ=2)
        terms = []
        for name, row in table.iterrows():
            if name == "Residual":
                continue
            factors = [int(part[3:-1]) for part in name.replace("C(f", "C(f").split(":")
                       for part in [part.replace("C(f", "C(f")] if part.startswith("C(f")]
            if len(factors) > 2:
                continue
            terms.append({"factors": factors, "sum_sq": f(row["sum_sq"]), "df": f(row["df"]),
                          "statistic": f(row["F"]), "pvalue": f(row["PR(>F)"])})
        cases.append({"levels": levels, "cells": cells, "terms": terms,
                      "residual_df": f(table.loc["Residual", "df"]), "residual_sum_sq": f(table.loc["Residual", "sum_sq"])})
    return cases


def quantiles() -> dict:
    """Samples with numpy's method="lower" quantiles and the order-statistic intervals of
    litmus_core::stats::quantile: 0-based ranks lower = floor(n q - z sqrt(n q (1 - q))), at most
    the estimate's rank floor(q (n - 1)), upper = ceil(n q + z sqrt(n q (1 - q))), both clamped
    to [0, n - 1], z = norm.ppf(1 - alpha / 2)."""
    samples = []
    for kind in ["lognormal", "normal", "zeros"]:
        for n in [150, 400, 700]:
            if kind == "lognormal":
                x = RNG.lognormal(float(RNG.uniform(-2, 3)), float(RNG.uniform(0.3, 2.0)), size=n)
            elif kind == "normal":
                x = RNG.normal(float(RNG.uniform(-5, 5)), float(RNG.uniform(0.5, 20)), size=n)
            else:
                x = np.where(RNG.uniform(size=n) < float(RNG.uniform(0.3, 0.8)), 0.0,
                             RNG.lognormal(2.0, 1.0, size=n))
            ordered = np.sort(x)
            qs = [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0]
            sample = {"kind": kind, "values": [float(v) for v in x],
                      "quantiles": [{"q": q, "value": float(np.quantile(x, q, method="lower"))} for q in qs],
                      "intervals": []}
            for q in qs[1:-1]:
                for alpha in [0.05, 0.1, 0.01]:
                    z = float(stats.norm.ppf(1 - alpha / 2))
                    half = z * math.sqrt(n * q * (1 - q))
                    point = math.floor(q * (n - 1))
                    lo = min(max(math.floor(n * q - half), 0), n - 1, point)
                    hi = min(max(math.ceil(n * q + half), 0), n - 1)
                    sample["intervals"].append({"q": q, "alpha": alpha, "z": z, "lower_rank": lo,
                                                "upper_rank": hi, "lower": float(ordered[lo]),
                                                "upper": float(ordered[hi])})
            samples.append(sample)
    return {"samples": samples}


def metric_figures() -> dict:
    """Per-unit data of two variants and the figures Litmus's metric kinds must give
    (litmus_core::results::analyze over the rollups of that data):
    - capped means: the cap is numpy's method="lower" quantile of the values of the units with an
      event (value > 0 here), pooled; each value min(value, cap); Welch's test (scipy);
    - ratios: sum(num) / sum(den) per variant, the delta-method variance
      (s_y^2 - 2 R s_xy + R^2 s_x^2) / (n xbar^2) (Deng, Knoblich, Lu 2018; numpy, ddof=1) and
      the z-test of the difference (scipy.stats.norm);
    - retention: units whose window (delay .. delay + length hours after exposure) has ended by
      `now` count; converted if an event falls in the window; statsmodels' pooled z-test."""
    capped, ratios, retention = [], [], []
    for case in range(6):
        n = [int(RNG.integers(150, 600)), int(RNG.integers(150, 600))]
        buy = float(RNG.uniform(0.05, 0.4))
        variants = []
        for v in range(2):
            spend = RNG.lognormal(3.0 + 0.1 * v, float(RNG.uniform(0.5, 2.0)), size=n[v])
            has = RNG.uniform(size=n[v]) < buy
            totals = np.where(has, np.round(spend, 2), 0.0)
            covariates = np.where(RNG.uniform(size=n[v]) < 0.3, np.round(RNG.lognormal(3.0, 1.0, size=n[v]), 2), 0.0)
            variants.append((totals, covariates))
        p = [0.9, 0.95, 0.99][case % 3]
        pooled = np.concatenate([t[t > 0] for t, _ in variants])
        cap = float(np.quantile(pooled, p, method="lower"))
        capped_values = [np.minimum(t, cap) for t, _ in variants]
        welch = stats.ttest_ind(capped_values[1], capped_values[0], equal_var=False)
        capped.append({
            "percentile": p,
            "variants": [{"totals": [float(x) for x in t], "covariates": [float(x) for x in c]}
                         for t, c in variants],
            "cap": cap,
            "means": [float(np.mean(c)) for c in capped_values],
            "variances": [float(np.var(c, ddof=1)) for c in capped_values],
            "pvalue": f(welch.pvalue),
        })
        # Ratios: revenue over orders per unit.
        parts = []
        for v in range(2):
            orders = RNG.poisson(float(RNG.uniform(0.2, 2.0)), size=n[v]).astype(float)
            revenue = np.round(orders * RNG.lognormal(2.5 + 0.05 * v, 0.7, size=n[v]), 2)
            parts.append((orders, revenue))
        figures = []
        for orders, revenue in parts:
            r = revenue.sum() / orders.sum()
            cov = np.cov(orders, revenue, ddof=1)
            var = (cov[1, 1] - 2 * r * cov[0, 1] + r * r * cov[0, 0]) / (len(orders) * orders.mean() ** 2)
            figures.append((float(r), float(var)))
        diff = figures[1][0] - figures[0][0]
        se = math.sqrt(figures[0][1] + figures[1][1])
        ratios.append({
            "variants": [{"numerator": [float(x) for x in rev], "denominator": [float(x) for x in o]}
                         for o, rev in parts],
            "ratios": [r for r, _ in figures],
            "variances": [var for _, var in figures],
            "pvalue": f(2 * stats.norm.sf(abs(diff / se))),
            "difference_lower": f(diff - stats.norm.ppf(0.975) * se),
            "difference_upper": f(diff + stats.norm.ppf(0.975) * se),
        })
        # Retention: exposures over 10 days, events at hours after exposure, judged at `now`.
        delay, length = [(24, 24), (168, 24), (72, 48)][case % 3]
        day_ms, hour_ms = 86_400_000, 3_600_000
        start = 1_780_000_000_000 - 1_780_000_000_000 % 60_000
        now = start + 10 * day_ms
        units, counts = [], []
        for v in range(2):
            m = min(n[v], 300)
            exposed = start + RNG.integers(0, 10 * day_ms // 60_000, size=m) * 60_000
            rate = 0.3 + 0.05 * v
            converted = matured = 0
            for t0 in exposed:
                offsets = sorted(float(h) for h in RNG.uniform(0, delay + length + 48, size=int(RNG.integers(0, 4)))
                                 if RNG.uniform() < rate * 2)
                units.append({"variant": v, "exposed_ms": int(t0),
                              "events_ms": [int(t0 + round(h * hour_ms)) for h in offsets]})
                if t0 + (delay + length) * hour_ms + 60_000 <= now:
                    matured += 1
                    lo, hi = t0 + delay * hour_ms, t0 + (delay + length) * hour_ms
                    converted += any(lo <= t0 + round(h * hour_ms) <= hi for h in offsets)
            counts.append((converted, matured))
        z, pv = proportions_ztest([counts[1][0], counts[0][0]], [counts[1][1], counts[0][1]])
        retention.append({
            "delay_hours": delay, "hours": length, "now_ms": now, "units": units,
            "converted": [c for c, _ in counts], "matured": [m for _, m in counts],
            "pvalue": f(pv),
        })
    return {"capped_means": capped, "ratios": ratios, "retention": retention}


def bandit_inference() -> list:
    """Stratified bandit inference (litmus_core::results::bandit_inference): per period of
    constant weights the arms' means and variances of the mean (numpy, ddof=1), combined with
    each period's share of all units as its weight; z tests (scipy) corrected with statsmodels'
    multipletests. Each case is a request for the bindings' JSON entry point and its answer."""
    from statsmodels.stats.multitest import multipletests

    cases = []
    for case in range(12):
        k = int(RNG.integers(2, 5))
        variants = ["control"] + [f"t{i}" for i in range(1, k)]
        periods = int(RNG.integers(1, 5))
        changes = sorted(int(x) for x in RNG.choice(np.arange(1, 10_000), periods - 1, replace=False))
        bounds = [0] + changes + [10_000]
        kind = "conversion" if case % 2 == 0 else "mean"
        goal = "decrease" if case % 5 == 4 else "increase"
        alpha = [0.05, 0.1, 0.01][case % 3]
        correction = ["holm", "bonferroni", "benjamini_hochberg", "none"][case % 4]
        units = []
        for p in range(periods):
            n = int(RNG.integers(20, 150))
            weights = RNG.dirichlet(np.ones(k))
            drift = 0.1 * p
            for _ in range(n):
                arm = int(RNG.choice(k, p=weights))
                first = int(RNG.integers(bounds[p], bounds[p + 1]))
                if kind == "conversion":
                    value = float(RNG.random() < 0.1 + drift + 0.02 * arm)
                else:
                    value = float(round(RNG.exponential(10 + 5 * p + arm), 3))
                units.append({"variant": variants[arm], "first_ms": first, "value": value})
        # The reference, written independently of core's code.
        cells = {}
        for u in units:
            p = sum(1 for c in changes if c <= u["first_ms"])
            v = 1.0 if (kind == "conversion" and u["value"] != 0) else u["value"]
            cells.setdefault((p, variants.index(u["variant"])), []).append(v)
        sizes = {p: sum(len(cells.get((p, a), [])) for a in range(k)) for p in range(periods)}

        def combine(usable):
            picked = [(sizes[p], *usable(p)) for p in range(periods) if usable(p) is not None]
            total = sum(s for s, _, _ in picked)
            if total == 0:
                return None
            x = sum(s / total * xp for s, xp, _ in picked)
            v = sum((s / total) ** 2 * vp for s, _, vp in picked)
            return x, v, len(picked)

        def moments(p, a):
            xs = np.array(cells.get((p, a), []))
            return None if len(xs) < 2 else (xs.mean(), xs.var(ddof=1) / len(xs))

        z = stats.norm.isf(alpha / 2)
        arms = []
        for a in range(k):
            r = combine(lambda p: moments(p, a))
            value = None if r is None else {"estimate": r[0], "lower": r[0] - z * math.sqrt(r[1]), "upper": r[0] + z * math.sqrt(r[1])}
            arms.append({"variant": variants[a], "units": sum(len(cells.get((p, a), [])) for p in range(periods)), "value": value})
        comparisons = []
        for a in range(1, k):
            def diff(p):
                t, c = moments(p, a), moments(p, 0)
                return None if t is None or c is None else (t[0] - c[0], t[1] + c[1])
            r = combine(diff)
            if r is None:
                continue
            d, v, used = r
            se = math.sqrt(v)
            comparisons.append({"variant": variants[a], "difference": {"estimate": d, "lower": d - z * se, "upper": d + z * se},
                                "pvalue": float(2 * stats.norm.sf(abs(d / se))), "periods": used})
        if comparisons:
            method = {"holm": "holm", "bonferroni": "bonferroni", "benjamini_hochberg": "fdr_bh", "none": None}[correction]
            ps = [c["pvalue"] for c in comparisons]
            if method is None:
                reject, adjusted = [p <= alpha for p in ps], ps
            else:
                reject, adjusted, _, _ = multipletests(ps, alpha=alpha, method=method)
            for c, rej, adj in zip(comparisons, reject, adjusted):
                c["adjusted_pvalue"] = float(adj)
                better = (c["difference"]["estimate"] > 0) == (goal == "increase")
                c["verdict"] = "inconclusive" if not rej else ("better" if better else "worse")
        columns = {"variant": [u["variant"] for u in units], "first_ms": [u["first_ms"] for u in units],
                   "value": [u["value"] for u in units]}
        request = {"variants": variants, "units": columns, "changes_ms": changes,
                   "metric": {"key": "m", "kind": kind, "goal": goal},
                   "analysis": {"alpha": alpha, "correction": correction, "basis": "fixed_horizon"}}
        cases.append({"request": request, "arms": arms, "comparisons": comparisons,
                      "periods": sum(1 for p in range(periods) if sizes[p] > 0)})
    return cases


FILES = {
    "distributions.json": distributions,
    "ttest.json": ttests,
    "ztest.json": ztests,
    "chi2_contingency.json": contingency,
    "chisquare.json": goodness_of_fit,
    "intervals.json": intervals,
    "anova.json": anova,
    "multipletests.json": multiple_testing,
    "power.json": power_cases,
    "variance_reduction.json": variance_reduction,
    "bayes.json": bayes,
    "factorial.json": factorial,
    "quantiles.json": quantiles,
    "metrics.json": metric_figures,
    "bandit_inference.json": bandit_inference,
}


def main() -> None:
    global RNG
    args = [a for a in sys.argv[1:] if not a.startswith("--only=")]
    only = [a.split("=", 1)[1].split(",") for a in sys.argv[1:] if a.startswith("--only=")]
    out = pathlib.Path(args[0]) if args else REPO / "fixtures" / "stats"
    out.mkdir(parents=True, exist_ok=True)
    for name, build in FILES.items():
        if only and name not in only[0]:
            continue
        # Each file has its own seed, so one file can be regenerated alone, reproducibly.
        RNG = np.random.default_rng([20261126, zlib.crc32(name.encode())])
        data = {"generator": "scripts/gen_stats_fixtures.py", "scipy": scipy.__version__,
                "statsmodels": statsmodels.__version__, "cases": build()}
        (out / name).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        cases = data["cases"]
        n = sum(len(v) for v in cases.values()) if isinstance(cases, dict) else len(cases)
        print(f"{n:6d} cases  {name}")
    print(f"{len(DISAGREEMENTS)} values where scipy differs from 50-digit mpmath by > 1e-12 (mpmath used):")
    for line in DISAGREEMENTS:
        print("  " + line)


if __name__ == "__main__":
    main()
