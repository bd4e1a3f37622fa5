"""A batching event tracker for the Litmus server: queues exposure and track events in memory
and sends them to ``POST /events`` from a background daemon thread.

    tracker = litmus.EventTracker("https://litmus.example.com", sdk_key, on_error=log.warning)
    engine = litmus.Engine(config, on_exposure=tracker.on_exposure)
    ...
    tracker.track("user-42", "purchase", 19.99, {"currency": "EUR"})
    ...
    tracker.close()  # at shutdown; also done at exit

- ``track()`` and ``exposure()`` check and encode the event at once (an event over 32 KiB
  of JSON raises ``InvalidArgumentError`` with code ``event_too_large``), give it a
  ``message_id`` and append it to a bounded queue. They never wait for the network: when
  ``max_queue`` events are waiting, new ones are dropped and counted.
- The thread sends the queue every ``flush_interval`` seconds, and at once when ``max_batch``
  events are waiting, in requests of at most ``max_batch`` events and 1 MiB of JSON
  (gzipped above ``gzip_min_bytes``), over one kept-alive connection.
- 429, 408, 5xx and network errors: the same batch, with the same ``message_id``\\ s (the server
  stores each once), is sent again after a random wait in ``[0, min(max_backoff, 1 s * 2^n)]``
  (full jitter), and at least the server's ``Retry-After``. 413 splits the batch in halves. 400
  and other 4xx drop the batch; 401 and 403 drop it and wait ``max_backoff`` before the next.
  Events refused in a 200 answer are dropped. Every drop is counted and reported.
- Fork safe: a forked child starts with an empty queue (it never sends the parent's events)
  and starts its own thread on its first event.

Callbacks run on the tracker's thread (except the reports of ``track()`` after ``close()`` and
of an exposure that cannot be encoded, which run in the caller); an exception they raise is
logged on the ``litmus.tracker`` logger and otherwise ignored.
"""

from __future__ import annotations

import atexit
import collections
import gzip
import http.client
import json
import logging
import math
import os
import random
import socket
import threading
import time
import urllib.parse
import weakref
from datetime import datetime
from typing import Any, Callable, Mapping, NamedTuple, Optional, Union

from . import _events
from ._events import _short
from ._reporting import Kind, report
from ._litmus import __version__
from .errors import AuthError, EventsRejectedError, InvalidArgumentError, LitmusError, ServerError, UnavailableError

__all__ = ["EventTracker"]

_log = logging.getLogger("litmus.tracker")

_BACKOFF_BASE = 1.0  # seconds: the first retry waits up to this
_REPORT_EVERY = 1.0  # seconds between two reports of a full queue
_MAX_RETRY_AFTER = 3600.0  # a longer Retry-After is read as an hour
_MAX_REPLY = 1 << 20
# The longest duration taken (about 31 years): sockets, locks and conditions overflow past
# ~9.2e9 s, which would stop the sending thread.
_MAX_SECONDS = 1e9
_STOP = -1.0  # from _due(): the thread ends
_RETRYABLE = frozenset({408, 429})
# Errors of a kept-alive connection that the server closed meanwhile: resent at once, once.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _Queued(NamedTuple):
    seq: int  # the tracker's count of queued events before this one
    data: bytes  # the encoded event, message_id included


class _Stopped(Exception):
    """Raised inside the thread when ``close()`` gave up on a request in flight."""


