"""Python values for the events :class:`~litmus.EventTracker` sends: times as milliseconds
since the epoch, numbers, and properties as JSON text. litmus-core writes the events
themselves (RFC 3339 timestamps with milliseconds, message ids, limits: ``docs/sdk-protocol.md``)."""

from __future__ import annotations

import datetime
import json
import math
import numbers
import time
from typing import Any, Mapping, Optional

from ._litmus import format_millis
from .errors import InvalidArgumentError

__all__ = ["millis_of", "millis_of_seconds", "now_millis", "number", "properties_json"]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_MILLI = datetime.timedelta(milliseconds=1)
# One encoder for every event (json.dumps with options builds a new one per call).
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def now_millis() -> int:
    """Milliseconds since the Unix epoch, from the wall clock."""
    return time.time_ns() // 1_000_000


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
    if not -(2**63) <= ms < 2**63 or format_millis(ms) is None:
        raise InvalidArgumentError(f"timestamp {seconds!r} is out of range", "invalid_argument")
    return ms


def _short(value: object) -> str:
    """A repr for an error message: at most 60 characters, and never an error itself."""
    try:
        text = repr(value)
    except Exception:  # e.g. an int over the digits limit of int -> str
        return f"a {type(value).__name__}"
    return text if len(text) <= 60 else f"{text[:57]}..."


def number(value: object) -> Optional[float]:
    """None, or a finite number (numpy scalars included; bool is not a number here)."""
    if value is None:
        return None
    if type(value) is float:
        if math.isfinite(value):
            return value
    elif not isinstance(value, bool) and isinstance(value, numbers.Real):
        try:
            n = float(value)
            if math.isfinite(n):
                return n
        except (OverflowError, ValueError):
            pass
    raise InvalidArgumentError(f"value must be a finite number or None, not {_short(value)}", "invalid_argument")


def dimensions_json(dimensions: Optional[Mapping[str, str]]) -> Optional[str]:
    """None (for None or an empty mapping), or an exposure's dimension values as compact
    JSON text (litmus-core checks them)."""
    if not dimensions:
        return None
    if not isinstance(dimensions, Mapping):
        raise InvalidArgumentError(
            f"dimensions must be a mapping or None, not {type(dimensions).__name__}", "invalid_argument"
        )
    return properties_json(dimensions)


def properties_json(properties: Optional[Mapping[str, Any]]) -> Optional[str]:
    """None, or a mapping as compact JSON text."""
    if properties is None:
        return None
    if not isinstance(properties, Mapping):
        raise InvalidArgumentError(
            f"properties must be a mapping or None, not {type(properties).__name__}", "invalid_argument"
        )
    try:
        # A lone surrogate fails where the text enters litmus-core (EventTracker turns that
        # UnicodeEncodeError into InvalidArgumentError): no second encoding here.
        return _JSON.encode(dict(properties))
    # UnicodeEncodeError (a lone surrogate) is a ValueError; RecursionError: nested too deep.
    except (TypeError, ValueError, RecursionError) as e:
        raise InvalidArgumentError(f"the event cannot be sent as JSON: {e}", "invalid_argument") from e
