"""Statistics with scipy's and statsmodels' names and signatures, computed by the Rust core
(checked against scipy and statsmodels on ``fixtures/stats``).

Switching is an import away::

    from litmus.stats import ttest_ind_from_stats   # was: from scipy.stats import ...
    from litmus.stats import proportions_ztest      # was: from statsmodels.stats.proportion import ...

Results unpack like the originals (``t, p = ttest_ind(...)``) and carry the same attribute
names (``.statistic``, ``.pvalue``, ``.df``, ``.dof``, ``.expected_freq``). Sequences of
numbers may be lists, tuples, ``array.array`` or numpy arrays (no numpy dependency).
"""

from __future__ import annotations

import array
from typing import Any, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from . import _litmus
from ._litmus import QuantileSketch

__all__ = [
    "TtestResult",
    "Chi2ContingencyResult",
    "Power_divergenceResult",
    "Summary",
    "describe",
    "ttest_ind",
    "ttest_ind_from_stats",
    "chisquare",
    "chi2_contingency",
    "proportions_ztest",
    "proportion_confint",
    "multipletests",
    "SrmResult",
    "srm_check",
    "F_onewayResult",
    "f_oneway",
    "Term",
    "FactorialResult",
    "factorial_anova",
    "Interval",
    "mean_confint",
    "diff_means_confint",
    "relative_lift_confint",
    "newcombe_confint",
    "power",
    "sample_size",
    "minimum_detectable_effect",
    "proportion_effectsize",
    "SequentialResult",
    "msprt",
    "msprt_proportions",
    "CoSummary",
    "describe_pairs",
    "CupedResult",
    "cuped",
    "RatioResult",
    "ratio_ztest",
    "QuantileSketch",
    "QuantileEstimate",
    "QuantileResult",
    "quantile_interval",
    "quantile_ztest",
    "exact_quantile",
    "sketch_key",
    "sketch_value",
    "beta_prob_beats",
    "beta_expected_loss",
    "beta_prob_best",
    "normal_prob_beats",
    "normal_expected_loss",
    "norm_sf",
    "norm_cdf",
    "norm_pdf",
    "norm_ppf",
    "norm_isf",
    "t_sf",
    "t_cdf",
    "t_pdf",
    "t_isf",
    "chi2_sf",
    "chi2_cdf",
    "f_sf",
    "beta_cdf",
]


class TtestResult:
    """A t-test: unpacks to ``(statistic, pvalue)`` like scipy's; also has ``df``."""

    __slots__ = ("statistic", "pvalue", "df")

    def __init__(self, statistic: float, pvalue: float, df: float) -> None:
        self.statistic = statistic
        self.pvalue = pvalue
        self.df = df

    def __iter__(self) -> Iterator[float]:
        return iter((self.statistic, self.pvalue))

    def __repr__(self) -> str:
        return f"TtestResult(statistic={self.statistic!r}, pvalue={self.pvalue!r}, df={self.df!r})"


class Power_divergenceResult(NamedTuple):
    """A goodness-of-fit test: ``(statistic, pvalue)``."""

    statistic: float
    pvalue: float


class Chi2ContingencyResult:
    """A test of independence: unpacks to ``(statistic, pvalue, dof, expected_freq)``."""

    __slots__ = ("statistic", "pvalue", "dof", "expected_freq")

    def __init__(
        self, statistic: float, pvalue: float, dof: int, expected_freq: List[List[float]]
    ) -> None:
        self.statistic = statistic
        self.pvalue = pvalue
        self.dof = dof
        self.expected_freq = expected_freq

    def __iter__(self) -> Iterator[Any]:
        return iter((self.statistic, self.pvalue, self.dof, self.expected_freq))

    def __repr__(self) -> str:
        return (
            f"Chi2ContingencyResult(statistic={self.statistic!r}, pvalue={self.pvalue!r}, "
            f"dof={self.dof!r})"
        )


class Summary:
    """Mergeable sufficient statistics of a sample: count, mean and M2 = sum((x - mean)^2)."""

    __slots__ = ("count", "mean", "m2")

    def __init__(self, count: int, mean: float, m2: float) -> None:
        self.count = count
        self.mean = mean
        self.m2 = m2

    @property
    def variance(self) -> float:
        """The sample variance (ddof = 1)."""
        return self.m2 / (self.count - 1) if self.count > 1 else float("nan")

    def _tuple(self) -> Tuple[int, float, float]:
        return (self.count, self.mean, self.m2)

    def __repr__(self) -> str:
        return f"Summary(count={self.count}, mean={self.mean!r}, m2={self.m2!r})"


