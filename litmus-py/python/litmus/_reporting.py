"""How the config client and the event tracker report trouble. litmus-core's machines say
what to report (a kind, a code, a message) and whether it is the first of its kind since
things went well; this turns a report into the exception the package documents, logs it (a
warning for the first of its kind, debug for repeats) and calls the user's ``on_error``, which
may not raise into them."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional

from .errors import AuthError, EventsRejectedError, LitmusError, ServerError, UnavailableError, _make


def error_of(report: dict[str, Any], cause: Optional[BaseException]) -> Exception:
    """The exception of a machine's report; ``cause`` (the ``OSError`` behind an
    ``unavailable`` report) becomes its ``__cause__``."""
    kind, code, message, status = report["kind"], report["code"], report["message"], report["status"] or 0
    if kind == "unavailable":
        error: Exception = UnavailableError(message, code)
        error.__cause__ = cause
        return error
    if kind == "auth":
        return AuthError(message, code, None, status)
    if kind == "events_rejected":
        rejected = []
        for item in report["rejected"]:
            entry = {"code": item["code"], "message": item["message"], "event": json.loads(item["event"])}
            if item["path"] is not None:
                entry["path"] = item["path"]  # the field at fault
            rejected.append(entry)
        return EventsRejectedError(message, code, None, status, rejected)
    if kind in ("queue_full", "closed"):
        return LitmusError(message, code)
    if kind == "config_refused":
        return _make(message, code, None)
    return ServerError(message, code, None, status)


class Reporter:
    """The last error of a client or tracker, and how its reports reach the logger and the
    user's ``on_error``."""

    def __init__(self, log: logging.Logger, who: str, on_error: Optional[Callable[[Exception], object]]) -> None:
        self._log = log
        self._who = who
        self._on_error = on_error
        self._logged = False
        self.last_error: Optional[Exception] = None
        self.cause: Optional[BaseException] = None  # the OSError behind the next "unavailable"

    def report(self, error: Exception, first: bool = True) -> None:
        """Records ``error`` as the last error, logs it and calls ``on_error``."""
        self.last_error = error
        self._logged = True
        self._log.log(logging.WARNING if first else logging.DEBUG, "litmus %s: %s", self._who, error)
        if self._on_error is not None:
            try:
                self._on_error(error)
            except Exception:
                self._log.exception("litmus %s: on_error raised", self._who)

    def report_action(self, report: dict[str, Any], error: Optional[Exception] = None) -> None:
        """Reports a machine's report (as ``error`` when the caller has the exception)."""
        cause, self.cause = self.cause, None
        self.report(error if error is not None else error_of(report, cause), report["first_of_kind"])

    def recovered(self, what: str) -> None:
        """The last error no longer holds (``what`` is logged when a warning was)."""
        if self._logged:
            self._log.info("litmus %s: %s", self._who, what)
        self._logged = False
        self.last_error = None
