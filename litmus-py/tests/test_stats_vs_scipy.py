"""litmus.stats against scipy and statsmodels on fresh random inputs (hypothesis), plus the
error contract: bad input raises LitmusError subclasses with codes, never crashes."""

from __future__ import annotations

import array
import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import example, given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests as sm_multipletests
from statsmodels.stats.proportion import proportion_confint as sm_confint
from statsmodels.stats.proportion import proportions_ztest as sm_ztest

import litmus
from litmus import stats


def rel(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(b), 1e-300)


means = st.floats(-1e6, 1e6)
stds = st.floats(1e-3, 1e4)
counts = st.integers(2, 10**7)
alternatives = st.sampled_from(["two-sided", "less", "greater"])


@settings(max_examples=300, deadline=None)
@given(means, stds, counts, means, stds, counts, st.booleans(), alternatives)
def test_ttest_from_stats(m1, s1, n1, m2, s2, n2, equal_var, alternative) -> None:
    ours = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var, alternative)
    ref = scipy.stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var, alternative)
    assert rel(ours.statistic, ref.statistic) < 1e-9
    if ref.pvalue > 1e-250:
        assert rel(ours.pvalue, ref.pvalue) < 1e-7 or abs(ours.pvalue - ref.pvalue) < 1e-15


# Values of everyday magnitudes (variances of 1e-280 are a different, degenerate question).
samples = st.lists(st.floats(-1e3, 1e3).filter(lambda x: x == 0 or abs(x) > 1e-6), min_size=2, max_size=300)


@settings(max_examples=100, deadline=None)
@given(samples, samples, st.booleans())
@example([0.0, 0.0], [683.1043977184497] * 3, False)
def test_ttest_ind_on_samples(a, b, equal_var) -> None:
    # Both samples constant: no variance anywhere, the statistic is undefined (numpy may
    # still report a variance of 1e-26 from rounding, so compare the values themselves).
    if len(set(a)) == 1 and len(set(b)) == 1:
        with pytest.raises(litmus.DegenerateDataError):
            stats.ttest_ind(a, b, equal_var)
        return
    ref = scipy.stats.ttest_ind(a, b, equal_var=equal_var)
    if not math.isfinite(ref.statistic):
        return
    # Lists, numpy arrays (contiguous and strided), array.array, tuples.
    for form in (a, np.array(a), np.repeat(a, 2)[::2], array.array("d", a), tuple(a)):
        ours = stats.ttest_ind(form, b, equal_var)
        assert rel(ours.statistic, ref.statistic) < 1e-7 or abs(ours.statistic - ref.statistic) < 1e-9
    summary = stats.describe(np.array(a))
    assert summary.count == len(a)
    assert rel(summary.mean, float(np.mean(a))) < 1e-9 or abs(summary.mean) < 1e-9


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**6), st.integers(1, 10**6), st.data())
def test_ztest_and_confint(n1, n2, data) -> None:
    c1 = data.draw(st.integers(0, n1))
    c2 = data.draw(st.integers(0, n2))
    if c1 + c2 in (0, n1 + n2):
        with pytest.raises(litmus.DegenerateDataError):
            stats.proportions_ztest([c1, c2], [n1, n2])
    else:
        z, p = stats.proportions_ztest([c1, c2], [n1, n2])
        rz, rp = sm_ztest([c1, c2], [n1, n2])
        assert rel(z, rz) < 1e-9 and (rel(p, rp) < 1e-7 or abs(p - rp) < 1e-15)
    for method in ("normal", "wilson", "agresti_coull"):
        lo, hi = stats.proportion_confint(c1, n1, 0.05, method)
        rlo, rhi = sm_confint(c1, n1, 0.05, method)
        assert abs(lo - max(rlo, 0.0) if method == "normal" else lo - rlo) < 1e-9
        assert abs(hi - min(rhi, 1.0) if method == "normal" else hi - rhi) < 1e-9


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40), st.sampled_from(["bonferroni", "holm", "fdr_bh"]))
def test_multipletests(pvals, method) -> None:
    reject, corrected, _, _ = stats.multipletests(pvals, 0.05, method)
    r_reject, r_corrected, _, _ = sm_multipletests(pvals, 0.05, method)
    assert reject == list(r_reject)
    assert all(abs(a - b) < 1e-12 for a, b in zip(corrected, r_corrected))


