"""litmus.ConfigClient against an in-process fake of the server's SDK routes (fake_litmus.py),
and against the real litmus-server binary when LITMUS_SERVER_BIN names one."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Iterator, Optional

import pytest

import litmus
from litmus import ConfigClient
from fake_litmus import KEY, FakeServer, config, free_port, returns

# Short intervals so every test takes well under a second on a quiet machine; each waits on
# a condition (with a generous deadline), never for a fixed time.
FAST: dict[str, Any] = {"poll_interval": 0.05, "max_backoff": 0.05, "timeout": 2.0}
MODES = ["stream", "poll"]


class Recorder:
    """Collects on_update versions and on_error errors; lets a test wait for them."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.versions: list[Optional[str]] = []
        self.errors: list[Exception] = []

    def update(self, engine: litmus.Engine) -> None:
        with self.cond:
            self.versions.append(engine.version)
            self.cond.notify_all()

    def error(self, error: Exception) -> None:
        with self.cond:
            self.errors.append(error)
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), (self.versions, self.errors)

    def wait_version(self, version: str) -> None:
        self.wait_for(lambda: version in self.versions)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer()
    s.publish(config(0, "first"))
    yield s
    s.stop()


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


def client(url: str, rec: Recorder, mode: str = "stream", key: str = KEY, **kw: Any) -> ConfigClient:
    options = dict(FAST, **kw)
    return ConfigClient(url, key, mode=mode, on_update=rec.update, on_error=rec.error, **options)


def variant(c: ConfigClient, experiment: str) -> Optional[str]:
    return c.engine.assign(experiment, "user-1").variant


# -- basics ------------------------------------------------------------------------------------


def test_is_exported_with_its_errors() -> None:
    assert litmus.ConfigClient is ConfigClient
    assert "ConfigClient" in litmus.__all__
    assert issubclass(litmus.AuthError, litmus.ServerError)
    assert issubclass(litmus.ServerError, litmus.LitmusError)
    assert issubclass(litmus.UnavailableError, ConnectionError)
    assert issubclass(litmus.NotReadyError, litmus.LitmusError)


@pytest.mark.parametrize(
    "args",
    [
        ("ftp://x", KEY, {}),
        ("http://", KEY, {}),
        ("http://x", "", {}),
        ("http://x", "a\nb", {}),
        ("http://x", KEY, {"mode": "push"}),
        ("http://x", KEY, {"poll_interval": 0}),
        ("http://x", KEY, {"timeout": float("nan")}),
        ("http://x:99999", KEY, {}),
    ],
)
def test_rejects_bad_arguments(args: tuple[str, str, dict[str, Any]]) -> None:
    url, key, kw = args
    with pytest.raises(litmus.InvalidArgumentError):
        ConfigClient(url, key, **kw)


def test_no_config_at_all_is_a_clear_error(rec: Recorder) -> None:
    with client(f"http://127.0.0.1:{free_port()}", rec) as c:
        assert not c.wait_ready(0)
        with pytest.raises(litmus.NotReadyError) as e:
            c.engine
        assert e.value.code == "not_ready"
        assert c.version is None and c.stale
        assert isinstance(c.last_error, litmus.UnavailableError)
        assert c.last_error.code == "unavailable"
        assert isinstance(c.last_error.__cause__, OSError)


# -- polling and ETags ---------------------------------------------------------------------------


def test_polls_with_etag_and_304(server: FakeServer, rec: Recorder) -> None:
    with client(server.url, rec, mode="poll") as c:
        assert c.wait_ready(0) and c.version == "v1" and not c.stale
        server.wait_for(lambda: len(server.requests) >= 4)
    polls = server.paths("/sdk/config")
    assert "If-None-Match" not in polls[0].headers
    assert all(r.headers.get("If-None-Match") == '"v1-fake"' for r in polls[1:])
    assert polls[0].headers["Authorization"] == f"Bearer {KEY}"
    assert polls[0].headers["User-Agent"].startswith("litmus-python/")
    assert rec.versions == ["v1"], "a 304 changes nothing"
    assert server.paths("/sdk/stream") == []