def _f64_bytes(values: Any) -> bytes:
    """The values as packed native f64: one copy (a memcpy for float64 buffers)."""
    try:
        view = memoryview(values)
    except TypeError:
        view = None
    if view is not None:
        if view.format == "d" and view.c_contiguous:
            return view.tobytes()
        if hasattr(values, "astype"):  # a numpy array of another dtype or layout
            return bytes(values.astype("float64").tobytes(order="C"))
    return array.array("d", values).tobytes()


def describe(values: Any) -> Summary:
    """Count, mean and M2 of a sample (numpy array, array.array or any sequence of numbers).
    Large inputs are summarised without the GIL, in full precision (Chan's merge of
    2,048-value chunks)."""
    count, mean, m2 = _litmus.moments_from_f64_bytes(_f64_bytes(values))
    return Summary(count, mean, m2)


def ttest_ind(
    a: Any, b: Any, equal_var: bool = True, alternative: str = "two-sided"
) -> TtestResult:
    """scipy.stats.ttest_ind for two samples (or two :class:`Summary` objects)."""
    sa = a if isinstance(a, Summary) else describe(a)
    sb = b if isinstance(b, Summary) else describe(b)
    return TtestResult(*_litmus.ttest_ind_moments(sa._tuple(), sb._tuple(), equal_var, alternative))


def ttest_ind_from_stats(
    mean1: float,
    std1: float,
    nobs1: int,
    mean2: float,
    std2: float,
    nobs2: int,
    equal_var: bool = True,
    alternative: str = "two-sided",
) -> TtestResult:
    """scipy.stats.ttest_ind_from_stats (std are sample standard deviations, ddof = 1)."""
    return TtestResult(
        *_litmus.ttest_ind_from_stats(
            float(mean1), float(std1), int(nobs1), float(mean2), float(std2), int(nobs2),
            bool(equal_var), alternative,
        )
    )


def chisquare(f_obs: Sequence[float], f_exp: Optional[Sequence[float]] = None) -> Power_divergenceResult:
    """scipy.stats.chisquare: goodness of fit of counts against expected frequencies (equal
    when omitted; only their proportions matter, as for sample-ratio checks)."""
    observed = [float(x) for x in f_obs]
    expected = [1.0] * len(observed) if f_exp is None else [float(x) for x in f_exp]
    return Power_divergenceResult(*_litmus.chisquare(observed, expected))


def chi2_contingency(observed: Sequence[Sequence[float]], correction: bool = True) -> Chi2ContingencyResult:
    """scipy.stats.chi2_contingency for a two-dimensional table (Yates' correction for 2x2
    tables when ``correction``)."""
    rows = [[float(x) for x in row] for row in observed]
    if not rows or any(len(r) != len(rows[0]) for r in rows):
        from .errors import InvalidArgumentError

        raise InvalidArgumentError("observed must be a non-empty rectangular table", "invalid_argument")
    flat = [x for row in rows for x in row]
    statistic, pvalue, dof, expected = _litmus.chi2_contingency(flat, len(rows), bool(correction))
    width = len(rows[0])
    table = [expected[i * width : (i + 1) * width] for i in range(len(rows))]
    return Chi2ContingencyResult(statistic, pvalue, dof, table)


def proportions_ztest(
    count: Sequence[int],
    nobs: Sequence[int],
    value: Optional[float] = None,
    alternative: str = "two-sided",
    prop_var: bool = False,
) -> Tuple[float, float]:
    """statsmodels' proportions_ztest for two groups: ``(zstat, pvalue)`` with the pooled
    variance (``prop_var=False``, statsmodels' default)."""
    from .errors import InvalidArgumentError

    counts, totals = list(count), list(nobs)
    if len(counts) != 2 or len(totals) != 2:
        raise InvalidArgumentError("count and nobs must have two groups each", "invalid_argument")
    if value not in (None, 0, 0.0) or prop_var is not False:
        raise InvalidArgumentError("only value=None and prop_var=False are supported", "invalid_argument")
    return _litmus.proportions_ztest(
        int(counts[0]), int(totals[0]), int(counts[1]), int(totals[1]), alternative, True
    )


