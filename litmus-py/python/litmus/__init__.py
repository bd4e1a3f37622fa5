"""Litmus: deterministic experiment assignment, statistics and bandits, in-process.

Every decision is made by the Rust core (``litmus-core``); this package converts values and
maps errors, so Python, Rust, the browser and the server give the same answers.

>>> import litmus
>>> engine = litmus.Engine({"schema_version": 1, "experiments": [{"key": "checkout-button",
...     "salt": "cb-2026", "status": "running", "traffic": 1.0,
...     "variants": [{"key": "control", "weight": 1}, {"key": "treatment", "weight": 1}]}]})
>>> engine.assign("checkout-button", "user-42").variant in ("control", "treatment")
True

The submodules (``stats``, ``bandit``, ``hashing``, ``openfeature``, ``client``, ``tracker``,
``webhooks``)
are imported on first use, so ``import litmus`` stays fast and both ``litmus.stats.ttest_ind``
and ``from litmus import stats`` work:

>>> litmus.stats.srm_check([5_000, 5_000]).mismatch
False

A metric catalogue is checked as the server checks it, with the same codes and paths:

>>> [m["kind"] for m in litmus.validate_metrics([
...     {"key": "revenue", "kind": "mean", "event": "purchase", "cap": {"absolute": 1000}},
...     {"key": "p90_load", "kind": "quantile", "event": "page_load", "quantile": 0.9}])]
['mean', 'quantile']
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ._litmus import (
    ERROR_CODES,
    Assignment,
    Engine,
    FlagEvaluation,
    QuantileSketch,
    __version__,
    plan_experiment,
    validate_analysis,
    validate_metrics,
)
from .errors import (
    AuthError,
    ConfigError,
    DegenerateDataError,
    EventsRejectedError,
    InternalError,
    InvalidArgumentError,
    LitmusError,
    NotReadyError,
    ServerError,
    SignatureError,
    UnavailableError,
)

if TYPE_CHECKING:
    from . import bandit as bandit
    from . import client as client
    from . import hashing as hashing
    from . import openfeature as openfeature
    from . import stats as stats
    from . import tracker as tracker
    from . import webhooks as webhooks
    from .client import ConfigClient
    from .tracker import EventTracker

# Public submodules, imported on first attribute access (module __getattr__, as scipy does).
_SUBMODULES = ("bandit", "client", "hashing", "openfeature", "stats", "tracker", "webhooks")

__all__ = [
    "Engine",
    "Assignment",
    "FlagEvaluation",
    "load_engine",
    "plan_experiment",
    "validate_analysis",
    "validate_metrics",
    "QuantileSketch",
    "ConfigClient",
    "EventTracker",
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
    "ERROR_CODES",
    "__version__",
]


def load_engine(
    path: Union[str, "os.PathLike[str]"],
    *,
    on_exposure: Optional[Callable[[dict[str, Any]], Any]] = None,
    exposure_dedupe_size: int = 250_000,
    strict: bool = False,
    sticky_store: Optional[Any] = None,
) -> Engine:
    """An :class:`Engine` from a JSON config file (as ``Engine.from_file``)."""
    return Engine.from_file(
        path,
        on_exposure=on_exposure,
        exposure_dedupe_size=exposure_dedupe_size,
        strict=strict,
        sticky_store=sticky_store,
    )


if not TYPE_CHECKING:  # hidden from type checkers, so a misspelt name stays an error

    def __getattr__(name: str) -> Any:
        """The submodules (``litmus.stats``, ...), ``litmus.ConfigClient`` and
        ``litmus.EventTracker``, imported on first use (``http.client`` is slow to import)."""
        if name in _SUBMODULES:
            import importlib

            return importlib.import_module(f"{__name__}.{name}")
        if name == "ConfigClient":
            from .client import ConfigClient

            return ConfigClient
        if name == "EventTracker":
            from .tracker import EventTracker

            return EventTracker
        raise AttributeError(f"module 'litmus' has no attribute {name!r}")

    def __dir__() -> list[str]:
        """The module's names, with the submodules not imported yet."""
        return sorted(set(globals()) | set(_SUBMODULES) | {"ConfigClient", "EventTracker"})