def test_multipletests_defaults_to_holm() -> None:
    pvals = [0.01, 0.04, 0.03, 0.2]
    reject, corrected, sidak, bonf = stats.multipletests(pvals)  # alpha 0.05, Holm
    r_reject, r_corrected, r_sidak, r_bonf = sm_multipletests(pvals, 0.05, "holm")
    assert reject == list(r_reject)
    assert all(abs(a - b) < 1e-12 for a, b in zip(corrected, r_corrected))
    assert abs(sidak - r_sidak) < 1e-15 and abs(bonf - r_bonf) < 1e-15
    assert (reject, corrected) == stats.multipletests(pvals, 0.05, "holm")[:2]
    with pytest.raises(litmus.InvalidArgumentError):
        stats.multipletests(pvals, 0.05, "hs")  # statsmodels' default is not offered


def test_contingency_and_goodness_of_fit() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        rows, cols = rng.integers(2, 5, size=2)
        table = rng.integers(1, 500, size=(rows, cols))
        for correction in (True, False):
            ours = stats.chi2_contingency(table.tolist(), correction)
            ref = scipy.stats.chi2_contingency(table, correction)
            assert rel(ours.statistic, ref.statistic) < 1e-9
            assert rel(ours.pvalue, ref.pvalue) < 1e-7 or ours.pvalue < 1e-250
            assert ours.dof == ref.dof
        obs = rng.integers(1000, 100000, size=cols)
        ours = stats.chisquare(obs.tolist())
        ref = scipy.stats.chisquare(obs)
        assert rel(ours.statistic, ref.statistic) < 1e-9


def test_errors_carry_codes() -> None:
    with pytest.raises(litmus.InvalidArgumentError) as e:
        stats.ttest_ind_from_stats(0, -1, 10, 0, 1, 10)
    assert e.value.code == "invalid_argument" and isinstance(e.value, ValueError)
    with pytest.raises(litmus.InvalidArgumentError):
        stats.ttest_ind_from_stats(0, 1, 10, 0, 1, 10, alternative="sideways")
    with pytest.raises(litmus.DegenerateDataError) as d:
        stats.ttest_ind([1.0], [2.0, 3.0])
    assert d.value.code == "degenerate_data"
    with pytest.raises(litmus.InvalidArgumentError):
        stats.chi2_contingency([[1, 2], [3]])
    with pytest.raises(litmus.InvalidArgumentError):
        stats.proportion_confint(5, 10, 2.0)
    assert math.isnan(stats.norm_sf(float("nan")))


def test_anova_pairs_and_power_on_fresh_data() -> None:
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    rng = np.random.default_rng(11)
    for _ in range(50):
        groups = [rng.normal(rng.uniform(-1, 1), rng.uniform(0.5, 3), size=rng.integers(5, 400)) for _ in range(rng.integers(2, 6))]
        ours = stats.f_oneway(*groups)
        ref = scipy.stats.f_oneway(*groups)
        assert rel(ours.statistic, ref.statistic) < 1e-9
        assert rel(ours.pvalue, ref.pvalue) < 1e-7 or ours.pvalue < 1e-250
        x = rng.normal(size=200)
        y = 0.5 * x + rng.normal(size=200)
        pair = stats.describe_pairs(x, y)
        assert pair.nobs == 200
        assert rel(pair.c_xy / 199, float(np.cov(x, y)[0, 1])) < 1e-9
        d, n = rng.uniform(0.01, 1.0), rng.uniform(10, 10_000)
        assert rel(stats.power(d, n), NormalIndPower().power(d, n, 0.05)) < 1e-9
        p1, p2 = rng.uniform(0.01, 0.99, size=2)
        assert abs(stats.proportion_effectsize(p1, p2) - proportion_effectsize(p1, p2)) < 1e-12


# ---- quantiles against numpy (numpy.quantile(method="lower")) ---------------------------------

quantile_samples = st.lists(st.floats(-1e6, 1e6).filter(lambda x: x == 0 or abs(x) > 1e-6), min_size=1, max_size=400)
levels = st.sampled_from([0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0]) | st.floats(0, 1)


@settings(max_examples=300, deadline=None)
@given(quantile_samples, levels, st.sampled_from([0.001, 0.01, 0.05]))
@example([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0], 0.3, 0.01)
def test_quantiles_are_numpys_lower_order_statistic(values, q, accuracy) -> None:
    want = float(np.quantile(np.array(values), q, method="lower"))
    assert stats.exact_quantile(values, q) == want
    assert stats.exact_quantile(np.array(values), q) == want  # the buffer path
    sketch = litmus.QuantileSketch(accuracy)
    sketch.extend(values)
    assert abs(sketch.quantile(q) - want) <= accuracy * abs(want) * (1 + 1e-9)


def interval_ranks(n: int, q: float, alpha: float) -> tuple[int, int]:
    """The order-statistic interval's 0-based ranks, written from the formula (Conover)."""
    z = scipy.stats.norm.isf(alpha / 2)
    half = z * math.sqrt(n * q * (1 - q))
    clamp = lambda r: min(max(int(r), 0), n - 1)  # noqa: E731
    return min(clamp(math.floor(n * q - half)), math.floor(q * (n - 1))), clamp(math.ceil(n * q + half))