def test_config_arrives_gzipped_when_the_server_compresses(server: FakeServer, rec: Recorder) -> None:
    server.gzip_config = True
    with client(server.url, rec, mode="poll") as c:
        assert c.wait_ready(0) and c.version == "v1" and not c.stale
    assert server.paths("/sdk/config")[0].headers["Accept-Encoding"] == "gzip"
    assert rec.versions == ["v1"]


def test_a_body_that_is_not_the_gzip_it_claims_is_a_bad_response(server: FakeServer, rec: Recorder) -> None:
    server.gzip_config = server.bad_gzip = True
    with client(server.url, rec, mode="poll") as c:
        assert not c.wait_ready(0)
        assert c.last_error is not None
    assert rec.versions == []


def test_polling_picks_up_a_change(server: FakeServer, rec: Recorder) -> None:
    with client(server.url, rec, mode="poll") as c:
        first = c.engine
        assert variant(c, "first") == "on-first" and variant(c, "second") is None
        server.publish(config(0, "first", "second"))
        rec.wait_version("v2")
        assert c.version == "v2" and not c.stale and c.last_error is None
        assert variant(c, "second") == "on-second"
        assert first is c.engine and first.version == "v2", "one engine, updated in place"


# -- streaming -----------------------------------------------------------------------------------


@pytest.mark.parametrize("crlf", [False, True])
def test_stream_picks_up_a_change(server: FakeServer, rec: Recorder, crlf: bool) -> None:
    server.crlf = crlf  # multi-line data, comments inside events, cut into 23-byte chunks
    with client(server.url, rec) as c:
        server.wait_for(lambda: len(server.paths("/sdk/stream")) == 1)
        assert server.paths("/sdk/stream")[0].headers["Last-Event-ID"] == "1"
        assert server.paths("/sdk/stream")[0].headers["Accept"] == "text/event-stream"
        server.publish(config(0, "first", "second"))
        rec.wait_version("v2")
        server.publish(config(0, "third"))
        rec.wait_version("v3")
        assert variant(c, "third") == "on-third" and variant(c, "first") is None
        assert not c.stale
    assert rec.versions == ["v1", "v2", "v3"]
    assert len(server.paths("/sdk/config")) == 1, "a working stream needs no polling"
    assert len(server.paths("/sdk/stream")) == 1


def test_stream_without_a_first_fetch_takes_the_first_event(server: FakeServer, rec: Recorder) -> None:
    server.config_status = 503  # /sdk/config fails; the stream alone delivers
    with client(server.url, rec, poll_interval=60) as c:
        rec.wait_version("v1")
        assert "Last-Event-ID" not in server.paths("/sdk/stream")[0].headers
        assert c.version == "v1" and not c.stale
        assert isinstance(rec.errors[0], litmus.ServerError) and rec.errors[0].status == 503
        assert rec.errors[0].code == "store_unavailable"


@pytest.mark.parametrize("abrupt", [False, True])
def test_stream_reconnects_with_last_event_id(server: FakeServer, rec: Recorder, abrupt: bool) -> None:
    server.drop_after, server.drop_abruptly = 1, abrupt
    server.retry_ms = 10
    with client(server.url, rec, max_backoff=5.0) as c:  # the server's retry (10 ms) rules
        server.wait_for(lambda: len(server.paths("/sdk/stream")) == 1)
        server.publish(config(0, "second"))  # sent, then the stream is dropped
        rec.wait_version("v2")
        server.wait_for(lambda: any(r.headers.get("Last-Event-ID") == "2" for r in server.paths("/sdk/stream")))
        server.publish(config(0, "third"))
        rec.wait_version("v3")
        assert variant(c, "third") == "on-third"
    assert rec.versions == ["v1", "v2", "v3"]
    # Cut off cleanly or not, a stream is routine (a deploy, a proxy): the fetch that follows
    # a broken one decides, and it went well (docs/sdk-protocol.md).
    assert rec.errors == [], "a stream cut off is not an error"


