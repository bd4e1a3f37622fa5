"""A copy of ../shared/peers/python/bench_assign.py with a litmus() entry (the peers are
installed from ../shared/peers/python/requirements.txt; results go to benches/peers/results/).

Per-SDK assignment benchmark (one SDK per process, so init time and RSS are clean).

usage: python bench_assign.py {floor,litmus,growthbook,eppo,unleash,statsig_core,statsig_legacy,all}

Timed op for every SDK: op(uid, country) -> variation key, for
  plain    : flag "exp-plain"    (2 variations, 50/50, no targeting)
  targeted : flag "exp-targeted" (same + country == "US"; every user is "US")
Per-call context objects are built inside op. Exposure logging: a no-op
logger/callback is installed wherever the SDK takes one (as in production);
nothing leaves the process. Configs come from ../workload/*.json (no network).
"""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import time

import harness as H

WL = H.WL
FP, FT = WL["flags"]["plain"], WL["flags"]["targeted"]
CFG = H.ROOT / "workload"
logging.basicConfig(level=logging.ERROR)


SECONDARY_N = int(__import__("os").environ.get("N2", WL["calls_per_rep"]["secondary_variants"]))


def load(name):
    return json.loads((CFG / f"{name}.json").read_text())


def run_sdk(name, packages, init_fn, ops: dict, check=H.treatment_share):
    """init_fn() -> (client, ops_factory); ops maps label -> callable(client) -> op."""
    rss0 = H.rss_mb()
    t0 = time.perf_counter_ns()
    client = init_fn()
    init_ms = (time.perf_counter_ns() - t0) / 1e6
    rss_init = H.rss_mb()
    res = {"sdk": name, "env": H.env_info(packages), "init_ms": init_ms,
           "rss_before_init_mb": rss0, "rss_after_init_mb": rss_init, "runs": {}}
    print(f"[{name}] init {init_ms:.1f} ms, RSS {rss0:.0f} -> {rss_init:.0f} MB")
    for label, mk in ops.items():
        n = H.N
        if isinstance(mk, tuple):  # (factory, "secondary"): diagnostic row, fewer calls
            mk, n = mk[0], SECONDARY_N
        op = mk(client)
        r = H.bench(op, n=n, check=check)
        res["runs"][label] = r
        print(H.fmt_row(f"{name}/{label}", r), flush=True)
    res["rss_after_bench_mb"] = H.rss_mb()
    res["peak_rss_mb"] = H.peak_rss_mb()
    print(f"[{name}] RSS after bench {res['rss_after_bench_mb']:.0f} MB (peak {res['peak_rss_mb']:.0f} MB)")
    H.save(f"assign_{name}", res)
    return res


# ----------------------------------------------------------------------------- floor
def floor():
    import hashlib
    import xxhash

    key_sep = ":" + WL["salt"]

    def f(x):
        return 1

    ops = {
        "loop_only(uid,country)->None": lambda c: (lambda uid, country: None),
        "call def f(x): return 1": lambda c: (lambda uid, country: f(uid)),
        "xxhash.xxh3_64_intdigest(uid+':'+salt)": lambda c: (
            lambda uid, country, h=xxhash.xxh3_64_intdigest: h((uid + key_sep).encode())),
        "xxhash.xxh3_64_intdigest(fixed 23B bytes key)": lambda c: (
            lambda uid, country, h=xxhash.xxh3_64_intdigest, k=b"user-123456:exp-salt-01": h(k)),
        "xxhash.xxh64_intdigest(uid+':'+salt)": lambda c: (
            lambda uid, country, h=xxhash.xxh64_intdigest: h((uid + key_sep).encode())),
        "hashlib.md5(uid+':'+salt).digest()": lambda c: (
            lambda uid, country, h=hashlib.md5: h((uid + key_sep).encode()).digest()),
        "hashlib.sha256(uid+':'+salt).digest()": lambda c: (
            lambda uid, country, h=hashlib.sha256: h((uid + key_sep).encode()).digest()),
        "pure-python assign: xxh3 %10000 -> cum weights": lambda c: _py_assign(),
        "pure-python assign + country==US": lambda c: _py_assign(targeted=True),
    }
    return run_sdk("floor", ["xxhash"], lambda: None, ops, check=None)


def _py_assign(targeted=False):
    import xxhash

    h = xxhash.xxh3_64_intdigest
    sep = ":" + WL["salt"]
    n = WL["buckets"]
    cum = []
    acc = 0.0
    for w in WL["weights"]:
        acc += w
        cum.append(int(round(acc * n)))
    variations = WL["variations"]

    def op(uid, country):
        if targeted and country != "US":
            return None
        b = h((uid + sep).encode()) % n
        for i, c in enumerate(cum):
            if b < c:
                return variations[i]
        return variations[-1]

    return op


