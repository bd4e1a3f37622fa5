"""An in-process stand-in for litmus-server's SDK routes (``/sdk/config`` with ETags,
``/sdk/stream`` as Server-Sent Events), with knobs to misbehave, for test_client.py."""

from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional, Union

KEY = "sdk-test-key"


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
        self.drop_after: Optional[int] = None  # end each stream after this many events
        self.drop_abruptly = False  # ... without the closing chunk
        self.keepalive = True  # send comments on the stream
        self.crlf = False  # end stream lines with CRLF
        self.retry_ms: Optional[int] = None
        self.stopping = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

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
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return None
        if path == "/sdk/stream":
            if self.stream_status is not None:
                return self._error(h, self.stream_status, "unavailable", "no streams today")
            return self._stream(h)
        return self._error(h, 404, "not_found", path)

    def _error(self, h: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        h.send_response(status)
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