def test_polls_while_the_stream_is_down(server: FakeServer, rec: Recorder) -> None:
    server.stream_status = 502
    with client(server.url, rec, max_backoff=0.2) as c:
        server.wait_for(lambda: len(server.paths("/sdk/config")) >= 3)
        server.publish(config(0, "second"))
        rec.wait_version("v2")
        assert not c.stale, "the polls succeed"
    assert all(r.headers.get("If-None-Match") for r in server.paths("/sdk/config")[1:])
    assert isinstance(rec.errors[0], litmus.ServerError) and rec.errors[0].status == 502


def test_a_silent_stream_is_reopened(server: FakeServer, rec: Recorder) -> None:
    server.keepalive = False
    with client(server.url, rec, idle_timeout=0.1) as c:
        server.wait_for(lambda: len(server.paths("/sdk/stream")) >= 2)
        assert c.version == "v1"
    assert any("nothing for 100 ms" in str(e) for e in rec.errors)


# -- bootstrap, cache, bad configs ------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_bootstrap_when_the_server_is_down_then_the_server(
    tmp_path: pathlib.Path, rec: Recorder, mode: str
) -> None:
    boot = tmp_path / "boot.json"
    boot.write_text(json.dumps(dict(config(0, "boot"), version="bootstrap-1")))
    port = free_port()
    with client(f"http://127.0.0.1:{port}", rec, mode=mode, bootstrap=boot) as c:
        assert c.version == "bootstrap-1" and c.stale  # assignable at once
        assert variant(c, "boot") == "on-boot"
        assert isinstance(c.last_error, litmus.UnavailableError)
        server = FakeServer(port)
        try:
            server.publish(config(0, "live"))
            rec.wait_version("v1")
            assert variant(c, "live") == "on-live" and not c.stale and c.last_error is None
        finally:
            c.close()
            server.stop()
    assert rec.versions == ["bootstrap-1", "v1"]


def test_cache_is_written_and_used_when_the_server_is_down(
    server: FakeServer, tmp_path: pathlib.Path, rec: Recorder
) -> None:
    cache = tmp_path / "cache" / "litmus.json"
    cache.parent.mkdir()
    boot = tmp_path / "boot.json"
    boot.write_text(json.dumps(dict(config(0, "boot"), version="bootstrap-1")))
    with client(server.url, rec, mode="poll", cache_path=cache, bootstrap=boot):
        assert cache.read_text() == server.body
        server.publish(config(0, "second"))
        rec.wait_version("v2")
        assert cache.read_text() == server.body
    assert os.listdir(cache.parent) == ["litmus.json"], "no temporary file left behind"
    server.stop()
    again = Recorder()
    with client(server.url, again, mode="poll", cache_path=cache, bootstrap=boot) as c:
        assert c.version == "v2" and c.stale, "the cache is newer than the bootstrap file"
        assert variant(c, "second") == "on-second"


@pytest.mark.parametrize(("cached", "boot", "served"), [(2, 5, "boot"), (5, 2, "cached"), (3, 3, "cached")])
def test_the_newer_of_cache_and_bootstrap_is_served(
    tmp_path: pathlib.Path, rec: Recorder, cached: int, boot: int, served: str
) -> None:
    (tmp_path / "cache.json").write_text(json.dumps(config(cached, "cached")))
    (tmp_path / "boot.json").write_text(json.dumps(config(boot, "boot")))
    with client(
        f"http://127.0.0.1:{free_port()}", rec, cache_path=tmp_path / "cache.json",
        bootstrap=tmp_path / "boot.json",
    ) as c:
        assert c.version == f"v{max(cached, boot)}" and c.stale
        assert variant(c, served) == f"on-{served}"


def test_the_engine_is_updated_in_place(server: FakeServer, rec: Recorder) -> None:
    with client(server.url, rec) as c:
        first = c.engine
        server.publish(config(0, "second"))
        rec.wait_version("v2")
        assert c.engine is first, "one engine: its exposure memory and sticky store carry over"
        assert variant(c, "second") == "on-second"