def proportion_confint(
    count: int, nobs: int, alpha: float = 0.05, method: str = "normal"
) -> Tuple[float, float]:
    """statsmodels' proportion_confint: ``(lower, upper)``; methods ``normal``, ``wilson``,
    ``agresti_coull``."""
    return _litmus.proportion_confint(int(count), int(nobs), float(alpha), method)


def multipletests(
    pvals: Sequence[float], alpha: float = 0.05, method: str = "holm"
) -> Tuple[List[bool], List[float], float, float]:
    """statsmodels' multipletests: ``(reject, pvals_corrected, alphacSidak, alphacBonf)``;
    methods ``bonferroni``, ``holm`` (the default, as in the npm package; statsmodels'
    default ``hs``, Holm-Sidak, is not offered), ``fdr_bh`` and ``none`` (the p-values as
    they are, as an experiment's ``"correction": "none"`` setting uses them)."""
    values = [float(p) for p in pvals]
    reject, corrected = _litmus.multipletests(values, float(alpha), method)
    m = max(len(values), 1)
    return reject, corrected, 1.0 - (1.0 - alpha) ** (1.0 / m), alpha / m


def _dist(name: str, *args: float) -> float:
    return _litmus.distribution(name, [float(a) for a in args])


def norm_sf(z: float) -> float:
    """Upper tail of the standard normal (scipy.stats.norm.sf)."""
    return _dist("normal_sf", z)


def norm_cdf(z: float) -> float:
    """scipy.stats.norm.cdf."""
    return _dist("normal_cdf", z)


def norm_pdf(z: float) -> float:
    """scipy.stats.norm.pdf."""
    return _dist("normal_pdf", z)


def norm_ppf(p: float) -> float:
    """scipy.stats.norm.ppf."""
    return _dist("normal_ppf", p)


def norm_isf(q: float) -> float:
    """scipy.stats.norm.isf."""
    return _dist("normal_isf", q)


def t_sf(t: float, df: float) -> float:
    """scipy.stats.t.sf."""
    return _dist("t_sf", t, df)


def t_cdf(t: float, df: float) -> float:
    """scipy.stats.t.cdf."""
    return _dist("t_cdf", t, df)


def t_pdf(t: float, df: float) -> float:
    """scipy.stats.t.pdf."""
    return _dist("t_pdf", t, df)


def t_isf(q: float, df: float) -> float:
    """scipy.stats.t.isf."""
    return _dist("t_isf", q, df)


def chi2_sf(x: float, k: float) -> float:
    """scipy.stats.chi2.sf."""
    return _dist("chi2_sf", x, k)


def chi2_cdf(x: float, k: float) -> float:
    """scipy.stats.chi2.cdf."""
    return _dist("chi2_cdf", x, k)


def f_sf(f: float, d1: float, d2: float) -> float:
    """scipy.stats.f.sf."""
    return _dist("f_sf", f, d1, d2)


def beta_cdf(x: float, a: float, b: float) -> float:
    """scipy.stats.beta.cdf."""
    return _dist("beta_cdf", x, a, b)


# --- Sample-ratio mismatch -------------------------------------------------------------------


class SrmResult(NamedTuple):
    """A sample-ratio check."""

    statistic: float
    pvalue: float
    mismatch: bool
    observed_shares: List[float]
    expected_shares: List[float]


def srm_check(
    observed: Sequence[float], weights: Optional[Sequence[float]] = None, threshold: float = 0.001
) -> SrmResult:
    """Do the units per variant match the configured weights (equal when omitted)? A
    chi-squared goodness of fit; ``mismatch`` when p < ``threshold``."""
    obs = [float(x) for x in observed]
    w = [1.0] * len(obs) if weights is None else [float(x) for x in weights]
    return SrmResult(*_litmus.srm_check(obs, w, float(threshold)))


# --- ANOVA -----------------------------------------------------------------------------------


def _summary(x: Any) -> Summary:
    return x if isinstance(x, Summary) else describe(x)


