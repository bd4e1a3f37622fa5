"""litmus.stats on the installed wheel against every case of fixtures/stats that these
functions cover (generated from scipy, statsmodels and mpmath): within 1e-9 relative, as the
Rust tests require."""

from __future__ import annotations

import math

import pytest

import litmus
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


def test_distributions_by_name_check_their_arity() -> None:
    """The native lookup is core's (dist::by_name), as in the npm package: the wrong number of
    parameters raises, never NaN."""
    from litmus import _litmus, InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="t_sf takes 2 arguments, not 1"):
        _litmus.distribution("t_sf", [1.5])
    with pytest.raises(InvalidArgumentError, match="no distribution function"):
        _litmus.distribution("cauchy_sf", [1.0])
    assert close(_litmus.distribution("normal_sf", [0.0]), 0.5)


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


def summary(g: dict) -> stats.Summary:
    return stats.Summary(g["count"], g["mean"], g["m2"])


def test_anova() -> None:
    for c in load("stats/anova.json")["cases"]:
        r = stats.f_oneway(*[summary(g) for g in c["groups"]])
        assert close(r.statistic, c["statistic"]) and close(r.pvalue, c["pvalue"]), c
        assert r.df_within == c["df_within"]


def test_factorial() -> None:
    for c in load("stats/factorial.json")["cases"]:
        r = stats.factorial_anova(c["levels"], [summary(g) for g in c["cells"]])
        assert close(r.residual_sum_sq, c["residual_sum_sq"]), c
        by_factors = {tuple(t.factors): t for t in r.terms}
        for want in c["terms"]:
            got = by_factors[tuple(want["factors"])]
            assert close(got.sum_sq, want["sum_sq"]) and close(got.statistic, want["statistic"]), c
            assert close(got.pvalue, want["pvalue"]) and got.df == want["df"], c


def test_other_intervals() -> None:
    cases = load("stats/intervals.json")["cases"]
    for c in cases["newcombe"]:
        i = stats.newcombe_confint(c["count1"], c["nobs1"], c["count2"], c["nobs2"], c["alpha"])
        assert close(i.lower, c["lower"]) and close(i.upper, c["upper"]), c
    for c in cases["mean"]:
        s = stats.Summary(c["nobs"], c["mean"], c["std"] ** 2 * (c["nobs"] - 1))
        i = stats.mean_confint(s, c["alpha"])
        assert abs(i.lower - c["lower"]) <= 1e-9 * abs(c["lower"]) + 1e-12, c
        assert abs(i.upper - c["upper"]) <= 1e-9 * abs(c["upper"]) + 1e-12, c
    for c in cases["diff_means"]:
        a = stats.Summary(c["nobs1"], c["mean1"], c["std1"] ** 2 * (c["nobs1"] - 1))
        b = stats.Summary(c["nobs2"], c["mean2"], c["std2"] ** 2 * (c["nobs2"] - 1))
        i = stats.diff_means_confint(a, b, c["alpha"], c["equal_var"])
        assert abs(i.lower - c["lower"]) <= 1e-9 * abs(c["lower"]) + 1e-12, c
    for c in cases["relative_lift"]:
        a = stats.Summary(c["nobs1"], c["mean1"], c["std1"] ** 2 * (c["nobs1"] - 1))
        b = stats.Summary(c["nobs2"], c["mean2"], c["std2"] ** 2 * (c["nobs2"] - 1))
        i = stats.relative_lift_confint(a, b, c["alpha"])
        assert abs(i.estimate - c["estimate"]) <= 1e-9 * abs(c["estimate"]) + 1e-12, c
        assert abs(i.lower - c["lower"]) <= 1e-9 * abs(c["lower"]) + 1e-12, c


def test_power() -> None:
    cases = load("stats/power.json")["cases"]
    for c in cases["power"]:
        assert close(stats.power(c["effect_size"], c["nobs1"], c["alpha"], c["ratio"], c["alternative"]), c["power"]), c
    for c in cases["sample_size"]:
        assert close(stats.sample_size(c["effect_size"], c["power"], c["alpha"], c["ratio"], c["alternative"]), c["nobs1"]), c
    for c in cases["mde"]:
        got = stats.minimum_detectable_effect(c["nobs1"], c["power"], c["alpha"], c["ratio"], c["alternative"])
        assert close(got, c["effect_size"]), c
    for c in cases["effect_size"]:
        assert close(stats.proportion_effectsize(c["prop1"], c["prop2"]), c["h"], 1e-15), c


def co(v: dict) -> stats.CoSummary:
    return stats.CoSummary(v["count"], v["mean_x"], v["mean_y"], v["m2_x"], v["m2_y"], v["c_xy"])


