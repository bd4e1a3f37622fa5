"""Litmus' exceptions. Every error raised by Litmus is a :class:`LitmusError` with a stable
``code`` (see ``docs/errors.md``); each subclass also derives from the builtin exception a
Python caller would expect, so ``except ValueError`` keeps working."""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "LitmusError",
    "ConfigError",
    "InvalidArgumentError",
    "DegenerateDataError",
    "InternalError",
    "NotReadyError",
    "ServerError",
    "AuthError",
    "UnavailableError",
    "EventsRejectedError",
    "SignatureError",
    "error_class",
]


class LitmusError(Exception):
    """Base class of every Litmus error.

    Attributes:
        code: the stable snake_case code of the error (``docs/errors.md``).
        path: the config field at fault (``experiments[2].variants``), when there is one.
    """

    code: str
    path: Optional[str]

    def __init__(self, message: str, code: str = "internal", path: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code
        self.path = path


class ConfigError(LitmusError, ValueError):
    """A config document that cannot be used: bad JSON, a missing or invalid field, a
    duplicate key, a bad reference or regular expression, overlapping ranges, a limit.

    Attributes:
        problems: for code ``multiple`` (strict validation found several problems), one
            :class:`LitmusError` per problem, each with its own ``code`` and ``path``, in
            document order; empty otherwise.
    """

    problems: list[LitmusError]

    def __init__(self, message: str, code: str = "internal", path: Optional[str] = None) -> None:
        super().__init__(message, code, path)
        self.problems = []


class InvalidArgumentError(LitmusError, ValueError):
    """An argument outside its domain: NaN, a negative count, alpha outside (0, 1), ..."""


class DegenerateDataError(LitmusError, ValueError):
    """Data on which a statistic is undefined: too few observations, zero variance, ..."""


class SignatureError(LitmusError, ValueError):
    """A webhook delivery that does not verify (:func:`litmus.webhooks.verify`): its
    ``Litmus-Signature`` header is missing (code ``signature_missing``) or malformed
    (``signature_malformed``), its timestamp is outside the tolerance (``signature_expired``),
    or no signature matches the body and secret (``signature_mismatch``). Answer such a request
    with 400 and do not process it."""


class InternalError(LitmusError, RuntimeError):
    """A bug in Litmus (a Rust panic caught at the binding edge). Please report it."""


class NotReadyError(LitmusError, RuntimeError):
    """A :class:`~litmus.ConfigClient` has no config yet: the server was not reached and there
    was no usable bootstrap or cache file (code ``not_ready``)."""

    def __init__(self, message: str, code: str = "not_ready", path: Optional[str] = None) -> None:
        super().__init__(message, code, path)


class ServerError(LitmusError):
    """The Litmus server answered with an error. ``code`` is the one in its error body
    (``store_unavailable``, ...), else ``http_error``, or ``bad_response`` for an answer that
    is not what the protocol promises.

    Attributes:
        status: the HTTP status (0 when the answer itself was malformed).
    """

    status: int

    def __init__(
        self, message: str, code: str = "http_error", path: Optional[str] = None, status: int = 0
    ) -> None:
        super().__init__(message, code, path)
        self.status = status


class AuthError(ServerError):
    """The server refused the SDK key: 401 (code ``unauthorized``) or 403 (``forbidden``).
    Retrying will not help until the key or its scopes change."""


class UnavailableError(LitmusError, ConnectionError):
    """The server could not be reached: refused or reset connection, timeout, DNS or TLS
    failure, a stream that went silent (code ``unavailable``). The underlying ``OSError`` is the
    ``__cause__``."""

    def __init__(self, message: str, code: str = "unavailable", path: Optional[str] = None) -> None:
        super().__init__(message, code, path)


class EventsRejectedError(ServerError):
    """The server stored a batch from an :class:`~litmus.EventTracker` but refused some of its
    events (code ``events_rejected``, status 200). The refused events are dropped: sending
    them again would not change the answer.

    Attributes:
        rejected: one dict per refused event, with the server's ``code``, ``message`` and
            ``path`` (when it names the field at fault) and the ``event`` as it was sent (its
            ``message_id``, ``type``, ...).
    """

    rejected: list[dict[str, Any]]

    def __init__(
        self,
        message: str,
        code: str = "events_rejected",
        path: Optional[str] = None,
        status: int = 200,
        rejected: Optional[list[dict[str, Any]]] = None,
    ) -> None:
        super().__init__(message, code, path, status)
        self.rejected = rejected if rejected is not None else []


# Core's codes (litmus_core::Error::CODES, listed in docs/errors.md), each with its class.
# tests/test_error_codes.py checks this table against the list in docs/errors.md.
_CONFIG_CODES = frozenset(
    {
        "invalid_json",
        "unsupported_schema_version",
        "unsupported_hash_version",
        "missing_field",
        "unknown_field",
        "invalid_value",
        "duplicate_key",
        "unknown_reference",
        "invalid_regex",
        "overlapping_ranges",
        "limit_exceeded",
        "invalid_transition",
        "prerequisite_cycle",
        "multiple",
    }
)

# A webhook delivery that does not verify (litmus.webhooks.verify).
_SIGNATURE_CODES = frozenset(
    {"signature_missing", "signature_malformed", "signature_expired", "signature_mismatch"}
)


def error_class(code: str) -> type:
    """The exception class that represents errors with this code."""
    if code in _CONFIG_CODES:
        return ConfigError
    # A flag asked for as another type, or one that cannot be evaluated: the caller's mistake.
    if code in ("invalid_argument", "event_too_large", "type_mismatch", "flag_unavailable"):
        return InvalidArgumentError
    if code == "degenerate_data":
        return DegenerateDataError
    if code in _SIGNATURE_CODES:
        return SignatureError
    if code == "internal":
        return InternalError
    return LitmusError


def _make(message: str, code: str, path: Optional[str]) -> LitmusError:
    """Called by the native module to build the exception it raises."""
    cls = error_class(code)
    err: LitmusError = cls(message, code, path)
    return err
