"""litmus.stats on the installed wheel against every case of fixtures/stats that these
functions cover (generated from scipy, statsmodels and mpmath): within 1e-9 relative, as the
Rust tests require."""

from __future__ import annotations

import math

import pytest

from litmus import stats

from conftest import load

REL = 1e-9


def close(got: float, want: float, abs_floor: float = 0.0) -> bool:
    if want == got:
        return True
    if math.isnan(want):
        return math.isnan(got)
    if abs(got - want) <= abs_floor:
        return True
    scale = abs(want) if abs(want) >= 1e-290 else 1e-290 / 1e-12
    return abs(got - want) / scale <= REL


DIST = load("stats/distributions.json")["cases"]
DIST_CASES = [
    ("normal_sf", lambda c: stats.norm_sf(c["z"]), "sf"),
    ("normal_ppf", lambda c: stats.norm_ppf(c["p"]), "ppf"),
    ("t_sf", lambda c: stats.t_sf(c["t"], c["df"]), "sf"),
    ("t_isf", lambda c: stats.t_isf(c["q"], c["df"]), "isf"),
    ("chi2_sf", lambda c: stats.chi2_sf(c["x"], c["k"]), "sf"),
    ("f_sf", lambda c: stats.f_sf(c["f"], c["d1"], c["d2"]), "sf"),
    ("beta_cdf", lambda c: stats.beta_cdf(c["x"], c["a"], c["b"]), "cdf"),
]


@pytest.mark.parametrize("name,fn,key", DIST_CASES, ids=[d[0] for d in DIST_CASES])
def test_distributions(name, fn, key) -> None:
    cases = DIST[name]
    assert cases
    bad = [(c, fn(c)) for c in cases if not close(fn(c), c[key])]
    assert not bad, bad[:5]


def test_ttest_ind_from_stats() -> None:
    cases = load("stats/ttest.json")["cases"]
    assert len(cases) > 100
    for c in cases:
        r = stats.ttest_ind_from_stats(
            c["mean1"], c["std1"], c["nobs1"], c["mean2"], c["std2"], c["nobs2"],
            equal_var=c["equal_var"], alternative=c["alternative"],
        )
        assert close(r.statistic, c["statistic"]), c
        assert close(r.pvalue, c["pvalue"]), c
        assert close(r.df, c["df"]), c
        t, p = r
        assert (t, p) == (r.statistic, r.pvalue)


def test_proportions_ztest() -> None:
    for c in load("stats/ztest.json")["cases"]:
        z, p = stats.proportions_ztest(
            [c["count1"], c["count2"]], [c["nobs1"], c["nobs2"]], alternative=c["alternative"]
        )
        assert close(z, c["statistic"]) and close(p, c["pvalue"]), c


def test_chi_squared() -> None:
    for c in load("stats/chi2_contingency.json")["cases"]:
        rows = c["rows"]
        flat = c["observed"]
        width = len(flat) // rows
        table = [flat[i * width : (i + 1) * width] for i in range(rows)]
        r = stats.chi2_contingency(table, correction=c["correction"])
        assert close(r.statistic, c["statistic"]) and close(r.pvalue, c["pvalue"]), c
        assert r.dof == c["dof"]
        got = [x for row in r.expected_freq for x in row]
        assert all(close(g, w) for g, w in zip(got, c["expected"])), c
    for c in load("stats/chisquare.json")["cases"]:
        r = stats.chisquare(c["observed"], c["weights"])
        assert close(r.statistic, c["statistic"]) and close(r.pvalue, c["pvalue"]), c


def test_proportion_intervals() -> None:
    for c in load("stats/intervals.json")["cases"]["proportion"]:
        lo, hi = stats.proportion_confint(c["count"], c["nobs"], c["alpha"], c["method"])
        assert close(lo, c["lower"], 1e-15) and close(hi, c["upper"], 1e-15), c


def test_multipletests() -> None:
    for c in load("stats/multipletests.json")["cases"]:
        reject, corrected, _, bonf = stats.multipletests(c["pvals"], c["alpha"], c["method"])
        assert reject == c["reject"], c
        assert all(close(g, w, 1e-15) for g, w in zip(corrected, c["pvals_corrected"])), c
        assert bonf == c["alpha"] / len(c["pvals"])
