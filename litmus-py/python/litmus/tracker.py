"""A batching event tracker for the Litmus server: queues exposure and track events in memory
and sends them to ``POST /events`` from a background daemon thread.

    tracker = litmus.EventTracker("https://litmus.example.com", sdk_key, on_error=log.warning)
    engine = litmus.Engine(config, on_exposure=tracker.on_exposure)
    ...
    tracker.track("user-42", "purchase", 19.99, {"currency": "EUR"})
    ...
    tracker.close()  # at shutdown; also done at exit

The queue, the batching and every retry decision are litmus-core's tracker policy, the same
one the npm package runs (``docs/sdk-protocol.md``); this module does the HTTP, gzip, the
thread and the callbacks.

- ``track()`` and ``exposure()`` check and encode the event at once (an event over 32 KiB
  of JSON raises ``InvalidArgumentError`` with code ``event_too_large``), give it a
  ``message_id`` and queue it. They never wait for the network: when ``max_queue`` events are
  waiting, new ones are dropped, counted and reported (at most once a second).
- The thread sends the queue when its oldest event has waited ``flush_interval`` seconds,
  and at once when ``max_batch`` events are waiting, in requests of at most ``max_batch``
  events and 1 MiB of JSON (gzipped above ``gzip_min_bytes``), over one kept-alive connection.
- 429, 408, 5xx and network errors: the same batch, with the same ``message_id``\\ s (the server
  stores each once), is sent again after a random wait in ``[0, min(max_backoff, 1 s * 2^n)]``
  (full jitter), and at least the server's ``Retry-After`` (seconds or an HTTP date). 413
  splits the batch in halves. 400 and other 4xx drop the batch; 401 and 403 drop it and wait
  ``max_backoff`` before the next. Events refused in a 200 answer are dropped. Every drop is
  counted and reported.
- ``close()`` sends what is queued at once, retrying until its timeout; what is left is dropped
  and reported.
- Fork safe: a forked child starts with an empty queue (it never sends the parent's events)
  and starts its own thread on its first event.

Callbacks run on the tracker's thread (except reports of exposures that cannot be encoded,
and of events tracked after the thread ended, which run in the caller); an exception they
raise is logged on the ``litmus.tracker`` logger and otherwise ignored.
"""

from __future__ import annotations

import atexit
import gzip
import http.client
import logging
import math
import os
import socket
import threading
import urllib.parse
import weakref
from datetime import datetime
from typing import Any, Callable, Mapping, Optional

from . import _events
from ._events import _short
from ._litmus import MAX_BATCH_EVENTS, TrackerCore, __version__
from ._reporting import Reporter
from .client import _check_key, _check_url, _close_inherited
from .errors import InvalidArgumentError, LitmusError

__all__ = ["EventTracker"]

_log = logging.getLogger("litmus.tracker")

_MAX_REPLY = 1 << 20
# The longest duration taken (about 31 years): sockets, locks and conditions overflow past
# ~9.2e9 s, which would stop the sending thread.
_MAX_SECONDS = 1e9
# Errors of a kept-alive connection that the server closed meanwhile: resent at once, once.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _Stopped(Exception):
    """Raised inside the thread when ``close()`` gave up on a request in flight."""


