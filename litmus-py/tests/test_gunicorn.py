"""gunicorn's pre-fork model for real: the app (and its Engine) is loaded once in the master
(--preload), then forked into workers that serve assignments over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

pytest.importorskip("gunicorn")

import litmus  # noqa: E402

CONFIG = {
    "schema_version": 1,
    "experiments": [
        {"key": "checkout-button", "salt": "cb-2026", "status": "running",
         "variants": [{"key": "control"}, {"key": "treatment"}]}
    ],
}

APP = textwrap.dedent(
    """
    import json, os
    import litmus

    ENGINE = litmus.Engine(json.loads(os.environ["LITMUS_TEST_CONFIG"]))  # in the master

    def app(environ, start_response):
        unit = environ["PATH_INFO"].lstrip("/")
        a = ENGINE.assign("checkout-button", unit)
        body = json.dumps({"variant": a.variant, "pid": os.getpid()}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_preforked_workers_assign_like_the_parent(tmp_path) -> None:
    (tmp_path / "litmus_app.py").write_text(APP)
    port = free_port()
    env = dict(os.environ, LITMUS_TEST_CONFIG=json.dumps(CONFIG))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--preload", "-w", "3", "-b", f"127.0.0.1:{port}",
         "--chdir", str(tmp_path), "litmus_app:app"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/warmup", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise AssertionError(proc.stdout.read().decode() if proc.stdout else "no output")
                time.sleep(0.2)
        expected = litmus.Engine(CONFIG)
        pids = set()
        for i in range(300):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/user-{i}", timeout=5) as r:
                got = json.loads(r.read())
            pids.add(got["pid"])
            assert got["variant"] == expected.assign("checkout-button", f"user-{i}").variant
        assert proc.poll() is None
        assert len(pids) >= 2, "requests should reach more than one forked worker"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
