"""Robustness of the installed wheel against arbitrary input (issue 10): no call raises
PyO3's PanicException or anything but the documented errors, TypeError, ValueError or
OverflowError; regressions for what scripts/fuzz/python_bindings.py found; and the per-unit
state of the SDK stays within its caps.

The seeded sweep runs the fuzz harness itself (scripts/fuzz/python_bindings.py, every public
entry point) from a fixed seed, without atheris: the same inputs on every run.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import time

import pytest

import litmus
import litmus.stats
from conftest import REPO

# ---- the seeded sweep ------------------------------------------------------------------------


def _harness():
    path = REPO / "scripts" / "fuzz" / "python_bindings.py"
    spec = importlib.util.spec_from_file_location("litmus_fuzz_harness", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_seeded_sweep_of_every_entry_point_raises_only_documented_errors() -> None:
    harness = _harness()
    try:
        findings = []
        for seed in range(20_260_000, 20_264_000):  # a few seconds: 4,000 inputs over every driver
            try:
                harness.one_input(harness.RandomSource(seed))
            except harness.Finding as e:
                findings.append(f"RandomSource({seed}): {e}")
        counts = dict(harness.COUNTS)
    finally:
        harness.teardown()
        sys.modules.pop("litmus_fuzz_harness", None)
    assert not findings, "\n".join(findings[:10])
    # Every driver ran (the harness checks at start that each export has one).
    assert len(counts) == len(set(d.__name__ for d in harness.DRIVERS)), counts


# ---- regressions: what the fuzzer found ------------------------------------------------------


def test_openfeature_attributes_nested_too_deep_or_cyclic_are_refused_not_a_recursion_error() -> None:
    pytest.importorskip("openfeature")
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.exception import ErrorCode

    from litmus.openfeature import LitmusProvider

    engine = litmus.Engine({"schema_version": 1, "experiments": [{"key": "e", "status": "running", "variants": [{"key": "a"}]}]})
    provider = LitmusProvider(engine)
    deep: object = 1
    for _ in range(5_000):
        deep = [deep]
    cyclic: list = [1]
    cyclic.append(cyclic)
    for value in (deep, cyclic, {"k": cyclic}):
        details = provider.resolve_string_details("e", "default", EvaluationContext("u1", {"x": value}))
        assert details.value == "default"
        assert details.error_code == ErrorCode.INVALID_CONTEXT
    # Nesting the engine takes still works.
    ok = provider.resolve_string_details("e", "default", EvaluationContext("u1", {"x": [[["DE"]]]}))
    assert ok.value == "a" and ok.error_code is None


@pytest.mark.parametrize("cls", ["EventTracker", "ConfigClient"])
def test_a_base_url_that_is_not_a_string_is_an_invalid_argument(cls: str) -> None:
    make = getattr(litmus, cls)
    for url in (5, None, b"http://x", ["http://x"]):
        with pytest.raises(litmus.InvalidArgumentError):
            make(url, "key")
    with pytest.raises(litmus.InvalidArgumentError):
        make("http://127.0.0.1:9", ["key"])


@pytest.mark.parametrize("cls", ["EventTracker", "ConfigClient"])
def test_a_key_or_url_http_client_cannot_send_is_refused_at_once(cls: str) -> None:
    # The tracker's sending thread died on the first request (UnicodeEncodeError: headers are
    # Latin-1, request paths ASCII) and dropped every event; the client failed every request.
    make = getattr(litmus, cls)
    for url, key in (("http://127.0.0.1:9", "cl\u00e9"), ("http://127.0.0.1:9", "key\U0001f511"), ("http://127.0.0.1:9/\u00e4", "key"), ("http://b\u00fccher.example", "key")):
        with pytest.raises(litmus.InvalidArgumentError):
            make(url, key)


def test_arguments_nested_too_deep_are_an_invalid_argument_not_a_recursion_error() -> None:
    deep: object = 1
    for _ in range(sys.getrecursionlimit() + 100):
        deep = [deep]
    with litmus.EventTracker("http://127.0.0.1:9", "key", flush_interval=1e9) as tracker:
        with pytest.raises(litmus.InvalidArgumentError):
            tracker.track("u1", "purchase", properties={"deep": deep})
        with pytest.raises(litmus.InvalidArgumentError):
            litmus.EventTracker("http://127.0.0.1:9", "key", flush_interval=deep)  # type: ignore[arg-type]
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.ConfigClient("http://127.0.0.1:9", "key", mode=deep)  # type: ignore[arg-type]
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.ConfigClient("http://127.0.0.1:9", "key", poll_interval=deep)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["flush_interval", "timeout", "max_backoff"])
def test_tracker_durations_past_what_threads_and_sockets_take_are_refused(name: str) -> None:
    # 1e12 s passed validation, then overflowed a Condition.wait or socket timeout in the
    # sending thread, which died and dropped every event.
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.EventTracker("http://127.0.0.1:9", "key", **{name: 1e12})
    litmus.EventTracker("http://127.0.0.1:9", "key", **{name: 1e9}).close(0)


@pytest.mark.parametrize("name", ["poll_interval", "timeout", "max_backoff", "idle_timeout"])
def test_client_durations_past_what_threads_and_sockets_take_are_refused(name: str) -> None:
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.ConfigClient("http://127.0.0.1:9", "key", **{name: 1e12})
    litmus.ConfigClient("http://127.0.0.1:9", "key", **{name: 1e9}).close()


def test_tracker_close_with_a_huge_timeout_means_no_limit() -> None:
    tracker = litmus.EventTracker("http://127.0.0.1:9", "key")
    tracker.close(1e12)  # joined the thread with 1e12 s: OverflowError
    tracker.close(math.inf)


def test_incomplete_beta_with_parameters_near_the_float_limit_answers_at_once() -> None:
    # Each of these ran the continued fraction's two million iterations (a NaN or infinite
    # front: a * b overflowed); the Bayesian comparisons integrate 1,280 of them (minutes).
    start = time.perf_counter()
    for x in (0.001, 0.37, 0.5, 0.999):
        for a, b in ((1.7976931348623157e308, 523.0), (523.0, 1.7976931348623157e308), (1e100, 1.7976931348623157e308), (7.7e296, 30.0), (76481.8, 5.28e306)):
            p = litmus.stats.beta_cdf(x, a, b)
            assert math.isnan(p) or 0.0 <= p <= 1.0
    assert time.perf_counter() - start < 10.0  # was over 2 s per call of ten
    # Those the comparisons take are bounded (at most 1e15 pseudo-observations).
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.stats.beta_prob_beats(76481.8, 37693.9, 260.0, 5.28e306)


def test_after_a_rust_panic_the_module_keeps_working() -> None:
    from litmus import _litmus

    engine = litmus.Engine(CONFIG)
    before = [engine.assign("a", f"u{i}").variant for i in range(20)]
    for _ in range(3):
        with pytest.raises(litmus.InternalError) as e:
            _litmus._panic_for_tests("boom")
        assert type(e.value).__name__ != "PanicException"
    assert [engine.assign("a", f"u{i}").variant for i in range(20)] == before


# ---- per-unit state stays within its caps ----------------------------------------------------

CONFIG = {
    "schema_version": 1,
    "experiments": [
        {"key": "a", "status": "running", "variants": [{"key": "control"}, {"key": "treatment"}]},
        {"key": "b", "status": "running", "traffic": 0.5, "variants": [{"key": "x"}, {"key": "y"}]},
    ],
}


def test_per_unit_state_stays_within_its_caps_over_200k_units() -> None:
    """The engine's only per-unit state is the exposure deduplication (``exposure_dedupe_size``
    pairs); the tracker's is its queue (``max_queue`` events). scripts/fuzz/memory_python.py
    checks the process' memory over 10 million units."""
    cap = 20_000
    reported = 0

    def count(event: dict) -> None:
        nonlocal reported
        reported += 1

    engine = litmus.Engine(CONFIG, on_exposure=count, exposure_dedupe_size=cap)
    # Nothing is sent (no full batch, no flush due): the queue fills and stays at its cap.
    tracker = litmus.EventTracker("http://127.0.0.1:9", "key", flush_interval=1e9, max_queue=1_000, max_batch=2_500)
    try:
        for i in range(200_000):
            unit = f"unit-{i}"
            engine.assign("a", unit)
            if i % 4 == 0:
                engine.assign_all(unit)
            if i % 10 == 0:
                tracker.track(unit, "purchase", 1.0)
            assert engine.exposures_remembered <= cap
            assert tracker.queued <= 1_000
        assert engine.exposures_remembered > cap // 2  # it does remember, up to its cap
        assert tracker.queued == 1_000 and tracker.dropped == 20_000 - 1_000
    finally:
        tracker.close(0)
    # Every unit was reported once (each was new), and a unit seen long ago is reported
    # again (forgotten: the memory is bounded), a recent one is not.
    assert reported >= 200_000
    before = reported
    engine.assign("a", "unit-0")
    assert reported == before + 1
    engine.assign("a", "unit-199999")
    assert reported == before + 1