class EventTracker:
    """Sends exposure and track events to a Litmus server in batches, from a background thread.

    Args:
        base_url: the server, e.g. ``"https://litmus.example.com"`` (a path prefix is kept).
        sdk_key: an SDK key, sent as ``Authorization: Bearer``.
        flush_interval: seconds between two sends of what is queued.
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
        if not isinstance(base_url, str):  # urlsplit would raise AttributeError
            raise _invalid(f"base_url must be a URL string, not {type(base_url).__name__}")
        if not base_url.isascii():  # http.client would fail in the sending thread
            raise _invalid(f"base_url must be ASCII (an IDNA host, a percent-encoded path), not {base_url!r}")
        url = urllib.parse.urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise _invalid(f"base_url must be an http(s) URL, not {base_url!r}")
        # A header value: http.client encodes it as Latin-1 in the sending thread.
        if not isinstance(sdk_key, str) or not sdk_key or not sdk_key.isascii() or any(c in sdk_key for c in "\r\n\0"):
            raise _invalid("sdk_key must be a non-empty single-line ASCII string")
        for name, seconds in (("flush_interval", flush_interval), ("timeout", timeout), ("max_backoff", max_backoff)):
            if not (_is_number(seconds) and math.isfinite(seconds) and 0 < seconds <= _MAX_SECONDS):
                raise _invalid(f"{name} must be a positive number of seconds (at most {_MAX_SECONDS:.0e}), not {_short(seconds)}")
        for name, count, low, high in (
            ("max_batch", max_batch, 1, _events.MAX_BATCH_EVENTS),
            ("max_queue", max_queue, 1, None),
            ("gzip_min_bytes", gzip_min_bytes, 0, None),
        ):
            if not (isinstance(count, int) and not isinstance(count, bool) and low <= count <= (high or count)):
                limit = f"from {low} to {high:,}" if high else f"at least {low}"
                raise _invalid(f"{name} must be an integer {limit}, not {_short(count)}")
        try:
            port = url.port
        except ValueError as e:
            raise _invalid(f"base_url has a bad port: {base_url!r}") from e
        self._base_url = base_url
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = port
        self._path = url.path.rstrip("/") + "/events"
        self._where = f"POST {base_url.rstrip('/')}/events"
        self._headers = {
            "Authorization": f"Bearer {sdk_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"litmus-python/{__version__}",
        }
        self._flush_interval = float(flush_interval)
        self._max_batch = max_batch
        self._max_queue = max_queue
        self._timeout = float(timeout)
        self._max_backoff = float(max_backoff)
        self._on_error = on_error
        self._gzip_min_bytes = gzip_min_bytes

        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._closing = False
        self._close_deadline = math.inf
        self._stop = False  # close() gave up: what is left is dropped
        self._late_reported = False  # an event tracked after close() was reported
        self._thread: Optional[threading.Thread] = None
        self._conn: Optional[http.client.HTTPConnection] = None
        self._last_error: Optional[Exception] = None
        self._logged: Optional[Kind] = None
        self._reset()
        _TRACKERS.add(self)

    def _reset(self) -> None:
        """The queue and counters, empty (at start, and in a forked child)."""
        self._queue: collections.deque[_Queued] = collections.deque()
        self._pending: collections.deque[list[_Queued]] = collections.deque()  # retries, halves
        self._outstanding = 0  # events queued or being sent
        self._next_seq = 0  # the seq of the next queued event
        self._done_seq = 0  # every event before it is sent or dropped
        self._flush_seq = 0  # every event before it is due now (flush, close, a tick)
        self._next_tick: Optional[float] = None  # when the queue is sent, though not full
        self._backoff_until = 0.0
        self._failures = 0
        self._sent = 0
        self._dropped = 0
        self._overflow = 0  # dropped on a full queue, not reported yet
        self._overflow_reported = -math.inf

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
        self._enqueue(_events.encode_track(unit_id, event, value, properties, _events.millis_of(timestamp)))

    def exposure(self, unit_id: str, experiment: str, variant: str, *, timestamp: Optional[datetime] = None) -> None:
        """Queues an exposure event: ``unit_id`` saw ``variant`` of ``experiment`` at
        ``timestamp`` (a naive datetime means UTC; None means now).

        Raises:
            InvalidArgumentError: an empty string, or (code ``event_too_large``) an event over
                32 KiB (32,768 bytes) of JSON.
        """
        self._enqueue(_events.encode_exposure(unit_id, experiment, variant, _events.millis_of(timestamp)))

    def on_exposure(self, event: Mapping[str, Any]) -> None:
        """An ``Engine`` exposure callback: ``litmus.Engine(config,
        on_exposure=tracker.on_exposure)`` queues an exposure event for each exposure (with
        the engine's ``timestamp``, or now when it has none). It never raises: an exposure
        that cannot be sent is dropped, counted and reported."""
        try:
            seconds = event.get("timestamp")
            ms = _events.now_millis() if seconds is None else _events.millis_of_seconds(seconds)
            unit_id, experiment, variant = (event.get(k, "") for k in ("unit_id", "experiment", "variant"))
            data = _events.encode_exposure(unit_id, experiment, variant, ms)
        except Exception as e:
            with self._lock:
                self._dropped += 1
            self._report(e if isinstance(e, LitmusError) else _invalid(f"not an exposure event: {e}"))
            return
        self._enqueue(data)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Sends every event queued so far and waits, at most ``timeout`` seconds (None: no
        limit), until each is sent or dropped (dropped ones are reported). Returns False when
        the time ran out first (the events stay queued)."""
        with self._cond:
            target = self._next_seq
            if self._done_seq >= target:
                return True
            self._flush_seq = max(self._flush_seq, target)
            self._cond.notify_all()
        self._ensure_thread()
        with self._cond:
            return self._cond.wait_for(lambda: self._done_seq >= target, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Sends what is queued, waiting at most ``timeout`` seconds, and stops the thread.
        Events still unsent then are dropped and reported (code ``closed``), as are events
        tracked afterwards. Registered with ``atexit``; idempotent."""
        if not (_is_number(timeout) and timeout >= 0):
            raise _invalid(f"timeout must be a number of seconds, not {_short(timeout)}")
        if timeout > _MAX_SECONDS:
            timeout = math.inf  # no limit (a join that long would overflow)
        with self._cond:
            if not self._closing:
                self._closing = True
                self._close_deadline = time.monotonic() + timeout
                self._flush_seq = self._next_seq
                self._cond.notify_all()
            deadline = self._close_deadline
            thread = self._thread
            idle = self._outstanding == 0
        if thread is None or not thread.is_alive():
            if not idle:
                self._run()  # no thread (e.g. it could not start at interpreter exit): send here
            return
        if thread is threading.current_thread():
            return
        thread.join(None if deadline == math.inf else max(0.0, deadline - time.monotonic()))
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
        return self._outstanding

    @property
    def dropped(self) -> int:
        """Events that will never be sent: dropped on a full queue, refused by the server (in
        a 200 answer, or a batch answered 400, 401, 403 or 413), or left at ``close()``."""
        return self._dropped

    @property
    def sent(self) -> int:
        """Events the server took (stored, or already had: a duplicate ``message_id``)."""
        return self._sent

    @property
    def last_error(self) -> Optional[Exception]:
        """The most recent error, or None once a batch was taken in full after it."""
        return self._last_error

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

    def _enqueue(self, data: bytes) -> None:
        with self._lock:
            if self._closing:
                self._dropped += 1
                late, self._late_reported = not self._late_reported, True
            elif self._outstanding >= self._max_queue:
                self._dropped += 1
                self._overflow += 1
                if self._overflow == 1:
                    self._cond.notify_all()  # the thread reports it
                return
            else:
                self._queue.append(_Queued(self._next_seq, data))
                self._next_seq += 1
                self._outstanding += 1
                n = len(self._queue)
                if n == 1 or n == self._max_batch:
                    self._cond.notify_all()
                if self._thread is not None:
                    return
                late = False
        if late:
            self._report(LitmusError("the EventTracker is closed: events tracked after close() are dropped", "closed"))
        elif not self._closing:
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None or self._closing:
                return
            thread = self._thread = threading.Thread(target=self._run, name="litmus-event-tracker", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # interpreter shutdown: close() sends from its own thread
            with self._lock:
                self._thread = None

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                step = self._next_step()
                if step is None:
                    break
                if isinstance(step, Exception):
                    self._report(step)
                else:
                    self._deliver(step)
        except Exception:  # pragma: no cover - a bug; never let the thread die silently
            _log.exception("litmus EventTracker: the sending thread stopped")
        finally:
            self._abandon()

    def _next_step(self) -> Union[None, Exception, list[_Queued]]:
        """Waits for the next thing to do: a batch to send, a full queue to report, or the
        end (None)."""
        with self._cond:
            while True:
                now = time.monotonic()
                if self._overflow and now >= self._overflow_reported + _REPORT_EVERY:
                    n, self._overflow, self._overflow_reported = self._overflow, 0, now
                    return LitmusError(
                        f"the event queue is full ({self._max_queue:,} events): dropped {n:,} new "
                        f"event{'s' if n != 1 else ''}",
                        "queue_full",
                    )
                wait = self._due(now)
                if wait == 0.0:
                    return self._take_batch()
                if wait == _STOP:
                    return None
                if self._overflow:
                    wait = min(wait, self._overflow_reported + _REPORT_EVERY - now)
                self._cond.wait(None if wait == math.inf else wait)

    def _due(self, now: float) -> float:
        """Seconds until a batch is due (0.0: now; inf: when something happens), or _STOP."""
        if self._stop or (self._closing and (now >= self._close_deadline or self._outstanding == 0)):
            return _STOP
        if now < self._backoff_until:
            if self._closing and self._backoff_until >= self._close_deadline:
                return _STOP  # the next attempt would come too late: give up now
            return self._backoff_until - now
        if self._pending:
            return 0.0
        if not self._queue:
            self._next_tick = None
            return _STOP if self._closing else math.inf
        if self._closing or len(self._queue) >= self._max_batch or self._queue[0].seq < self._flush_seq:
            return 0.0
        if self._next_tick is None:
            self._next_tick = now + self._flush_interval
        if now >= self._next_tick:
            self._next_tick = None
            self._flush_seq = self._next_seq  # the whole queue, in as many batches as it takes
            return 0.0
        return self._next_tick - now

    def _take_batch(self) -> list[_Queued]:
        if self._pending:
            return self._pending.popleft()
        batch: list[_Queued] = []
        size = _events.ENVELOPE_BYTES
        while self._queue and len(batch) < self._max_batch:
            size += len(self._queue[0].data) + (1 if batch else 0)
            if size > _events.MAX_BODY_BYTES:
                break
            batch.append(self._queue.popleft())
        return batch

    def _abandon(self) -> None:
        """When the thread ends: drops what is left (close() gave up) and wakes flush()."""
        with self._cond:
            left = self._outstanding
            self._dropped += left
            self._outstanding = 0
            self._queue.clear()
            self._pending.clear()
            self._done_seq = self._next_seq
            if not self._closing:
                self._thread = None  # a crashed thread: the next event starts another
            self._cond.notify_all()
        self._drop_connection(None)
        if left:
            self._report(LitmusError(f"the EventTracker closed with {left:,} events unsent: dropped", "closed"))

    # -- sending ---------------------------------------------------------------------------

    def _deliver(self, batch: list[_Queued]) -> None:
        """Sends one batch and acts on the answer."""
        try:
            status, retry_after, reply = self._post(batch)
        except _Stopped:
            with self._lock:
                self._pending.appendleft(batch)  # dropped by _abandon
            return
        except UnavailableError as e:
            self._retry(batch, e, None)
            return
        if 200 <= status < 300:
            self._accepted(batch, status, reply)
        elif status == 413 and len(batch) > 1:
            half = len(batch) // 2
            with self._lock:
                self._pending.extendleft((batch[half:], batch[:half]))  # the first half first
        elif status in _RETRYABLE or status >= 500:
            self._retry(batch, _http_error(status, reply, self._where), retry_after)
        else:  # 400, 401, 403, 413 for one event, and any other answer: sending again won't help
            auth = status in (401, 403)
            self._finish(batch, sent=0, backoff=self._max_backoff if auth else 0.0)
            n = len(batch)
            self._report(_http_error(status, reply, self._where, f"; dropped {n:,} event{'s' if n != 1 else ''}"))

    def _accepted(self, batch: list[_Queued], status: int, reply: bytes) -> None:
        refused: dict[int, dict[str, Any]] = {}
        try:
            answer = json.loads(reply) if reply else {}
            for item in answer.get("rejected") or []:
                index = item.get("index")
                if isinstance(index, int) and 0 <= index < len(batch) and index not in refused:
                    refused[index] = {"code": str(item.get("code")), "message": str(item.get("message"))}
                    if item.get("path") is not None:
                        refused[index]["path"] = str(item["path"])  # the field at fault
        except (ValueError, AttributeError, TypeError):  # not the promised JSON: all were taken
            _log.debug("litmus EventTracker: an answer %d that is not the promised JSON: %r", status, reply[:200])
        self._finish(batch, sent=len(batch) - len(refused), backoff=0.0)
        if not refused:
            self._succeeded()
            return
        for index, item in refused.items():
            item["event"] = json.loads(batch[index].data)
        codes = collections.Counter(item["code"] for item in refused.values())
        summary = ", ".join(f"{code} ({n})" for code, n in sorted(codes.items()))
        self._report(
            EventsRejectedError(
                f"{self._where}: the server rejected {len(refused):,} of {len(batch):,} events: {summary}",
                rejected=[refused[i] for i in sorted(refused)],
            )
        )

    def _finish(self, batch: list[_Queued], *, sent: int, backoff: float) -> None:
        with self._cond:
            self._sent += sent
            self._dropped += len(batch) - sent
            self._outstanding -= len(batch)
            self._done_seq = max(self._done_seq, batch[-1].seq + 1)
            self._failures = 0
            self._backoff_until = time.monotonic() + backoff if backoff else 0.0
            self._cond.notify_all()

    def _retry(self, batch: list[_Queued], error: Exception, retry_after: Optional[float]) -> None:
        with self._lock:
            self._pending.appendleft(batch)
            self._failures += 1
            growth = 2.0 ** min(self._failures - 1, 32)  # capped: days of failures must not overflow
            delay = random.uniform(0.0, min(self._max_backoff, min(_BACKOFF_BASE, self._max_backoff) * growth))
            if retry_after is not None:
                delay = max(delay, retry_after)
            self._backoff_until = time.monotonic() + delay
        self._report(error)

    def _post(self, batch: list[_Queued]) -> tuple[int, Optional[float], bytes]:
        """``POST /events``: (status, Retry-After seconds, body). Raises UnavailableError."""
        data = _events.body([e.data for e in batch], _events.now_millis())
        headers = dict(self._headers)
        if len(data) > self._gzip_min_bytes:
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
                return resp.status, _retry_after(resp.getheader("Retry-After")), reply
            except (OSError, http.client.HTTPException) as e:
                self._drop_connection(conn)
                if self._stop:
                    raise _Stopped from e
                if reused and isinstance(e, _STALE):
                    _log.debug("litmus EventTracker: a kept-alive connection was closed (%r); resending", e)
                    continue  # a fresh connection is not reused: this happens once
                raise UnavailableError(f"{self._where}: {e or type(e).__name__}") from e

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

    # -- errors ----------------------------------------------------------------------------

    def _succeeded(self) -> None:
        if self._logged is not None:
            _log.info("litmus EventTracker: %s takes events again", self._base_url)
        self._logged = None
        self._last_error = None

    def _report(self, error: Exception) -> None:
        self._last_error = error
        # One warning per kind of trouble until a batch goes through; repeats are debug.
        self._logged = report(_log, "EventTracker", error, self._logged, self._on_error)

    # -- fork ------------------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        # The parent's thread does not exist here, and its locks may have been held by it.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._reset()  # the parent sends its own queue
        self._thread = None
        self._stop = False
        self._last_error = None
        conn, self._conn = self._conn, None
        if conn is not None and conn.sock is not None:
            # Close the child's copy of the descriptor only; the parent's connection is untouched.
            try:
                os.close(conn.sock.detach())
            except OSError:
                pass


def _invalid(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, "invalid_argument")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After in seconds (an HTTP date is ignored)."""
    try:
        seconds = float(value or "")
    except ValueError:
        return None
    return min(seconds, _MAX_RETRY_AFTER) if seconds >= 0 else None  # NaN fails the test


def _http_error(status: int, reply: bytes, where: str, suffix: str = "") -> ServerError:
    """The error of an HTTP error answer, with the code of the server's error body."""
    code, message = "http_error", f"{where}: HTTP {status}"
    try:
        error = json.loads(reply)["error"]
        code = str(error["code"])
        message = f"{message} {code}: {error['message']}"
    except Exception:
        pass
    if status in (401, 403):
        if code == "http_error":
            code = "unauthorized" if status == 401 else "forbidden"
        return AuthError(message + suffix, code, None, status)
    return ServerError(message + suffix, code, None, status)


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
