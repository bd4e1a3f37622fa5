"""A config client for the Litmus server: keeps a :class:`~litmus.Engine` up to date in a
background thread, serving the last good config whatever happens to the network.

    with litmus.ConfigClient("https://litmus.example.com", sdk_key,
                             bootstrap="config.json", cache_path="/var/cache/litmus.json") as client:
        client.engine.assign("checkout-button", "user-42").variant

Every decision (when to fetch, stream, poll or wait, which config to serve, what to report) is
made by litmus-core's config-sync state machine, the same one the npm package runs
(``docs/sdk-protocol.md``); this module does the HTTP, the files, the thread and the callbacks.

- ``start()`` loads the ``bootstrap`` file at once (so the engine works from the start), then
  fetches ``GET /sdk/config`` (waiting at most ``timeout``). When that gives no good config
  and ``cache_path`` holds one at least as new as the bootstrap (by version), the cache is
  served; what came from a file is marked ``stale``. The background thread keeps trying.
- ``mode="stream"`` follows ``GET /sdk/stream`` (Server-Sent Events), sending
  ``Last-Event-ID``; a stream the server ends is reopened after a backoff (full jitter, up to
  ``max_backoff``); one that fails is followed by a fetch at once and every ``poll_interval``
  until it reopens. ``mode="poll"`` polls every ``poll_interval`` seconds (times 0.9 to 1.1),
  sooner after an error. Fetches send ``If-None-Match``, so an unchanged config costs a 304.
- A config that the engine refuses never replaces the good one: the error goes to
  ``on_error`` and ``last_error``, and that config is not tried again. A 401 or 403 waits
  ``max_backoff`` (in poll mode, at least ``poll_interval``).
- The first config builds the engine (``engine_factory(text)``); each later one replaces its
  config with ``engine.update(text)``, atomically, so ``client.engine`` stays the same object
  and its exposure deduplication and sticky store carry across versions.
- Every good config from the server is written to ``cache_path`` atomically.
- Flag usage: every ``usage_interval`` seconds (60 by default, 0 turns it off) the refresh
  thread sends how many times each flag was evaluated since the last report
  (``POST /sdk/usage``, from ``Engine.flag_usage()``), so the server can show stale flags; in
  stream mode it does so when the stream wakes it (keep-alives come every 15 s). Failures keep
  the counts for the next report or drop them as core's usage sender decides; ``close()``
  sends what is left (best effort, within ``timeout``).
- Fork safe: in a forked child (gunicorn ``--preload``) the refresh thread restarts on the
  first use of ``engine``.

Callbacks run on the refresh thread (or in ``start()``); an exception they raise is logged on
the ``litmus.client`` logger and otherwise ignored.
"""

from __future__ import annotations

import gzip
import http.client
import logging
import math
import os
import socket
import tempfile
import threading
import time
import urllib.parse
import weakref
import zlib
from typing import Any, Callable, Literal, Optional, Union

from ._events import _short
from ._litmus import ConfigSync, Engine, UsageSender, __version__
from ._reporting import Reporter, error_of
from .errors import InvalidArgumentError, LitmusError, NotReadyError

__all__ = ["ConfigClient"]

_log = logging.getLogger("litmus.client")

_PathLike = Union[str, "os.PathLike[str]"]
_READ_SIZE = 65536
# The longest duration taken (about 31 years): sockets, locks and events overflow past ~9.2e9 s.
_MAX_SECONDS = 1e9
_MAX_ERROR_BODY = 65536
# The actions that do I/O other than reading the stream: an open stream is closed before them.
_IO = frozenset({"fetch", "open_stream", "wait", "read_cache"})


class _Closed(Exception):
    """Raised inside the refresh thread when ``close()`` interrupted it."""


def _now_ms() -> float:
    return time.monotonic() * 1000.0


def _wall_ms() -> float:
    """The wall clock, for the usage sender (a ``Retry-After`` date is read against it)."""
    return time.time() * 1000.0


