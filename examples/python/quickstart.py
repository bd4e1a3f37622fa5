"""Litmus from Python: assign, log exposures, analyse, and run a bandit.

    pip install litmus-experiments      (or: scripts/test-python.sh builds the wheel)
    python examples/python/quickstart.py

Type-checked with ``mypy --strict`` against the package's stubs (scripts/test-python.sh).
"""

from __future__ import annotations

import pathlib
from typing import Any

import litmus
from litmus import stats
from litmus.bandit import Bandit, Policy

CONFIG = pathlib.Path(__file__).resolve().parents[1] / "config.json"


def main() -> None:
    exposures: list[dict[str, Any]] = []
    engine = litmus.load_engine(CONFIG, on_exposure=exposures.append)
    counts: dict[str, int] = {}
    for i in range(10_000):
        a = engine.assign("checkout-button", f"user-{i}", {"country": "DE"}, now="2026-06-01T00:00:00Z")
        if a.variant is not None:
            counts[a.variant] = counts.get(a.variant, 0) + 1
    print("assignments:", counts, "exposures logged:", len(exposures))

    srm = stats.chisquare(list(counts.values()))
    print(f"sample ratio: chi2 = {srm.statistic:.3f}, p = {srm.pvalue:.3f}")
    # The submodules are attributes of the package too (imported on first use).
    print("sample ratio mismatch:", litmus.stats.srm_check(list(counts.values())).mismatch)
    t = stats.ttest_ind_from_stats(10.6, 3.1, 4_800, 10.2, 3.0, 4_750, equal_var=False)
    print(f"Welch t = {t.statistic:.3f}, p = {t.pvalue:.4f}, df = {t.df:.1f}")
    z, p = stats.proportions_ztest([130, 100], [1_000, 1_000])
    print(f"z = {z:.3f}, p = {p:.4f}")

    bandit = Bandit(Policy.thompson_beta(floor=0.05), ["red", "green", "blue"], seed=7)
    for _ in range(100):
        arm = bandit.choose()
        bandit.update(arm, 1.0 if arm == "green" else 0.0)
    print("bandit weights:", {k: round(v, 3) for k, v in bandit.weights().items()})

    try:
        litmus.Engine("{not json")
    except litmus.ConfigError as e:
        print("config error code:", e.code)


if __name__ == "__main__":
    main()
