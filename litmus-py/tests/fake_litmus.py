"""In-process stand-ins for litmus-server's SDK routes, with knobs to misbehave:
``FakeServer`` (``/sdk/config`` with ETags, ``/sdk/stream`` as Server-Sent Events, ``POST
/sdk/usage``) for test_client.py and test_usage.py, and ``EventSink`` (``POST /events``) for
test_tracker.py."""

from __future__ import annotations

import gzip
import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional, Union

KEY = "sdk-test-key"


# Hang guard of returns(): far above any plausible run time, and far below the hour-long waits
# (request timeouts, backoffs) the tests arrange for an implementation that would block.
HANG_GUARD = 120.0


def returns(call: Callable[[], Any], what: str, guard: float = HANG_GUARD) -> Any:
    """Runs ``call`` on a thread and returns its result once it returns. The tests that use it
    arrange that a wrong implementation would block for an hour or more; ``guard`` only keeps
    such a failure from hanging the suite (it fails naming ``what``), it is not the assertion:
    nothing is asserted about how long ``call`` took."""
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as e:  # re-raised on the test's thread
            box["error"] = e
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name=f"returns: {what}").start()
    if not done.wait(guard):
        raise AssertionError(f"{what} blocked (hang guard: still running after {guard:g} s)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def config(version: int, *experiments: str) -> dict[str, Any]:
    """A config whose experiments each have a single variant ``on-<key>``."""
    return {
        "schema_version": 1,
        "version": f"v{version}",
        "experiments": [
            {"key": k, "salt": f"{k}-salt", "status": "running", "variants": [{"key": f"on-{k}"}]}
            for k in experiments
        ],
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hang up: fine
            super().handle_error(request, client_address)


class Request:
    def __init__(self, path: str, headers: dict[str, str]) -> None:
        self.path = path
        self.headers = headers

    def __repr__(self) -> str:
        return f"Request({self.path!r}, {self.headers!r})"


class FakeServer:
    """Serves one config at a time; ``publish`` bumps the version and wakes the streams."""

    def __init__(self, port: int = 0) -> None:
        self.cond = threading.Condition()
        self.version = 0
        self.body = ""
        self.requests: list[Request] = []
        self.config_status: Optional[int] = None  # answer /sdk/config with this error
        self.stream_status: Optional[int] = None  # answer /sdk/stream with this error
        self.hang_config = False  # hold /sdk/config requests until stop()
        self.gzip_config = False  # gzip /sdk/config bodies for clients that accept it
        self.bad_gzip = False  # ... with a body that is not gzip
        self.drop_after: Optional[int] = None  # end each stream after this many events
        self.drop_abruptly = False  # ... without the closing chunk
        self.keepalive = True  # send comments on the stream
        self.ping_every: Optional[float] = None  # and one every this many seconds (about)
        self.crlf = False  # end stream lines with CRLF
        self.retry_ms: Optional[int] = None
        self.stopping = False
        # POST /sdk/usage: each request as received, and the answers for the next ones (a
        # status, or (status, headers)); 204 when the script is empty.
        self.usage: list[UsagePost] = []
        self.usage_script: list[Union[int, tuple[int, dict[str, str]]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle_usage(self)

        self.httpd = _Server(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    # -- control ---------------------------------------------------------------------------

    def publish(self, doc: Union[dict[str, Any], str]) -> None:
        """The next version: a config dict (its ``version`` is set) or raw text."""
        with self.cond:
            self.version += 1
            if isinstance(doc, dict):
                doc = json.dumps(dict(doc, version=f"v{self.version}"), indent=1)
            self.body = doc
            self.cond.notify_all()

    @property
    def etag(self) -> str:
        return f'"v{self.version}-fake"'

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), f"timed out; requests: {self.requests}"

    def paths(self, path: str) -> list[Request]:
        with self.cond:
            return [r for r in self.requests if r.path == path]

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- serving ---------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        with self.cond:
            self.requests.append(Request(path, {k: v for k, v in h.headers.items()}))
            self.cond.notify_all()
        if h.headers.get("Authorization") != f"Bearer {KEY}":
            return self._error(h, 401, "unauthorized", "a valid key is required")
        if path == "/sdk/config":
            if self.config_status is not None:
                return self._error(h, self.config_status, "store_unavailable", "try later")
            if self.hang_config:
                with self.cond:
                    self.cond.wait_for(lambda: self.stopping, 30)
                return None
            with self.cond:
                body, etag = self.body.encode(), self.etag
            if h.headers.get("If-None-Match") == etag:
                h.send_response(304)
                h.send_header("ETag", etag)
                h.send_header("Content-Length", "0")
                h.end_headers()
                return None
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("ETag", etag)
            if self.gzip_config and "gzip" in h.headers.get("Accept-Encoding", ""):
                body = b"not gzip" if self.bad_gzip else gzip.compress(body)
                h.send_header("Content-Encoding", "gzip")
                h.send_header("Vary", "Accept-Encoding")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return None
        if path == "/sdk/stream":
            if self.stream_status is not None:
                return self._error(h, self.stream_status, "unavailable", "no streams today")
            return self._stream(h)
        return self._error(h, 404, "not_found", path)

    def _handle_usage(self, h: BaseHTTPRequestHandler) -> None:
        raw = h.rfile.read(int(h.headers.get("Content-Length", "0")))
        post = UsagePost(h.path, {k: v for k, v in h.headers.items()}, raw)
        with self.cond:
            answer = self.usage_script.pop(0) if self.usage_script else 204
            post.status, extra = answer if isinstance(answer, tuple) else (answer, {})
            self.usage.append(post)
            self.cond.notify_all()
        if h.headers.get("Authorization") != f"Bearer {KEY}":
            post.status = 401
        if h.path != "/sdk/usage":
            post.status = 404
        if post.status == 204:
            h.send_response(204)
            h.end_headers()
            return None
        return self._error(h, post.status, f"fake_{post.status}", "scripted", extra)

    def _error(
        self, h: BaseHTTPRequestHandler, status: int, code: str, message: str, headers: Optional[dict[str, str]] = None
    ) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _stream(self, h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        nl = "\r\n" if self.crlf else "\n"

        def chunk(text: str) -> None:
            # Small chunks, so events and lines arrive cut at arbitrary places.
            data = text.encode()
            for i in range(0, len(data), 23):
                part = data[i : i + 23]
                h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            h.wfile.flush()

        last = h.headers.get("Last-Event-ID")
        sent: Optional[int] = int(last) if last and last.isdigit() else None
        count = 0
        pinged = time.monotonic()
        try:
            if self.keepalive:
                chunk(f": hello{nl}{nl}")
            if self.retry_ms is not None:
                chunk(f"retry: {self.retry_ms}{nl}{nl}")
            while True:
                with self.cond:
                    self.cond.wait_for(lambda: self.stopping or self.version != sent, 0.2)
                    stopping, version, body = self.stopping, self.version, self.body
                if stopping:
                    break
                if version == sent:
                    if self.ping_every is not None and time.monotonic() - pinged >= self.ping_every:
                        chunk(f": ping{nl}{nl}")
                        pinged = time.monotonic()
                    continue
                lines = [f"event: config", f"id: {version}"]
                for i, line in enumerate(body.split("\n")):
                    lines.append(f"data: {line}")
                    if i == 1 and self.keepalive:
                        lines.append(": a comment inside an event")
                chunk(nl.join(lines) + nl + nl)
                sent, count = version, count + 1
                if self.drop_after is not None and count >= self.drop_after:
                    break
            if not self.drop_abruptly:
                h.wfile.write(b"0\r\n\r\n")
                h.wfile.flush()
        except OSError:
            pass  # the client went away


class UsagePost:
    """One ``POST /sdk/usage`` as received, and its answer's status."""

    def __init__(self, path: str, headers: dict[str, str], raw: bytes) -> None:
        self.path = path
        self.headers = headers
        self.raw = raw
        self.status = 0

    @property
    def counts(self) -> dict[str, int]:
        """The body's counts by flag, checked against the contract (each flag once, in
        order, a positive integer, at most 5,000 entries, no other field)."""
        doc = json.loads(self.raw)
        assert set(doc) == {"flags"}, doc
        entries = doc["flags"]
        assert 0 < len(entries) <= 5000, len(entries)
        for e in entries:
            assert set(e) == {"flag", "evaluations"}, e
            assert isinstance(e["evaluations"], int) and e["evaluations"] > 0, e
        keys = [e["flag"] for e in entries]
        assert keys == sorted(set(keys)), keys
        return {e["flag"]: e["evaluations"] for e in entries}

    def __repr__(self) -> str:
        return f"UsagePost({self.status}, {self.raw[:200]!r})"


# -- POST /events ------------------------------------------------------------------------------

_RFC3339_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_FIELDS = {
    "exposure": ({"type", "message_id", "timestamp", "unit_id", "experiment", "variant"}, {"dimensions"}),
    "track": ({"type", "message_id", "timestamp", "unit_id", "event"}, {"value", "properties"}),
}


def contract_problems(event: Any) -> list[str]:
    """What breaks the ``POST /events`` contract in one event (empty: nothing)."""
    if not isinstance(event, dict) or event.get("type") not in _FIELDS:
        return [f"not an exposure or track event: {event!r}"]
    required, optional = _FIELDS[event["type"]]
    if event["type"] == "exposure" and "holdout" in event:
        # A holdout exposure names the holdout instead of an experiment; its arm is the variant.
        required = required - {"experiment"} | {"holdout"}
        if event.get("variant") not in ("holdout", "exposed"):
            return [f"a holdout exposure's variant is {event.get('variant')!r}"]
    problems = [f"missing {k}" for k in sorted(required - event.keys())]
    problems += [f"unknown field {k}" for k in sorted(event.keys() - required - optional)]
    for k in required - {"timestamp"}:
        if not (isinstance(event.get(k), str) and event[k]):
            problems.append(f"{k} is not a non-empty string")
    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", str(event.get("message_id"))):
        problems.append("message_id is not a version 4 UUID")
    if not _RFC3339_MS.fullmatch(str(event.get("timestamp"))):
        problems.append(f"timestamp {event.get('timestamp')!r} is not RFC 3339 UTC with ms")
    if "value" in event and (isinstance(event["value"], bool) or not isinstance(event["value"], (int, float))):
        problems.append("value is not a number")
    if "properties" in event and not isinstance(event["properties"], dict):
        problems.append("properties is not an object")
    dimensions = event.get("dimensions", {})
    if not (isinstance(dimensions, dict) and all(isinstance(v, str) and v for v in dimensions.values())):
        problems.append("dimensions is not an object of non-empty strings")
    return problems


class Post:
    """One ``POST /events`` as received: headers, the raw and decoded body, and the answer."""

    def __init__(self, headers: dict[str, str], raw: bytes, at: float) -> None:
        self.headers = headers
        self.raw = raw
        self.at = at  # time.monotonic() when it arrived
        self.gzip = headers.get("Content-Encoding") == "gzip"
        self.body: Optional[dict[str, Any]] = None
        self.status = 0

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self.body["events"]) if self.body else []

    @property
    def ids(self) -> list[str]:
        return [e["message_id"] for e in self.events]

    def __repr__(self) -> str:
        return f"Post({self.status}, {len(self.events)} events, gzip={self.gzip})"


class EventSink:
    """A stand-in for the server's ``POST /events`` that keeps every event it takes (each
    ``message_id`` once) and can be told how to answer.

    ``script`` holds answers for the next requests, in order: a status (with a JSON error
    body), ``(status, headers)``, ``"drop"`` (close the connection without an answer),
    ``"close-after"`` (answer 200, then close the idle kept-alive connection) or ``"hang"``
    (hold the request until ``release()`` or ``stop()``). When it is empty, the request is
    read: 413 when it has more than ``max_events`` events or an event with
    ``properties.huge``, else 200 with events whose name is in ``refuse`` rejected."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.posts: list[Post] = []
        self.stored: dict[str, dict[str, Any]] = {}  # message_id -> event, in arrival order
        self.duplicates = 0
        self.problems: list[str] = []  # breaches of the contract, for the tests to assert on
        self.script: list[Union[int, str, tuple[int, dict[str, str]]]] = []
        self.max_events: Optional[int] = None
        self.refuse: set[str] = set()
        self.released = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK wait

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                server._handle(self)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    # -- control ---------------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), f"timed out; posts: {self.posts}"

    def release(self) -> None:
        with self.cond:
            self.released = True
            self.cond.notify_all()

    def stop(self) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()

    def stored_events(self, **match: Any) -> list[dict[str, Any]]:
        with self.cond:
            return [e for e in self.stored.values() if all(e.get(k) == v for k, v in match.items())]

    # -- serving ---------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        raw = h.rfile.read(int(h.headers.get("Content-Length", "0")))
        post = Post({k: v for k, v in h.headers.items()}, raw, time.monotonic())
        unreadable = None
        try:
            text = gzip.decompress(raw) if post.gzip else raw
            post.body = json.loads(text)
            self._check(post, len(text))
        except (OSError, ValueError) as e:
            unreadable = str(e)
            with self.cond:
                self.problems.append(f"unreadable body: {e}")
        with self.cond:
            self.posts.append(post)
            action = self.script.pop(0) if self.script else None
            self.cond.notify_all()
        if action == "drop":
            h.close_connection = True
            return
        if action == "hang":
            with self.cond:
                self.cond.wait_for(lambda: self.released, 30)
            h.close_connection = True
            return
        if isinstance(action, (int, tuple)):
            status, headers = action if isinstance(action, tuple) else (action, {})
            post.status = status
            return self._answer(h, status, {"error": {"code": f"fake_{status}", "message": "scripted"}}, headers)
        if h.path != "/events" or h.headers.get("Authorization") != f"Bearer {KEY}":
            post.status = 401 if h.path == "/events" else 404
            return self._answer(h, post.status, {"error": {"code": "unauthorized", "message": "no"}})
        if unreadable is not None:
            post.status = 400
            return self._answer(h, 400, {"error": {"code": "invalid_json", "message": unreadable}})
        events = post.events
        if (self.max_events is not None and len(events) > self.max_events) or any(
            (e.get("properties") or {}).get("huge") for e in events
        ):
            post.status = 413
            return self._answer(h, 413, {"error": {"code": "payload_too_large", "message": "split it"}})
        rejected = []
        accepted = duplicates = 0
        with self.cond:
            for i, e in enumerate(events):
                if e.get("event") in self.refuse:
                    rejected.append(
                        {"index": i, "code": "invalid_value", "path": f"events[{i}].event", "message": f"refused {e['event']}"}
                    )
                elif e["message_id"] in self.stored:
                    duplicates += 1
                    self.duplicates += 1
                else:
                    accepted += 1
                    self.stored[e["message_id"]] = e
            post.status = 200
            self.cond.notify_all()
        self._answer(h, 200, {"accepted": accepted, "duplicates": duplicates, "rejected": rejected})
        if action == "close-after":
            h.close_connection = True

    def _check(self, post: Post, size: int) -> None:
        problems = []
        if post.headers.get("Content-Type") != "application/json":
            problems.append(f"Content-Type {post.headers.get('Content-Type')!r}")
        body = post.body
        if not isinstance(body, dict) or set(body) != {"sent_at", "events"} or not isinstance(body["events"], list):
            problems.append(f"not an envelope: {body!r:.200}")
        else:
            if not _RFC3339_MS.fullmatch(str(body["sent_at"])):
                problems.append(f"sent_at {body['sent_at']!r}")
            if len(body["events"]) > 2500 or size > 1024 * 1024:
                problems.append(f"{len(body['events'])} events, {size} bytes")
            for e in body["events"]:
                problems += contract_problems(e)
        with self.cond:
            self.problems += problems

    def _answer(
        self, h: BaseHTTPRequestHandler, status: int, doc: dict[str, Any], headers: Optional[dict[str, str]] = None
    ) -> None:
        body = json.dumps(doc).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