class F_onewayResult:
    """One-way ANOVA: unpacks to ``(statistic, pvalue)`` like scipy's; also the dfs."""

    __slots__ = ("statistic", "pvalue", "df_between", "df_within")

    def __init__(self, statistic: float, pvalue: float, df_between: float, df_within: float) -> None:
        self.statistic = statistic
        self.pvalue = pvalue
        self.df_between = df_between
        self.df_within = df_within

    def __iter__(self) -> Iterator[float]:
        return iter((self.statistic, self.pvalue))


def f_oneway(*samples: Any) -> F_onewayResult:
    """scipy.stats.f_oneway, from samples or :class:`Summary` objects."""
    return F_onewayResult(*_litmus.f_oneway([_summary(x)._tuple() for x in samples]))


class Term(NamedTuple):
    """One term of a factorial ANOVA: the factor indices it involves and its F test."""

    factors: List[int]
    sum_sq: float
    df: float
    statistic: float
    pvalue: float


class FactorialResult(NamedTuple):
    """A factorial ANOVA (Type II sums of squares): main effects, then interactions."""

    terms: List[Term]
    residual_sum_sq: float
    residual_df: float


def factorial_anova(levels: Sequence[int], cells: Sequence[Any]) -> FactorialResult:
    """Main effects and interactions of a full factorial from its cells (samples or
    :class:`Summary` objects, row-major over ``levels``), as statsmodels'
    ``anova_lm(ols("y ~ C(a)*C(b)"), typ=2)``."""
    rss, rdf, terms = _litmus.factorial_anova([int(n) for n in levels], [_summary(c)._tuple() for c in cells])
    return FactorialResult([Term(*t) for t in terms], rss, rdf)


# --- Intervals -------------------------------------------------------------------------------


class Interval(NamedTuple):
    """A point estimate with its confidence interval."""

    estimate: float
    lower: float
    upper: float


def mean_confint(sample: Any, alpha: float = 0.05) -> Interval:
    """t interval of a mean."""
    return Interval(*_litmus.mean_confint(_summary(sample)._tuple(), float(alpha)))


def diff_means_confint(a: Any, b: Any, alpha: float = 0.05, equal_var: bool = False) -> Interval:
    """Interval of mean(a) - mean(b) (Welch by default)."""
    return Interval(*_litmus.diff_means_confint(_summary(a)._tuple(), _summary(b)._tuple(), float(alpha), bool(equal_var)))


def relative_lift_confint(treatment: Any, control: Any, alpha: float = 0.05) -> Interval:
    """Interval of mean(treatment) / mean(control) - 1 (delta method)."""
    return Interval(*_litmus.relative_lift_confint(_summary(treatment)._tuple(), _summary(control)._tuple(), float(alpha)))


def newcombe_confint(count1: int, nobs1: int, count2: int, nobs2: int, alpha: float = 0.05) -> Interval:
    """Newcombe's hybrid score interval of p1 - p2."""
    return Interval(*_litmus.newcombe_confint(int(count1), int(nobs1), int(count2), int(nobs2), float(alpha)))


# --- Planning --------------------------------------------------------------------------------


def power(effect_size: float, nobs1: float, alpha: float = 0.05, ratio: float = 1.0, alternative: str = "two-sided") -> float:
    """Power of a two-sample z test (statsmodels' NormalIndPower().power)."""
    return _litmus.planning("power", float(effect_size), float(nobs1), float(ratio), float(alpha), alternative)


def sample_size(effect_size: float, power: float = 0.8, alpha: float = 0.05, ratio: float = 1.0, alternative: str = "two-sided") -> float:
    """Units in group 1 for the target power (NormalIndPower().solve_power for nobs1)."""
    return _litmus.planning("sample_size", float(effect_size), float(power), float(ratio), float(alpha), alternative)


def minimum_detectable_effect(nobs1: float, power: float = 0.8, alpha: float = 0.05, ratio: float = 1.0, alternative: str = "two-sided") -> float:
    """The standardized effect detectable with the target power."""
    return _litmus.planning("mde", float(nobs1), float(power), float(ratio), float(alpha), alternative)


def proportion_effectsize(prop1: float, prop2: float) -> float:
    """Cohen's h (statsmodels' proportion_effectsize)."""
    return _litmus.planning("effect_size", float(prop1), float(prop2), 1.0, 0.05, "two-sided")


