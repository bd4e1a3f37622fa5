"""An OpenFeature provider backed by a Litmus :class:`~litmus.Engine` (``pip install
litmus-experiments[openfeature]``).

    from openfeature import api
    from openfeature.evaluation_context import EvaluationContext
    from litmus.openfeature import LitmusProvider

    api.set_provider(LitmusProvider(litmus.Engine(config)))
    client = api.get_client()
    client.get_string_value("checkout-button", "control", EvaluationContext("user-42", {"country": "DE"}))

The targeting key is the unit id and the other context fields are the targeting attributes.

A flag key names a Litmus **flag** (``docs/flags.md``) when the config has one: boolean,
string, number (integer and float) and object (``json``) flags resolve with the core's value,
rule, variant and OpenFeature reason (``STATIC``, ``TARGETING_MATCH``, ``SPLIT``, ``DISABLED``,
``DEFAULT``); a flag of another type gives the default with ``TYPE_MISMATCH``, a rejected one
``PARSE_ERROR``. ``flag_metadata`` carries the flag's ``type``, ``description`` and ``tags``,
the ``rule`` that served, and for an experiment rule the ``experiment`` and whether the unit
counts in it. An experiment rule's exposure is reported by the engine as usual.

Otherwise the key names an **experiment**: a string flag resolves to the variant's payload
when that is a string, else to the variant key; boolean, integer, float and object flags
resolve to the variant's payload, which must have the flag's type (otherwise the default, with
``TYPE_MISMATCH``). A unit that gets no variant (not running, targeting miss, holdout, outside
the traffic) gets the default. Reasons: ``SPLIT`` for an assignment, ``TARGETING_MATCH`` for an
override, ``DISABLED`` when the experiment is not running, ``DEFAULT`` otherwise;
``flag_metadata`` carries Litmus' own reason and whether the unit counts in the experiment.
An unknown key is ``FLAG_NOT_FOUND``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Optional, Union

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
from openfeature.provider import AbstractProvider, Metadata

from . import Engine, FlagEvaluation, LitmusError

__all__ = ["LitmusProvider"]

_REASONS = {
    "assigned": Reason.SPLIT,
    "sticky": Reason.SPLIT,
    "override": Reason.TARGETING_MATCH,
    "not_running": Reason.DISABLED,
}

_Object = Union[Sequence[FlagValueType], Mapping[str, FlagValueType]]

# OpenFeature's resolution kinds as Litmus flag types.
_FLAG_TYPES: dict[str, Literal["boolean", "string", "number", "json"]] = {"boolean": "boolean", "string": "string", "integer": "number", "float": "number", "object": "json"}
_FLAG_ERRORS = {"invalid_config": ErrorCode.PARSE_ERROR, "type_mismatch": ErrorCode.TYPE_MISMATCH}


# The engine refuses attributes nested deeper than this (litmus-py/src/convert.rs): deeper
# values are passed on unconverted, so a deep or cyclic one is refused (INVALID_CONTEXT)
# instead of exhausting the recursion limit.
_MAX_DEPTH = 128


def _attribute(value: Any, depth: int = 0) -> Any:
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _attribute(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_attribute(v, depth + 1) for v in value]
    return value


class LitmusProvider(AbstractProvider):
    """OpenFeature provider: every evaluation is ``engine.assign(flag_key, targeting_key,
    attributes)``, so exposures, sticky assignment and config updates work as usual."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    def get_metadata(self) -> Metadata:
        return Metadata(name="litmus")

    def _resolve(self, flag_key: str, default: Any, context: Optional[EvaluationContext], kind: str) -> FlagResolutionDetails[Any]:
        if context is None or not context.targeting_key:
            return FlagResolutionDetails(
                default, ErrorCode.TARGETING_KEY_MISSING, "a targeting key (the unit id) is required", Reason.ERROR
            )
        try:
            attributes = {k: _attribute(v) for k, v in context.attributes.items()}
            flag = self.engine.evaluate(flag_key, context.targeting_key, attributes, type=_FLAG_TYPES[kind])
            if flag.error != "flag_not_found":
                return self._flag(flag, default, kind)
            a = self.engine.assign(flag_key, context.targeting_key, attributes)
        except LitmusError as e:
            return FlagResolutionDetails(default, ErrorCode.INVALID_CONTEXT, str(e), Reason.ERROR)
        metadata: dict[str, Union[bool, int, float, str]] = {
            "litmus_reason": a.reason,
            "in_experiment": a.in_experiment,
        }
        if a.reason == "unknown_experiment":
            return FlagResolutionDetails(default, ErrorCode.FLAG_NOT_FOUND, f"no experiment {flag_key!r}", Reason.ERROR, flag_metadata=metadata)
        if a.reason == "invalid_config":
            return FlagResolutionDetails(default, ErrorCode.PARSE_ERROR, f"experiment {flag_key!r} was rejected by the config", Reason.ERROR, flag_metadata=metadata)
        if a.variant is None:
            return FlagResolutionDetails(default, reason=_REASONS.get(a.reason, Reason.DEFAULT), flag_metadata=metadata)
        payload = a.payload
        if kind == "string":
            value: Any = payload if isinstance(payload, str) else a.variant
        elif kind == "boolean":
            value = payload if isinstance(payload, bool) else None
        elif kind == "integer":
            value = payload if isinstance(payload, int) and not isinstance(payload, bool) else None
        elif kind == "float":
            ok = isinstance(payload, (int, float)) and not isinstance(payload, bool)
            value = float(payload) if ok else None
        else:
            value = payload if isinstance(payload, (dict, list)) else None
        if value is None:
            return FlagResolutionDetails(
                default,
                ErrorCode.TYPE_MISMATCH,
                f"variant {a.variant!r} of {flag_key!r} has no {kind} payload",
                Reason.ERROR,
                a.variant,
                metadata,
            )
        return FlagResolutionDetails(value, reason=_REASONS.get(a.reason, Reason.DEFAULT), variant=a.variant, flag_metadata=metadata)

    @staticmethod
    def _flag(e: FlagEvaluation, default: Any, kind: str) -> FlagResolutionDetails[Any]:
        """A Litmus flag's evaluation as OpenFeature's resolution."""
        metadata: dict[str, Union[bool, int, float, str]] = dict(e.flag_metadata)
        if e.rule is not None:
            metadata["rule"] = e.rule
        if e.assignment is not None:
            metadata["experiment"] = e.assignment.experiment
            metadata["in_experiment"] = e.assignment.in_experiment
        if e.error is not None:
            message = f"flag {e.flag!r}: {e.error}"
            return FlagResolutionDetails(default, _FLAG_ERRORS.get(e.error, ErrorCode.GENERAL), message, Reason.ERROR, flag_metadata=metadata)
        value = e.value
        if kind == "integer":
            if not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
                return FlagResolutionDetails(
                    default, ErrorCode.TYPE_MISMATCH, f"flag {e.flag!r} serves {value!r}, not an integer", Reason.ERROR, e.variant, metadata
                )
            value = int(value)
        elif kind == "float":
            value = float(value)
        return FlagResolutionDetails(value, reason=Reason(e.reason), variant=e.variant, flag_metadata=metadata)

    def resolve_boolean_details(self, flag_key: str, default_value: bool, evaluation_context: Optional[EvaluationContext] = None) -> FlagResolutionDetails[bool]:
        return self._resolve(flag_key, default_value, evaluation_context, "boolean")

    def resolve_string_details(self, flag_key: str, default_value: str, evaluation_context: Optional[EvaluationContext] = None) -> FlagResolutionDetails[str]:
        return self._resolve(flag_key, default_value, evaluation_context, "string")

    def resolve_integer_details(self, flag_key: str, default_value: int, evaluation_context: Optional[EvaluationContext] = None) -> FlagResolutionDetails[int]:
        return self._resolve(flag_key, default_value, evaluation_context, "integer")

    def resolve_float_details(self, flag_key: str, default_value: float, evaluation_context: Optional[EvaluationContext] = None) -> FlagResolutionDetails[float]:
        return self._resolve(flag_key, default_value, evaluation_context, "float")

    def resolve_object_details(self, flag_key: str, default_value: _Object, evaluation_context: Optional[EvaluationContext] = None) -> FlagResolutionDetails[_Object]:
        return self._resolve(flag_key, default_value, evaluation_context, "object")