def test_unreadable_fallbacks_are_reported(tmp_path: pathlib.Path, rec: Recorder) -> None:
    (tmp_path / "cache.json").write_text("{not json")
    with client(
        f"http://127.0.0.1:{free_port()}", rec, cache_path=tmp_path / "cache.json",
        bootstrap=tmp_path / "missing.json",
    ) as c:
        assert not c.wait_ready(0)
        kinds = [type(e) for e in rec.errors]
        assert litmus.ConfigError in kinds and FileNotFoundError in kinds


@pytest.mark.parametrize("mode", MODES)
def test_a_bad_config_keeps_the_good_engine(server: FakeServer, rec: Recorder, mode: str) -> None:
    with client(server.url, rec, mode=mode) as c:
        good = c.engine
        server.publish('{"schema_version": 99, "version": "v2", "experiments": []}')
        rec.wait_for(lambda: bool(rec.errors))
        [error] = rec.errors
        assert isinstance(error, litmus.ConfigError) and error.code == "unsupported_schema_version"
        assert c.engine is good and c.version == "v1"
        assert c.stale and c.last_error is error
        if mode == "poll":
            n = len(server.requests)
            server.wait_for(lambda: len(server.requests) >= n + 2)
            assert server.paths("/sdk/config")[-1].headers["If-None-Match"] == '"v2-fake"'
            assert len(rec.errors) == 1, "a refused config is not downloaded again"
        server.publish(config(0, "third"))
        rec.wait_version("v3")
        assert c.version == "v3" and not c.stale and c.last_error is None


# -- errors, callbacks, closing ------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_unauthorized_is_surfaced_without_spinning(server: FakeServer, rec: Recorder, mode: str) -> None:
    c = client(server.url, rec, mode=mode, key="wrong", poll_interval=0.01, max_backoff=60)
    with c:
        assert isinstance(c.last_error, litmus.AuthError)
        assert (c.last_error.code, c.last_error.status) == ("unauthorized", 401)
        with pytest.raises(litmus.NotReadyError, match="unauthorized"):
            c.engine
        # The next attempt waits max_backoff (60 s), not poll_interval (10 ms).
        time.sleep(0.3)
        assert len(server.requests) == 1
    assert len(rec.errors) == 1


def test_callbacks_that_raise_do_not_stop_the_client(server: FakeServer, rec: Recorder) -> None:
    def boom(engine: litmus.Engine) -> None:
        rec.update(engine)
        raise RuntimeError("callback bug")

    with ConfigClient(server.url, KEY, on_update=boom, **FAST) as c:
        server.publish(config(0, "second"))
        rec.wait_version("v2")
        assert c.version == "v2"


@pytest.mark.parametrize("mode", MODES)
def test_close_is_prompt(server: FakeServer, rec: Recorder, mode: str) -> None:
    # With an hour-long timeout, a close() that waited for the stream or the request to end
    # would block for the hour: returning at all shows that it aborts them.
    c = client(server.url, rec, mode=mode, poll_interval=0.01, timeout=3600.0, idle_timeout=3600.0).start()
    if mode == "stream":
        server.wait_for(lambda: len(server.paths("/sdk/stream")) == 1)  # an open stream
    else:
        server.hang_config = True  # a request in flight
        n = len(server.paths("/sdk/config"))
        server.wait_for(lambda: len(server.paths("/sdk/config")) > n)
    returns(c.close, f"close() with {'an open stream' if mode == 'stream' else 'a request in flight'}")
    assert c._thread is not None and not c._thread.is_alive()
    assert rec.errors == [], "closing is not an error"
    assert c.version == "v1", "the engine stays usable"
    c.close()
    with pytest.raises(litmus.LitmusError, match="closed"):
        c.start()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_restarts_the_refresh_thread(server: FakeServer, rec: Recorder) -> None:
    with client(server.url, rec) as c:
        server.wait_for(lambda: len(server.paths("/sdk/stream")) == 1)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            ok = False
            try:
                assert c.engine.version == "v1"  # restarts the thread
                deadline = time.monotonic() + 10
                while c.version != "v2" and time.monotonic() < deadline:
                    time.sleep(0.01)
                ok = c.version == "v2"
            finally:
                os._exit(0 if ok else 1)
        server.publish(config(0, "second"))
        rec.wait_version("v2")  # the parent's stream is unharmed
        _, status = os.waitpid(pid, 0)
        assert status == 0