class ConfigClient:
    """Keeps a :class:`~litmus.Engine` in sync with a Litmus server (stale-while-revalidate).

    Args:
        base_url: the server, e.g. ``"https://litmus.example.com"`` (a path prefix is kept).
        sdk_key: an SDK key, sent as ``Authorization: Bearer``.
        mode: ``"stream"`` (Server-Sent Events, the default) or ``"poll"``.
        poll_interval: seconds between polls in poll mode, and while the stream is down.
        bootstrap: a config JSON file served at once, until the server's config arrives.
        cache_path: where every good config from the server is written; read at start when the
            server gives no good config, and served if at least as new as ``bootstrap``.
        timeout: seconds to connect and to wait for an answer (``start()`` waits at most this).
        on_update: called with the engine after each change (including one loaded from the
            cache or bootstrap file).
        on_error: called with each error: a :class:`~litmus.UnavailableError`,
            :class:`~litmus.ServerError` (:class:`~litmus.AuthError` for 401/403), the
            :class:`~litmus.ConfigError` of a refused config, or an ``OSError`` of a file.
        engine_factory: builds an engine from config text (e.g. ``functools.partial(
            litmus.Engine, on_exposure=log)``); whatever it raises refuses the config.
        max_backoff: the longest wait between reconnections (and after a 401 or 403).
        idle_timeout: a stream that sends nothing (not even its 15 s keep-alive) for this many
            seconds is considered dead and reopened.
        usage_interval: seconds between flag usage reports (``POST /sdk/usage``): at least 1,
            or 0 to send none.

    Raises:
        InvalidArgumentError: a bad URL, key, mode or duration.
    """

    def __init__(
        self,
        base_url: str,
        sdk_key: str,
        *,
        mode: Literal["stream", "poll"] = "stream",
        poll_interval: float = 30.0,
        bootstrap: Optional[_PathLike] = None,
        cache_path: Optional[_PathLike] = None,
        timeout: float = 5.0,
        on_update: Optional[Callable[[Engine], object]] = None,
        on_error: Optional[Callable[[Exception], object]] = None,
        engine_factory: Callable[[str], Engine] = Engine,
        max_backoff: float = 30.0,
        idle_timeout: float = 45.0,
        usage_interval: float = 60.0,
    ) -> None:
        url = _check_url(base_url)
        _check_key(sdk_key)
        if mode not in ("stream", "poll"):
            raise InvalidArgumentError(f"mode must be 'stream' or 'poll', not {_short(mode)}", "invalid_argument")
        for name, value in (
            ("poll_interval", poll_interval),
            ("timeout", timeout),
            ("max_backoff", max_backoff),
            ("idle_timeout", idle_timeout),
        ):
            _check_seconds(name, value)
        if usage_interval != 0:
            _check_seconds("usage_interval", usage_interval)
        self._base_url = base_url
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port
        self._prefix = url.path.rstrip("/")
        self._sdk_key = sdk_key
        self._mode = mode
        self._bootstrap = bootstrap
        self._cache_path = cache_path
        self._timeout = float(timeout)
        self._idle_timeout = float(idle_timeout)
        self._on_update = on_update
        self._on_error = on_error
        self._engine_factory = engine_factory
        self._sync = ConfigSync(
            base_url,
            mode,
            poll_interval_ms=float(poll_interval) * 1000.0,
            idle_timeout_ms=float(idle_timeout) * 1000.0,
            retry_delay_ms=min(1.0, float(max_backoff)) * 1000.0,
            max_retry_delay_ms=float(max_backoff) * 1000.0,
            has_cache=cache_path is not None,
            seed=int.from_bytes(os.urandom(8), "little"),
        )

        # Flag usage reports (core's sender; None when turned off or stopped for good).
        self._usage_interval_ms = float(usage_interval) * 1000.0
        self._usage: Optional[UsageSender] = self._new_usage_sender()
        self._usage_lock = threading.RLock()
        self._usage_wake: Optional[float] = None  # when the sender wants to tick (wall clock, ms)
        self._usage_error: Optional[Exception] = None  # the last usage problem reported
        self._usage_cause: Optional[BaseException] = None

        self._engine: Optional[Engine] = None
        self._refusal: Optional[Exception] = None  # what the engine raised for the last refused config
        self._reporter = Reporter(_log, "ConfigClient", on_error)
        self._started = False
        self._forked = False
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._ready = threading.Event()
        self._settled = threading.Event()
        self._conn: Optional[http.client.HTTPConnection] = None
        self._stream: Optional[http.client.HTTPResponse] = None
        self._thread: Optional[threading.Thread] = None
        _CLIENTS.add(self)

    # -- public API ------------------------------------------------------------------------

    def start(self) -> ConfigClient:
        """Loads the bootstrap file, fetches the config once (waiting at most ``timeout``),
        falls back to the cache file when that gives no good config, then starts the
        background refresh thread. Calling it again does nothing. Returns the client.

        Raises:
            LitmusError: the client was closed (code ``closed``).
        """
        with self._lock:
            if self._closed.is_set():
                raise LitmusError("this ConfigClient is closed", "closed")
            if self._started:
                return self
            self._started = True
        self._usage_step()
        bootstrap = None
        if self._bootstrap is not None:
            try:
                bootstrap = _read_text(self._bootstrap)
            except OSError as e:
                self._report_exception(e)
        self._sync.start(bootstrap)
        try:
            self._drive(until_settled=True)
        except _Closed:
            return self
        self._spawn()
        return self

    def close(self) -> None:
        """Stops the refresh thread: closes an open stream or request and joins the thread
        (a connection attempt in progress can hold it for up to ``timeout``), then sends the
        flag usage counted since the last report, if any (best effort, within ``timeout``).
        The last engine stays available. Idempotent."""
        self._closed.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            _abort(conn)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._timeout + 1.0)
        self._usage_step(final=True)

    def wait_ready(self, timeout: Optional[float] = None) -> bool:
        """Waits until an engine is available (from the server, the cache or the bootstrap
        file), at most ``timeout`` seconds (None: no limit). Returns whether one is."""
        if self._forked:
            self._restart_after_fork()
        return self._ready.wait(timeout)

    @property
    def engine(self) -> Engine:
        """The current engine: the last good config (check :attr:`stale`).

        Raises:
            NotReadyError: no config was ever obtained (server unreachable or refusing, and no
                usable cache or bootstrap file).
        """
        engine = self._engine
        if self._forked:
            self._restart_after_fork()
        if engine is None:
            if not self._started:
                detail = " (start() was not called)"
            else:
                error = self._reporter.last_error
                detail = f": {error}" if error is not None else ""
            raise NotReadyError(f"no config from {self._base_url} yet{detail}")
        return engine

    @property
    def version(self) -> Optional[str]:
        """The current config's ``version`` (``"v3"``), or None without a config."""
        return self._sync.version

    @property
    def stale(self) -> bool:
        """True when the engine may not be the server's current config: it came from the
        cache or bootstrap file, the last attempt to reach the server failed, the server's
        latest config was refused, or there is no engine at all."""
        return bool(self._sync.stale)

    @property
    def last_error(self) -> Optional[Exception]:
        """The most recent error, or None once the server answered well again."""
        return self._reporter.last_error

    def __enter__(self) -> ConfigClient:
        """Starts the client (see :meth:`start`)."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Closes the client (see :meth:`close`)."""
        self.close()

    def __repr__(self) -> str:
        """The server, mode, version and staleness, for logs and debuggers."""
        return (
            f"<ConfigClient {self._base_url} mode={self._mode} version={self.version!r} "
            f"stale={self.stale}>"
        )

    # -- the driver: carries out the machine's actions -------------------------------------

    def _spawn(self) -> None:
        self._thread = threading.Thread(target=self._run, name="litmus-config-client", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._drive(until_settled=False)
        except _Closed:
            pass
        except Exception:  # pragma: no cover - a bug; never let the thread die silently
            _log.exception("litmus ConfigClient: the refresh thread stopped")

    def _drive(self, *, until_settled: bool) -> None:
        """Carries out the machine's actions until it has none (closed) or, in ``start()``,
        until the first attempt is settled."""
        sync = self._sync
        while True:
            if self._closed.is_set():
                sync.close()
                raise _Closed
            self._usage_if_due()
            action = sync.poll_action()
            if action is None:
                return
            kind = action["type"]
            if kind in _IO and self._stream is not None:
                with self._lock:
                    conn = self._conn
                self._end_stream(conn)
            if kind == "fetch":
                self._fetch(action["if_none_match"])
            elif kind == "open_stream":
                self._open_stream(action["last_event_id"])
            elif kind == "read_stream":
                self._read_stream()
            elif kind == "wait":
                if self._sleep(action["ms"]):
                    continue
                sync.timer_fired(_now_ms())
            elif kind == "load":
                self._load(action["text"])
            elif kind == "read_cache":
                sync.cache_read(self._read_cache(), _now_ms())
            elif kind == "write_cache":
                self._write_cache(action["text"])
            elif kind == "updated":
                self._updated(action)
            elif kind == "report":
                self._report(action["report"])
            elif kind == "recovered":
                self._reporter.recovered(f"{self._base_url} answers again")
            elif kind == "ready":
                if action["has_engine"]:
                    self._ready.set()
                self._settled.set()
                if until_settled:
                    return

    def _sleep(self, ms: float) -> bool:
        """Waits ``ms`` for the config machine, sending the usage reports that fall due
        meanwhile. True when ``close()`` interrupted it."""
        deadline = _now_ms() + ms
        while True:
            left = deadline - _now_ms()
            wake = self._usage_wake
            if wake is not None:
                left = min(left, wake - _wall_ms())
            if self._closed.wait(min(max(left, 0.0) / 1000.0, _MAX_SECONDS)):
                return True
            self._usage_if_due()
            if _now_ms() >= deadline:
                return False

    # -- flag usage reports: core's sender decides, this does the POST ---------------------

    def _new_usage_sender(self) -> Optional[UsageSender]:
        if self._usage_interval_ms == 0:
            return None
        return UsageSender(self._base_url, interval_ms=self._usage_interval_ms)

    def _usage_if_due(self) -> None:
        wake = self._usage_wake
        if wake is not None and _wall_ms() >= wake:
            self._usage_step()

    def _usage_step(self, final: bool = False) -> None:
        """Gives the engine's new counts to the usage sender (closing it when ``final``) and
        carries out its actions until it waits or stops."""
        if self._usage is None or not self._usage_lock.acquire(timeout=self._timeout):
            return
        try:
            sender = self._usage
            if sender is not None:
                self._drive_usage(sender, final)
        except Exception:  # pragma: no cover - a bug; never let it stop the refresh thread
            _log.exception("litmus ConfigClient: flag usage reports stopped")
            self._usage = None
            self._usage_wake = None
        finally:
            self._usage_lock.release()

    def _drive_usage(self, sender: UsageSender, final: bool) -> None:
        """Feeds the engine's counts to ``sender`` and carries out its actions (see above)."""
        flag_usage = getattr(self._engine, "flag_usage", None)
        if flag_usage is not None:
            try:
                sender.record_all(flag_usage())
            except Exception:
                _log.exception("litmus ConfigClient: reading the flag usage failed")
        if final:
            sender.close(self._timeout * 1000.0, _wall_ms())
        while True:
            action = sender.tick(_wall_ms())
            kind = action["type"]
            if kind == "send":
                self._post_usage(sender, action["body"])
            elif kind == "report":
                self._usage_report(action["report"])
            elif kind == "recovered":
                if self._usage_error is not None and self._reporter.last_error is self._usage_error:
                    self._reporter.recovered(f"{self._base_url} takes flag usage reports again")
                self._usage_error = None
            elif kind == "wait":
                self._usage_wake = action["until_ms"]  # never None here: no request in flight
                return
            else:  # stop: closed, or a server without the route
                if action.get("message"):
                    _log.debug("litmus ConfigClient: %s", action["message"])
                self._usage = None
                self._usage_wake = None
                return

    def _post_usage(self, sender: UsageSender, body: bytes) -> None:
        """``POST /sdk/usage``: its answer goes to the sender."""
        headers = {
            "Authorization": f"Bearer {self._sdk_key}",
            "Content-Type": "application/json",
            "User-Agent": f"litmus-python/{__version__}",
        }
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host or "", self._port, timeout=self._timeout)
        try:
            try:
                conn.request("POST", self._prefix + "/sdk/usage", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read(_MAX_ERROR_BODY)
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as e:
            self._usage_cause = e
            sender.unreachable(_describe(e), _wall_ms())
            return
        sender.sent(resp.status, resp.getheader("Retry-After"), data, _wall_ms())

    def _usage_report(self, report: dict[str, Any]) -> None:
        cause, self._usage_cause = self._usage_cause, None
        if self._closed.is_set():
            return
        error = error_of(report, cause)
        self._usage_error = error
        self._reporter.report(error, report["first_of_kind"])

    # -- HTTP ------------------------------------------------------------------------------

    def _headers(self, accept: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._sdk_key}",
            "Accept": accept,
            "User-Agent": f"litmus-python/{__version__}",
        }

    def _open(self, path: str, headers: dict[str, str]) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Sends ``GET path``; the connection stays registered for ``close()`` to abort until
        :meth:`_release`. Raises ``_Closed``, or ``OSError``/``HTTPException``."""
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host or "", self._port, timeout=self._timeout)
        with self._lock:
            self._conn = conn
        try:
            conn.connect()
            if self._closed.is_set():
                raise _Closed
            conn.request("GET", self._prefix + path, headers=headers)
            return conn, conn.getresponse()
        except BaseException as e:
            self._release(conn)
            if self._closed.is_set():
                raise _Closed from e
            raise

    def _release(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if self._conn is conn:
                self._conn = None
        conn.close()

    def _fetch(self, etag: Optional[str]) -> None:
        """``GET /sdk/config``: its answer goes to the machine."""
        headers = self._headers("application/json")
        headers["Accept-Encoding"] = "gzip"
        if etag is not None:
            headers["If-None-Match"] = etag
        try:
            conn, resp = self._open("/sdk/config", headers)
            try:
                body = resp.read() if resp.status in (200, 304) else resp.read(_MAX_ERROR_BODY)
            finally:
                self._release(conn)
        except (OSError, http.client.HTTPException) as e:
            return self._unreachable(e)
        if resp.status == 200 and (resp.getheader("Content-Encoding") or "").strip().lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error):
                body = b""  # not the gzip it says: the machine refuses it as a bad response
        self._sync.fetched(resp.status, resp.getheader("ETag"), body, _now_ms())

    def _unreachable(self, error: BaseException) -> None:
        """A request got no answer: the machine hears it (``_Closed`` when close() did it)."""
        if self._closed.is_set():
            raise _Closed from error
        self._reporter.cause = error
        self._sync.unreachable(_describe(error), _now_ms())

    def _open_stream(self, last_event_id: Optional[str]) -> None:
        """``GET /sdk/stream``: its answer goes to the machine; a good one stays open."""
        headers = self._headers("text/event-stream")
        headers["Cache-Control"] = "no-cache"
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        try:
            conn, resp = self._open("/sdk/stream", headers)
        except (OSError, http.client.HTTPException) as e:
            return self._unreachable(e)
        body = b""
        try:
            if resp.status != 200:
                body = resp.read(_MAX_ERROR_BODY)
        except (OSError, http.client.HTTPException):
            pass
        if resp.status == 200:
            # Kept until the machine asks for anything but the stream (it may refuse it).
            if conn.sock is not None:
                conn.sock.settimeout(self._idle_timeout)
            self._stream = resp
        else:
            self._release(conn)
        self._sync.stream_opened(resp.status, resp.getheader("Content-Type"), body, _now_ms())

    def _read_stream(self) -> None:
        """Reads the next chunk of the open stream for the machine."""
        resp = self._stream
        with self._lock:
            conn = self._conn
        if resp is None:  # pragma: no cover - the machine reads only an open stream
            self._sync.stream_failed("no open stream", False, _now_ms())
            return
        try:
            chunk = resp.read1(_READ_SIZE)
        except (OSError, http.client.HTTPException) as e:
            self._end_stream(conn)
            if self._closed.is_set():
                raise _Closed from e
            self._reporter.cause = e
            self._sync.stream_failed(_describe(e), isinstance(e, socket.timeout), _now_ms())
            return
        if not chunk:
            self._end_stream(conn)
            if self._closed.is_set():
                raise _Closed
            self._sync.stream_ended(_now_ms())
            return
        self._sync.stream_data(chunk, _now_ms())

    def _end_stream(self, conn: Optional[http.client.HTTPConnection]) -> None:
        self._stream = None
        if conn is not None:
            self._release(conn)

    # -- files and the engine --------------------------------------------------------------

    def _load(self, text: str) -> None:
        """Builds the engine from ``text``, or updates it in place; tells the machine."""
        try:
            # One engine for the client's life: update() swaps its config atomically and keeps
            # its exposure memory and sticky store.
            if self._engine is not None:
                self._engine.update(text)
                engine = self._engine
            else:
                engine = self._engine_factory(text)
        except Exception as e:
            self._refusal = e
            self._sync.refused(str(getattr(e, "code", "internal")), str(e), _now_ms())
            return
        self._engine = engine
        self._sync.loaded(engine.version, _now_ms())

    def _read_cache(self) -> Optional[str]:
        path = self._cache_path
        if path is None or not os.path.exists(path):
            return None
        try:
            return _read_text(path)
        except OSError as e:
            self._report_exception(e)
            return None

    def _write_cache(self, text: str) -> None:
        if self._cache_path is None:
            return
        try:
            _write_atomically(self._cache_path, text)
        except OSError as e:
            self._report_exception(e)

    def _updated(self, action: dict[str, Any]) -> None:
        _log.info("litmus ConfigClient: config %s from %s", action["version"], action["source"])
        self._ready.set()
        if self._on_update is not None and self._engine is not None:
            try:
                self._on_update(self._engine)
            except Exception:
                _log.exception("litmus ConfigClient: on_update raised")

    # -- reports ---------------------------------------------------------------------------

    def _report(self, report: dict[str, Any]) -> None:
        refusal = self._refusal if report["kind"] == "config_refused" else None
        self._refusal = None
        if not self._closed.is_set():
            self._reporter.report_action(report, refusal)

    def _report_exception(self, error: Exception) -> None:
        if not self._closed.is_set():
            self._reporter.report(error)

    # -- fork ------------------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        # Locks and events may have been held by threads that do not exist in the child.
        self._lock = threading.Lock()
        self._usage_lock = threading.RLock()
        closed, self._closed = self._closed.is_set(), threading.Event()
        ready, self._ready = self._ready.is_set(), threading.Event()
        if closed:
            self._closed.set()
        if ready:
            self._ready.set()
        conn, self._conn = self._conn, None
        self._stream = None
        _close_inherited(conn)
        self._forked = self._started and not closed

    def _restart_after_fork(self) -> None:
        with self._lock:
            if not self._forked:
                return
            self._forked = False
        self._sync.resume(_now_ms())  # the parent's request in flight is not the child's
        # The parent reports what was counted before the fork: the child starts from zero.
        if self._usage is not None:
            self._usage = self._new_usage_sender()
            self._usage_wake = None
            try:
                getattr(self._engine, "flag_usage", lambda: None)()
            except Exception:
                _log.exception("litmus ConfigClient: reading the flag usage failed")
            self._usage_step()
        self._spawn()


def _check_url(base_url: object) -> urllib.parse.SplitResult:
    """An http(s) URL in ASCII, with a good port."""
    if not isinstance(base_url, str):  # urlsplit would raise AttributeError
        raise InvalidArgumentError(f"base_url must be a URL string, not {type(base_url).__name__}", "invalid_argument")
    if not base_url.isascii():  # http.client would fail on every request
        raise InvalidArgumentError(
            f"base_url must be ASCII (an IDNA host, a percent-encoded path), not {base_url!r}", "invalid_argument"
        )
    url = urllib.parse.urlsplit(base_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise InvalidArgumentError(f"base_url must be an http(s) URL, not {base_url!r}", "invalid_argument")
    try:
        url.port
    except ValueError as e:
        raise InvalidArgumentError(f"base_url has a bad port: {base_url!r}", "invalid_argument") from e
    return url


def _check_key(sdk_key: object) -> None:
    """A header value: http.client encodes it as Latin-1."""
    if not isinstance(sdk_key, str) or not sdk_key or not sdk_key.isascii() or any(c in sdk_key for c in "\r\n\0"):
        raise InvalidArgumentError("sdk_key must be a non-empty single-line ASCII string", "invalid_argument")


def _check_seconds(name: str, value: object) -> None:
    """A positive, finite number of seconds, at most ``_MAX_SECONDS``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not (ok and 0 < value <= _MAX_SECONDS):  # type: ignore[operator]
        raise InvalidArgumentError(
            f"{name} must be a positive number of seconds (at most {_MAX_SECONDS:.0e}), not {_short(value)}",
            "invalid_argument",
        )


