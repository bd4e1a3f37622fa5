"""litmus.webhooks through the installed wheel: every signing and verification case of the
shared fixtures (fixtures/webhooks/signatures.json, made with Python's hmac by
scripts/spec/gen_webhooks.py; the Rust and Node suites run the same file), the error classes,
and real round trips, one through an HTTP receiver built on http.server. The file's retry
cases are the server's schedule: core's tests run them (the packages do not expose it)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import re
import http.server
import threading
import time
from typing import Any, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import litmus
from conftest import REPO, load
from litmus import webhooks
from litmus.errors import InvalidArgumentError, LitmusError, SignatureError

DOC = load("webhooks/signatures.json")


def body(case: dict[str, Any]) -> bytes:
    raw = bytes.fromhex(case["body_hex"])
    if "body" in case:
        assert case["body"].encode("utf-8") == raw
    return raw


def outcome(key: str, f: Any) -> dict[str, Any]:
    try:
        return {key: f()}
    except LitmusError as e:
        return {"error": e.code}


@pytest.mark.parametrize("case", DOC["sign"], ids=[c["name"] for c in DOC["sign"]])
def test_signing_case(case: dict[str, Any]) -> None:
    got = outcome("header", lambda: webhooks.sign(case["secret"], body(case), case["timestamp"]))
    assert got == case["expected"]


@pytest.mark.parametrize("case", DOC["verify"], ids=[c["name"] for c in DOC["verify"]])
def test_verification_case(case: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {"now": case["now"]}
    if case["tolerance"] is not None:
        kwargs["tolerance"] = case["tolerance"]
    got = outcome("timestamp", lambda: webhooks.verify(case["secret"], case["header"], body(case), **kwargs))
    assert got == case["expected"]


def test_the_default_tolerance_is_the_fixtures() -> None:
    assert webhooks.DEFAULT_TOLERANCE == DOC["default_tolerance_s"] == 300


def test_errors_are_signature_errors_with_their_codes() -> None:
    secret, raw = "whsec_test", b"{}"
    header = webhooks.sign(secret, raw, 1_000)
    cases = {
        "signature_missing": lambda: webhooks.verify(secret, None, raw, now=1_000),
        "signature_malformed": lambda: webhooks.verify(secret, "t=x,v1=00", raw, now=1_000),
        "signature_expired": lambda: webhooks.verify(secret, header, raw, now=2_000),
        "signature_mismatch": lambda: webhooks.verify(secret, header, b"{ }", now=1_000),
    }
    for code, call in cases.items():
        with pytest.raises(SignatureError) as info:
            call()
        assert info.value.code == code
        assert isinstance(info.value, ValueError) and isinstance(info.value, litmus.LitmusError)
        assert code in litmus.ERROR_CODES
    with pytest.raises(InvalidArgumentError) as bad:
        webhooks.verify("", header, raw, now=1_000)
    assert bad.value.code == "invalid_argument"
    with pytest.raises(InvalidArgumentError):
        webhooks.verify(secret, header, raw, now=1_000, tolerance=-5)
    with pytest.raises(InvalidArgumentError):
        webhooks.sign(secret, raw, -1)
    assert litmus.SignatureError is SignatureError


def test_bodies_as_bytes_bytearray_memoryview_or_text() -> None:
    secret, text = "whsec_test", '{"name":"Zürich"}'
    header = webhooks.sign(secret, text.encode(), 10)
    for b in (text.encode(), bytearray(text.encode()), memoryview(text.encode()), text):
        assert webhooks.verify(secret, header, b, now=10) == 10
        assert webhooks.sign(secret, b, 10) == header
    with pytest.raises(TypeError):
        webhooks.verify(secret, header, {"name": "Zürich"}, now=10)  # type: ignore[arg-type]


def test_a_round_trip_on_the_clock() -> None:
    """Signed now, verified with the default clock and tolerance."""
    secret = "whsec_" + "5f" * 32
    raw = b'{"id":"evt_1","type":"experiment.started"}'
    t = int(time.time())
    assert webhooks.verify(secret, webhooks.sign(secret, raw, t), raw) == t
    # An hour old: refused by the default tolerance, accepted by a wider one.
    old = webhooks.sign(secret, raw, t - 3600)
    with pytest.raises(SignatureError, match="expired"):
        webhooks.verify(secret, old, raw)
    assert webhooks.verify(secret, old, raw, tolerance=7200) == t - 3600


def test_the_scheme_is_hmac_sha256_of_t_dot_body() -> None:
    """The standard-library verification of docs/webhooks.md accepts what sign() makes."""
    secret, raw, t = "whsec_stdlib", b"payload \xff", 1_767_225_600
    header = webhooks.sign(secret, raw, t)
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])


def docs_python_block(marker: str) -> str:
    """The fenced Python block of docs/webhooks.md that contains ``marker``."""
    text = (REPO / "docs" / "webhooks.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.DOTALL) if marker in b]
    assert len(blocks) == 1, marker
    return blocks[0]


def test_the_docs_standard_library_verifier_agrees_with_the_fixtures() -> None:
    """docs/webhooks.md's hmac/hashlib version, as written: it accepts every delivery the SDK
    accepts (with the same timestamp) and refuses the expired, changed and unsigned ones."""
    scope: dict[str, Any] = {}
    exec(docs_python_block("def verify_litmus_signature"), scope)  # noqa: S102 (our own docs)
    stdlib = scope["verify_litmus_signature"]
    checked = 0
    for case in DOC["verify"]:
        expected = case["expected"]
        if expected.get("error") in ("signature_malformed", "invalid_argument"):
            continue  # the short version is lenient with malformed headers, by design
        tolerance = 300 if case["tolerance"] is None else case["tolerance"]
        try:
            got: Any = stdlib(case["secret"], case["header"], body(case), tolerance, now=case["now"])
        except ValueError:
            got = "refused"
        assert got == expected.get("timestamp", "refused"), case["name"]
        checked += 1
    assert checked >= 40


def test_the_docs_test_example_runs() -> None:
    exec(docs_python_block('webhooks.sign("whsec_test"'), {})  # noqa: S102 (our own docs)


SECRET_CHARS = st.sampled_from(list("whsec_0123456789abcdef XYZ\té€🔑"))


@given(
    secret=st.lists(SECRET_CHARS, min_size=1, max_size=40).map("".join),
    raw=st.binary(max_size=300),
    t=st.integers(0, 2**63 - 1),
)
def test_whatever_is_signed_verifies(secret: str, raw: bytes, t: int) -> None:
    header = webhooks.sign(secret, raw, t)
    assert webhooks.verify(secret, header, raw, now=t, tolerance=0) == t
    with pytest.raises(SignatureError):
        webhooks.verify(secret + "x", header, raw, now=t)


# ---- a receiver on http.server (as in docs/webhooks.md) -----------------------------------------

SECRET = "whsec_" + "ab" * 32


class Receiver(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            webhooks.verify(SECRET, self.headers.get("Litmus-Signature"), raw)
        except SignatureError as e:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(e.code.encode())
            return
        Receiver.received.append({"event": self.headers.get("Litmus-Event-Id"), "body": raw})
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def receiver() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def post(port: int, raw: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    try:
        conn.request("POST", "/hooks/litmus", body=raw, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_a_receiver_on_http_server(receiver: int) -> None:
    Receiver.received.clear()
    raw = '{"id":"evt_7","type":"experiment.started","data":{"experiment":"checkout-button","note":"café"}}'.encode()
    headers = {
        "Content-Type": "application/json",
        "Litmus-Signature": webhooks.sign(SECRET, raw, int(time.time())),
        "Litmus-Event-Id": "evt_7",
        "Litmus-Event-Type": "experiment.started",
        "Litmus-Delivery": "dlv_1",
    }
    assert post(receiver, raw, headers) == (204, b"")
    assert Receiver.received == [{"event": "evt_7", "body": raw}]
    # A changed body, a missing header, the wrong secret: refused with the code.
    assert post(receiver, raw.replace(b"caf", b"CAF"), headers) == (400, b"signature_mismatch")
    assert post(receiver, raw, {"Content-Type": "application/json"}) == (400, b"signature_missing")
    wrong = dict(headers, **{"Litmus-Signature": webhooks.sign("whsec_other", raw, int(time.time()))})
    assert post(receiver, raw, wrong) == (400, b"signature_mismatch")
    assert len(Receiver.received) == 1