# ------------------------------------------------------------------------ growthbook
def growthbook():
    from growthbook import GrowthBook, Experiment

    feats = load("growthbook_features")

    def init():
        return GrowthBook(features=feats, on_experiment_viewed=lambda **kw: None)

    def feature_op(key):
        def mk(gb):
            def op(uid, country):
                gb.set_attributes({"id": uid, "country": country})
                return gb.get_feature_value(key, "off")
            return op
        return mk

    def inline_op(targeted):
        def mk(gb):
            exp = Experiment(key=FT if targeted else FP, variations=WL["variations"], weights=WL["weights"],
                             seed=WL["salt"], hashVersion=2,
                             condition={"country": "US"} if targeted else None)
            def op(uid, country):
                gb.set_attributes({"id": uid, "country": country})
                return gb.run(exp).value
            return op
        return mk

    def per_request_instance(key):
        def mk(_gb):
            def op(uid, country):
                gb = GrowthBook(attributes={"id": uid, "country": country}, features=feats,
                                on_experiment_viewed=_noop_track)
                return gb.get_feature_value(key, "off")
            return op
        return mk

    return run_sdk("growthbook", ["growthbook"], init, {
        "plain (feature rule, shared instance)": feature_op(FP),
        "targeted (feature rule, shared instance)": feature_op(FT),
        "plain (gb.run inline Experiment)": (inline_op(False), "secondary"),
        "targeted (gb.run inline Experiment)": (inline_op(True), "secondary"),
        "plain (new GrowthBook per request)": (per_request_instance(FP), "secondary"),
        "plain (shared instance, no tracking callback)": (lambda _gb: _no_cb_op(feats, FP), "secondary"),
    })


def _no_cb_op(feats, key):
    from growthbook import GrowthBook

    gb = GrowthBook(features=feats)

    def op(uid, country):
        gb.set_attributes({"id": uid, "country": country})
        return gb.get_feature_value(key, "off")

    return op


def _noop_track(**kw):
    return None


# ------------------------------------------------------------------------------ eppo
def eppo():
    import eppo_client
    from eppo_client.assignment_logger import AssignmentLogger
    from eppo_client.config import Config

    raw = (CFG / "eppo_ufc.json").read_bytes()

    class NoopLogger(AssignmentLogger):
        def log_assignment(self, event):
            pass

    def init():
        cfg = Config(api_key="offline-bench", assignment_logger=NoopLogger(),
                     poll_interval_seconds=None,
                     initial_configuration=eppo_client.Configuration(flags_configuration=raw))
        client = eppo_client.init(cfg)
        assert client.is_initialized(), "eppo client not initialised from local config"
        return client

    def mk(key):
        def f(client):
            g = client.get_string_assignment
            def op(uid, country):
                return g(key, uid, {"country": country}, "off")
            return op
        return f

    return run_sdk("eppo", ["eppo-server-sdk"], init, {"plain": mk(FP), "targeted": mk(FT)})


# --------------------------------------------------------------------------- unleash
def unleash():
    from UnleashClient import UnleashClient
    from UnleashClient.cache import FileCache

    feats = load("unleash_features")
    tmp = tempfile.mkdtemp(prefix="unleash-bench-")

    def init():
        cache = FileCache("bench", directory=tmp)
        cache.bootstrap_from_dict(feats)
        c = UnleashClient(url="http://127.0.0.1:9/api", app_name="bench", disable_metrics=True,
                          disable_registration=True, cache=cache, cache_directory=tmp)
        c.initialize_client(fetch_toggles=False)
        return c

    def mk(key):
        def f(client):
            g = client.get_variant
            def op(uid, country):
                return g(key, {"userId": uid, "properties": {"country": country}})["name"]
            return op
        return f

    res = run_sdk("unleash", ["UnleashClient", "yggdrasil-engine"], init, {"plain": mk(FP), "targeted": mk(FT)})
    return res


# --------------------------------------------------------------------------- statsig
LOG_EXPOSURES = __import__("os").environ.get("STATSIG_LOG_EXPOSURES", "0")