class EventTracker:
    """Sends exposure and track events to a Litmus server in batches, from a background thread.

    Args:
        base_url: the server, e.g. ``"https://litmus.example.com"`` (a path prefix is kept).
        sdk_key: an SDK key, sent as ``Authorization: Bearer``.
        flush_interval: seconds the oldest queued event waits before the queue is sent.
        max_batch: events per request (1 to 2,500); this many queued events are sent at once.
        max_queue: events kept in memory (queued or being sent); beyond it new events are dropped.
        timeout: seconds to connect and to wait for an answer.
        max_backoff: the longest wait between retries (and the wait after a 401 or 403).
        on_error: called with each error: an :class:`~litmus.UnavailableError` or
            :class:`~litmus.ServerError` (:class:`~litmus.AuthError` for 401/403,
            :class:`~litmus.EventsRejectedError` for events refused in a 200 answer), or a
            :class:`~litmus.LitmusError` with code ``queue_full`` (at most once a second) or
            ``closed`` (events left when ``close()`` gave up, or tracked after it).
        gzip_min_bytes: bodies longer than this are sent with ``Content-Encoding: gzip``.

    Raises:
        InvalidArgumentError: a bad URL, key, size or duration.
    """

    def __init__(
        self,
        base_url: str,
        sdk_key: str,
        *,
        flush_interval: float = 1.0,
        max_batch: int = 500,
        max_queue: int = 10_000,
        timeout: float = 5.0,
        max_backoff: float = 30.0,
        on_error: Optional[Callable[[Exception], object]] = None,
        gzip_min_bytes: int = 1024,
    ) -> None:
        url = _check_url(base_url)
        _check_key(sdk_key)
        for name, seconds in (("flush_interval", flush_interval), ("timeout", timeout), ("max_backoff", max_backoff)):
            if not (_is_number(seconds) and math.isfinite(seconds) and 0 < seconds <= _MAX_SECONDS):
                raise _invalid(f"{name} must be a positive number of seconds (at most {_MAX_SECONDS:.0e}), not {_short(seconds)}")
        for name, count, low, high in (
            ("max_batch", max_batch, 1, MAX_BATCH_EVENTS),
            ("max_queue", max_queue, 1, None),
            ("gzip_min_bytes", gzip_min_bytes, 0, None),
        ):
            if not (isinstance(count, int) and not isinstance(count, bool) and low <= count <= (high or count)):
                limit = f"from {low} to {high:,}" if high else f"at least {low}"
                raise _invalid(f"{name} must be an integer {limit}, not {_short(count)}")
        self._base_url = base_url
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port
        self._path = url.path.rstrip("/") + "/events"
        self._headers = {
            "Authorization": f"Bearer {sdk_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"litmus-python/{__version__}",
        }
        self._timeout = float(timeout)
        self._options: dict[str, Any] = {
            "flush_interval_ms": float(flush_interval) * 1000.0,
            "max_batch": max_batch,
            "max_queue": min(max_queue, 2**63),
            "retry_delay_ms": min(1.0, float(max_backoff)) * 1000.0,
            "max_retry_delay_ms": float(max_backoff) * 1000.0,
            "gzip_min_bytes": min(gzip_min_bytes, 2**63),
        }
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._stop = False  # close() gave up: the request in flight is abandoned
        self._thread: Optional[threading.Thread] = None
        self._conn: Optional[http.client.HTTPConnection] = None
        self._reporter = Reporter(_log, "EventTracker", on_error)
        self._reset()
        _TRACKERS.add(self)

    def _reset(self) -> None:
        """A new, empty queue (at start, and in a forked child)."""
        self._core = TrackerCore(self._base_url, seed=int.from_bytes(os.urandom(8), "little"), **self._options)
        self._unencodable = 0  # exposures from the engine that could not be encoded

    # -- public API ------------------------------------------------------------------------

    def track(
        self,
        unit_id: str,
        event: str,
        value: Optional[float] = None,
        properties: Optional[Mapping[str, Any]] = None,
        *,
        timestamp: Optional[datetime] = None,
    ) -> None:
        """Queues a track event: ``unit_id`` did ``event`` (worth ``value``, with
        ``properties``), at ``timestamp`` (a naive datetime means UTC; None means now).

        Raises:
            InvalidArgumentError: an empty ``unit_id`` or ``event``, a ``value`` that is not a
                finite number, ``properties`` that are not a JSON object, or (code
                ``event_too_large``) an event over 32 KiB (32,768 bytes) of JSON.
        """
        _text("unit_id", unit_id)
        _text("event", event)
        number = _events.number(value)
        props = _events.properties_json(properties)
        at = _events.millis_of(timestamp)
        self._queue(lambda core, now: core.track(unit_id, event, number, props, at, os.urandom(16), now))

    def exposure(
        self,
        unit_id: str,
        experiment: str,
        variant: str,
        *,
        timestamp: Optional[datetime] = None,
        dimensions: Optional[Mapping[str, str]] = None,
    ) -> None:
        """Queues an exposure event: ``unit_id`` saw ``variant`` of ``experiment`` at
        ``timestamp`` (a naive datetime means UTC; None means now), with the unit's values of
        the experiment's ``dimensions`` (``{"country": "FR"}``: its results by segment).

        Raises:
            InvalidArgumentError: an empty string, dimensions that are not text keyed by valid
                keys, or (code ``event_too_large``) an event over 32 KiB (32,768 bytes) of JSON.
        """
        for name, text in (("unit_id", unit_id), ("experiment", experiment), ("variant", variant)):
            _text(name, text)
        at = _events.millis_of(timestamp)
        dims = _events.dimensions_json(dimensions)
        self._queue(lambda core, now: core.exposure(unit_id, experiment, variant, dims, at, os.urandom(16), now))

    def holdout_exposure(
        self, unit_id: str, holdout: str, arm: str, *, timestamp: Optional[datetime] = None
    ) -> None:
        """Queues a holdout exposure: ``unit_id`` is in the ``arm`` of ``holdout``:
        ``"holdout"`` when the holdout held it out, ``"exposed"`` when it entered an experiment
        the holdout covers (what ``Engine`` reports through ``on_exposure``).

        Raises:
            InvalidArgumentError: an empty string or another arm.
        """
        for name, text in (("unit_id", unit_id), ("holdout", holdout), ("arm", arm)):
            _text(name, text)
        at = _events.millis_of(timestamp)
        self._queue(lambda core, now: core.holdout_exposure(unit_id, holdout, arm, at, os.urandom(16), now))

    def on_exposure(self, event: Mapping[str, Any]) -> None:
        """An ``Engine`` exposure callback: ``litmus.Engine(config,
        on_exposure=tracker.on_exposure)`` queues an exposure event for each exposure (with
        the engine's ``timestamp``, or now when it has none). It never raises: an exposure
        that cannot be sent is dropped, counted and reported."""
        try:
            seconds = event.get("timestamp")
            ms = _events.now_millis() if seconds is None else _events.millis_of_seconds(seconds)
            unit_id, experiment, variant = (event.get(k, "") for k in ("unit_id", "experiment", "variant"))
            holdout = event.get("holdout")
            if holdout is not None:
                for name, text in (("unit_id", unit_id), ("holdout", holdout), ("arm", variant)):
                    _text(name, text)
                self._queue(lambda core, now: core.holdout_exposure(unit_id, holdout, variant, ms, os.urandom(16), now))
                return
            for name, text in (("unit_id", unit_id), ("experiment", experiment), ("variant", variant)):
                _text(name, text)
            dims = _events.dimensions_json(event.get("dimensions"))
            self._queue(lambda core, now: core.exposure(unit_id, experiment, variant, dims, ms, os.urandom(16), now))
        except Exception as e:
            with self._lock:
                self._unencodable += 1
            self._reporter.report(e if isinstance(e, LitmusError) else _invalid(f"not an exposure event: {e}"))

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Sends every event queued so far and waits, at most ``timeout`` seconds (None: no
        limit), until each is sent or dropped (dropped ones are reported). Returns False when
        the time ran out first (the events stay queued)."""
        with self._cond:
            core = self._core
            target = core.enqueued
            if core.settled >= target:
                return True
            core.flush()
            self._cond.notify_all()
        self._ensure_thread()
        with self._cond:
            return self._cond.wait_for(lambda: self._core is not core or core.settled >= target, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Sends what is queued, at once and with retries, waiting at most ``timeout`` seconds,
        and stops the thread. Events still unsent then are dropped and reported (code
        ``closed``), as are events tracked afterwards. Registered with ``atexit``; idempotent."""
        if not (_is_number(timeout) and timeout >= 0):
            raise _invalid(f"timeout must be a number of seconds, not {_short(timeout)}")
        limit = math.inf if timeout > _MAX_SECONDS else float(timeout)  # no limit past that
        with self._cond:
            first = not self._core.closing
            self._core.close(min(limit, _MAX_SECONDS) * 1000.0 if limit != math.inf else 1e300, _events.now_millis())
            self._cond.notify_all()
            thread = self._thread
        if thread is None or not thread.is_alive():
            if first:
                self._run()  # no thread (no event yet, or it could not start at exit): finish here
            return
        if thread is threading.current_thread():
            return
        thread.join(None if limit == math.inf else limit)
        if thread.is_alive():
            # A request in flight at the deadline: abort it (shutdown wakes a blocked reader).
            with self._cond:
                self._stop = True
                conn = self._conn
                self._cond.notify_all()
            if conn is not None and conn.sock is not None:
                try:
                    conn.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            thread.join(1.0)

    @property
    def queued(self) -> int:
        """Events queued or being sent (neither sent nor dropped yet)."""
        return int(self._core.queued)

    @property
    def dropped(self) -> int:
        """Events that will never be sent: dropped on a full queue, refused by the server (in
        a 200 answer, or a batch answered 400, 401, 403 or 413), or left at ``close()``."""
        return int(self._core.dropped) + self._unencodable

    @property
    def sent(self) -> int:
        """Events the server took (stored, or already had: a duplicate ``message_id``)."""
        return int(self._core.sent)

    @property
    def last_error(self) -> Optional[Exception]:
        """The most recent error, or None once a batch was taken in full after it."""
        return self._reporter.last_error

    def __enter__(self) -> EventTracker:
        """The tracker itself; the ``with`` block ends with :meth:`close`."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Closes the tracker (see :meth:`close`)."""
        self.close()

    def __repr__(self) -> str:
        """The server and the counters, for logs and debuggers."""
        return f"<EventTracker {self._base_url} queued={self.queued} sent={self.sent} dropped={self.dropped}>"

    # -- the queue -------------------------------------------------------------------------

    def _queue(self, add: Callable[[TrackerCore, float], Optional[str]]) -> None:
        """Encodes and queues an event under the lock; wakes or starts the thread."""
        try:
            with self._lock:
                core = self._core
                queued = add(core, _events.now_millis()) is not None
                n = core.queued
                if not queued or n == 1 or n % self._max_batch == 0:
                    self._cond.notify_all()  # a drop is reported by the thread
                running = self._thread is not None
                ended = core.closing
        except UnicodeEncodeError as e:  # a lone surrogate in a str argument
            raise _invalid(f"the event cannot be sent as UTF-8: {e}") from e
        if ended and not (running and self._thread is not None and self._thread.is_alive()):
            self._drain_reports()  # tracked after the end: no thread will report it
        elif not running and not ended:
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None or self._core.closing:
                return
            thread = self._thread = threading.Thread(target=self._run, name="litmus-event-tracker", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # interpreter shutdown: close() sends from its own thread
            with self._lock:
                self._thread = None

    def _drain_reports(self) -> None:
        """Reports what the finished machine still has to say (events tracked after close)."""
        while True:
            with self._lock:
                action = self._core.next_action(_events.now_millis())
            if action["type"] != "report":
                return
            self._reporter.report_action(action["report"])

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                action = self._next_action()
                kind = action["type"]
                if kind == "send":
                    self._deliver(action)
                elif kind == "report":
                    self._reporter.report_action(action["report"])
                elif kind == "recovered":
                    self._reporter.recovered(f"{self._base_url} takes events again")
                else:  # done
                    break
        except Exception:  # pragma: no cover - a bug; never let the thread die silently
            _log.exception("litmus EventTracker: the sending thread stopped")
        finally:
            self._drop_connection(None)
            with self._cond:
                if not self._core.closing:
                    self._thread = None  # a crashed thread: the next event starts another
                self._cond.notify_all()

    def _next_action(self) -> dict[str, Any]:
        """Waits until the machine has something to do, and answers it."""
        with self._cond:
            while True:
                action = self._core.next_action(_events.now_millis())
                if action["type"] != "wait":
                    return action
                ms = action["ms"]
                self._cond.wait(None if ms is None else min(ms / 1000.0, _MAX_SECONDS))

    # -- sending ---------------------------------------------------------------------------

    def _deliver(self, action: dict[str, Any]) -> None:
        """Sends one request and gives the machine its answer."""
        request = action["id"]
        try:
            status, retry_after, reply = self._post(action["body"], action["gzip"])
        except _Stopped:
            return  # close() gave up: the machine drops it at its deadline
        except (OSError, http.client.HTTPException) as e:
            self._reporter.cause = e
            with self._cond:
                self._core.unreachable(request, str(e) or type(e).__name__, _events.now_millis())
            return
        with self._cond:
            self._core.answered(request, status, retry_after, reply, _events.now_millis())
            self._cond.notify_all()

    def _post(self, data: bytes, compress: bool) -> tuple[int, Optional[str], bytes]:
        """``POST /events``: (status, Retry-After, body). Raises OSError/HTTPException."""
        headers = dict(self._headers)
        if compress:
            data = gzip.compress(data, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
        while True:
            conn, reused = self._connection()
            try:
                conn.request("POST", self._path, body=data, headers=headers)
                resp = conn.getresponse()
                reply = resp.read(_MAX_REPLY)
                if resp.will_close or not resp.isclosed():
                    self._drop_connection(conn)
                return resp.status, resp.getheader("Retry-After"), reply
            except (OSError, http.client.HTTPException) as e:
                self._drop_connection(conn)
                if self._stop:
                    raise _Stopped from e
                if reused and isinstance(e, _STALE):
                    _log.debug("litmus EventTracker: a kept-alive connection was closed (%r); resending", e)
                    continue  # a fresh connection is not reused: this happens once
                raise

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """The kept-alive connection (and True), or a new one (and False)."""
        with self._lock:
            if self._stop:
                raise _Stopped
            if self._conn is not None:
                return self._conn, True
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host or "", self._port, timeout=self._timeout)
            return self._conn, False

    def _drop_connection(self, conn: Optional[http.client.HTTPConnection]) -> None:
        """Closes ``conn`` (None: whichever is open) and forgets it."""
        with self._lock:
            if conn is None or self._conn is conn:
                conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    # -- fork ------------------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        # The parent's thread does not exist here, and its locks may have been held by it.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._reset()  # the parent sends its own queue
        self._thread = None
        self._stop = False
        self._reporter.last_error = None
        conn, self._conn = self._conn, None
        _close_inherited(conn)


def _invalid(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, "invalid_argument")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise _invalid(f"{name} must be a non-empty string, not {_short(value)}")


_TRACKERS: weakref.WeakSet[EventTracker] = weakref.WeakSet()


def _close_all() -> None:
    for tracker in list(_TRACKERS):
        try:
            tracker.close()
        except Exception:  # pragma: no cover - at exit, nothing is left to tell
            _log.exception("litmus EventTracker: close() at exit failed")


def _after_fork() -> None:
    for tracker in list(_TRACKERS):
        tracker._after_fork_in_child()


atexit.register(_close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
