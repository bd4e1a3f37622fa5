"""Verifying (and signing) Litmus webhook deliveries (``docs/webhooks.md``).

Each delivery carries ``Litmus-Signature: t=<unix seconds>,v1=<hex>``: the lowercase hex
HMAC-SHA256, keyed by the webhook's secret (its UTF-8 bytes, ``whsec_`` included), of the
timestamp, a ``.`` and the raw request body. While a secret rotates the header carries one
``v1`` per secret. The scheme is the Rust core's (``litmus_core::webhooks``), the same in the
server, this package and the npm package.

>>> from litmus import webhooks
>>> secret = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
>>> body = b'{"type":"experiment.started"}'
>>> header = webhooks.sign(secret, body, 1_767_225_600)
>>> webhooks.verify(secret, header, body, now=1_767_225_660)
1767225600

Verify the body exactly as received, before parsing it: JSON parsed and serialized again
is not the same bytes.
"""

from __future__ import annotations

import time
from typing import Optional, Union

from ._litmus import webhook_sign, webhook_verify

__all__ = ["sign", "verify", "DEFAULT_TOLERANCE", "SIGNATURE_HEADER"]

#: How far (in seconds, either way) a delivery's timestamp may be from now by default.
DEFAULT_TOLERANCE = 300

#: The header carrying the signatures.
SIGNATURE_HEADER = "Litmus-Signature"

Body = Union[bytes, bytearray, memoryview, str]


def _bytes(body: Body) -> bytes:
    """The raw body: bytes as given, a ``str`` as its UTF-8 bytes."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    raise TypeError(f"body must be bytes (the raw request body), not {type(body).__name__}")


def sign(secret: str, body: Body, timestamp: int) -> str:
    """The ``Litmus-Signature`` value for ``body`` signed with ``secret`` at ``timestamp``
    (unix seconds): ``t=<timestamp>,v1=<hex>``. For tests of a receiver.

    Raises:
        InvalidArgumentError: the secret is empty, or the timestamp negative (code
            ``invalid_argument``).
    """
    return webhook_sign(secret, _bytes(body), timestamp)


def verify(
    secret: str,
    header: Optional[str],
    body: Body,
    *,
    now: Optional[int] = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> int:
    """Verifies a webhook delivery and returns its signed timestamp (unix seconds).

    Args:
        secret: the webhook's secret (``whsec_...``), as the server showed it.
        header: the request's ``Litmus-Signature`` value (``None`` or ``""`` when absent).
        body: the raw request body, exactly as received (a ``str`` is taken as its UTF-8
            bytes).
        now: the current unix time in seconds (default: the system clock).
        tolerance: how far, in seconds and either way, the signed time may be from ``now``.

    Raises:
        SignatureError: the delivery does not verify; ``code`` says why:
            ``signature_missing``, ``signature_malformed``, ``signature_expired``
            or ``signature_mismatch``.
        InvalidArgumentError: an empty secret or a negative tolerance.
    """
    when = int(time.time()) if now is None else now
    return webhook_verify(secret, header or "", _bytes(body), when, tolerance)
