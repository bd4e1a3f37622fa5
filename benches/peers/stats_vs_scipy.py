"""Times scipy/statsmodels on the inputs of benches/benches/stats.rs and prints Litmus' ratio
to them, reading the criterion estimates of the last `cargo bench -p litmus-benches --bench
stats` run (run that first, in the same sitting: the machine drifts).

    .venv/bin/python benches/peers/stats_vs_scipy.py
"""

from __future__ import annotations

import json
import pathlib
import timeit

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

REPO = pathlib.Path(__file__).resolve().parents[2]
CRITERION = REPO / "target" / "criterion" / "stats"


def litmus_ns(name: str) -> float | None:
    path = CRITERION / name / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["mean"]["point_estimate"]


def peer_ns(fn, number: int = 20_000) -> float:
    fn()
    best = min(timeit.repeat(fn, number=number, repeat=5))
    return best / number * 1e9


t22 = np.array([[1_234, 8_766], [1_301, 8_749]])
t42 = np.array([[1_234, 8_766], [1_301, 8_749], [1_250, 8_800], [1_199, 8_700]])
values = (np.arange(10_000_000, dtype=np.uint64) * 2_654_435_761 % 1_000_003).astype(float) * 1e-3
CASES = [
    ("welch_ttest_from_stats", "scipy.stats.ttest_ind_from_stats",
     lambda: stats.ttest_ind_from_stats(10.2, 2.1, 5_000, 10.0, 2.3, 5_100, equal_var=False), 20_000),
    ("proportions_ztest", "statsmodels proportions_ztest",
     lambda: proportions_ztest([1_234, 1_301], [10_000, 10_050]), 5_000),
    ("chi2_contingency_2x2", "scipy.stats.chi2_contingency", lambda: stats.chi2_contingency(t22), 2_000),
    ("chi2_contingency_4x2", "scipy.stats.chi2_contingency", lambda: stats.chi2_contingency(t42), 2_000),
    ("moments_1e7", "numpy mean + var(ddof=1)", lambda: (values.mean(), values.var(ddof=1)), 3),
]

print(f"{'benchmark':<24} {'litmus':>12} {'peer':>12}  speed-up  peer")
for name, peer, fn, number in CASES:
    ours = litmus_ns(name)
    theirs = peer_ns(fn, number)
    shown = f"{ours:,.0f} ns" if ours is not None else "not run"
    ratio = f"{theirs / ours:8.1f}x" if ours else "       -"
    print(f"{name:<24} {shown:>12} {theirs:>10,.0f} ns {ratio}  {peer}")
