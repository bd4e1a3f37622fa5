"""The wire format of the Litmus server's ``POST /events``, for :class:`~litmus.EventTracker`:
RFC 3339 timestamps in UTC with milliseconds, compact UTF-8 JSON, and the contract's limits.

Events are validated and encoded once, when they are queued, so a bad one raises in the
caller's ``track()`` and the batches are the encoded events joined with commas."""

from __future__ import annotations

import datetime
import json
import math
import numbers
import time
import uuid
from typing import Any, Mapping, Optional

from .errors import InvalidArgumentError

__all__ = [
    "MAX_BATCH_EVENTS",
    "MAX_BODY_BYTES",
    "MAX_EVENT_BYTES",
    "ENVELOPE_BYTES",
    "body",
    "encode_exposure",
    "encode_track",
    "format_millis",
    "millis_of",
    "millis_of_seconds",
    "now_millis",
]

# The server's limits (litmus-core's `events::MAX_EVENT_BYTES`, `MAX_BATCH_BYTES` and
# `MAX_BATCH_EVENTS`; the npm package's tracker uses the same).
MAX_EVENT_BYTES = 32 * 1024  # one event's JSON
MAX_BODY_BYTES = 1024 * 1024  # one request's uncompressed JSON body
MAX_BATCH_EVENTS = 2_500  # events per request

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
# One encoder for every event (json.dumps with options builds a new one per call).
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
# The last second formatted, and its "YYYY-MM-DDTHH:MM:SS": most events share a few seconds.
_last_second: tuple[int, str] = (0, "1970-01-01T00:00:00")
_MILLI = datetime.timedelta(milliseconds=1)
_HEAD = b'{"sent_at":"'
_MIDDLE = b'","events":['
_TAIL = b"]}"
# The body around the events: the envelope with its 24-character sent_at.
ENVELOPE_BYTES = len(_HEAD) + 24 + len(_MIDDLE) + len(_TAIL)


def now_millis() -> int:
    """Milliseconds since the Unix epoch, from the wall clock."""
    return time.time_ns() // 1_000_000


def format_millis(ms: int) -> str:
    """RFC 3339 in UTC with milliseconds: ``2026-11-27T10:00:00.123Z``."""
    global _last_second
    second, milli = divmod(ms, 1000)
    cached = _last_second  # one read: another thread may replace it meanwhile
    if cached[0] != second:
        d = _EPOCH + datetime.timedelta(seconds=second)
        cached = _last_second = (
            second,
            f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}",
        )
    return f"{cached[1]}.{milli:03d}Z"


def millis_of(timestamp: Optional[datetime.datetime]) -> int:
    """Milliseconds since the epoch of a datetime (a naive one means UTC, as in
    ``Engine.assign(now=...)``), or of now for None."""
    if timestamp is None:
        return now_millis()
    if not isinstance(timestamp, datetime.datetime):
        raise InvalidArgumentError(
            f"timestamp must be a datetime or None, not {type(timestamp).__name__}", "invalid_argument"
        )
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        timestamp = timestamp.replace(tzinfo=datetime.timezone.utc)
    return (timestamp - _EPOCH) // _MILLI


def millis_of_seconds(seconds: float) -> int:
    """Milliseconds since the epoch of seconds since the epoch (the Engine's exposure
    ``timestamp``), checked to be a time RFC 3339 can write."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise InvalidArgumentError(f"timestamp must be seconds since the epoch, not {_short(seconds)}", "invalid_argument")
    ms = round(seconds * 1000)
    try:
        format_millis(ms)
    except OverflowError as e:
        raise InvalidArgumentError(f"timestamp {seconds!r} is out of range", "invalid_argument") from e
    return ms


def _short(value: object) -> str:
    """A repr for an error message: at most 60 characters, and never an error itself."""
    try:
        text = repr(value)
    except Exception:  # e.g. an int over the digits limit of int -> str
        return f"a {type(value).__name__}"
    return text if len(text) <= 60 else f"{text[:57]}..."


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(f"{name} must be a non-empty string, not {_short(value)}", "invalid_argument")
    return value


def _encode(event: dict[str, Any]) -> bytes:
    try:
        data = _JSON.encode(event).encode("utf-8")
    # UnicodeEncodeError (a lone surrogate) is a ValueError; RecursionError: nested too deep.
    except (TypeError, ValueError, RecursionError) as e:
        raise InvalidArgumentError(f"the event cannot be sent as JSON: {e}", "invalid_argument") from e
    if len(data) > MAX_EVENT_BYTES:
        raise InvalidArgumentError(
            f"the {event['type']} event is {len(data):,} bytes of JSON; the server takes at most "
            f"{MAX_EVENT_BYTES:,} (shorten its properties)",
            "event_too_large",
        )
    return data


def encode_exposure(unit_id: str, experiment: str, variant: str, ms: int) -> bytes:
    """An exposure event with a fresh ``message_id``, as compact UTF-8 JSON."""
    return _encode(
        {
            "type": "exposure",
            "message_id": uuid.uuid4().hex,
            "timestamp": format_millis(ms),
            "unit_id": _text("unit_id", unit_id),
            "experiment": _text("experiment", experiment),
            "variant": _text("variant", variant),
        }
    )


def encode_track(
    unit_id: str, event: str, value: Optional[float], properties: Optional[Mapping[str, Any]], ms: int
) -> bytes:
    """A track event with a fresh ``message_id``, as compact UTF-8 JSON (``value`` and
    ``properties`` are left out when None)."""
    doc: dict[str, Any] = {
        "type": "track",
        "message_id": uuid.uuid4().hex,
        "timestamp": format_millis(ms),
        "unit_id": _text("unit_id", unit_id),
        "event": _text("event", event),
    }
    if value is not None:
        doc["value"] = _number(value)
    if properties is not None:
        if not isinstance(properties, Mapping):
            raise InvalidArgumentError(
                f"properties must be a mapping or None, not {type(properties).__name__}", "invalid_argument"
            )
        doc["properties"] = dict(properties)
    return _encode(doc)


def _number(value: object) -> float:
    """A finite number (numpy scalars included; bool is not a number here)."""
    if type(value) is float:
        if math.isfinite(value):
            return value
    elif not isinstance(value, bool) and isinstance(value, numbers.Real):
        try:
            number: float = int(value) if isinstance(value, numbers.Integral) else float(value)
            if math.isfinite(number):
                return number
        except (OverflowError, ValueError):
            pass
    raise InvalidArgumentError(f"value must be a finite number or None, not {_short(value)}", "invalid_argument")


def body(events: list[bytes], sent_at_ms: int) -> bytes:
    """The request body: ``{"sent_at": ..., "events": [...]}`` around encoded events."""
    return b"".join((_HEAD, format_millis(sent_at_ms).encode("ascii"), _MIDDLE, b",".join(events), _TAIL))
