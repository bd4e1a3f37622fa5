"""How the config client and the event tracker report trouble: a warning per kind of
trouble (a debug line for repeats), then the user's ``on_error``, which may not raise into
them."""

from __future__ import annotations

import logging
from typing import Callable, Optional, Tuple

#: A kind of trouble: the error's type and its code.
Kind = Tuple[type, Optional[str]]


def report(
    log: logging.Logger,
    who: str,
    error: Exception,
    last: Optional[Kind],
    on_error: Optional[Callable[[Exception], object]],
) -> Kind:
    """Logs ``error`` for ``who`` (a warning unless it is of the ``last`` kind reported), calls
    ``on_error`` with it (logging what that raises) and answers its kind."""
    kind: Kind = (type(error), getattr(error, "code", None))
    log.log(logging.DEBUG if kind == last else logging.WARNING, "litmus %s: %s", who, error)
    if on_error is not None:
        try:
            on_error(error)
        except Exception:
            log.exception("litmus %s: on_error raised", who)
    return kind