def test_variance_reduction() -> None:
    cases = load("stats/variance_reduction.json")["cases"]
    for c in cases["cuped"]:
        r = stats.cuped(co(c["treatment"]), co(c["control"]), c["alpha"])
        for got, key in [(r.theta, "theta"), (r.statistic, "statistic"), (r.pvalue, "pvalue"),
                         (r.df, "df"), (r.lower, "lower"), (r.upper, "upper")]:
            assert close(got, c[key]), (key, c)
        assert close(r.variance_reduction, c["variance_reduction"], 1e-12), c
    for c in cases["ratio"]:
        r = stats.ratio_ztest(co(c["treatment"]), co(c["control"]), c["alpha"])
        pairs = [(r.ratio_treatment, "ratio_t"), (r.ratio_control, "ratio_c"), (r.variance_treatment, "var_t"),
                 (r.variance_control, "var_c"), (r.statistic, "statistic"), (r.pvalue, "pvalue"),
                 (r.diff_lower, "diff_lower"), (r.diff_upper, "diff_upper"),
                 (r.relative_lower, "rel_lower"), (r.relative_upper, "rel_upper")]
        for got, key in pairs:
            assert close(got, c[key]), (key, c)


def test_bayes() -> None:
    cases = load("stats/bayes.json")["cases"]
    for c in cases["beta"]:
        args = (c["a1"], c["b1"], c["a2"], c["b2"])
        assert close(stats.beta_prob_beats(*args), c["prob_beats"], 1e-12), c
        assert close(stats.beta_expected_loss(*args), c["expected_loss"], 1e-14), c
    for c in cases["beta_best"]:
        got = stats.beta_prob_best([tuple(p) for p in c["arms"]])
        assert all(close(g, w, 1e-12) for g, w in zip(got, c["prob_best"])), c
    for c in cases["normal"]:
        args = (c["mean1"], c["var1"], c["mean2"], c["var2"])
        assert close(stats.normal_prob_beats(*args), c["prob_beats"]), c
        assert close(stats.normal_expected_loss(*args), c["expected_loss"]), c


def test_srm_and_sequential_contracts() -> None:
    ok = stats.srm_check([50_110, 49_890])
    assert not ok.mismatch and ok.expected_shares == [0.5, 0.5]
    bad = stats.srm_check([51_000, 49_000], [1, 1])
    assert bad.mismatch and bad.pvalue < 1e-9
    # mSPRT: the interval holds the estimate; with no difference the p-value is 1.
    t = stats.Summary(10_000, 10.1, 4.0 * 9_999)
    c = stats.Summary(10_000, 10.0, 4.0 * 9_999)
    s = stats.msprt(t, c, tau2=0.01)
    assert s.lower < 0.1 < s.upper and 0 < s.pvalue <= 1
    same = stats.msprt_proportions(500, 10_000, 500, 10_000, tau2=0.001)
    assert same.pvalue == 1.0


def test_quantiles() -> None:
    """fixtures/stats/quantiles.json (numpy), as litmus-core/tests/stats_fixtures/quantiles.rs
    checks it: the exact quantile is numpy's ``method="lower"`` to 1e-12, the sketch's
    quantiles and interval bounds are within its relative accuracy of numpy's, at the same
    order-statistic ranks, and the standard error follows from the bounds."""
    samples = load("stats/quantiles.json")["cases"]["samples"]
    assert len(samples) >= 5
    within = lambda got, want, rel: abs(got - want) <= rel * abs(want)  # noqa: E731
    checks = 0
    for sample in samples:
        x = sample["values"]
        for accuracy in (0.001, 0.01, 0.05):
            sketch = litmus.QuantileSketch(accuracy)
            sketch.extend(x)
            assert sketch.count == len(x)
            tolerance = accuracy * (1 + 1e-9)
            for c in sample["quantiles"]:
                q, want = c["q"], c["value"]
                assert within(stats.exact_quantile(x, q), want, 1e-12), (sample["kind"], q)
                assert within(sketch.quantile(q), want, tolerance), (sample["kind"], accuracy, q)
                checks += 1
            for c in sample["intervals"]:
                e = stats.quantile_interval(sketch, c["q"], c["alpha"])
                what = (sample["kind"], len(x), accuracy, c["q"], c["alpha"])
                assert (e.lower_rank, e.upper_rank, e.nobs) == (c["lower_rank"], c["upper_rank"], len(x)), what
                assert within(e.lower, c["lower"], tolerance), what
                assert within(e.upper, c["upper"], tolerance), what
                bound = tolerance * (abs(c["lower"]) + abs(c["upper"])) / (2 * c["z"])
                assert abs(e.std_error - (c["upper"] - c["lower"]) / (2 * c["z"])) <= bound, what
                # Raw values are sketched at the relative accuracy asked for: the same answer.
                if accuracy == 0.01:
                    assert stats.quantile_interval(x, c["q"], c["alpha"]) == e
                checks += 1
    assert checks > 500
