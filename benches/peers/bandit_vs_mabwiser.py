"""Regret of mabwiser's ThompsonSampling on the bandit_sim problems, for comparison with
Litmus' (run `cargo run --release -p litmus-core --example bandit_sim -- PROBLEM T RUNS` first;
its CSVs are read from target/bandit-sim).

    .venv/bin/python benches/peers/bandit_vs_mabwiser.py [PROBLEM] [T] [RUNS]

mabwiser plays online: predict() one decision, partial_fit() one reward, as an in-process
bandit would. Runs are seeded (numpy for the environment, mabwiser's seed for the policy).
"""

from __future__ import annotations

import csv
import math
import pathlib
import sys
import time

import numpy as np
from mabwiser.mab import MAB, LearningPolicy

REPO = pathlib.Path(__file__).resolve().parents[2]
PROBLEMS = {"bernoulli9": [i / 10 for i in range(1, 10)], "two-arms": [0.05, 0.06]}


def run(means: list[float], horizon: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    arms = list(range(len(means)))
    mab = MAB(arms, LearningPolicy.ThompsonSampling(), seed=seed)
    # mabwiser needs a first fit: one pull of each arm (its regret is counted).
    best = max(means)
    rewards = [int(rng.random() < m) for m in means]
    mab.fit(decisions=arms, rewards=rewards)
    regret = sum(best - m for m in means)
    for _ in range(horizon - len(arms)):
        arm = mab.predict()
        regret += best - means[arm]
        mab.partial_fit(decisions=[arm], rewards=[int(rng.random() < means[arm])])
    return regret


def litmus_final(problem: str, horizon: int) -> tuple[float, float, float] | None:
    path = REPO / "target" / "bandit-sim" / f"{problem}-T{horizon}-thompson.csv"
    if not path.exists():
        return None
    rows = list(csv.DictReader(path.open()))
    last = rows[-1]
    return float(last["mean_regret"]), float(last["lower95"]), float(last["upper95"])


def main() -> None:
    problem = sys.argv[1] if len(sys.argv) > 1 else "bernoulli9"
    horizon = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    means = PROBLEMS[problem]
    t0 = time.perf_counter()
    regrets = [run(means, horizon, 1000 + r) for r in range(runs)]
    elapsed = time.perf_counter() - t0
    mean = float(np.mean(regrets))
    half = 1.96 * float(np.std(regrets, ddof=1)) / math.sqrt(runs) if runs > 1 else float("nan")
    print(f"{problem}, T = {horizon}: mabwiser ThompsonSampling mean regret {mean:.1f} "
          f"(95% {mean - half:.1f}..{mean + half:.1f}, {runs} runs, {elapsed / runs:.1f} s per run, "
          f"{elapsed / (runs * horizon) * 1e6:.0f} us per pull)")
    ours = litmus_final(problem, horizon)
    if ours:
        print(f"{problem}, T = {horizon}: Litmus thompson mean regret {ours[0]:.1f} (95% {ours[1]:.1f}..{ours[2]:.1f}); "
              f"ratio Litmus / mabwiser = {ours[0] / mean:.2f}")


if __name__ == "__main__":
    main()
