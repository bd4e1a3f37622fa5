"""The Engine API: config forms, errors, payloads, time, atomic updates under threads,
exposure logging with bounded memory, fork safety."""

from __future__ import annotations

import datetime
import json
import os
import threading

import pytest

import litmus

MINIMAL = {
    "schema_version": 1,
    "experiments": [
        {
            "key": "checkout-button",
            "salt": "cb-2026",
            "status": "running",
            "traffic": 1.0,
            "variants": [{"key": "control", "weight": 1}, {"key": "treatment", "weight": 1}],
        }
    ],
}

RICH = {
    "schema_version": 1,
    "version": "v7",
    "experiments": [
        {
            "key": "hero",
            "status": "running",
            "variants": [
                {"key": "a", "payload": {"color": "red", "sizes": [1, 2.5], "on": True}},
                {"key": "b", "weight": 0},
            ],
            "targeting": {"attribute": "country", "op": "in", "value": ["DE", "FR"]},
        },
        {
            "key": "grid",
            "kind": "multivariate",
            "status": "running",
            "factors": [
                {"key": "color", "levels": [{"key": "red"}, {"key": "blue"}]},
                {"key": "size", "levels": [{"key": "s"}, {"key": "l"}]},
            ],
        },
        {
            "key": "window",
            "status": "running",
            "start_time": "2026-01-01T00:00:00Z",
            "end_time": "2026-02-01T00:00:00Z",
            "variants": [{"key": "x"}],
        },
        {"key": "broken", "status": "running", "variants": []},
    ],
}


def test_minimal_document_in_every_form(tmp_path) -> None:
    text = json.dumps(MINIMAL)
    path = tmp_path / "config.json"
    path.write_text(text)
    engines = [
        litmus.Engine(text),
        litmus.Engine(text.encode()),
        litmus.Engine(MINIMAL),
        litmus.load_engine(path),
        litmus.Engine.from_file(str(path), strict=True),
    ]
    answers = {e.assign("checkout-button", "user-42").variant for e in engines}
    assert len(answers) == 1 and answers <= {"control", "treatment"}
    a = engines[0].assign("checkout-button", "user-42")
    assert a.in_experiment and a.reason == "assigned" and a.experiment == "checkout-button"
    assert a == engines[1].assign("checkout-button", "user-42")
    assert "Assignment(" in repr(a)
    seen = {engines[0].assign("checkout-button", f"u{i}").variant for i in range(100)}
    assert seen == {"control", "treatment"}


def test_from_file_errors(tmp_path) -> None:
    with pytest.raises(OSError):
        litmus.Engine.from_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(litmus.ConfigError):
        litmus.Engine.from_file(bad)


def test_payloads_factors_targeting_and_problems() -> None:
    engine = litmus.Engine(RICH)
    assert engine.version == "v7"
    assert engine.experiment_keys() == ["hero", "grid", "window", "broken"]
    a = engine.assign("hero", "u1", {"country": "DE"})
    assert a.variant == "a"
    assert a.payload == {"color": "red", "sizes": [1, 2.5], "on": True}
    miss = engine.assign("hero", "u1", {"country": "US"})
    assert (miss.variant, miss.reason, miss.miss) == (None, "targeting_miss", "false")
    assert engine.assign("hero", "u1").miss == "attribute_missing"
    assert engine.assign("hero", "u1", {"country": 7}).miss == "type_mismatch"
    g = engine.assign("grid", "u1")
    assert set(g.factors) == {"color", "size"}
    assert g.variant == f"color={g.factors['color']},size={g.factors['size']}"
    assert engine.assign("nope", "u1").reason == "unknown_experiment"
    assert engine.assign("broken", "u1").reason == "invalid_config"
    [problem] = engine.problems
    assert isinstance(problem, litmus.ConfigError) and isinstance(problem, ValueError)
    assert problem.path is not None and problem.path == "experiments[broken].variants"
    assert {a.experiment for a in engine.assign_all("u1", {"country": "FR"})} >= {"hero", "grid"}
    d = a.to_dict()
    assert d["variant"] == "a" and d["payload"]["color"] == "red"