# --- Sequential ------------------------------------------------------------------------------


class SequentialResult(NamedTuple):
    """An always-valid (mSPRT) test: valid at every look, however often you peek."""

    likelihood_ratio: float
    pvalue: float
    lower: float
    upper: float


def msprt(treatment: Any, control: Any, tau2: float, alpha: float = 0.05) -> SequentialResult:
    """mSPRT of two means with a N(0, tau2) mixing prior on the difference."""
    return SequentialResult(*_litmus.msprt_means(_summary(treatment)._tuple(), _summary(control)._tuple(), float(tau2), float(alpha)))


def msprt_proportions(count_t: int, nobs_t: int, count_c: int, nobs_c: int, tau2: float, alpha: float = 0.05) -> SequentialResult:
    """mSPRT of two proportions."""
    return SequentialResult(*_litmus.msprt_proportions(int(count_t), int(nobs_t), int(count_c), int(nobs_c), float(tau2), float(alpha)))


# --- CUPED and ratio metrics -----------------------------------------------------------------


class CoSummary(NamedTuple):
    """Joint sufficient statistics of paired values (x: the metric or numerator, y: the
    pre-period covariate or denominator)."""

    nobs: int
    mean_x: float
    mean_y: float
    m2_x: float
    m2_y: float
    c_xy: float


def describe_pairs(x: Any, y: Any) -> CoSummary:
    """The joint summary of two equally long samples."""
    return CoSummary(*_litmus.comoments_from_f64_bytes(_f64_bytes(x), _f64_bytes(y)))


def _co(v: Any) -> Tuple[int, float, float, float, float, float]:
    if isinstance(v, CoSummary):
        return tuple(v)  # type: ignore[return-value]
    x, y = v
    return tuple(describe_pairs(x, y))  # type: ignore[return-value]


class CupedResult(NamedTuple):
    """A CUPED-adjusted comparison of means."""

    theta: float
    statistic: float
    pvalue: float
    df: float
    lower: float
    upper: float
    variance_reduction: float


def cuped(treatment: Any, control: Any, alpha: float = 0.05, alternative: str = "two-sided") -> CupedResult:
    """CUPED (Deng et al. 2013): each group a :class:`CoSummary` or a pair (metric,
    pre-period covariate) of samples."""
    return CupedResult(*_litmus.cuped(_co(treatment), _co(control), float(alpha), alternative))


class RatioResult(NamedTuple):
    """A ratio metric (sum x / sum y per group) compared by the delta method."""

    ratio_treatment: float
    ratio_control: float
    variance_treatment: float
    variance_control: float
    statistic: float
    pvalue: float
    diff_lower: float
    diff_upper: float
    relative_lower: float
    relative_upper: float


def ratio_ztest(treatment: Any, control: Any, alpha: float = 0.05, alternative: str = "two-sided") -> RatioResult:
    """z test of a ratio metric; each group a :class:`CoSummary` or a pair (numerator,
    denominator) of samples."""
    return RatioResult(*_litmus.ratio_ztest(_co(treatment), _co(control), float(alpha), alternative))


# --- Quantiles -------------------------------------------------------------------------------


class QuantileEstimate(NamedTuple):
    """A quantile with its distribution-free (order-statistic) confidence interval.

    ``estimate`` is the lower order statistic at 0-based rank ``floor(q (n - 1))`` (numpy's
    ``method="lower"``); ``lower`` and ``upper`` are the order statistics at ``lower_rank``
    and ``upper_rank``, from the normal approximation of Binomial(n, q). Values read from a
    sketch are within its relative accuracy of the exact ones. ``std_error`` is
    ``(upper - lower) / (2 z)``."""

    estimate: float
    lower: float
    upper: float
    std_error: float
    nobs: int
    lower_rank: int
    upper_rank: int


class QuantileResult(NamedTuple):
    """A quantile compared between two groups: a two-sided z test of ``Q_t - Q_c`` and
    intervals of the difference and of the relative change ``Q_t / Q_c - 1`` (delta method).
    ``std_error`` (of the difference) adds each sketch's rounding to the groups'
    order-statistic standard errors ``std_error_treatment`` and ``std_error_control``."""

    quantile_treatment: float
    quantile_control: float
    std_error_treatment: float
    std_error_control: float
    std_error: float
    statistic: float
    pvalue: float
    difference: float
    diff_lower: float
    diff_upper: float
    relative: float
    relative_lower: float
    relative_upper: float