def _describe(error: BaseException) -> str:
    """What happened to a request, for the machine's report."""
    if isinstance(error, socket.timeout) and str(error) in ("", "timed out"):
        return "no answer in time (timed out)"
    return str(error) or type(error).__name__


def _close_inherited(conn: Optional[http.client.HTTPConnection]) -> None:
    """In a forked child: closes the child's copy of a connection's descriptor, leaving the
    parent's connection untouched (a plain close() would wait for the parent thread's
    response object)."""
    if conn is not None and conn.sock is not None:
        try:
            os.close(conn.sock.detach())
        except OSError:
            pass


def _abort(conn: http.client.HTTPConnection) -> None:
    """Wakes a thread blocked reading from ``conn`` (shutdown works across threads)."""
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _read_text(path: _PathLike) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _write_atomically(path: _PathLike, text: str) -> None:
    """Writes ``text`` to ``path`` so readers see the old file or the new one, never a part."""
    target = os.fspath(path)
    fd, tmp = tempfile.mkstemp(prefix=".litmus-config-", suffix=".tmp", dir=os.path.dirname(os.path.abspath(target)))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


_CLIENTS: weakref.WeakSet[ConfigClient] = weakref.WeakSet()


def _after_fork() -> None:
    for client in list(_CLIENTS):
        client._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