# -- the real server -----------------------------------------------------------------------------

ADMIN = "admin-test-key"


@pytest.fixture
def real_server(tmp_path: pathlib.Path) -> Iterator[str]:
    binary = os.environ.get("LITMUS_SERVER_BIN")
    if not binary:
        pytest.skip("LITMUS_SERVER_BIN is not set (scripts/test-python.sh sets it)")
    port = free_port()
    (tmp_path / "data").mkdir()
    env = dict(
        os.environ, LITMUS_LISTEN=f"127.0.0.1:{port}", LITMUS_DATA=str(tmp_path / "data"),
        LITMUS_ADMIN_KEY=ADMIN, RUST_LOG="warn",
    )
    for shared in ("DATABASE_URL", "REDIS_URL"):  # the embedded store, whatever the caller has
        env.pop(shared, None)
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"litmus-server did not start: {proc.stderr.read() if proc.stderr else ''}")
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def put_experiment(url: str, key: str) -> None:
    body = {"key": key, "salt": f"{key}-salt", "status": "running", "variants": [{"key": "solo"}]}
    req = urllib.request.Request(
        f"{url}/admin/experiments/{key}", data=json.dumps(body).encode(), method="PUT",
        headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200, r.read()


def test_real_server_stream_and_poll_clients_see_a_new_version(real_server: str) -> None:
    streamed, polled = Recorder(), Recorder()
    with client(real_server, streamed, key=ADMIN) as s, client(real_server, polled, "poll", key=ADMIN) as p:
        assert s.version == p.version == "v0" and not s.stale and not p.stale
        assert variant(s, "checkout") is None
        put_experiment(real_server, "checkout")
        streamed.wait_version("v1")
        polled.wait_version("v1")
        for c in (s, p):
            a = c.engine.assign("checkout", "user-42")
            assert (a.variant, a.in_experiment, c.version) == ("solo", True, "v1")
        assert streamed.errors == [] and polled.errors == []


def test_real_server_refuses_a_wrong_key(real_server: str, tmp_path: pathlib.Path) -> None:
    boot = tmp_path / "boot.json"
    boot.write_text(json.dumps(config(7, "boot")))
    rec = Recorder()
    with client(real_server, rec, key="wrong", bootstrap=boot, max_backoff=60) as c:
        assert isinstance(c.last_error, litmus.AuthError) and c.last_error.code == "unauthorized"
        assert c.version == "v7" and c.stale and variant(c, "boot") == "on-boot"


def admin(url: str, method: str, path: str, body: Optional[dict[str, Any]] = None) -> Any:
    req = urllib.request.Request(
        f"{url}{path}", data=None if body is None else json.dumps(body).encode(), method=method,
        headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def test_real_server_takes_the_flag_usage_reports(real_server: str) -> None:
    admin(real_server, "PUT", "/admin/flags/dark-mode", {"key": "dark-mode", "type": "boolean", "default": False})
    rec = Recorder()
    c = client(real_server, rec, "poll", key=ADMIN).start()
    rec.wait_for(lambda: "dark-mode" in c.engine.flag_keys())
    for i in range(3):
        assert c.engine.boolean_value("dark-mode", f"user-{i}") is False
    c.engine.boolean_value("missing", "user-1")
    c.close()  # the last report, answered 204

    def evaluations() -> Optional[int]:
        rows = admin(real_server, "GET", "/admin/flag-usage")["flags"]
        return next((r["evaluations"] for r in rows if r["flag"] == "dark-mode"), None)

    # The server writes the counts it takes every 10 s: wait for them.
    while evaluations() != 3:
        time.sleep(0.2)
    assert rec.errors == []
