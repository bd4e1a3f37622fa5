"""A config client for the Litmus server: keeps a :class:`~litmus.Engine` up to date in a
background thread, serving the last good config whatever happens to the network.

    with litmus.ConfigClient("https://litmus.example.com", sdk_key,
                             bootstrap="config.json", cache_path="/var/cache/litmus.json") as client:
        client.engine.assign("checkout-button", "user-42").variant

- ``start()`` fetches ``GET /sdk/config`` once (waiting at most ``timeout``). When that fails,
  the newer (by version) of the ``cache_path`` file and the ``bootstrap`` file is served
  (the cache on a tie), marked ``stale``, so the app can assign at once; the background
  thread keeps trying.
- ``mode="stream"`` follows ``GET /sdk/stream`` (Server-Sent Events) and reconnects with
  exponential backoff and full jitter, sending ``Last-Event-ID``; while the stream is down it
  polls ``/sdk/config`` so changes still arrive. ``mode="poll"`` polls every ``poll_interval``
  seconds (plus up to 10% jitter). Polls send ``If-None-Match``, so an unchanged config costs
  a 304 and no body.
- A config that the engine refuses never replaces the good one: the error goes to
  ``on_error`` and ``last_error``. A 401 or 403 backs off to ``max_backoff`` at once.
- The first config builds the engine (``engine_factory(text)``); each later one replaces its
  config with ``engine.update(text)``, atomically (assignments in flight finish on the old
  config), so ``client.engine`` stays the same object and its exposure deduplication and sticky
  store carry across versions.
- Every good config from the server is written to ``cache_path`` atomically (a temporary
  file, then ``os.replace``).
- Fork safe: in a forked child (gunicorn ``--preload``) the refresh thread restarts on the
  first use of ``engine``.

Callbacks run on the refresh thread (or in ``start()``); an exception they raise is logged on
the ``litmus.client`` logger and otherwise ignored.
"""

from __future__ import annotations

import codecs
import http.client
import json
import logging
import math
import os
import random
import re
import socket
import tempfile
import threading
import time
import urllib.parse
import weakref
from typing import Any, Callable, Literal, NamedTuple, Optional, Union

from ._events import _short
from ._reporting import Kind, report
from ._litmus import Engine, __version__
from ._sse import SSEParser
from .errors import (
    AuthError,
    InvalidArgumentError,
    LitmusError,
    NotReadyError,
    ServerError,
    UnavailableError,
)

__all__ = ["ConfigClient"]

_log = logging.getLogger("litmus.client")

_PathLike = Union[str, "os.PathLike[str]"]
_VERSION = re.compile(r"v(\d+)")
_BACKOFF_BASE = 1.0  # seconds: the first reconnection waits up to this (or the server's retry)
_READ_SIZE = 65536
# The longest duration taken (about 31 years): sockets, locks and events overflow past ~9.2e9 s,
# which would stop the refresh thread.
_MAX_SECONDS = 1e9
_MAX_ERROR_BODY = 65536


class _Current(NamedTuple):
    engine: Engine
    version: Optional[str]
    text: str
    source: str  # "server", "cache" or "bootstrap"


class _Closed(Exception):
    """Raised inside the refresh thread when ``close()`` interrupted it."""


