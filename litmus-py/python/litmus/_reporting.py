"""How the config client and the event tracker report trouble: a warning for the first
report of each kind since things last went well (litmus-core's machines say which), a debug
line for repeats, then the user's ``on_error``, which may not raise into them."""

from __future__ import annotations

import logging
from typing import Callable, Optional


def log_report(
    log: logging.Logger,
    who: str,
    error: Exception,
    first: bool,
    on_error: Optional[Callable[[Exception], object]],
) -> None:
    """Logs ``error`` for ``who`` (a warning when ``first``, else debug) and calls
    ``on_error`` with it (logging what that raises)."""
    log.log(logging.WARNING if first else logging.DEBUG, "litmus %s: %s", who, error)
    if on_error is not None:
        try:
            on_error(error)
        except Exception:
            log.exception("litmus %s: on_error raised", who)
