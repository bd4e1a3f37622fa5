"""litmus.EventTracker against an in-process stand-in for the server's ``POST /events``
(fake_litmus.EventSink), which checks every request against the contract."""

from __future__ import annotations

import datetime
import gzip
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any, Callable, Iterator

import pytest

import litmus
from fake_litmus import KEY, EventSink, free_port, returns

# Short intervals; every test waits on a condition (with a generous deadline) or on flush(),
# never for a fixed time, except to show that nothing happens. No test asserts that something
# finished within a time: where promptness is the behaviour, the test arranges that a wrong
# implementation would block for an hour and waits with fake_litmus.returns() (a hang guard).
FAST: dict[str, Any] = {"flush_interval": 0.05, "max_backoff": 0.02, "timeout": 2.0}
RFC3339_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
UTC = datetime.timezone.utc


class Errors:
    """Collects on_error reports; lets a test wait for them."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.errors: list[Exception] = []

    def __call__(self, error: Exception) -> None:
        with self.cond:
            self.errors.append(error)
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), self.errors

    def codes(self) -> list[str]:
        with self.cond:
            return [getattr(e, "code", type(e).__name__) for e in self.errors]


@pytest.fixture
def errors() -> Errors:
    return Errors()


def tracker(url: str, errors: Errors, key: str = KEY, **kw: Any) -> litmus.EventTracker:
    return litmus.EventTracker(url, key, on_error=errors, **dict(FAST, **kw))


def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Waits for a condition on the tracker (its counters have no condition variable)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e.get("event") or e["experiment"] for e in events]


# -- the API -----------------------------------------------------------------------------------


def test_is_exported_lazily() -> None:
    assert "EventTracker" in litmus.__all__
    assert issubclass(litmus.EventsRejectedError, litmus.ServerError)
    code = "import sys, litmus; print('litmus.tracker' in sys.modules, 'http.client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"], "import litmus must stay fast"
    from litmus.tracker import EventTracker

    assert litmus.EventTracker is EventTracker


@pytest.mark.parametrize(
    "args",
    [
        ("ftp://x", KEY, {}),
        ("http://", KEY, {}),
        ("http://x:99999", KEY, {}),
        ("http://x", "", {}),
        ("http://x", "a\nb", {}),
        ("http://x", KEY, {"flush_interval": 0}),
        ("http://x", KEY, {"timeout": float("nan")}),
        ("http://x", KEY, {"max_backoff": -1}),
        ("http://x", KEY, {"max_batch": 0}),
        ("http://x", KEY, {"max_batch": 2501}),
        ("http://x", KEY, {"max_batch": 10.0}),
        ("http://x", KEY, {"max_queue": 0}),
        ("http://x", KEY, {"gzip_min_bytes": -1}),
        ("http://x", KEY, {"gzip_min_bytes": True}),
    ],
)
def test_rejects_bad_arguments(args: tuple[str, str, dict[str, Any]]) -> None:
    url, key, kw = args
    with pytest.raises(litmus.InvalidArgumentError) as e:
        litmus.EventTracker(url, key, **kw)
    assert e.value.code == "invalid_argument"


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.track("", "purchase"),
        lambda t: t.track("u1", ""),
        lambda t: t.track(1, "purchase"),
        lambda t: t.track("u1", "purchase", float("nan")),
        lambda t: t.track("u1", "purchase", float("inf")),
        lambda t: t.track("u1", "purchase", True),
        lambda t: t.track("u1", "purchase", "12"),
        lambda t: t.track("u1", "purchase", 10**400),  # not a float
        lambda t: t.track("u1", "purchase", 10**5000),  # not even printable
        lambda t: t.track("u1", "purchase", 1, ["not", "an", "object"]),
        lambda t: t.track("u1", "purchase", 1, {"when": datetime.date(2026, 1, 1)}),
        lambda t: t.track("u1", "purchase", 1, {"x": float("nan")}),
        lambda t: t.track("u1", "purchase", 1, {"x": "\ud800"}),  # a lone surrogate: not UTF-8
        lambda t: t.track("u1", "purchase", timestamp=1_800_000_000),
        lambda t: t.exposure("u1", "exp", ""),
    ],
)
def test_bad_events_raise_in_the_caller(call: Callable[[litmus.EventTracker], None]) -> None:
    t = litmus.EventTracker("http://127.0.0.1:9", KEY)
    with pytest.raises(litmus.InvalidArgumentError) as e:
        call(t)
    assert e.value.code == "invalid_argument"
    assert (t.queued, t.dropped) == (0, 0)
    t.close()


def test_an_event_too_large_is_refused_at_track_time(sink: EventSink, errors: Errors) -> None:
    with tracker(sink.url, errors) as t:
        t.track("u1", "page", properties={"blob": "x" * 32_606})  # 32,768 bytes: the most
        with pytest.raises(litmus.InvalidArgumentError, match="32769 bytes.*at most 32768") as e:
            t.track("u1", "page", properties={"blob": "x" * 32_607})
        assert e.value.code == "event_too_large"
        with pytest.raises(ValueError):  # InvalidArgumentError is a ValueError
            t.track("u1", "page", properties={"blob": "é" * 16_400})  # counted in UTF-8 bytes
        assert t.flush(10)
    assert t.sent == 1 and t.dropped == 0 and errors.errors == []


def test_numbers_of_other_types(sink: EventSink, errors: Errors) -> None:
    import fractions

    import numpy as np

    with tracker(sink.url, errors) as t:
        t.track("u1", "a", np.float32(1.5))
        t.track("u1", "b", np.int64(7))
        t.track("u1", "c", fractions.Fraction(1, 4))
        t.track("u1", "d", -0.0)
        assert t.flush(10)
    assert [e["value"] for e in sink.stored.values()] == [1.5, 7, 0.25, 0.0]


# -- batching ------------------------------------------------------------------------------------


def test_batches_by_size(sink: EventSink, errors: Errors) -> None:
    with tracker(sink.url, errors, max_batch=10, flush_interval=60) as t:
        for i in range(25):
            t.track(f"u{i}", "click", i)
        until(lambda: t.sent == 20)  # two full batches go at once
        assert [len(p.events) for p in sink.posts] == [10, 10]
        assert t.queued == 5, "the rest waits for the interval"
        assert t.flush(10)
        assert [len(p.events) for p in sink.posts] == [10, 10, 5]
        assert [e["value"] for e in sink.stored.values()] == list(range(25)), "in order"
        assert (t.sent, t.queued, t.dropped) == (25, 0, 0)
    assert errors.errors == []


def test_batches_by_interval(sink: EventSink, errors: Errors) -> None:
    with tracker(sink.url, errors, flush_interval=0.15) as t:
        t0 = time.monotonic()
        for i in range(3):
            t.track("u1", f"e{i}")
        sink.wait_for(lambda: len(sink.stored) == 3)
        assert sink.posts[0].at - t0 >= 0.15, "not before the interval"
        assert [len(p.events) for p in sink.posts] == [3]
        t.track("u1", "later")
        sink.wait_for(lambda: len(sink.stored) == 4)
        assert [len(p.events) for p in sink.posts] == [3, 1]


def test_a_batch_stays_under_one_megabyte(sink: EventSink, errors: Errors) -> None:
    with tracker(sink.url, errors, max_batch=2500, flush_interval=60) as t:
        for i in range(100):  # about 2.4 MiB
            t.track(f"u{i}", "big", properties={"blob": "y" * 25_000})
        assert t.flush(20)
    sizes = [len(p.raw) for p in sink.posts]
    assert len(sink.stored) == 100 and len(sizes) == 3
    assert all(p.gzip for p in sink.posts)
    assert [len(p.events) for p in sink.posts] == [41, 41, 18]


def test_gzip_above_the_threshold(sink: EventSink, errors: Errors) -> None:
    with tracker(sink.url, errors, flush_interval=60) as t:
        t.track("u1", "small")
        assert t.flush(10)
        for i in range(30):
            t.track(f"user-{i}", "checkout", 9.99, {"cart": ["a", "b"], "country": "DE"})
        assert t.flush(10)
    small, large = sink.posts
    assert not small.gzip and "Content-Encoding" not in small.headers
    assert large.gzip and large.raw[:2] == b"\x1f\x8b" and len(large.events) == 30
    assert len(large.raw) < len(gzip.decompress(large.raw)) and len(gzip.decompress(large.raw)) > 1024
    with tracker(sink.url, errors, flush_interval=60, gzip_min_bytes=10**9) as t:
        for i in range(30):
            t.track(f"user-{i}", "checkout", 9.99, {"cart": ["a", "b"]})
    assert not sink.posts[-1].gzip and len(sink.posts[-1].events) == 30
    assert errors.errors == []


def test_the_wire_format(sink: EventSink, errors: Errors) -> None:
    paris = datetime.timezone(datetime.timedelta(hours=1))
    with tracker(sink.url, errors, flush_interval=60) as t:
        before = datetime.datetime.now(UTC)
        t.track("u1", "purchase", 19.99, {"currency": "EUR", "items": [1, 2]})
        t.track("u2", "signup", timestamp=datetime.datetime(2026, 11, 27, 11, 0, 0, 123999, tzinfo=paris))
        t.track("u3", "naive-is-utc", 3, timestamp=datetime.datetime(1999, 12, 31, 23, 59, 59, 999000))
        t.exposure("u4", "checkout-button", "treatment", timestamp=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
        t.track("u5", "naïve ünïcode", 2**40, {"emoji": "🎉"})
        assert t.flush(10)
        after = datetime.datetime.now(UTC)
    (post,) = sink.posts
    assert post.headers["Authorization"] == f"Bearer {KEY}"
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["User-Agent"] == f"litmus-python/{litmus.__version__}"
    assert post.body is not None and list(post.body) == ["sent_at", "events"]
    sent_at = post.body["sent_at"]
    assert RFC3339_MS.fullmatch(sent_at)
    parsed = datetime.datetime.strptime(sent_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert before - datetime.timedelta(milliseconds=1) <= parsed <= after
    e1, e2, e3, e4, e5 = post.events
    assert set(e1) == {"type", "message_id", "timestamp", "unit_id", "event", "value", "properties"}
    assert (e1["type"], e1["unit_id"], e1["event"], e1["value"]) == ("track", "u1", "purchase", 19.99)
    assert e1["properties"] == {"currency": "EUR", "items": [1, 2]}
    assert RFC3339_MS.fullmatch(e1["timestamp"])
    assert set(e2) == {"type", "message_id", "timestamp", "unit_id", "event"}, "no value, no properties"
    assert e2["timestamp"] == "2026-11-27T10:00:00.123Z"
    assert e3["timestamp"] == "1999-12-31T23:59:59.999Z"
    assert e4 == {
        "type": "exposure",
        "message_id": e4["message_id"],
        "timestamp": "2026-01-02T03:04:05.000Z",
        "unit_id": "u4",
        "experiment": "checkout-button",
        "variant": "treatment",
    }
    assert (e5["event"], e5["value"], e5["properties"]) == ("naïve ünïcode", 2**40, {"emoji": "🎉"})
    ids = post.ids
    assert len(set(ids)) == 5 and all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i) for i in ids), "version 4 UUIDs"


# -- the server's answers ----------------------------------------------------------------------


def test_retries_a_503_with_retry_after_and_the_same_ids(sink: EventSink, errors: Errors) -> None:
    sink.script = [(503, {"Retry-After": "1"})]
    with tracker(sink.url, errors, max_backoff=0.01) as t:
        t.track("u1", "a")
        t.track("u2", "b")
        assert t.flush(10)
        first, second = sink.posts
        assert (first.status, second.status) == (503, 200)
        assert first.ids == second.ids, "a retry keeps the message_ids"
        assert second.at - first.at >= 1.0, "Retry-After is the least wait (max_backoff is 10 ms)"
        assert (t.sent, t.dropped) == (2, 0)
        assert t.last_error is None, "cleared by the batch that went through"
    (error,) = errors.errors
    assert isinstance(error, litmus.ServerError) and not isinstance(error, litmus.AuthError)
    assert (error.status, error.code) == (503, "fake_503")


@pytest.mark.parametrize("answer", [429, 500, 502, 408])
def test_retries_other_transient_answers(sink: EventSink, errors: Errors, answer: int) -> None:
    sink.script = [answer, answer]
    with tracker(sink.url, errors) as t:
        t.track("u1", "a")
        assert t.flush(10)
    assert [p.status for p in sink.posts] == [answer, answer, 200]
    assert len({tuple(p.ids) for p in sink.posts}) == 1
    assert [getattr(e, "status", None) for e in errors.errors] == [answer, answer]


def test_retries_a_dropped_connection_with_the_same_ids(sink: EventSink, errors: Errors) -> None:
    sink.script = ["drop", "drop"]
    with tracker(sink.url, errors) as t:
        t.track("u1", "a")
        t.track("u1", "b")
        assert t.flush(10)
        assert (t.sent, t.dropped) == (2, 0)
    assert [p.status for p in sink.posts] == [0, 0, 200]
    assert len({tuple(p.ids) for p in sink.posts}) == 1
    assert sink.duplicates == 0 and len(sink.stored) == 2
    assert errors.codes() == ["unavailable", "unavailable"]
    assert all(isinstance(e, litmus.UnavailableError) and isinstance(e.__cause__, OSError) for e in errors.errors)


def test_an_unreachable_server_is_retried(errors: Errors) -> None:
    port = free_port()
    with tracker(f"http://127.0.0.1:{port}", errors) as t:
        t.track("u1", "a")
        errors.wait_for(lambda: len(errors.errors) >= 2)
        assert t.queued == 1 and t.dropped == 0, "kept for the next attempt"
        assert isinstance(t.last_error, litmus.UnavailableError)
        assert not t.flush(0.05)
        t.close(timeout=0.1)
    assert t.dropped == 1 and t.queued == 0
    assert "closed" in errors.codes()


def test_a_kept_alive_connection_closed_by_the_server_is_not_an_error(sink: EventSink, errors: Errors) -> None:
    sink.script = ["close-after"]
    with tracker(sink.url, errors, max_backoff=30.0) as t:
        t.track("u1", "a")
        assert t.flush(10)
        t.track("u1", "b")
        assert t.flush(5), "resent at once on a new connection, without a backoff"
    assert len(sink.stored) == 2 and errors.errors == []


def test_a_413_splits_the_batch(sink: EventSink, errors: Errors) -> None:
    sink.max_events = 3
    with tracker(sink.url, errors, flush_interval=60) as t:
        for i in range(10):
            t.track("u1", f"e{i}")
        assert t.flush(10)
        assert (t.sent, t.dropped) == (10, 0)
    assert [len(p.events) for p in sink.posts] == [10, 5, 3, 2, 5, 3, 2], "halves, the larger first"
    assert [p.status for p in sink.posts] == [413, 413, 200, 200, 413, 200, 200]
    assert names(list(sink.stored.values())) == [f"e{i}" for i in range(10)], "in order, each once"
    assert errors.errors == [], "splitting is not an error"


def test_a_single_event_still_too_large_is_dropped(sink: EventSink, errors: Errors) -> None:
    with tracker(sink.url, errors, flush_interval=60) as t:
        t.track("u1", "a")
        t.track("u1", "b", properties={"huge": True})
        t.track("u1", "c")
        assert t.flush(10)
        assert (t.sent, t.dropped) == (2, 1)
    assert [len(p.events) for p in sink.posts] == [3, 2, 1, 1, 1]
    assert names(list(sink.stored.values())) == ["a", "c"]
    (error,) = errors.errors
    assert isinstance(error, litmus.ServerError)
    assert (error.status, error.code) == (413, "payload_too_large") and "dropped 1 event" in str(error)


def test_rejected_events_are_dropped_and_reported_once_per_batch(sink: EventSink, errors: Errors) -> None:
    sink.refuse = {"bad"}
    with tracker(sink.url, errors, flush_interval=60) as t:
        for name in ["ok", "bad", "ok", "bad", "ok"]:
            t.track("u1", name)
        assert t.flush(10)
        assert (t.sent, t.dropped, t.queued) == (3, 2, 0)
        assert isinstance(t.last_error, litmus.EventsRejectedError)
    assert len(sink.posts) == 1 and len(sink.stored) == 3
    (error,) = errors.errors
    assert isinstance(error, litmus.EventsRejectedError)
    assert (error.code, error.status) == ("events_rejected", 200)
    assert "2 of 5" in str(error) and "invalid_value (2)" in str(error)
    assert [(r["code"], r["path"]) for r in error.rejected] == [
        ("invalid_value", "events[1].event"),
        ("invalid_value", "events[3].event"),
    ]
    assert [r["event"]["message_id"] for r in error.rejected] == [sink.posts[0].ids[1], sink.posts[0].ids[3]]


def test_a_400_drops_the_batch_and_goes_on(sink: EventSink, errors: Errors) -> None:
    sink.script = [400]
    with tracker(sink.url, errors, flush_interval=60) as t:
        t.track("u1", "lost")
        assert t.flush(10)
        t.track("u1", "kept")
        assert t.flush(10)
        assert (t.sent, t.dropped) == (1, 1)
    assert names(list(sink.stored.values())) == ["kept"]
    (error,) = errors.errors
    assert isinstance(error, litmus.ServerError) and (error.status, error.code) == (400, "fake_400")


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_drops_and_backs_off_without_spinning(sink: EventSink, errors: Errors, status: int) -> None:
    sink.script = [status]
    with tracker(sink.url, errors, flush_interval=0.01, max_backoff=7200) as t:
        t.track("u1", "a")
        sink.wait_for(lambda: len(sink.posts) == 1)
        errors.wait_for(lambda: len(errors.errors) == 1)
        for i in range(5):
            t.track("u1", f"later-{i}")
        time.sleep(0.3)  # 30 flush intervals
        assert len(sink.posts) == 1, "the next request waits max_backoff (2 h)"
        assert t.queued == 5 and t.dropped == 1
        error = t.last_error
        assert isinstance(error, litmus.AuthError) and error.status == status
        # A backoff that ends after close()'s deadline (1 h) is not waited for: close() drops
        # the queue at once (waiting would block for the hour).
        returns(lambda: t.close(timeout=3600), "close() during a backoff it cannot outlive")
        assert len(sink.posts) == 1, "nothing sent during the backoff"
    assert t.dropped == 6 and t.queued == 0
    assert errors.codes() == [f"fake_{status}", "closed"]


def test_the_real_auth_error_codes(sink: EventSink, errors: Errors) -> None:
    with tracker(sink.url, errors, key="wrong-key") as t:
        t.track("u1", "a")
        errors.wait_for(lambda: len(errors.errors) == 1)
    error = errors.errors[0]
    assert isinstance(error, litmus.AuthError) and (error.code, error.status) == ("unauthorized", 401)


# -- the queue -----------------------------------------------------------------------------------


def test_a_full_queue_drops_and_counts_without_blocking(sink: EventSink, errors: Errors) -> None:
    sink.script = ["hang"]  # the first request never answers: the thread is stuck in it
    with tracker(sink.url, errors, max_queue=10, max_batch=5, timeout=3600.0) as t:
        for i in range(5):
            t.track("u1", f"first-{i}")
        sink.wait_for(lambda: len(sink.posts) == 1)

        def track_more() -> None:
            for i in range(100):
                t.track("u1", f"more-{i}")

        # The sender is stuck in a request that can hang for an hour: track() returning while
        # it still hangs shows that it never waits for the sender.
        returns(track_more, "track() with a full queue and the sender stuck")
        assert len(sink.posts) == 1, "the first request still hangs"
        assert (t.queued, t.dropped) == (10, 95)
        sink.release()  # the hung request fails; it is retried, with the 5 queued after it
        assert t.flush(10)
        assert (t.sent, t.dropped, t.queued) == (10, 95, 0)
    full = [e for e in errors.errors if getattr(e, "code", None) == "queue_full"]
    assert len(full) == 1, "one report per second at most"
    assert "dropped 95 new events" in str(full[0])
    assert len(sink.stored) == 10


def test_queue_full_drops_after_a_report_are_reported_together(errors: Errors) -> None:
    t = litmus.EventTracker(f"http://127.0.0.1:{free_port()}", KEY, on_error=errors, max_queue=1, flush_interval=60)
    t.track("u1", "kept")
    t.track("u1", "dropped-1")
    errors.wait_for(lambda: "queue_full" in errors.codes())
    t.track("u1", "dropped-2")
    t.track("u1", "dropped-3")
    # The drops after the first report are reported together, once the interval has passed
    # (the interval itself is checked on a simulated clock by the shared case "a full queue
    # drops new events, reported at most once a second with their number" in
    # fixtures/sdk/tracker.json).
    errors.wait_for(lambda: errors.codes().count("queue_full") == 2)
    assert "dropped 2 new events" in str(errors.errors[-1])
    assert t.dropped == 3
    t.close(timeout=0)


# -- flush and close -----------------------------------------------------------------------------


def test_flush_and_close_deliver_everything(sink: EventSink, errors: Errors) -> None:
    t = tracker(sink.url, errors, max_batch=100, flush_interval=60)
    for i in range(1000):
        t.track(f"u{i}", "view")
    assert t.flush(10)
    assert len(sink.stored) == 1000 and t.sent == 1000
    for i in range(250):
        t.exposure(f"u{i}", "exp", "b")
    t.close()
    assert len(sink.stored) == 1250 and (t.sent, t.queued, t.dropped) == (1250, 0, 0)
    assert all(len(p.events) <= 100 for p in sink.posts)
    assert t.flush(0), "nothing left"
    t.close()  # idempotent
    t.track("u1", "after-close")
    t.track("u1", "after-close")
    assert t.dropped == 2 and len(sink.stored) == 1250
    assert errors.codes() == ["closed"], "reported once"


def test_many_threads_track_at_once(sink: EventSink, errors: Errors) -> None:
    with tracker(sink.url, errors, max_batch=50, flush_interval=0.01) as t:

        def work(n: int) -> None:
            for i in range(1000):
                t.track(f"t{n}", f"e{i}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert t.flush(20)
        assert (t.sent, t.queued, t.dropped) == (4000, 0, 0)
    for n in range(4):
        assert names(sink.stored_events(unit_id=f"t{n}")) == [f"e{i}" for i in range(1000)], "in order"
    assert sink.duplicates == 0 and errors.errors == []


def test_flush_times_out_while_the_server_hangs(sink: EventSink, errors: Errors) -> None:
    sink.script = ["hang"]
    t = tracker(sink.url, errors, timeout=3600.0)
    t.track("u1", "a")
    assert not t.flush(0.2)
    assert t.queued == 1
    # close() aborts the request in flight at its deadline, rather than waiting for the request
    # to time out (an hour).
    returns(lambda: t.close(timeout=0.3), "close() with a request in flight")
    assert (t.queued, t.dropped) == (0, 1)
    assert errors.codes() == ["closed"]


def test_events_are_sent_at_exit(sink: EventSink) -> None:
    script = textwrap.dedent(
        f"""
        import litmus
        t = litmus.EventTracker({sink.url!r}, {KEY!r}, flush_interval=60)
        for i in range(7):
            t.track("u1", f"at-exit-{{i}}")
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    assert len(sink.stored) == 7


