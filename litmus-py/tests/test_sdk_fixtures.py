"""The shared SDK behaviour fixtures (fixtures/sdk/*.json) through the installed wheel: the
config client's and the event tracker's state machines, the flag usage sender, the SSE decoder,
error bodies, Retry-After, event encoding and sticky keys, as litmus.ConfigClient and
litmus.EventTracker drive them. The Rust and Node suites run the same files."""

from __future__ import annotations

import json
from typing import Any, Optional

import pytest

from conftest import FIXTURES
from litmus import _litmus

SDK = FIXTURES / "sdk"


def load(name: str) -> Any:
    return json.loads((SDK / name).read_text(encoding="utf-8"))


def matches(actual: Any, expected: Any) -> bool:
    """Only the fields the fixture gives; a wait's ``ms`` exactly or within [min, max]."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        for name, want in expected.items():
            if name == "min":
                if not (actual.get("ms") is not None and actual["ms"] >= want):
                    return False
            elif name == "max":
                if not (actual.get("ms") is not None and actual["ms"] <= want):
                    return False
            elif name not in actual:
                if want is not None:
                    return False
            elif not matches(actual[name], want):
                return False
        return True
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(matches, actual, expected))
    return bool(actual == expected)


def body(step: dict[str, Any]) -> bytes:
    if "body_hex" in step:
        return bytes.fromhex(step["body_hex"])
    return str(step.get("body") or "").encode()


SYNC = load("config_sync.json")["cases"]


@pytest.mark.parametrize("case", SYNC, ids=[c["name"][:60] for c in SYNC])
def test_config_sync(case: dict[str, Any]) -> None:
    o = case["options"]
    sync = _litmus.ConfigSync(
        "http://litmus.test",
        o.get("mode", "stream"),
        **{k: o[k] for k in ("poll_interval_ms", "idle_timeout_ms", "retry_delay_ms", "max_retry_delay_ms") if k in o},
        has_cache=o.get("has_cache", False),
        seed=o.get("seed", 0),
    )
    now = 0.0
    for i, step in enumerate(case["steps"]):
        if "check" in step:
            state = {
                "stale": sync.stale,
                "version": sync.version,
                "source": sync.source,
                "etag": sync.etag,
                "last_event_id": sync.last_event_id,
                "closed": sync.closed,
            }
            assert matches(state, step["check"]), (i, state, step["check"])
            continue
        now = step.get("at", now)
        do = step["do"]
        if do == "start":
            sync.start(step.get("bootstrap"))
        elif do == "close":
            sync.close()
        elif do == "fetched":
            sync.fetched(step["status"], step.get("etag"), body(step), now)
        elif do == "unreachable":
            sync.unreachable(step["message"], now)
        elif do == "stream_opened":
            sync.stream_opened(step["status"], step.get("content_type"), body(step), now)
        elif do == "stream_data":
            sync.stream_data(step["data"].encode(), now)
        elif do == "stream_ended":
            sync.stream_ended(now)
        elif do == "stream_failed":
            sync.stream_failed(step["message"], step.get("idle", False), now)
        elif do == "timer_fired":
            sync.timer_fired(now)
        elif do == "loaded":
            sync.loaded(step.get("version"), now)
        elif do == "refused":
            sync.refused(step["code"], step["message"], now)
        elif do == "cache_read":
            sync.cache_read(step.get("text"), now)
        else:
            pytest.fail(f"unknown step {do}")
        actions = []
        while (action := sync.poll_action()) is not None:
            actions.append(action)
        assert matches(actions, step["expect"]), (i, do, actions, step["expect"])


TRACKER = load("tracker.json")["cases"]


def as_fixture(action: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """A send's body as text, as the fixtures write it."""
    if action is not None and action["type"] == "send":
        return {**action, "body": action["body"].decode()}
    return action