def _sketch(sample: Any, relative_accuracy: float) -> QuantileSketch:
    """A :class:`QuantileSketch` as given, or one of the values at ``relative_accuracy``."""
    if isinstance(sample, QuantileSketch):
        return sample
    sketch = QuantileSketch(float(relative_accuracy))
    sketch.extend(sample)
    return sketch


def quantile_interval(
    sample: Any, q: float, alpha: float = 0.05, *, relative_accuracy: float = 0.01
) -> QuantileEstimate:
    """The ``q``-quantile of a :class:`QuantileSketch` or of a sequence of numbers (sketched
    first at ``relative_accuracy``, as the server sketches metric values) with its ``1 - alpha``
    distribution-free interval. Fewer than 2 values raise :class:`DegenerateDataError`."""
    estimate, lower, upper, se, count, lo, hi = _litmus.quantile_interval(
        _sketch(sample, relative_accuracy), float(q), float(alpha)
    )
    return QuantileEstimate(estimate, lower, upper, se, count, lo, hi)


def quantile_ztest(
    treatment: Any, control: Any, q: float, alpha: float = 0.05, *, relative_accuracy: float = 0.01
) -> QuantileResult:
    """Compares the ``q``-quantile (0.5 for the median, 0.9 for p90) of two groups, each a
    :class:`QuantileSketch` or a sequence of numbers (sketched at ``relative_accuracy``):
    the results' quantile comparison, computed by the core as the server does it."""
    qt, qc, se_t, se_c, se, z, p, dl, du, rel, rl, ru = _litmus.quantile_ztest(
        _sketch(treatment, relative_accuracy), _sketch(control, relative_accuracy), float(q), float(alpha)
    )
    return QuantileResult(qt, qc, se_t, se_c, se, z, p, qt - qc, dl, du, rel, rl, ru)


def exact_quantile(values: Any, q: float) -> float:
    """The exact ``q``-quantile of the values, as ``numpy.quantile(values, q, method="lower")``:
    the value at 0-based rank ``floor(q (n - 1))`` of the sorted values."""
    return _litmus.exact_quantile_from_f64_bytes(_f64_bytes(values), float(q))


def sketch_key(x: float, alpha: float = 0.01) -> int:
    """The bucket key of ``x`` in a sketch of relative accuracy ``alpha``: the key
    :meth:`QuantileSketch.buckets` reports and the server stores (0 for zero, negative for
    negative values; keys sort like their values)."""
    return _litmus.sketch_key(float(x), float(alpha))


def sketch_value(key: int, alpha: float = 0.01) -> float:
    """The value a bucket stands for: within ``alpha``, relatively, of every value whose key
    it is."""
    return _litmus.sketch_value(int(key), float(alpha))


# --- Bayesian --------------------------------------------------------------------------------


def beta_prob_beats(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(rate 2 > rate 1) for Beta(a1, b1) and Beta(a2, b2) posteriors."""
    return _litmus.beta_compare(float(a1), float(b1), float(a2), float(b2))[0]


def beta_expected_loss(a1: float, b1: float, a2: float, b2: float) -> float:
    """E[max(rate 1 - rate 2, 0)]: what choosing 2 risks."""
    return _litmus.beta_compare(float(a1), float(b1), float(a2), float(b2))[1]


def beta_prob_best(posteriors: Sequence[Tuple[float, float]]) -> List[float]:
    """P(each Beta(a, b) posterior's rate is the highest)."""
    return _litmus.beta_prob_best([(float(a), float(b)) for a, b in posteriors])


def normal_prob_beats(mean1: float, var1: float, mean2: float, var2: float) -> float:
    """P(mean 2 > mean 1) for Normal posteriors."""
    return _litmus.normal_compare(float(mean1), float(var1), float(mean2), float(var2))[0]


def normal_expected_loss(mean1: float, var1: float, mean2: float, var2: float) -> float:
    """E[max(mean 1 - mean 2, 0)] for Normal posteriors."""
    return _litmus.normal_compare(float(mean1), float(var1), float(mean2), float(var2))[1]
