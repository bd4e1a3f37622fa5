#!/usr/bin/env python3
"""Generates the shared webhook fixtures ``fixtures/webhooks/signatures.json``.

The scheme (``docs/webhooks.md``): a delivery carries ``Litmus-Signature: t=<unix seconds>,v1=<hex>``,
``<hex>`` the lowercase hex of HMAC-SHA256, keyed by the webhook secret's UTF-8 bytes, of the
``t`` text, a ``.`` and the raw body bytes. The Rust core (``litmus_core::webhooks``), the Python
package (``litmus.webhooks``) and the npm package (``signWebhook``, ``verifyWebhook``) run every
case; the Rust core alone runs the retry schedule's.

The expected values are computed independently of the Rust code, with Python's standard
library only: signatures with ``hmac``/``hashlib``; each verification outcome is stated by hand
from the way its case is built, and checked against a small reference verifier written here
from the documented rules (``reference_verify``); retry times from the documented formula.

Usage: ``gen_webhooks.py [--out DIR]`` (default: REPO/fixtures/webhooks). The output is
deterministic; ``test_webhooks_fresh.py`` checks the committed file is up to date.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import pathlib
import sys
from typing import Any, Optional

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "fixtures" / "webhooks"
FILE = "signatures.json"

DEFAULT_TOLERANCE_S = 300
I64_MAX = 2**63 - 1
BASE_DELAY_MS = 30_000
MAX_DELAY_MS = 4 * 3_600_000
GIVE_UP_AFTER_MS = 30 * 3_600_000
MAX_JITTER = 1.0 - 2.0**-53
ERRORS = ("invalid_argument", "signature_missing", "signature_malformed", "signature_expired",
          "signature_mismatch")

# A secret as the server makes them ("whsec_" and 32 random bytes in hex; fixed here).
SECRET = "whsec_" + hashlib.sha256(b"litmus webhook fixture secret").hexdigest()
OLD_SECRET = "whsec_" + hashlib.sha256(b"litmus webhook fixture secret, rotated out").hexdigest()
T = 1_767_225_600  # 2026-01-01T00:00:00Z
BODY = ('{"id":"evt_01JGZ6Q4N8","type":"experiment.started","created_at":"2026-01-01T00:00:00Z",'
        '"data":{"experiment":"checkout-button","environment":"production"}}').encode()


# ---------------------------------------------------------------------------------------------
# The scheme, from the standard library


def signature(secret: str, t: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``<t>.<body>`` keyed by the secret's UTF-8 bytes."""
    return hmac.new(secret.encode("utf-8"), t.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def header(secrets: list[str], t: int, body: bytes) -> str:
    return ",".join([f"t={t}"] + [f"v1={signature(s, str(t), body)}" for s in secrets])


def reference_verify(secret: str, text: str, body: bytes, now: int, tolerance: Optional[int]) -> dict:
    """The documented verification rules, written from docs/webhooks.md (not from the Rust)."""
    tolerance = DEFAULT_TOLERANCE_S if tolerance is None else tolerance
    if secret == "" or tolerance < 0:
        return {"error": "invalid_argument"}
    ows = " \t"
    if text.strip(ows) == "":
        return {"error": "signature_missing"}
    t: Optional[str] = None
    v1: list[str] = []
    for entry in text.split(","):
        entry = entry.strip(ows)
        if entry == "":
            continue
        if "=" not in entry:
            return {"error": "signature_malformed"}
        name, value = entry.split("=", 1)
        if name == "t":
            if t is not None or value == "" or any(c not in "0123456789" for c in value) or int(value) > I64_MAX:
                return {"error": "signature_malformed"}
            t = value
        elif name == "v1":
            if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
                return {"error": "signature_malformed"}
            v1.append(value)
    if t is None or not v1:
        return {"error": "signature_malformed"}
    if abs(now - int(t)) > tolerance:
        return {"error": "signature_expired"}
    expected = signature(secret, t, body)
    if any(hmac.compare_digest(expected, v) for v in v1):
        return {"timestamp": int(t)}
    return {"error": "signature_mismatch"}


def reference_next_attempt_ms(attempts_made: int, first_ms: int, now_ms: int, jitter: float) -> Optional[int]:
    """docs/webhooks.md, "Retries": 30 s doubling to 4 h, times 0.8 + 0.4 * jitter, given up
    past 30 h after the first attempt."""
    if attempts_made == 0:
        delay = 0
    else:
        nominal = min(BASE_DELAY_MS * 2 ** min(attempts_made - 1, 10), MAX_DELAY_MS)
        j = min(jitter, MAX_JITTER) if jitter >= 0 else 0.0
        delay = math.floor(nominal * (0.8 + 0.4 * j))
    nxt = now_ms + delay
    return nxt if nxt - first_ms <= GIVE_UP_AFTER_MS else None


# ---------------------------------------------------------------------------------------------
# Cases


def body_fields(body: bytes) -> dict:
    """The body as hex (what the tests use), and as text when it is UTF-8 (for the reader)."""
    out: dict[str, Any] = {"body_hex": body.hex()}
    try:
        out["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return out


def sign_cases() -> list[dict]:
    cases = []

    def add(name: str, secret: str, body: bytes, t: int, expected: Optional[dict] = None) -> None:
        if expected is None:
            expected = {"header": header([secret], t, body)}
        cases.append({"name": name, "secret": secret, "timestamp": t, **body_fields(body), "expected": expected})

    add("a JSON event", SECRET, BODY, T)
    add("an empty body", SECRET, b"", T)
    add("a unicode body (UTF-8 bytes)", SECRET, '{"name":"Zürich ☕","emoji":"🧪"}'.encode(), T)
    add("a body that is not UTF-8", SECRET, bytes(range(256)), T)
    add("a body with a newline at the end", SECRET, BODY + b"\n", T)
    add("a unicode secret (its UTF-8 bytes are the key)", "whsec_clé-🔑", BODY, T)
    add("a secret longer than SHA-256's block (the key is hashed first)", "whsec_" + "ab" * 100, BODY, T)
    add("a secret of one byte", "k", BODY, T)
    add("a secret that is not whsec_ (used as written)", "  spaces kept  ", BODY, T)
    add("timestamp 0", SECRET, BODY, 0)
    add("the largest timestamp", SECRET, BODY, I64_MAX)
    add("an empty secret", "", BODY, T, {"error": "invalid_argument"})
    add("a negative timestamp", SECRET, BODY, -1, {"error": "invalid_argument"})
    return cases


def verify_cases() -> list[dict]:
    cases = []
    sig = signature(SECRET, str(T), BODY)
    other = signature(SECRET, str(T), BODY + b" ")  # well formed, never matching
    good = f"t={T},v1={sig}"

    def add(name: str, text: str, expected: dict, *, secret: str = SECRET, body: bytes = BODY, now: int = T + 5,
            tolerance: Optional[int] = DEFAULT_TOLERANCE_S, signed_with: Optional[list[str]] = None) -> None:
        got = reference_verify(secret, text, body, now, tolerance)
        assert got == expected, (name, got, expected)
        case: dict[str, Any] = {"name": name, "secret": secret, "header": text, **body_fields(body), "now": now,
                                "tolerance": tolerance}
        if signed_with is not None:
            assert header(signed_with, T, body) == text
            case["signed_with"] = signed_with
        case["expected"] = expected
        cases.append(case)

    ok = {"timestamp": T}
    # Valid
    add("valid", good, ok)
    add("valid at the same second", good, ok, now=T)
    add("valid with the default tolerance (tolerance null)", good, ok, tolerance=None)
    add("valid: an empty body", f"t={T},v1={signature(SECRET, str(T), b'')}", ok, body=b"")
    ubody = '{"name":"Zürich ☕","emoji":"🧪"}'.encode()
    add("valid: a unicode body", f"t={T},v1={signature(SECRET, str(T), ubody)}", ok, body=ubody)
    add("valid: a body that is not UTF-8", f"t={T},v1={signature(SECRET, str(T), bytes(range(256)))}", ok,
        body=bytes(range(256)))
    add("valid: a unicode secret", f"t={T},v1={signature('whsec_clé-🔑', str(T), BODY)}", ok, secret="whsec_clé-🔑")
    add("several v1, the second valid", f"t={T},v1={other},v1={sig}", ok)
    add("several v1, the first valid", f"t={T},v1={sig},v1={other}", ok)
    add("rotation: signed with the old and new secrets, verified with the new", header([OLD_SECRET, SECRET], T, BODY),
        ok, signed_with=[OLD_SECRET, SECRET])
    add("rotation: signed with the old and new secrets, verified with the old", header([OLD_SECRET, SECRET], T, BODY),
        ok, secret=OLD_SECRET, signed_with=[OLD_SECRET, SECRET])
    add("v0 ignored", f"t={T},v0={'0' * 64},v1={sig}", ok)
    add("v0 ignored even when not hex", f"t={T},v0=not-hex,v1={sig}", ok)
    add("an unknown scheme with = in its value ignored", f"t={T},v2=a=b,v1={sig}", ok)
    add("v1 before t", f"v1={sig},t={T}", ok)
    add("spaces around entries", f" t={T} ,  v1={sig} ", ok)
    add("tabs around entries", f"\tt={T},\tv1={sig}\t", ok)
    add("a trailing comma (empty entries are skipped)", f"t={T},v1={sig},", ok)
    add("empty entries between", f"t={T},,  ,v1={sig}", ok)
    lead = "0" + str(T)
    add("t with a leading zero, signed as written", f"t={lead},v1={signature(SECRET, lead, BODY)}", ok)
    # Expired, at the tolerance's edges, both ways
    add("now = t + tolerance: valid", good, ok, now=T + 300)
    add("now = t + tolerance + 1: expired", good, {"error": "signature_expired"}, now=T + 301)
    add("now = t - tolerance: valid (the sender's clock ahead)", good, ok, now=T - 300)
    add("now = t - tolerance - 1: expired", good, {"error": "signature_expired"}, now=T - 301)
    add("default tolerance: now = t + 300 valid", good, ok, now=T + 300, tolerance=None)
    add("default tolerance: now = t + 301 expired", good, {"error": "signature_expired"}, now=T + 301, tolerance=None)
    add("default tolerance: now = t - 301 expired", good, {"error": "signature_expired"}, now=T - 301, tolerance=None)
    add("tolerance 60: now = t + 60 valid", good, ok, now=T + 60, tolerance=60)
    add("tolerance 60: now = t + 61 expired", good, {"error": "signature_expired"}, now=T + 61, tolerance=60)
    add("tolerance 0: the same second only", good, {"error": "signature_expired"}, now=T + 1, tolerance=0)
    add("tolerance 0 at the same second", good, ok, now=T, tolerance=0)
    add("a day old", good, {"error": "signature_expired"}, now=T + 86_400)
    add("expired is reported before a mismatch", f"t={T},v1={other}", {"error": "signature_expired"}, now=T + 301)
    add("the largest t, far from now: expired", f"t={I64_MAX},v1={signature(SECRET, str(I64_MAX), BODY)}",
        {"error": "signature_expired"})
    # Malformed
    mal = {"error": "signature_malformed"}
    add("no t", f"v1={sig}", mal)
    add("t empty", f"t=,v1={sig}", mal)
    add("t not a number", f"t=yesterday,v1={sig}", mal)
    add("t a decimal number", f"t={T}.5,v1={sig}", mal)
    add("t negative", f"t=-{T},v1={sig}", mal)
    add("t with a plus sign", f"t=+{T},v1={sig}", mal)
    add("t with a space after =", f"t= {T},v1={sig}", mal)
    add("t with a space before = (then no t)", f"t ={T},v1={sig}", mal)
    add("t in unicode digits", "t=١٧٦٧٢٢٥٦٠٠,v1=" + sig, mal)
    add("t past a signed 64-bit integer", f"t={I64_MAX + 1},v1={sig}", mal)
    add("t twice", f"t={T},t={T},v1={sig}", mal)
    add("no v1", f"t={T}", mal)
    add("only v0", f"t={T},v0={sig}", mal)
    add("v1 empty", f"t={T},v1=", mal)
    add("v1 of 63 hex digits", f"t={T},v1={sig[:-1]}", mal)
    add("v1 of 65 hex digits", f"t={T},v1={sig}0", mal)
    add("v1 in uppercase hex", f"t={T},v1={sig.upper()}", mal)
    add("v1 with a non-hex digit", f"t={T},v1={sig[:-1]}g", mal)
    add("v1 with a non-ASCII character", f"t={T},v1={sig[:-2]}é", mal)
    add("a malformed v1 beside a valid one", f"t={T},v1={sig},v1=xyz", mal)
    add("an entry without =", f"t={T},v1={sig},junk", mal)
    add("semicolons instead of commas", f"t={T};v1={sig}", mal)
    add("malformed is reported before expired", f"v1={sig}", mal, now=T + 10_000)
    # Missing
    add("an empty header", "", {"error": "signature_missing"})
    add("a blank header", " \t ", {"error": "signature_missing"})
    # Mismatch
    mis = {"error": "signature_mismatch"}
    flipped = bytearray(BODY)
    flipped[10] ^= 0x01
    add("a changed body byte", good, mis, body=bytes(flipped))
    add("a body with a newline added", good, mis, body=BODY + b"\n")
    add("an empty body instead", good, mis, body=b"")
    add("the wrong secret", good, mis, secret=OLD_SECRET)
    add("the secret without its whsec_ prefix", good, mis, secret=SECRET.removeprefix("whsec_"))
    add("a signature of another timestamp", f"t={T + 1},v1={sig}", mis)
    add("t with a leading zero, signed without it", f"t={lead},v1={sig}", mis)
    add("several v1, none valid", f"t={T},v1={other},v1={'0' * 64}", mis)
    add("rotation: neither secret", header([OLD_SECRET, SECRET], T, BODY), mis, secret="whsec_other",
        signed_with=[OLD_SECRET, SECRET])
    # Bad arguments
    add("an empty secret", good, {"error": "invalid_argument"}, secret="")
    add("a negative tolerance", good, {"error": "invalid_argument"}, tolerance=-1)
    return cases


def retry_cases() -> list[dict]:
    cases = []
    first = 1_767_225_600_000

    def add(name: str, attempts_made: int, first_ms: int, now_ms: int, jitter: float) -> None:
        expected = reference_next_attempt_ms(attempts_made, first_ms, now_ms, jitter)
        cases.append({"name": name, "attempts_made": attempts_made, "first_ms": first_ms, "now_ms": now_ms,
                      "jitter": jitter, "expected": expected})

    add("no attempt yet: now", 0, first, first, 0.5)
    for n in range(1, 13):
        add(f"after {n} failed attempt{'s' if n > 1 else ''}, jitter 0.5 (the nominal delay)", n, first, first, 0.5)
    add("after 1000 failed attempts: the cap", 1000, first, first, 0.5)
    add("after 4294967295 failed attempts: the cap", 2**32 - 1, first, first, 0.5)
    for j in (0.0, 0.25, 0.999999):
        add(f"after 3 failed attempts, jitter {j}", 3, first, first, j)
        add(f"after 11 failed attempts, jitter {j}", 11, first, first, j)
    add("jitter just below 1", 1, first, first, MAX_JITTER)
    add("jitter 1 is clamped below 1", 1, first, first, 1.0)
    add("jitter 2.5 is clamped below 1", 1, first, first, 2.5)
    add("a negative jitter is clamped to 0", 1, first, first, -0.5)
    add("now after the first attempt: the delay counts from now", 2, first, first + 45_000, 0.5)
    add("the next attempt exactly 30 h after the first: made", 1, first, first + GIVE_UP_AFTER_MS - 30_000, 0.5)
    add("the next attempt 30 h and 1 ms after the first: given up", 1, first, first + GIVE_UP_AFTER_MS - 29_999, 0.5)
    add("at the cap, 26 h in: made", 12, first, first + 26 * 3_600_000, 0.5)
    add("at the cap, 26 h 1 ms in: given up", 12, first, first + 26 * 3_600_000 + 1, 0.5)
    add("at the cap, 26 h 1 ms in, jitter 0: made", 12, first, first + 26 * 3_600_000 + 1, 0.0)
    add("now before the first attempt (a clock step back)", 1, first, first - 60_000, 0.5)
    add("timestamps at 0", 1, 0, 0, 0.5)
    # A whole schedule: each attempt fails at once, jitter 0.5.
    now, n = first, 1
    while True:
        nxt = reference_next_attempt_ms(n, first, now, 0.5)
        add(f"schedule at jitter 0.5: after attempt {n}", n, first, now, 0.5)
        if nxt is None:
            break
        now, n = nxt, n + 1
    return cases


def generate() -> str:
    doc = {
        "name": "signatures",
        "description": (
            "Webhook signatures and retries (docs/webhooks.md), generated by scripts/spec/gen_webhooks.py with Python's "
            "hmac and hashlib. `sign`: sign(secret, body, timestamp) -> the Litmus-Signature value, or an error code. "
            "`verify`: verify(secret, header, body, now, tolerance) -> the signed timestamp, or an error code (tolerance "
            "null: the default, 300 s; `signed_with`: the secrets the header was signed with, in order). Bodies are "
            "bytes: `body_hex` (with `body`, its text, when it is UTF-8). `retry`: next_attempt_ms(attempts_made, "
            "first_ms, now_ms, jitter) -> the next attempt's time in ms, or null to give up."
        ),
        "default_tolerance_s": DEFAULT_TOLERANCE_S,
        "sign": sign_cases(),
        "verify": verify_cases(),
        "retry": retry_cases(),
    }
    for section in ("sign", "verify", "retry"):
        names = [c["name"] for c in doc[section]]
        assert len(names) == len(set(names)), f"{section}: duplicate case names"
    for c in doc["sign"] + doc["verify"]:
        assert "error" not in c["expected"] or c["expected"]["error"] in ERRORS, c
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    text = generate()
    (args.out / FILE).write_text(text, encoding="utf-8")
    doc = json.loads(text)
    print(f"{FILE}: {len(doc['sign'])} signing, {len(doc['verify'])} verification, {len(doc['retry'])} retry cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