def statsig_core():
    from statsig_python_core import Statsig, StatsigOptions, StatsigUser
    from statsig_python_core.data_store import DataStore, DataStoreResponse

    dcs = (CFG / "statsig_dcs_v2.json").read_text()  # v2 shape, see workload/gen_configs.py

    class LocalStore(DataStore):
        def get(self, key):
            return DataStoreResponse(result=dcs, time=1767225600000)

        def support_polling_updates_for(self, key):
            return False

    def init():
        opts = StatsigOptions(disable_network=True, data_store=LocalStore(), disable_country_lookup=True,
                              disable_all_logging=LOG_EXPOSURES == "0", output_log_level="error")
        s = Statsig("secret-offline-bench", opts)
        s.initialize().wait()
        return s

    def mk(key):
        def f(s):
            g = s.get_experiment
            def op(uid, country):
                return g(StatsigUser(uid, country=country), key).get_string("variant", "off")
            return op
        return f

    def user_only(s):
        return lambda uid, country: StatsigUser(uid, country=country)

    def raw_prebuilt_user(s):
        u = StatsigUser("user-000001", country="US")
        g = s._INTERNAL_get_experiment
        return lambda uid, country: g(u, FP)

    return run_sdk("statsig_core", ["statsig-python-core"], init, {
        "plain": mk(FP), "targeted": mk(FT),
        "diag: StatsigUser(uid, country) construction only": (user_only, "secondary"),
        "diag: _INTERNAL_get_experiment, prebuilt user (no wrapper)": (raw_prebuilt_user, "secondary"),
    })


def statsig_legacy():
    from statsig import statsig, StatsigOptions, StatsigUser

    dcs = (CFG / "statsig_dcs.json").read_text()

    def init():
        statsig.initialize("secret-offline-bench", StatsigOptions(local_mode=True, bootstrap_values=dcs,
                                                                   disable_diagnostics=True))
        return statsig

    def mk(key):
        def f(s):
            def op(uid, country):
                return s.get_experiment(StatsigUser(uid, country=country), key).get("variant", "off")
            return op
        return f

    return run_sdk("statsig_legacy", ["statsig"], init, {"plain": mk(FP), "targeted": mk(FT)})


# ---------------------------------------------------------------------------- litmus
def litmus():
    """Litmus' wheel (scripts/test-python.sh installs it), on the same two experiments:
    salt, variations and weights from workload.json, the targeting as a Litmus condition;
    exposures go to a no-op callback, as for the other SDKs."""
    import litmus as lm

    def experiment(key, targeted):
        e = {"key": key, "salt": WL["salt"], "status": "running",
             "variants": [{"key": v, "weight": w} for v, w in zip(WL["variations"], WL["weights"])]}
        if targeted:
            t = WL["targeting"]
            e["targeting"] = {"attribute": t["attribute"], "op": t["op"], "value": t["value"]}
        return e

    # Flags (docs/flags.md): a boolean with one 50% rollout rule, and one with a targeted rule.
    t = WL["targeting"]
    flags = [
        {"key": "flag-rollout", "type": "boolean", "default": False, "salt": WL["salt"],
         "rules": [{"kind": "rollout", "percentage": 50, "value": True}]},
        {"key": "flag-targeted", "type": "boolean", "default": False, "salt": WL["salt"],
         "rules": [{"kind": "rollout", "percentage": 50, "value": True,
                    "condition": {"attribute": t["attribute"], "op": t["op"], "value": t["value"]}}]},
    ]
    config = {"schema_version": 1, "experiments": [experiment(FP, False), experiment(FT, True)], "flags": flags}

    def init():
        return lm.Engine(config, on_exposure=lambda event: None)

    def side(on):
        return "treatment" if on else "control"

    def flag_evaluate(engine):
        ev = engine.evaluate

        def op(uid, country):
            return side(ev("flag-rollout", uid).value)
        return op

    def flag_boolean(engine):
        bv = engine.boolean_value

        def op(uid, country):
            return side(bv("flag-rollout", uid))
        return op

    def flag_targeted(engine):
        ev = engine.evaluate

        def op(uid, country):
            return side(ev("flag-targeted", uid, {"country": country}).value)
        return op

    def plain(engine):
        a = engine.assign

        def op(uid, country):
            return a(FP, uid).variant
        return op

    def targeted(engine):
        a = engine.assign

        def op(uid, country):
            return a(FT, uid, {"country": country}).variant
        return op

    def no_logging(_engine):
        a = lm.Engine(config).assign

        def op(uid, country):
            return a(FP, uid).variant
        return op

    res = run_sdk("litmus", ["litmus-experiments"], init, {
        "plain": plain,
        "targeted": targeted,
        "plain (no exposure callback)": (no_logging, "secondary"),
        "flag evaluate (1 rollout rule)": flag_evaluate,
        "flag boolean_value (1 rollout rule)": flag_boolean,
        "flag evaluate targeted": flag_targeted,
    })
    med = {k: v["ns_median"] for k, v in res["runs"].items()}
    print(f"[litmus] flag evaluate / plain assign {med['flag evaluate (1 rollout rule)'] / med['plain']:.2f}x, "
          f"boolean_value / plain {med['flag boolean_value (1 rollout rule)'] / med['plain']:.2f}x, "
          f"targeted evaluate / targeted assign {med['flag evaluate targeted'] / med['targeted']:.2f}x (goal <= 1.5x)")
    return res


