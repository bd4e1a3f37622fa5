"""Flag usage: ``Engine.flag_usage`` counts every flag evaluation the engine answers, and
``litmus.ConfigClient`` reports the counts to ``POST /sdk/usage`` of the fake server
(fake_litmus.py) as core's usage sender decides (docs/sdk-protocol.md, "Flag usage"). No test
asserts a time: each waits for the request it expects (a second apart at least: the shortest
interval)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterator

import pytest

import litmus
from litmus import ConfigClient
from fake_litmus import KEY, FakeServer

FLAGS: dict[str, Any] = {
    "schema_version": 1,
    "experiments": [{"key": "exp", "status": "running", "variants": [{"key": "a"}, {"key": "b"}]}],
    "flags": [
        {"key": "on", "type": "boolean", "default": False, "rules": [{"kind": "rollout", "percentage": 50, "value": True}]},
        {"key": "color", "type": "string", "default": "grey", "rules": [{"kind": "experiment", "experiment": "exp", "values": {"a": "red", "b": "blue"}}]},
        {"key": "limit", "type": "number", "default": 3},
        {"key": "layout", "type": "json", "default": {"cols": 2}},
    ],
}


def with_flags(*keys: str) -> dict[str, Any]:
    return dict(FLAGS, flags=[f for f in FLAGS["flags"] if f["key"] in keys])


# -- the engine's counts -----------------------------------------------------------------------


def test_every_evaluation_counts_once_per_flag() -> None:
    engine = litmus.Engine(FLAGS)
    assert engine.flag_usage() == {}
    engine.evaluate("on", "u1")
    engine.evaluate("on", "u2", {"country": "FR"}, now=False)
    assert engine.boolean_value("on", "u3") in (True, False)
    assert engine.string_value("color", "u") in ("red", "blue")
    assert engine.number_value("limit", "u") == 3.0
    assert engine.json_value("layout", "u") == {"cols": 2}
    # An unknown key is not counted; a flag asked for as another type is (the code uses it).
    assert engine.evaluate("missing", "u").error == "flag_not_found"
    assert engine.boolean_value("missing", "u", default=True) is True
    assert engine.string_value("on", "u", default="x") == "x"
    assert engine.evaluate("limit", "u", type="string").error == "type_mismatch"
    # Assignments are not flag evaluations.
    engine.assign("exp", "u")
    assert engine.flag_usage(reset=False) == {"on": 4, "color": 1, "limit": 2, "layout": 1}
    # evaluate_all evaluates (and counts) each flag once.
    assert set(engine.evaluate_all("u")) == {"on", "color", "limit", "layout"}
    assert engine.flag_usage() == {"on": 5, "color": 2, "limit": 3, "layout": 2}
    assert engine.flag_usage() == {}, "read with reset"
    engine.evaluate_all("u")
    engine.evaluate_all("v")
    assert engine.flag_usage(False) == {"on": 2, "color": 2, "limit": 2, "layout": 2}
    assert engine.flag_usage(reset=False) == {"on": 2, "color": 2, "limit": 2, "layout": 2}


def test_counts_with_a_sticky_store_and_across_threads() -> None:
    engine = litmus.Engine(FLAGS, sticky_store={})
    for _ in range(3):
        engine.string_value("color", "u")
    engine.evaluate("color", "v")

    def work() -> None:
        for i in range(1000):
            engine.boolean_value("on", f"u{i}")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert engine.flag_usage() == {"color": 4, "on": 4000}


def test_counts_of_flags_still_in_the_config_survive_update() -> None:
    engine = litmus.Engine(FLAGS)
    engine.boolean_value("on", "u")
    engine.number_value("limit", "u")
    engine.number_value("limit", "v")
    engine.json_value("layout", "u")
    # "layout" goes, "on" moves after "limit", a new flag comes.
    update = with_flags("limit", "on")
    update["flags"] = update["flags"][::-1] + [{"key": "new", "type": "boolean", "default": True}]
    engine.update(update)
    assert engine.flag_usage(reset=False) == {"on": 1, "limit": 2}
    engine.boolean_value("on", "u")
    engine.boolean_value("new", "u")
    with pytest.raises(litmus.ConfigError):
        engine.update("{not json")
    assert engine.flag_usage() == {"on": 2, "limit": 2, "new": 1}


def test_the_openfeature_provider_counts_through_the_engine() -> None:
    pytest.importorskip("openfeature")
    from openfeature.evaluation_context import EvaluationContext

    from litmus.openfeature import LitmusProvider

    engine = litmus.Engine(FLAGS)
    provider = LitmusProvider(engine)
    context = EvaluationContext("user-1")
    assert provider.resolve_boolean_details("on", False, context).error_code is None
    assert provider.resolve_integer_details("limit", 0, context).value == 3
    provider.resolve_string_details("exp", "x", context)  # an experiment, not a flag
    assert engine.flag_usage() == {"on": 1, "limit": 1}


# -- the config client's reports ---------------------------------------------------------------


class Errors:
    def __init__(self) -> None:
        self.list: list[Exception] = []
        self.cond = threading.Condition()

    def __call__(self, error: Exception) -> None:
        with self.cond:
            self.list.append(error)
            self.cond.notify_all()

    def wait_for(self, predicate: Any) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, 10.0), self.list


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer()
    s.publish(FLAGS)
    yield s
    s.stop()


def stored(server: FakeServer) -> dict[str, int]:
    """What the server stored (the counts of the requests it answered 204), by flag."""
    out: dict[str, int] = {}
    with server.cond:
        posts = list(server.usage)
    for post in posts:
        if post.status == 204:
            for key, n in post.counts.items():
                out[key] = out.get(key, 0) + n
    return out


def eventually(condition: Callable[[], bool], what: str) -> None:
    """Waits for ``condition`` (``what`` it is, for a reader of a hung run)."""
    while not condition():
        time.sleep(0.005)


def started(server: FakeServer, errors: Errors, mode: str = "poll", **kw: Any) -> ConfigClient:
    options: dict[str, Any] = {"poll_interval": 0.05, "max_backoff": 0.05, "timeout": 2.0, "usage_interval": 1.0}
    options.update(kw)
    return ConfigClient(server.url, KEY, mode=mode, on_error=errors, **options).start()  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["poll", "stream"])
def test_reports_the_counts_after_the_interval(server: FakeServer, mode: str) -> None:
    server.ping_every = 0.1  # the stream wakes the client (the real server: every 15 s)
    errors = Errors()
    client = started(server, errors, mode)
    try:
        engine = client.engine
        for i in range(3):
            engine.boolean_value("on", f"u{i}")
        engine.string_value("color", "u")
        engine.evaluate("missing", "u")
        server.wait_for(lambda: stored(server) == {"on": 3, "color": 1})
        post = server.usage[0]
        assert post.path == "/sdk/usage"
        assert post.headers["Authorization"] == f"Bearer {KEY}"
        assert post.headers["Content-Type"] == "application/json"
        assert post.headers["User-Agent"].startswith("litmus-python/")
        assert engine.flag_usage(reset=False) == {}, "the client took the counts"
        # The next report has only what was counted since.
        engine.number_value("limit", "u")
        server.wait_for(lambda: stored(server) == {"on": 3, "color": 1, "limit": 1})
        assert errors.list == []
    finally:
        client.close()


def test_a_503_keeps_the_counts_for_the_next_report(server: FakeServer) -> None:
    server.usage_script = [(503, {"Retry-After": "1"})]
    errors = Errors()
    client = started(server, errors)
    try:
        for i in range(3):
            client.engine.boolean_value("on", f"u{i}")
        server.wait_for(lambda: len(server.usage) >= 1)
        assert server.usage[0].status == 503 and server.usage[0].counts == {"on": 3}
        errors.wait_for(lambda: len(errors.list) >= 1)
        assert isinstance(errors.list[0], litmus.ServerError) and errors.list[0].status == 503
        assert errors.list[0].code == "fake_503"
        assert client.last_error is errors.list[0]
        client.engine.boolean_value("on", "u4")
        client.engine.boolean_value("on", "u5")
        server.wait_for(lambda: stored(server) == {"on": 5})
        # The failed counts were merged into the next report, not sent apart.
        assert server.usage[1].status == 204 and server.usage[1].counts["on"] >= 3
        eventually(lambda: client.last_error is None, "the client to recover")
    finally:
        client.close()


def test_a_404_stops_the_reports_for_the_life_of_the_client(server: FakeServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="litmus.client")
    server.usage_script = [404]
    errors = Errors()
    client = started(server, errors)
    client.engine.boolean_value("on", "u")
    server.wait_for(lambda: len(server.usage) >= 1)
    client.engine.boolean_value("on", "u")
    client.close()  # would send what is left: not to a server without the route
    assert [p.status for p in server.usage] == [404]
    assert errors.list == []
    notes = [r for r in caplog.records if "takes no flag usage reports" in r.getMessage()]
    assert len(notes) == 1 and notes[0].levelno == logging.DEBUG


def test_a_422_drops_that_report(server: FakeServer) -> None:
    server.usage_script = [422]
    errors = Errors()
    client = started(server, errors)
    client.engine.boolean_value("on", "u")
    client.engine.boolean_value("on", "v")
    server.wait_for(lambda: len(server.usage) >= 1)
    errors.wait_for(lambda: len(errors.list) >= 1)
    assert isinstance(errors.list[0], litmus.ServerError) and errors.list[0].status == 422
    client.engine.string_value("color", "u")
    client.close()  # the final report: the refused counts are not in it
    assert [p.status for p in server.usage] == [422, 204]
    assert server.usage[0].counts == {"on": 2}
    assert server.usage[1].counts == {"color": 1}


def test_close_sends_what_is_left_and_usage_interval_0_sends_nothing(server: FakeServer) -> None:
    errors = Errors()
    client = started(server, errors, usage_interval=60.0)
    client.engine.json_value("layout", "u")
    client.close()
    assert stored(server) == {"layout": 1}
    client.close()
    assert len(server.usage) == 1

    quiet = started(server, errors, usage_interval=0)
    quiet.engine.json_value("layout", "u")
    quiet.close()
    assert len(server.usage) == 1
    assert quiet.engine.flag_usage() == {"layout": 1}, "nobody took them"


@pytest.mark.parametrize("bad", [0.5, -1, float("nan"), "60", True])
def test_usage_interval_is_checked(bad: Any) -> None:
    with pytest.raises(litmus.InvalidArgumentError):
        ConfigClient("http://127.0.0.1:1", KEY, usage_interval=bad)


# -- the shared fixtures run in test_sdk_fixtures.py -------------------------------------------