def test_quantile_intervals_and_comparisons_on_generated_data() -> None:
    rng = np.random.default_rng(19)
    for i in range(120):
        n_t, n_c = rng.integers(2, 3_000, size=2)
        shift = rng.choice([0.0, 0.1, 0.5])
        t = rng.lognormal(shift, rng.uniform(0.2, 2.0), size=n_t)
        c = rng.lognormal(0.0, rng.uniform(0.2, 2.0), size=n_c)
        if i % 4 == 0:  # zeros and negative values too
            t = np.where(rng.random(n_t) < 0.3, 0.0, t - 1.0)
        q = float(rng.choice([0.1, 0.5, 0.9, 0.95, 0.99, rng.uniform(0.01, 0.99)]))
        alpha = float(rng.choice([0.01, 0.05, 0.1]))
        accuracy = float(rng.choice([0.001, 0.01, 0.05]))
        tol = accuracy * (1 + 1e-9)
        near = lambda got, want: abs(got - want) <= tol * abs(want)  # noqa: E731

        # One group's interval: numpy's order statistics at the formula's ranks.
        e = stats.quantile_interval(t, q, alpha, relative_accuracy=accuracy)
        st_ = np.sort(t)
        assert (e.lower_rank, e.upper_rank) == interval_ranks(n_t, q, alpha)
        assert e.nobs == n_t
        assert near(e.estimate, float(np.quantile(t, q, method="lower")))
        assert near(e.lower, float(st_[e.lower_rank])) and near(e.upper, float(st_[e.upper_rank]))
        z = scipy.stats.norm.isf(alpha / 2)
        assert rel(e.std_error, (e.upper - e.lower) / (2 * z)) < 1e-12 or e.std_error == 0

        # The comparison: the reported parts recombine as the documented z test.
        try:
            r = stats.quantile_ztest(t, c, q, alpha, relative_accuracy=accuracy)
        except litmus.DegenerateDataError:
            assert e.estimate == 0 or float(np.quantile(c, q, method="lower")) == 0
            continue
        et = stats.quantile_interval(t, q, alpha, relative_accuracy=accuracy)
        ec = stats.quantile_interval(c, q, alpha, relative_accuracy=accuracy)
        assert (r.quantile_treatment, r.std_error_treatment) == (et.estimate, et.std_error)
        assert (r.quantile_control, r.std_error_control) == (ec.estimate, ec.std_error)
        assert near(r.quantile_control, float(np.quantile(c, q, method="lower")))
        se_t = math.hypot(et.std_error, accuracy * et.estimate / math.sqrt(3))
        se_c = math.hypot(ec.std_error, accuracy * ec.estimate / math.sqrt(3))
        se = math.hypot(se_t, se_c)
        assert rel(r.std_error, se) < 1e-12
        diff = r.quantile_treatment - r.quantile_control
        assert r.difference == diff
        assert rel(r.statistic, diff / se) < 1e-12 or r.statistic == 0
        assert rel(r.pvalue, 2 * scipy.stats.norm.sf(abs(diff / se))) < 1e-9
        assert rel(r.diff_lower, diff - z * se) < 1e-9 or abs(r.diff_lower - (diff - z * se)) < 1e-12 * se
        assert rel(r.diff_upper, diff + z * se) < 1e-9 or abs(r.diff_upper - (diff + z * se)) < 1e-12 * se
        qt, qc = r.quantile_treatment, r.quantile_control
        assert rel(r.relative, qt / qc - 1) < 1e-12 or abs(r.relative - (qt / qc - 1)) < 1e-15
        rel_se = math.sqrt((se_t / qc) ** 2 + (qt * se_c / qc**2) ** 2)
        assert abs(r.relative_upper - r.relative - z * rel_se) <= 1e-9 * max(abs(z * rel_se), 1e-300)
        assert r.diff_lower <= diff <= r.diff_upper and r.relative_lower <= r.relative <= r.relative_upper


def test_a_real_shift_of_the_median_is_found_and_none_is_not() -> None:
    rng = np.random.default_rng(23)
    control = rng.lognormal(0.0, 1.0, size=5_000)
    treatment = rng.lognormal(0.2, 1.0, size=5_000)
    r = stats.quantile_ztest(treatment, control, 0.5, alpha=0.001)  # 99.9% intervals
    assert r.pvalue < 1e-3
    assert r.diff_lower < math.exp(0.2) - 1 < r.diff_upper
    assert r.relative_lower < math.exp(0.2) - 1 < r.relative_upper
    same = stats.quantile_ztest(control, control, 0.9)
    assert (same.statistic, same.pvalue) == (0.0, 1.0)