def test_on_error_that_raises_does_not_stop_the_tracker(sink: EventSink) -> None:
    seen: list[Exception] = []

    def broken(error: Exception) -> None:
        seen.append(error)
        raise RuntimeError("on_error bug")

    sink.script = [500]
    with litmus.EventTracker(sink.url, KEY, on_error=broken, **FAST) as t:
        t.track("u1", "a")
        assert t.flush(10)
    assert len(seen) == 1 and len(sink.stored) == 1


# -- the engine ----------------------------------------------------------------------------------


def test_on_exposure_through_a_real_engine(sink: EventSink, errors: Errors) -> None:
    config = {
        "schema_version": 1,
        "version": "v3",
        "experiments": [
            {
                "key": "checkout-button",
                "salt": "cb",
                "status": "running",
                "variants": [{"key": "control"}, {"key": "treatment"}],
            },
            {"key": "off", "status": "draft", "variants": [{"key": "x"}]},
        ],
    }
    with tracker(sink.url, errors, flush_interval=60) as t:
        engine = litmus.Engine(config, on_exposure=t.on_exposure)
        at = datetime.datetime(2026, 11, 27, 10, 0, 0, 123000, tzinfo=UTC)
        variants = {}
        for unit in ("u1", "u2", "u3"):
            variants[unit] = engine.assign("checkout-button", unit, now=at).variant
            engine.assign("checkout-button", unit, now=at)  # deduplicated by the engine
            engine.assign("off", unit)  # not running: no exposure
        engine.assign("checkout-button", "u4")  # the wall clock
        assert t.flush(10)
    events = sorted(sink.stored.values(), key=lambda e: e["unit_id"])
    assert [(e["type"], e["unit_id"], e["experiment"], e["variant"]) for e in events[:3]] == [
        ("exposure", u, "checkout-button", variants[u]) for u in ("u1", "u2", "u3")
    ]
    assert [e["timestamp"] for e in events[:3]] == ["2026-11-27T10:00:00.123Z"] * 3
    assert RFC3339_MS.fullmatch(events[3]["timestamp"]) and events[3]["timestamp"][:4] >= "2026"
    assert len(events) == 4 and errors.errors == []