def test_time_forms() -> None:
    engine = litmus.Engine(RICH)
    inside = [
        "2026-01-15T00:00:00Z",
        datetime.datetime(2026, 1, 15, tzinfo=datetime.timezone.utc),
        datetime.datetime(2026, 1, 15),  # naive: UTC
        datetime.datetime(2026, 1, 15, 3, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        1768435200,  # 2026-01-15 as seconds
        1768435200.5,
    ]
    for now in inside:
        assert engine.assign("window", "u", now=now).reason == "assigned", now
    assert engine.assign("window", "u", now="2026-03-01T00:00:00Z").reason == "not_running"
    assert engine.assign("window", "u", now=False).reason == "not_running"  # no time known
    assert engine.assign("window", "u").reason == "not_running"  # the wall clock: after the window
    for bad in ["yesterday", float("nan"), True, object()]:
        with pytest.raises(litmus.InvalidArgumentError):
            engine.assign("window", "u", now=bad)


def test_errors_have_codes_and_builtin_bases() -> None:
    cases = [
        ("{not json", "invalid_json"),
        ('{"schema_version": 2}', "unsupported_schema_version"),
        (b"\xff\xfe", "invalid_json"),
    ]
    for config, code in cases:
        with pytest.raises(litmus.ConfigError) as e:
            litmus.Engine(config)
        assert e.value.code == code
        assert isinstance(e.value, ValueError) and isinstance(e.value, litmus.LitmusError)
    with pytest.raises(litmus.ConfigError) as e:
        litmus.Engine(RICH, strict=True)
    assert e.value.code in litmus.ERROR_CODES
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.Engine(42)  # type: ignore[arg-type]
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.Engine(MINIMAL).assign("checkout-button", "u", ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.Engine({"schema_version": 1, "experiments": [], "x": float("inf")})
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.Engine(MINIMAL, on_exposure=3)  # type: ignore[arg-type]


def test_update_is_atomic_while_threads_assign() -> None:
    a_only = json.loads(json.dumps(MINIMAL))
    a_only["experiments"][0]["variants"] = [{"key": "A"}]
    b_only = json.loads(json.dumps(MINIMAL))
    b_only["experiments"][0]["variants"] = [{"key": "B"}]
    engine = litmus.Engine(a_only)
    seen: set = set()
    errors: list = []
    stop = threading.Event()

    def worker(n: int) -> None:
        try:
            i = 0
            while not stop.is_set():
                v = engine.assign("checkout-button", f"t{n}-{i}").variant
                seen.add(v)
                i += 1
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for k in range(200):
        engine.update(b_only if k % 2 == 0 else a_only)
    with pytest.raises(litmus.ConfigError):
        engine.update("{broken")
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert seen <= {"A", "B"} and seen
    engine.update(b_only)
    assert engine.assign("checkout-button", "x").variant == "B"


def test_exposures_are_deduplicated_with_bounded_memory() -> None:
    events: list = []
    engine = litmus.Engine(RICH, on_exposure=events.append, exposure_dedupe_size=1000)
    for _ in range(3):
        engine.assign("hero", "u1", {"country": "DE"}, now="2026-01-15T00:00:00Z")
    engine.assign("hero", "u2", {"country": "US"})  # targeting miss: no exposure
    assert len(events) == 1
    e = events[0]
    assert e["experiment"] == "hero" and e["unit_id"] == "u1" and e["variant"] == "a"
    assert e["reason"] == "assigned" and e["config_version"] == "v7"
    assert e["timestamp"] == 1768435200.0
    engine.assign_all("u3", {"country": "DE"})
    assert {(x["experiment"], x["unit_id"]) for x in events[1:]} == {("hero", "u3"), ("grid", "u3")}
    # A million distinct units: memory stays bounded by the dedupe size.
    big = litmus.Engine(MINIMAL, on_exposure=lambda ev: None, exposure_dedupe_size=10_000)
    for i in range(1_000_000):
        big.assign("checkout-button", f"user-{i}")
    assert big.exposures_remembered <= 10_000


def test_a_failing_exposure_callback_does_not_break_assignment(monkeypatch) -> None:
    import sys

    reported: list = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    calls = []

    def broken(event: dict) -> None:
        calls.append(event)
        raise RuntimeError("logger down")

    engine = litmus.Engine(MINIMAL, on_exposure=broken)
    a = engine.assign("checkout-button", "u1")
    assert a.variant is not None and len(calls) == 1
    [report] = reported
    assert isinstance(report.exc_value, RuntimeError) and "logger down" in str(report.exc_value)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_safety() -> None:
    # gunicorn's pre-fork model: an engine made in the parent is used by forked workers.
    engine = litmus.Engine(MINIMAL)
    expected = [engine.assign("checkout-button", f"u{i}").variant for i in range(50)]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            got = [engine.assign("checkout-button", f"u{i}").variant for i in range(50)]
            engine.update(MINIMAL)
            os.write(write_end, json.dumps(got).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 65536):
        data += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    assert status == 0
    assert json.loads(data) == expected


def test_version_and_codes() -> None:
    assert litmus.__version__
    assert "invalid_argument" in litmus.ERROR_CODES


def test_a_rust_panic_is_an_internal_error() -> None:
    from litmus import _litmus

    with pytest.raises(litmus.InternalError) as e:
        _litmus._panic_for_tests("boom")
    assert e.value.code == "internal" and isinstance(e.value, RuntimeError)
    assert "boom" in str(e.value)
    assert type(e.value).__name__ != "PanicException"


class RedisLikeStore:
    """get/set with bytes values, like redis-py without decode_responses."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str):
        return self.data.get(key)

    def set(self, key: str, value: str) -> None:
        self.data[key] = value.encode()


def test_sticky_store_keeps_variants_when_weights_and_traffic_change() -> None:
    from conftest import sticky_key

    balanced = json.loads(json.dumps(MINIMAL))
    for store in ({}, RedisLikeStore()):
        engine = litmus.Engine(balanced, sticky_store=store)
        first = {f"u{i}": engine.assign("checkout-button", f"u{i}").variant for i in range(200)}
        assert set(first.values()) == {"control", "treatment"}
        if isinstance(store, dict):
            assert store[sticky_key("checkout-button", "u0")] == first["u0"]
        # Everything to control, and traffic down to 10%: remembered units keep their arm.
        shifted = json.loads(json.dumps(MINIMAL))
        shifted["experiments"][0]["variants"][1]["weight"] = 0
        shifted["experiments"][0]["traffic"] = 0.1
        engine.update(shifted)
        again = {u: engine.assign("checkout-button", u) for u in first}
        assert {u: a.variant for u, a in again.items()} == first
        assert {a.reason for a in again.values()} == {"sticky"}
        assert all(a.in_experiment for a in again.values())
        # New units follow the new config.
        fresh = [engine.assign("checkout-button", f"new{i}") for i in range(100)]
        assert {a.variant for a in fresh} <= {"control", None}
        assert {a.reason for a in fresh} <= {"assigned", "not_in_traffic"}
        # assign_all honours the store too.
        [one] = engine.assign_all("u1")
        assert (one.variant, one.reason) == (first["u1"], "sticky")
    with pytest.raises(litmus.InvalidArgumentError):
        litmus.Engine(MINIMAL, sticky_store=42)