def litmus_flag_document():
    """Loading a document of 10,000 flags and 2,000 experiments (the Rust benches'
    flag_document, printed by `cargo run --release -p litmus-benches --bin flag-doc`) from its
    text, and evaluate's cost at 10 and 10,000 flags in the same run."""
    import statistics
    import litmus as lm

    binary = H.ROOT.parent.parent / "target" / "release" / "flag-doc"
    if not binary.exists():
        raise SystemExit(f"build {binary} first: cargo build --release -p litmus-benches --bin flag-doc")

    def doc(flags, experiments):
        return subprocess.run([str(binary), str(flags), str(experiments)], check=True, capture_output=True, text=True).stdout

    large = doc(10_000, 2_000)
    loads = []
    for _ in range(7):
        t0 = time.perf_counter_ns()
        engine = lm.Engine(large)
        loads.append((time.perf_counter_ns() - t0) / 1e6)
        assert not engine.problems, engine.problems[0]
        del engine
    print(f"[litmus] load 10k flags + 2k experiments ({len(large) / 1e6:.1f} MB): "
          f"median {statistics.median(loads):.1f} ms, min {min(loads):.1f} ms (goal < 100 ms)")
    small, big = lm.Engine(doc(10, 10)), lm.Engine(large)
    ids = [f"user-{i:06d}" for i in range(1 << 16)]

    def per_call(engine):
        ev = engine.evaluate
        best = []
        for _ in range(5):
            t0 = time.perf_counter_ns()
            for uid in ids:
                ev("flag-0", uid)
            best.append((time.perf_counter_ns() - t0) / len(ids))
        return statistics.median(best)

    a, b = per_call(small), per_call(big)
    print(f"[litmus] evaluate at 10 flags {a:.0f} ns, at 10k flags {b:.0f} ns: {b / a:.2f}x (goal: flat)")


def litmus_experiment_document():
    """Loading a document of 10,000 experiments (a quarter targeted, a tenth in layers, a
    twentieth with overrides: `cargo run --release -p litmus-benches --bin flag-doc 0 10000`),
    the memory the engine holds per experiment (the process's RSS before and after one load,
    the text already in memory), and a plain and a targeted assign at 10 and at 10,000
    experiments in the same run."""
    import gc
    import statistics
    import litmus as lm

    binary = H.ROOT.parent.parent / "target" / "release" / "flag-doc"
    if not binary.exists():
        raise SystemExit(f"build {binary} first: cargo build --release -p litmus-benches --bin flag-doc")

    def doc(experiments):
        return subprocess.run([str(binary), "0", str(experiments)], check=True, capture_output=True, text=True).stdout

    large = doc(10_000)
    gc.collect()
    rss0 = H.rss_mb()
    kept = lm.Engine(large)
    rss1 = H.rss_mb()
    assert not kept.problems, kept.problems[0]
    loads = []
    for _ in range(7):
        t0 = time.perf_counter_ns()
        engine = lm.Engine(large)
        loads.append((time.perf_counter_ns() - t0) / 1e6)
        del engine
    print(f"[litmus] load 10k experiments ({len(large) / 1e6:.1f} MB): median {statistics.median(loads):.1f} ms, "
          f"min {min(loads):.1f} ms (goal < 100 ms); RSS +{rss1 - rss0:.1f} MB for one engine: "
          f"{(rss1 - rss0) * 1024 * 1024 / 10_000:.0f} bytes per experiment")
    small = lm.Engine(doc(10))
    ids = H.IDS

    def per_call(engine, targeted):
        a = engine.assign
        us = {"country": "US"}
        best = []
        for _ in range(5):
            t0 = time.perf_counter_ns()
            if targeted:
                for uid in ids:
                    a("fx-1", uid, us)
            else:
                for uid in ids:
                    a("fx-0", uid)
            best.append((time.perf_counter_ns() - t0) / len(ids))
        return statistics.median(best)

    for targeted in (False, True):
        s, b = per_call(small, targeted), per_call(kept, targeted)
        kind = "targeted" if targeted else "plain"
        print(f"[litmus] assign {kind} at 10 experiments {s:.0f} ns, at 10k {b:.0f} ns: {b / s:.2f}x (goal: flat)")


SDKS = {"floor": floor, "litmus": litmus, "litmus_flag_document": litmus_flag_document,
        "litmus_experiment_document": litmus_experiment_document, "growthbook": growthbook, "eppo": eppo, "unleash": unleash,
        "statsig_core": statsig_core, "statsig_legacy": statsig_legacy}

if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if which == "all":
        rc = 0
        for name in SDKS:
            p = subprocess.run([sys.executable, __file__, name])
            if p.returncode:
                print(f"!! {name} failed (rc={p.returncode})", file=sys.stderr)
                rc = 1
        sys.exit(rc)
    SDKS[which]()
    import os
    os._exit(0)  # skip SDK background-thread teardown (not part of the measurement)