@pytest.mark.parametrize("case", TRACKER, ids=[c["name"][:60] for c in TRACKER])
def test_tracker(case: dict[str, Any]) -> None:
    tracker = _litmus.TrackerCore("http://litmus.test", **case["options"])
    now = 0.0
    for i, step in enumerate(case["steps"]):
        if "check" in step:
            state = {k: getattr(tracker, k) for k in ("queued", "sent", "dropped", "settled", "enqueued")}
            assert matches(state, step["check"]), (i, state, step["check"])
            continue
        now = step.get("at", now)
        do = step["do"]
        actual: Any = None
        if do == "enqueue":
            actual = tracker.enqueue(step["data"].encode(), now)
        elif do == "flush":
            tracker.flush()
        elif do == "close":
            tracker.close(step["timeout_ms"], now)
        elif do == "next":
            actual = as_fixture(tracker.next_action(now))
        elif do == "keepalive":
            actual = as_fixture(tracker.take_for_keepalive(step["max_bytes"], now))
        elif do == "answered":
            tracker.answered(step["id"], step["status"], step.get("retry_after"), body(step), now)
        elif do == "unreachable":
            tracker.unreachable(step["id"], step["message"], now)
        else:
            pytest.fail(f"unknown step {do}")
        if "expect" in step:
            assert matches(actual, step["expect"]), (i, do, actual, step["expect"])


USAGE = load("usage.json")["cases"]


@pytest.mark.parametrize("case", USAGE, ids=[c["name"][:60] for c in USAGE])
def test_usage(case: dict[str, Any]) -> None:
    sender = _litmus.UsageSender("http://litmus.test", **case["options"])
    now = 0.0
    for i, step in enumerate(case["steps"]):
        if "check" in step:
            state = {k: getattr(sender, k) for k in ("pending", "stored", "dropped", "stopped")}
            assert matches(state, step["check"]), (i, state, step["check"])
            continue
        now = step.get("at", now)
        do = step["do"]
        actual: Any = None
        if do == "record":
            sender.record(step["flag"], step["evaluations"])
        elif do == "record_many":
            sender.record_all({f"{step['prefix']}{k:05}": step["evaluations"] for k in range(step["count"])})
        elif do == "tick":
            actual = as_fixture(sender.tick(now))
        elif do == "sent":
            sender.sent(step["status"], step.get("retry_after"), body(step), now)
        elif do == "unreachable":
            sender.unreachable(step["message"], now)
        elif do == "close":
            sender.close(step["timeout_ms"], now)
        else:
            pytest.fail(f"unknown step {do}")
        if "expect" in step:
            assert matches(actual, step["expect"]), (i, do, actual, step["expect"])


SSE = load("sse.json")["cases"]


@pytest.mark.parametrize("case", SSE, ids=[c["name"][:60] for c in SSE])
def test_sse(case: dict[str, Any]) -> None:
    chunks = [bytes.fromhex(c) for c in case["chunks_hex"]] if "chunks_hex" in case else [c.encode() for c in case["chunks"]]
    decoder = _litmus.SseDecoder()
    events = [{"kind": k, "data": d, "id": i} for chunk in chunks for (k, d, i) in decoder.feed(chunk)]
    assert events == case["events"]
    assert (decoder.last_event_id, decoder.retry_ms, decoder.comments) == (
        case["last_event_id"],
        case["retry_ms"],
        case["comments"],
    )


def test_replies() -> None:
    doc = load("reply.json")
    for case in doc["errors"]:
        assert _litmus.decode_error_reply(case["status"], case["body"].encode()) == (case["code"], case["message"]), case
    for case in doc["retry_after"]:
        assert _litmus.retry_after_ms(case["value"], case["now_ms"]) == case["ms"], case
    assert all(_litmus.is_retryable(s) for s in doc["retryable"]["yes"])
    assert not any(_litmus.is_retryable(s) for s in doc["retryable"]["no"])


def test_wire() -> None:
    doc = load("wire.json")
    for case in doc["timestamps"]:
        assert _litmus.format_millis(case["ms"]) == case["text"], case
    for case in doc["message_ids"]:
        assert _litmus.message_id(bytes.fromhex(case["random_hex"])) == case["id"]
    for case in doc["events"]:
        if case["kind"] == "exposure":
            args: tuple[Any, ...] = (
                case["unit_id"],
                case["experiment"],
                case["variant"],
                case["at_ms"],
                case["message_id"],
                case.get("dimensions"),
            )
            encode: Any = _litmus.encode_exposure
        else:
            args = (case["unit_id"], case["event"], case["value"], case["properties"], case["at_ms"], case["message_id"])
            encode = _litmus.encode_track
        if "json" in case:
            assert encode(*args).decode() == case["json"]
        else:
            with pytest.raises(Exception) as e:
                encode(*args)
            assert getattr(e.value, "code", None) == case["code"]
    for case in doc["sticky_keys"]:
        assert _litmus.sticky_key(case["experiment"], case["unit_id"]) == case["key"]