def test_on_exposure_never_raises(errors: Errors) -> None:
    t = litmus.EventTracker("http://127.0.0.1:9", KEY, on_error=errors)
    t.on_exposure({"experiment": "e", "unit_id": "u" * 40_000, "variant": "v", "timestamp": 1.5})
    t.on_exposure({"experiment": "e", "unit_id": "u", "variant": None, "timestamp": None})
    t.on_exposure({"experiment": "e", "unit_id": "u", "variant": "v", "timestamp": float("inf")})
    t.on_exposure("not a dict")  # type: ignore[arg-type]
    assert (t.queued, t.dropped) == (0, 4)
    assert errors.codes() == ["event_too_large", "invalid_argument", "invalid_argument", "invalid_argument"]
    t.close()


# -- fork ----------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_sends_only_its_own_events(sink: EventSink, errors: Errors) -> None:
    with tracker(sink.url, errors, flush_interval=60) as t:
        t.track("parent", "before-fork")
        t.track("parent", "sent-before-fork")
        assert t.flush(10)
        t.track("parent", "queued-at-fork")
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            ok = False
            try:
                ok = t.queued == 0 and t.sent == 0
                t.track("child", "in-child")  # starts the child's thread
                ok = t.flush(10) and ok and t.sent == 1
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        assert status == 0
        assert names(sink.stored_events(unit_id="child")) == ["in-child"]
        assert t.queued == 1
        assert t.flush(10)
    assert names(list(sink.stored.values())) == ["before-fork", "sent-before-fork", "in-child", "queued-at-fork"]
    assert sink.duplicates == 0
