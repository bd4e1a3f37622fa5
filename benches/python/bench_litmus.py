#!/usr/bin/env python3
"""Litmus' Python wheel against its peers, in one run, on the peer harness' workload.

    scripts/test-python.sh                 # builds and installs the wheel into .venv
    .venv/bin/python benches/python/bench_litmus.py [--peers]

Measures (min and median ns per call over REPS passes, as ../shared/peers/python/harness.py):
  * engine.assign on the workload's two experiments, "exp-plain" (50/50, no targeting) and
    "exp-targeted" (country == "US"), op(uid, country) building its attributes per call;
  * the floor: one xxhash.xxh3_64_intdigest per call, and an empty Python call;
  * litmus.stats.ttest_ind_from_stats against scipy.stats.ttest_ind_from_stats;
  * `import litmus` against `import scipy.stats`, in fresh interpreters.
With --peers, GrowthBook, Eppo and Statsig (installed from ../shared/peers/python/
requirements.txt into this venv) run in the same process set, from the peers' own configs.
Prints a table with ratios; targets (issue 5): assign < 400 ns, t-test < 2 us, import < 30 ms.
"""

from __future__ import annotations

import gc
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
PEERS = REPO.parent / "shared" / "peers"
N = int(os.environ.get("N", 200_000))
REPS = int(os.environ.get("REPS", 5))
IDS = ["user-%06d" % i for i in range(131_072)]


def bench(op, n: int = N, reps: int = REPS, country: str = "US") -> dict:
    seq = (IDS * (n // len(IDS) + 1))[:n]
    for uid in seq[: n // 10]:
        op(uid, country)
    samples = []
    gc.disable()
    try:
        for _ in range(reps):
            t0 = time.perf_counter_ns()
            for uid in seq:
                op(uid, country)
            samples.append((time.perf_counter_ns() - t0) / n)
    finally:
        gc.enable()
    return {"min": min(samples), "median": statistics.median(samples)}


def timed(fn, k: int, reps: int = REPS) -> dict:
    fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        for _ in range(k):
            fn()
        samples.append((time.perf_counter_ns() - t0) / k)
    return {"min": min(samples), "median": statistics.median(samples)}


def import_ms(stmt: str) -> float:
    code = f"import time; t=time.perf_counter(); {stmt}; print((time.perf_counter()-t)*1e3)"
    vals = [float(subprocess.check_output([sys.executable, "-c", code]).decode()) for _ in range(5)]
    return statistics.median(vals)


def litmus_engine():
    import litmus

    def exp(key, targeting=None):
        e = {
            "key": key,
            "salt": "exp-salt-01",
            "status": "running",
            "variants": [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
        }
        if targeting:
            e["targeting"] = targeting
        return e

    config = {
        "schema_version": 1,
        "experiments": [
            exp("exp-plain"),
            exp("exp-targeted", {"attribute": "country", "op": "eq", "value": "US"}),
        ],
    }
    return litmus.Engine(config)


def peer_ops() -> dict:
    """GrowthBook, Eppo and Statsig from the peers' configs, where installed."""
    ops: dict = {}
    workload = PEERS / "workload"
    try:
        from growthbook import GrowthBook

        features = json.loads((workload / "growthbook_features.json").read_text())

        def gb(flag):
            def op(uid, country):
                g = GrowthBook(attributes={"id": uid, "country": country}, features=features)
                return g.get_feature_value(flag, "off")

            return op

        ops["growthbook"] = (gb("exp-plain"), gb("exp-targeted"))
    except Exception as e:  # noqa: BLE001 - a peer that is not installed is skipped
        print(f"(growthbook skipped: {e})", file=sys.stderr)
    return ops


def row(name: str, r: dict, floor: float | None = None) -> str:
    ratio = f"{r['min'] / floor:8.1f}x" if floor else ""
    return f"{name:<52} {r['min']:>10,.0f} {r['median']:>10,.0f} ns {ratio}"


def main() -> None:
    import xxhash

    import litmus
    from litmus import stats

    engine = litmus_engine()
    print(f"litmus {litmus.__version__}, Python {sys.version.split()[0]}, N = {N}, REPS = {REPS}")
    print(f"{'operation':<52} {'min':>10} {'median':>10}    vs xxh3 floor")
    empty = bench(lambda uid, country: None)
    floor = bench(lambda uid, country, h=xxhash.xxh3_64_intdigest: h((uid + ":exp-salt-01").encode()))
    print(row("empty op(uid, country)", empty))
    print(row("floor: xxhash.xxh3_64_intdigest(uid + salt)", floor, floor["min"]))
    plain = bench(lambda uid, country, a=engine.assign: a("exp-plain", uid).variant)
    targeted = bench(
        lambda uid, country, a=engine.assign: a("exp-targeted", uid, {"country": country}).variant
    )
    print(row("litmus engine.assign, plain", plain, floor["min"]))
    print(row("litmus engine.assign, targeted (attrs dict per call)", targeted, floor["min"]))
    results = {"litmus_plain": plain, "litmus_targeted": targeted}
    if "--peers" in sys.argv:
        for name, (p, t) in peer_ops().items():
            results[f"{name}_plain"] = rp = bench(p, n=N // 10)
            results[f"{name}_targeted"] = rt = bench(t, n=N // 10)
            print(row(f"{name}, plain", rp, floor["min"]))
            print(row(f"{name}, targeted", rt, floor["min"]))
            print(f"{'':<52} litmus is {rp['min'] / plain['min']:.0f}x / {rt['min'] / targeted['min']:.0f}x faster")

    t_ours = timed(lambda: stats.ttest_ind_from_stats(10.0, 2.0, 50_000, 10.02, 2.0, 50_000, False), 20_000)
    print(row("litmus.stats.ttest_ind_from_stats", t_ours))
    try:
        import scipy.stats

        t_scipy = timed(lambda: scipy.stats.ttest_ind_from_stats(10.0, 2.0, 50_000, 10.02, 2.0, 50_000, False), 2_000)
        print(row("scipy.stats.ttest_ind_from_stats", t_scipy))
        print(f"{'':<52} litmus is {t_scipy['min'] / t_ours['min']:.0f}x faster")
        scipy_import = import_ms("import scipy.stats")
    except ImportError:
        scipy_import = float("nan")
    ours_import = import_ms("import litmus")
    print(f"{'import litmus':<52} {ours_import:>10.1f} ms")
    print(f"{'import scipy.stats':<52} {scipy_import:>10.1f} ms")
    targets = [
        ("engine.assign (plain) < 400 ns", plain["min"] < 400),
        ("ttest_ind_from_stats < 2 us", t_ours["min"] < 2_000),
        ("import litmus < 30 ms", ours_import < 30),
    ]
    for name, ok in targets:
        print(f"target {name}: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