class ConfigClient:
    """Keeps a :class:`~litmus.Engine` in sync with a Litmus server (stale-while-revalidate).

    Args:
        base_url: the server, e.g. ``"https://litmus.example.com"`` (a path prefix is kept).
        sdk_key: an SDK key, sent as ``Authorization: Bearer``.
        mode: ``"stream"`` (Server-Sent Events, the default) or ``"poll"``.
        poll_interval: seconds between polls in poll mode, and while the stream is down.
        bootstrap: a config JSON file served when the server cannot be reached at start.
        cache_path: where every good config from the server is written; read at start when the
            server cannot be reached, and served if newer than ``bootstrap``.
        timeout: seconds to connect and to wait for an answer (``start()`` waits at most this).
        on_update: called with the new engine after each change (including one loaded from the
            cache or bootstrap file).
        on_error: called with each error: a :class:`~litmus.UnavailableError`,
            :class:`~litmus.ServerError` (:class:`~litmus.AuthError` for 401/403), the
            :class:`~litmus.ConfigError` of a refused config, or an ``OSError`` of a file.
        engine_factory: builds an engine from config text (e.g. ``functools.partial(
            litmus.Engine, on_exposure=log)``); whatever it raises refuses the config.
        max_backoff: the longest wait between reconnections (and after a 401 or 403).
        idle_timeout: a stream that sends nothing (not even its 15 s keep-alive) for this many
            seconds is considered dead and reopened.

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
    ) -> None:
        if not isinstance(base_url, str):  # urlsplit would raise AttributeError
            raise InvalidArgumentError(f"base_url must be a URL string, not {type(base_url).__name__}", "invalid_argument")
        if not base_url.isascii():  # http.client would fail on every request
            raise InvalidArgumentError(
                f"base_url must be ASCII (an IDNA host, a percent-encoded path), not {base_url!r}", "invalid_argument"
            )
        url = urllib.parse.urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise InvalidArgumentError(f"base_url must be an http(s) URL, not {base_url!r}", "invalid_argument")
        # A header value: http.client encodes it as Latin-1.
        if not isinstance(sdk_key, str) or not sdk_key or not sdk_key.isascii() or any(c in sdk_key for c in "\r\n\0"):
            raise InvalidArgumentError("sdk_key must be a non-empty single-line ASCII string", "invalid_argument")
        if mode not in ("stream", "poll"):
            raise InvalidArgumentError(f"mode must be 'stream' or 'poll', not {_short(mode)}", "invalid_argument")
        for name, value in (
            ("poll_interval", poll_interval),
            ("timeout", timeout),
            ("max_backoff", max_backoff),
            ("idle_timeout", idle_timeout),
        ):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= _MAX_SECONDS):
                raise InvalidArgumentError(
                    f"{name} must be a positive number of seconds (at most {_MAX_SECONDS:.0e}), not {_short(value)}",
                    "invalid_argument",
                )
        self._base_url = base_url
        self._https = url.scheme == "https"
        self._host = url.hostname
        try:
            self._port = url.port
        except ValueError as e:
            raise InvalidArgumentError(f"base_url has a bad port: {base_url!r}", "invalid_argument") from e
        self._prefix = url.path.rstrip("/")
        self._sdk_key = sdk_key
        self._mode = mode
        self._poll_interval = float(poll_interval)
        self._bootstrap = bootstrap
        self._cache_path = cache_path
        self._timeout = float(timeout)
        self._on_update = on_update
        self._on_error = on_error
        self._engine_factory = engine_factory
        self._max_backoff = float(max_backoff)
        self._idle_timeout = float(idle_timeout)

        self._current: Optional[_Current] = None
        self._last_error: Optional[Exception] = None
        self._failing = False  # the last attempt to reach the server failed
        self._rejected = False  # the server's latest config was refused
        self._etag: Optional[str] = None
        self._last_event_id: Optional[str] = None
        self._retry_base = min(_BACKOFF_BASE, self._max_backoff)
        self._failures = 0
        self._first_delay = 0.0
        self._logged: Optional[Kind] = None
        self._started = False
        self._forked = False
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._ready = threading.Event()
        self._conn: Optional[http.client.HTTPConnection] = None
        self._thread: Optional[threading.Thread] = None
        _CLIENTS.add(self)

    # -- public API ------------------------------------------------------------------------

    def start(self) -> ConfigClient:
        """Fetches the config once (waiting at most ``timeout``), falls back to the cache or
        bootstrap file when that fails, then starts the background refresh thread. Calling it
        again does nothing. Returns the client.

        Raises:
            LitmusError: the client was closed (code ``closed``).
        """
        with self._lock:
            if self._closed.is_set():
                raise LitmusError("this ConfigClient is closed", "closed")
            if self._started:
                return self
            self._started = True
        error = self._poll_once()
        if self._current is None:
            self._load_fallback()
        if isinstance(error, AuthError):
            self._first_delay = self._auth_delay()
        elif self._mode == "poll":
            self._first_delay = self._jittered_interval()
        self._spawn()
        return self

    def close(self) -> None:
        """Stops the refresh thread: closes an open stream or request and joins the thread
        (a connection attempt in progress can hold it for up to ``timeout``). The last engine
        stays available. Idempotent."""
        self._closed.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            _abort(conn)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._timeout + 1.0)

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
        current = self._current
        if self._forked:
            self._restart_after_fork()
        if current is None:
            if not self._started:
                detail = " (start() was not called)"
            else:
                detail = f": {self._last_error}" if self._last_error is not None else ""
            raise NotReadyError(f"no config from {self._base_url} yet{detail}")
        return current.engine

    @property
    def version(self) -> Optional[str]:
        """The current config's ``version`` (``"v3"``), or None without a config."""
        current = self._current
        return current.version if current is not None else None

    @property
    def stale(self) -> bool:
        """True when the engine may not be the server's current config: it came from the
        cache or bootstrap file, the last attempt to reach the server failed, the server's
        latest config was refused, or there is no engine at all."""
        current = self._current
        return current is None or current.source != "server" or self._failing or self._rejected

    @property
    def last_error(self) -> Optional[Exception]:
        """The most recent error, or None once the server answered well again."""
        return self._last_error

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

    # -- the refresh thread ----------------------------------------------------------------

    def _spawn(self) -> None:
        self._thread = threading.Thread(target=self._run, name="litmus-config-client", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        delay = self._first_delay
        try:
            while not self._closed.wait(delay):
                delay = self._poll_cycle() if self._mode == "poll" else self._stream_cycle()
        except Exception:  # pragma: no cover - a bug; never let the thread die silently
            _log.exception("litmus ConfigClient: the refresh thread stopped")

    def _poll_cycle(self) -> float:
        error = self._poll_once()
        return self._auth_delay() if isinstance(error, AuthError) else self._jittered_interval()

    def _stream_cycle(self) -> float:
        try:
            self._stream_once()
            error: Optional[Exception] = None
        except _Closed:
            return 0.0
        except Exception as e:
            error = e
            self._contact_failed(e, report_only=not isinstance(e, AuthError))
        self._failures += 1
        if isinstance(error, AuthError):
            return self._auth_delay()
        growth = 2.0 ** min(self._failures - 1, 32)  # capped: days of failures must not overflow
        delay = random.uniform(0.0, min(self._max_backoff, self._retry_base * growth))
        if error is None:
            return delay  # the server ended the stream: reconnect
        return self._poll_while_down(delay)

    def _poll_while_down(self, delay: float) -> float:
        """The stream is down for ``delay`` seconds: polls now and every ``poll_interval``
        meanwhile; returns what is left of the delay."""
        end = time.monotonic() + delay
        while True:
            if isinstance(self._poll_once(), AuthError):
                return self._auth_delay()
            step = self._jittered_interval()
            left = end - time.monotonic()
            if left <= step or self._closed.wait(step):
                return max(0.0, left)

    def _jittered_interval(self) -> float:
        return self._poll_interval * (1.0 + random.uniform(0.0, 0.1))

    def _auth_delay(self) -> float:
        return max(self._max_backoff, self._poll_interval) if self._mode == "poll" else self._max_backoff

    # -- HTTP ------------------------------------------------------------------------------

    def _headers(self, accept: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._sdk_key}",
            "Accept": accept,
            "User-Agent": f"litmus-python/{__version__}",
        }

    def _open(self, path: str, headers: dict[str, str]) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Sends ``GET path``; the connection stays registered for ``close()`` to abort until
        :meth:`_release`."""
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(self._host or "", self._port, timeout=self._timeout)
        else:
            conn = http.client.HTTPConnection(self._host or "", self._port, timeout=self._timeout)
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
            if isinstance(e, (OSError, http.client.HTTPException)):
                raise UnavailableError(f"GET {self._base_url}{path}: {e or type(e).__name__}") from e
            raise

    def _release(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if self._conn is conn:
                self._conn = None
        conn.close()

    def _http_error(self, status: int, body: bytes, path: str) -> ServerError:
        code, message = "http_error", f"GET {self._base_url}{path}: HTTP {status}"
        try:
            error = json.loads(body)["error"]
            code = str(error["code"])
            message = f"{message} {code}: {error['message']}"
        except Exception:
            pass
        cls = AuthError if status in (401, 403) else ServerError
        return cls(message, code, None, status)

    def _fetch(self) -> None:
        """``GET /sdk/config`` with ``If-None-Match``; applies a new config. Raises on failure."""
        path = "/sdk/config"
        headers = self._headers("application/json")
        if self._etag is not None:
            headers["If-None-Match"] = self._etag
        conn, resp = self._open(path, headers)
        try:
            body = resp.read() if resp.status in (200, 304) else resp.read(_MAX_ERROR_BODY)
        except (OSError, http.client.HTTPException) as e:
            if self._closed.is_set():
                raise _Closed from e
            raise UnavailableError(f"GET {self._base_url}{path}: {e or type(e).__name__}") from e
        finally:
            self._release(conn)
        if resp.status == 304 and self._etag is not None:
            self._contact_ok()
            return
        if resp.status != 200:
            raise self._http_error(resp.status, body, path)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ServerError(f"GET {self._base_url}{path}: the body is not UTF-8", "bad_response", None, 200) from e
        self._contact_ok()
        self._apply(text, etag=resp.getheader("ETag"), event_id=None)

    def _poll_once(self) -> Optional[Exception]:
        """One fetch; returns its error (already reported), if any."""
        try:
            self._fetch()
        except _Closed:
            return None
        except Exception as e:
            self._contact_failed(e)
            return e
        return None

    def _stream_once(self) -> None:
        """Follows ``GET /sdk/stream`` until it ends (returns) or fails (raises)."""
        path = "/sdk/stream"
        headers = self._headers("text/event-stream")
        headers["Cache-Control"] = "no-cache"
        if self._last_event_id:
            headers["Last-Event-ID"] = self._last_event_id
        conn, resp = self._open(path, headers)
        try:
            if resp.status != 200:
                raise self._http_error(resp.status, resp.read(_MAX_ERROR_BODY), path)
            kind = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if kind != "text/event-stream":
                raise ServerError(f"GET {self._base_url}{path}: Content-Type {kind!r}", "bad_response", None, 200)
            self._contact_ok()
            if conn.sock is not None:
                conn.sock.settimeout(self._idle_timeout)
            parser = SSEParser()
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            while True:
                chunk = resp.read1(_READ_SIZE)
                if not chunk:
                    return
                comments = parser.comments
                for event in parser.feed(decoder.decode(chunk)):
                    if event.type == "config":
                        self._apply(event.data, etag=None, event_id=event.id or None)
                    self._failures = 0
                if parser.comments != comments:
                    self._failures = 0
                if parser.retry_ms is not None:
                    # At least 10 ms, so "retry: 0" cannot make reconnection spin.
                    self._retry_base = min(max(parser.retry_ms / 1000.0, 0.01), self._max_backoff)
        except (OSError, http.client.HTTPException) as e:
            if self._closed.is_set():
                raise _Closed from e
            if isinstance(e, socket.timeout):
                raise UnavailableError(f"GET {self._base_url}{path}: nothing for {self._idle_timeout:g} s") from e
            raise UnavailableError(f"GET {self._base_url}{path}: {e or type(e).__name__}") from e
        finally:
            self._release(conn)

    # -- state -----------------------------------------------------------------------------

    def _apply(self, text: str, *, etag: Optional[str], event_id: Optional[str]) -> None:
        """Installs a config from the server unless it is the current one or does not compile."""
        current = self._current
        if current is not None and current.text == text:
            self._accepted(etag, event_id or _event_id(current.version))
            if current.source != "server":
                self._install(current._replace(source="server"), notify=False)
            return
        try:
            # One engine for the client's life: update() swaps its config atomically and keeps
            # its exposure memory and sticky store (a new engine would report every exposure
            # again after each version).
            if current is not None:
                current.engine.update(text)
                engine = current.engine
            else:
                engine = self._engine_factory(text)
        except Exception as e:
            # Remember its ETag and id all the same, so it is not downloaded again.
            self._etag, self._last_event_id = etag, event_id or _event_id(_version_of(text))
            self._rejected = True
            self._report(e)
            return
        self._accepted(etag, event_id or _event_id(engine.version))
        self._install(_Current(engine, engine.version, text, "server"), notify=True)

    def _accepted(self, etag: Optional[str], event_id: Optional[str]) -> None:
        self._etag, self._last_event_id = etag, event_id
        if self._rejected:
            self._rejected = False
            self._last_error = None

    def _install(self, current: _Current, *, notify: bool) -> None:
        self._current = current  # the one reference readers see
        self._ready.set()
        _log.info("litmus ConfigClient: config %s from %s", current.version, current.source)
        if current.source == "server" and self._cache_path is not None:
            try:
                _write_atomically(self._cache_path, current.text)
            except OSError as e:
                self._report(e)
        if notify and self._on_update is not None:
            try:
                self._on_update(current.engine)
            except Exception:
                _log.exception("litmus ConfigClient: on_update raised")

    def _load_fallback(self) -> None:
        """Serves the newer (by version) of the cache file and the bootstrap file; the cache
        on a tie (it came from this server)."""
        candidates = []
        for source, path in (("cache", self._cache_path), ("bootstrap", self._bootstrap)):
            if path is None or (source == "cache" and not os.path.exists(path)):
                continue
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                engine = self._engine_factory(text)
            except Exception as e:
                self._report(e)
                continue
            candidates.append((_version_number(engine.version), source == "cache", text, engine, source))
        if candidates:
            _, _, text, engine, source = max(candidates, key=lambda c: (c[0], c[1]))
            self._install(_Current(engine, engine.version, text, source), notify=True)

    def _contact_ok(self) -> None:
        if self._failing:
            _log.info("litmus ConfigClient: %s answers again", self._base_url)
        self._failing = False
        self._logged = None
        if not self._rejected:
            self._last_error = None

    def _contact_failed(self, error: Exception, *, report_only: bool = False) -> None:
        # A stream that fails (other than 401/403) is followed by a poll, which decides.
        if not report_only:
            self._failing = True
        self._report(error)

    def _report(self, error: Exception) -> None:
        if self._closed.is_set():
            return
        self._last_error = error
        # One warning per kind of trouble until the server answers again; repeats are debug.
        self._logged = report(_log, "ConfigClient", error, self._logged, self._on_error)

    # -- fork ------------------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        # Locks and events may have been held by threads that do not exist in the child.
        self._lock = threading.Lock()
        closed, self._closed = self._closed.is_set(), threading.Event()
        ready, self._ready = self._ready.is_set(), threading.Event()
        if closed:
            self._closed.set()
        if ready:
            self._ready.set()
        conn, self._conn = self._conn, None
        if conn is not None and conn.sock is not None:
            # Close the child's copy of the descriptor now (a plain close() would wait for the
            # dead thread's response object); the parent's connection is untouched.
            try:
                os.close(conn.sock.detach())
            except OSError:
                pass
        self._forked = self._started and not closed

    def _restart_after_fork(self) -> None:
        with self._lock:
            if not self._forked:
                return
            self._forked = False
        self._first_delay = 0.0
        self._spawn()


def _abort(conn: http.client.HTTPConnection) -> None:
    """Wakes a thread blocked reading from ``conn`` (shutdown works across threads)."""
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _event_id(version: Optional[str]) -> Optional[str]:
    """The stream's event id of a config version: ``"v3"`` -> ``"3"``."""
    m = _VERSION.fullmatch(version or "")
    return m.group(1) if m else None


def _version_of(text: str) -> Optional[str]:
    try:
        doc: Any = json.loads(text)
    except ValueError:
        return None
    version = doc.get("version") if isinstance(doc, dict) else None
    return version if isinstance(version, str) else None


def _version_number(version: Optional[str]) -> int:
    """N of a config version ``"vN"`` (-1 when there is none)."""
    if version and version.startswith("v") and version[1:].isdigit():
        return int(version[1:])
    return -1


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
