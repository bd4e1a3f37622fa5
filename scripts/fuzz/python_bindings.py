#!/usr/bin/env python3
"""Coverage-guided fuzzing (atheris) of every public entry point of the litmus-experiments wheel
that takes user data.

The property: every call returns, or raises one of

- a documented Litmus error (``litmus.LitmusError`` and its subclasses, except
  ``InternalError``: that one means a Rust panic was caught at the binding edge, i.e. a bug),
- ``TypeError``, ``ValueError`` (``UnicodeError`` included) or ``OverflowError``,
- ``UserError``: raised by the hostile objects this harness passes in (a ``__float__`` or a
  sticky store that raises); the library must let it through unchanged,
- ``OSError`` from ``Engine.from_file`` / ``load_engine`` (a file that cannot be read),

and never ``pyo3_runtime.PanicException`` (a ``BaseException``), never any other exception,
never a crash of the process (libFuzzer reports signals: SIGSEGV, SIGABRT of an aborting
panic or an allocation failure). After every input a sentinel engine and statistic must give
their known answers, and ``EventTracker.on_exposure`` must never raise at all.

Entry points (checked at start-up against the modules' ``__all__``, so a new export fails
until it is fuzzed): ``litmus`` (Engine, Assignment, load_engine, ConfigClient, EventTracker,
validate_metrics over mutated catalogues, validate_analysis over mutated settings, plan_experiment over mutated requests, QuantileSketch and its methods),
``litmus.stats`` (every function and summary type), ``litmus.bandit`` (Arm, Random, Policy,
Bandit), ``litmus.hashing``, the raw ``litmus._litmus`` functions (called directly, without
the Python wrappers' coercions), the event wire format (``litmus._events`` and core's encoders),
the SDK protocol machines (SSE decoder, config sync, tracker core) and the OpenFeature provider (``litmus.openfeature``).

Usage (from the repository root, with the project venv):

    .venv/bin/python scripts/fuzz/python_bindings.py --seconds 600
    .venv/bin/python scripts/fuzz/python_bindings.py --seconds 600 --native
    .venv/bin/python scripts/fuzz/python_bindings.py --reproduce CRASH_FILE

``--native`` builds (once, in target/fuzz-py) the native module with SanitizerCoverage
(``-Cpasses=sancov-module``, plus overflow checks) and runs against it with libFuzzer's runtime
preloaded, so the Rust code's edges and comparisons guide the search too; without it only the
Python code is instrumented and the installed wheel is used. Findings are written to
target/fuzz-py/artifacts/; the corpus is kept in target/fuzz-py/corpus-{python,native}/.
Other libFuzzer flags can follow ``--``.

``litmus-py/tests/test_robustness.py`` imports :func:`one_input` and runs it from a seeded
``random.Random`` (:class:`RandomSource`) for a few seconds in the normal pytest suite.
"""

from __future__ import annotations

import argparse
import array
import collections
import collections.abc
import datetime
import decimal
import fractions
import glob
import json
import logging
import math
import os
import pathlib
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from typing import Any, Callable, Optional

REPO = pathlib.Path(__file__).resolve().parents[2]
WORK = REPO / "target" / "fuzz-py"


class UserError(Exception):
    """Raised by the hostile objects of this harness; must reach the caller unchanged."""


class Finding(AssertionError):
    """A violation of the property (raised out of the fuzz target: libFuzzer saves the input)."""


# ---- sources of decisions --------------------------------------------------------------------


class RandomSource:
    """Decisions from a seeded ``random.Random`` (the pytest sweep)."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def int_in(self, lo: int, hi: int) -> int:
        return self.r.randint(lo, hi)

    def bool(self) -> bool:
        return self.r.random() < 0.5

    def float(self) -> float:
        return struct.unpack("<d", self.r.randbytes(8))[0]

    def u64(self) -> int:
        return self.r.getrandbits(64)

    def bytes(self, n: int) -> bytes:
        return self.r.randbytes(self.r.randint(0, n))

    def text(self, n: int) -> str:
        k = self.r.randint(0, n)
        ranges = ((0x20, 0x7E), (0, 0x1F), (0x80, 0x7FF), (0x800, 0xFFFF), (0x10000, 0x10FFFF), (0xD800, 0xDFFF))
        out = []
        for _ in range(k):
            lo, hi = ranges[self.r.randint(0, 5)] if self.r.random() < 0.3 else ranges[0]
            out.append(chr(self.r.randint(lo, hi)))
        return "".join(out)


class AtherisSource:
    """Decisions from libFuzzer's bytes (atheris.FuzzedDataProvider)."""

    def __init__(self, fdp: Any) -> None:
        self.f = fdp

    def int_in(self, lo: int, hi: int) -> int:
        return self.f.ConsumeIntInRange(lo, hi)

    def bool(self) -> bool:
        return self.f.ConsumeBool()

    def float(self) -> float:
        return self.f.ConsumeFloat()

    def u64(self) -> int:
        return self.f.ConsumeUInt(8)

    def bytes(self, n: int) -> bytes:
        return self.f.ConsumeBytes(self.f.ConsumeIntInRange(0, n))

    def text(self, n: int) -> str:
        return self.f.ConsumeUnicode(self.f.ConsumeIntInRange(0, n))


def pick(src: Any, seq: Any) -> Any:
    return seq[src.int_in(0, len(seq) - 1)]


def chance(src: Any, one_in: int) -> bool:
    return src.int_in(1, one_in) == 1


# ---- values ----------------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
FLOATS = [
    NAN, INF, -INF, 0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1e-12, 1e-6, 0.001, 0.01, 0.05,
    0.1, 0.3, 0.5, 0.95, 0.999999, 1.0, 1.5, 2.0, 3.0, 10.0, 100.0, 1e6, 1e15, 2.0**53, 2.0**53 + 2, 2.0**63,
    2.0**64, 1e300, 1.7976931348623157e308, -1.0, -0.5, -1e-300, -1e300, -1.7976931348623157e308, 0.1 + 0.2,
]
INTS = [
    0, 1, 2, 3, 5, 10, 100, 1000, -1, -2, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53, 2**53 + 1, 2**63 - 1,
    2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30, -(10**30), 10**400, 10**5000,
]
WORDS = [
    "", "a", "control", "treatment", "on", "off", "user-42", "qa-1", "DE", "AT", "free", "pro", "1.2.3", "10.0.0-beta",
    "2026-06-15", "traffic", "variant", "layer", "holdout", "factor:color", "factor:", "factor", "two-sided",
    "less", "greater", "smaller", "larger", "normal", "wilson", "agresti_coull", "bonferroni", "holm", "fdr_bh",
    "power", "sample_size", "mde", "effect_size", "normal_sf", "normal_cdf", "normal_pdf", "normal_ppf",
    "normal_isf", "t_sf", "t_cdf", "t_pdf", "t_isf", "chi2_sf", "chi2_cdf", "f_sf", "beta_cdf", "\x00", "\ud800",
    "\udfff", "z\u00fcrich", "\U0001f9ea", "\u202e", "a" * 300, "x" * 70_000, "2026-06-15T12:00:00Z",
    "2026-06-15T12:00:00.123+02:00", "9999-12-31T23:59:59.999Z", "0000-01-01T00:00:00Z", "2026-02-30T00:00:00Z",
    "+275760-09-13T00:00:00Z", "1970-01-01T00:00:00-23:59", "NaN", "Infinity", "-0", "1e999", "[", "{}",
]
ATTRIBUTE_NAMES = ["country", "age", "score", "beta", "plan", "errors", "ratio", "name", "day", "tier", "version", "app_version", "email", "tags"]


def text(src: Any) -> str:
    k = src.int_in(0, 5)
    if k <= 1:
        return pick(src, WORDS)
    if k == 2:
        return src.text(40)
    if k == 3:
        return pick(src, WORDS) + src.text(8)
    if k == 4:
        return src.text(8) * src.int_in(1, 5000)
    return str(src.int_in(0, 10**6))


def number(src: Any) -> float:
    k = src.int_in(0, 3)
    if k == 0:
        return pick(src, FLOATS)
    if k == 1:
        return src.float()
    if k == 2:
        return float(src.int_in(-5, 1000))
    return src.int_in(0, 10**6) / 10 ** src.int_in(0, 6)


def integer(src: Any) -> int:
    k = src.int_in(0, 2)
    if k == 0:
        return pick(src, INTS)
    if k == 1:
        return src.int_in(0, 200)
    return src.u64() - (2**63 if src.bool() else 0)


class Hostile:
    """Raises UserError from every protocol method a library may try on it."""

    def _boom(self, *a: Any, **k: Any) -> Any:
        raise UserError("hostile")

    __float__ = __int__ = __index__ = __len__ = __iter__ = __str__ = __repr__ = __bool__ = _boom
    __hash__ = __eq__ = __lt__ = __getitem__ = __contains__ = __fspath__ = __format__ = _boom

    def __getattr__(self, name: str) -> Any:
        raise UserError(f"hostile attribute {name}")


class HostileKey(str):
    """A str (so dict keys pass type checks) whose comparisons and conversions raise."""

    __hash__ = str.__hash__

    def __eq__(self, other: object) -> bool:
        raise UserError("hostile eq")

    def __str__(self) -> str:
        raise UserError("hostile str")


class FloatSub(float):
    def __float__(self) -> float:
        raise UserError("float subclass")


class IntSub(int):
    def __index__(self) -> int:
        raise UserError("int subclass")


class StrSub(str):
    def __str__(self) -> str:
        raise UserError("str subclass")


class LyingSequence(collections.abc.Sequence):
    """Claims a length its items do not have."""

    def __init__(self, n: int, fail_at: int) -> None:
        self.n, self.fail_at = n, fail_at

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, int) and i >= self.fail_at:
            raise IndexError(i)
        return 1.0


class BadMapping(collections.abc.Mapping):
    """A Mapping whose item lookups raise."""

    def __getitem__(self, key: Any) -> Any:
        raise UserError("bad mapping")

    def __iter__(self) -> Any:
        return iter(["a", "unit_id"])

    def __len__(self) -> int:
        return 2

    def get(self, key: Any, default: Any = None) -> Any:
        raise UserError("bad mapping get")


class BadTime:
    """A datetime-like object whose timestamp() raises."""

    tzinfo = None

    def timestamp(self) -> float:
        raise UserError("bad timestamp")

    def replace(self, **kw: Any) -> "BadTime":
        return self


class PathLike:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __fspath__(self) -> Any:
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


def _np() -> Any:
    try:
        import numpy  # noqa: PLC0415

        return numpy
    except ImportError:  # pragma: no cover - numpy is a test requirement
        return None


def value(src: Any, depth: int = 0) -> Any:
    """An arbitrary Python value."""
    if depth > 3:
        return pick(src, [None, 0, NAN, "", b""])
    k = src.int_in(0, 40)
    if k == 0:
        return None
    if k == 1:
        return src.bool()
    if k in (2, 3):
        return integer(src)
    if k in (4, 5, 6):
        return number(src)
    if k in (7, 8):
        return text(src)
    if k == 9:
        return src.bytes(64)
    if k == 10:
        return bytearray(src.bytes(32))
    if k in (11, 12):
        return [value(src, depth + 1) for _ in range(src.int_in(0, 6))]
    if k == 13:
        return tuple(value(src, depth + 1) for _ in range(src.int_in(0, 4)))
    if k in (14, 15):
        return {text(src): value(src, depth + 1) for _ in range(src.int_in(0, 5))}
    if k == 16:  # keys that are not str
        return {pick(src, [1, None, (1, 2), 2.5, b"k", True]): value(src, depth + 1) for _ in range(src.int_in(1, 3))}
    if k == 17:
        return set(pick(src, [(), (1,), ("a", "b"), (NAN,)]))
    if k == 18:  # deep nesting
        v: Any = pick(src, [1, "x", None])
        for _ in range(src.int_in(100, 3000)):
            v = [v] if src.bool() else {"k": v}
        return v
    if k == 19:  # cycles
        if src.bool():
            cyc: list = [1]
            cyc.append(cyc)
            return cyc
        d: dict = {"a": 1}
        d["self"] = d
        return d
    if k == 20:
        return Hostile()
    if k == 21:
        return pick(src, [FloatSub(1.5), IntSub(3), StrSub("control"), HostileKey("country")])
    if k == 22:
        return {HostileKey(pick(src, ATTRIBUTE_NAMES)): value(src, depth + 1)}
    if k == 23:
        return LyingSequence(src.int_in(0, 10), src.int_in(0, 10))
    if k == 24:
        # (No object with a lying __len__: list() of it raises MemoryError in CPython itself.)
        return pick(src, [BadMapping(), BadTime(), PathLike(UserError("fspath")), object(), len, print])
    if k == 25:
        np = _np()
        if np is None:
            return None
        n = src.int_in(0, 8)
        data = [number(src) for _ in range(n)]
        kind = src.int_in(0, 7)
        if kind == 0:
            return np.array(data, dtype=np.float64)
        if kind == 1:
            return np.array(data, dtype=np.float64)[::2]
        if kind == 2:
            return np.array([integer(src) % 1000 for _ in range(n)], dtype=np.int64)
        if kind == 3:
            with np.errstate(all="ignore"):  # overflow to inf is the point
                return np.array(data, dtype=np.float32)
        if kind == 4:
            items = [value(src, depth + 1) for _ in range(n)]
            try:
                return np.array(items, dtype=object)
            except Exception:  # noqa: BLE001 - numpy probing a hostile object
                return items
        if kind == 5:
            return np.array(data + data, dtype=np.float64).reshape(2, -1) if n else np.zeros((0, 0))
        if kind == 6:
            return np.float64(number(src))
        return np.array(data, dtype=np.complex128)
    if k == 26:
        return array.array(pick(src, ["d", "f", "i", "b"]), [0] * src.int_in(0, 5))
    if k == 27:
        return memoryview(src.bytes(64))
    if k == 28:
        return pick(src, [decimal.Decimal("NaN"), decimal.Decimal("1e400"), decimal.Decimal("-0"), fractions.Fraction(1, 3), 1j, complex(NAN, 1)])
    if k == 29:
        return instant(src)
    if k == 30:
        return range(src.int_in(0, 10))
    if k == 31:
        return (x for x in [1.0, 2.0, value(src, depth + 1)])
    if k == 32:
        return pick(src, [float, int, str, dict, Exception("x"), ValueError, ...])
    if k == 33:
        return collections.OrderedDict(a=value(src, depth + 1))
    if k == 34:
        return [number(src) for _ in range(src.int_in(0, 12))]
    if k == 35:
        return [integer(src) for _ in range(src.int_in(0, 6))]
    return pick(src, WORDS)


def instant(src: Any) -> Any:
    k = src.int_in(0, 8)
    utc = datetime.timezone.utc
    if k == 0:
        return datetime.datetime(2026, 6, 15, 12, 0, 0)
    if k == 1:
        return datetime.datetime(2026, 6, 15, 12, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=14)))
    if k == 2:
        return datetime.datetime.max
    if k == 3:
        return datetime.datetime.min.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=23, minutes=59)))
    if k == 4:
        return datetime.datetime(1, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    if k == 5:
        return datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.timezone(datetime.timedelta(hours=-12)))
    if k == 6:
        return datetime.date(2026, 6, 15)
    if k == 7:
        return datetime.datetime.fromtimestamp(src.int_in(-(2**34), 2**35), tz=utc)
    return BadTime()


# ---- configs ---------------------------------------------------------------------------------


def _fixture_configs() -> list[dict]:
    out = []
    for path in sorted(glob.glob(str(REPO / "fixtures" / "conformance" / "*.json"))):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if isinstance(doc.get("config"), dict):
            out.append(doc["config"])
    out.append(SENTINEL_CONFIG)
    return out


SENTINEL_CONFIG = {
    "schema_version": 1,
    "version": "v1",
    "experiments": [
        {
            "key": "checkout",
            "salt": "checkout-2026",
            "status": "running",
            "traffic": 1.0,
            "variants": [{"key": "control", "weight": 1}, {"key": "treatment", "weight": 1, "payload": {"color": "red"}}],
        }
    ],
}
CONFIGS: list[dict] = []
OPS = [
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "starts_with", "ends_with", "regex", "exists",
    "version_eq", "version_ne", "version_gt", "version_gte", "version_lt", "version_lte", "bogus",
]
REGEXES = ["^a.*z$", "(a+)+$", "[", "\\", "(?i)de", "a{1000000}", "(((((((((a)))))))))", "\\p{L}+", "\\d{2,}", "x" * 5000, "(?P<n>a)"]


def json_value(src: Any, depth: int = 0) -> Any:
    """A JSON-like value (what a config may hold), with the odd non-JSON one."""
    k = src.int_in(0, 12)
    if k == 0:
        return None
    if k == 1:
        return src.bool()
    if k == 2:
        return integer(src)
    if k == 3:
        return number(src)
    if k in (4, 5):
        return text(src)
    if k == 6 and depth < 3:
        return [json_value(src, depth + 1) for _ in range(src.int_in(0, 4))]
    if k == 7 and depth < 3:
        return {text(src): json_value(src, depth + 1) for _ in range(src.int_in(0, 4))}
    if k == 8:
        return targeting(src, depth)
    if k == 9:
        return pick(src, REGEXES)
    if k == 10:
        return [{"key": text(src), "weight": number(src)} for _ in range(src.int_in(0, 4))]
    if k == 11:
        return pick(src, ["running", "draft", "paused", "stopped", "archived", "multivariate", "ab"])
    return value(src, depth + 1)


def targeting(src: Any, depth: int = 0) -> Any:
    if depth < 4 and chance(src, 3):
        kind = pick(src, ["all", "any", "not"])
        if kind == "not":
            return {"not": targeting(src, depth + 1)}
        return {kind: [targeting(src, depth + 1) for _ in range(src.int_in(0, 3))]}
    op = pick(src, OPS)
    rule: dict = {"attribute": pick(src, ATTRIBUTE_NAMES) if src.bool() else text(src), "op": op}
    if op == "regex":
        rule["value"] = pick(src, REGEXES) if src.bool() else text(src)
    elif op in ("in", "not_in"):
        rule["value"] = [json_value(src, depth + 2) for _ in range(src.int_in(0, 5))]
    elif op != "exists" or src.bool():
        rule["value"] = json_value(src, depth + 2)
    return rule


def generated_config(src: Any) -> dict:
    experiments = []
    layers = []
    for i in range(src.int_in(0, 5)):
        e: dict = {"key": pick(src, ["e", "e1", "checkout", text(src)]) if chance(src, 4) else f"e{i}"}
        for field, make in (
            ("status", lambda: pick(src, ["running", "running", "draft", "paused", "stopped", text(src)])),
            ("salt", lambda: text(src)),
            ("traffic", lambda: number(src)),
            ("start_time", lambda: pick(src, WORDS[-14:]) if src.bool() else json_value(src)),
            ("end_time", lambda: pick(src, WORDS[-14:]) if src.bool() else json_value(src)),
            ("targeting", lambda: targeting(src)),
            ("overrides", lambda: {text(src): pick(src, ["control", "treatment", text(src)]) for _ in range(src.int_in(0, 3))}),
            ("hash_version", lambda: pick(src, [1, 2, 0, "1", None])),
        ):
            if src.bool():
                e[field] = make()
        if chance(src, 4):
            e["kind"] = "multivariate"
            e["factors"] = [
                {"key": text(src) if chance(src, 3) else f"f{j}", "levels": [{"key": f"l{m}", "weight": number(src), "payload": json_value(src)} for m in range(src.int_in(0, 4))]}
                for j in range(src.int_in(0, 4))
            ]
        else:
            e["variants"] = [
                {"key": pick(src, ["control", "treatment", "c", text(src)]), "weight": number(src) if src.bool() else 1, **({"payload": json_value(src)} if src.bool() else {})}
                for _ in range(src.int_in(0, 5))
            ]
        if chance(src, 3):
            lk = pick(src, ["L", "L2", text(src)])
            lo = number(src) if src.bool() else src.int_in(0, 10) / 10
            hi = number(src) if src.bool() else src.int_in(0, 10) / 10
            e["layer"] = {"key": lk, "range": [lo, hi]}
            layers.append({"key": lk, **({"salt": text(src)} if src.bool() else {})})
        if chance(src, 8):
            e[text(src)] = json_value(src)
        experiments.append(e)
    doc: dict = {"schema_version": pick(src, [1, 1, 1, 2, 0, "1", None]), "experiments": experiments}
    if layers or chance(src, 4):
        doc["layers"] = layers
    if chance(src, 3):
        doc["holdouts"] = [
            {"key": text(src), "share": number(src), "experiments": [e.get("key") for e in experiments[: src.int_in(0, 3)]], **({"layers": [la["key"] for la in layers]} if layers else {})}
            for _ in range(src.int_in(0, 2))
        ]
    if chance(src, 2):
        doc["flags"] = generated_flags(src, [e.get("key") for e in experiments])
    if src.bool():
        doc["version"] = text(src)
    return doc


FLAG_TYPES = ["boolean", "string", "number", "json", "integer", None]


def generated_flags(src: Any, experiments: list) -> list:
    """Flags of every type and rule kind, with references to flags and experiments that may
    or may not exist, cycles, and values of the wrong type."""
    keys = [f"f{i}" for i in range(src.int_in(0, 5))]
    flags = []
    for key in keys:
        rules = []
        for r in range(src.int_in(0, 4)):
            kind = pick(src, ["force", "rollout", "experiment", "prerequisite", text(src)])
            rule: dict = {"kind": kind}
            if src.bool():
                rule["id"] = pick(src, [f"r{r}", "r0", text(src)])
            if chance(src, 3):
                rule["condition"] = targeting(src)
            if kind == "experiment":
                rule["experiment"] = pick(src, experiments) if experiments and src.bool() else text(src)
                rule["values"] = {pick(src, ["control", "treatment", text(src)]): json_value(src) for _ in range(src.int_in(0, 3))}
            else:
                rule["value"] = json_value(src)
            if kind == "rollout" or chance(src, 6):
                rule["percentage"] = pick(src, [0, 10, 50, 100, 101, -1, number(src)])
            if kind == "prerequisite" or chance(src, 6):
                rule["flag"] = pick(src, keys) if keys and src.bool() else text(src)
                rule["is"] = json_value(src)
            rules.append(rule)
        flag: dict = {"key": key if chance(src, 6) else text(src), "type": pick(src, FLAG_TYPES), "default": json_value(src), "rules": rules}
        if src.bool():
            flag["enabled"] = src.bool() if chance(src, 4) else json_value(src)
        if chance(src, 3):
            flag["schedule"] = [{"at": pick(src, WORDS[-14:]) if src.bool() else json_value(src), **({"enabled": src.bool()} if src.bool() else {}), **({"rules": rules[:1]} if src.bool() else {})} for _ in range(src.int_in(0, 3))]
        flags.append(flag)
    return flags


def mutate(src: Any, doc: Any, rounds: int) -> Any:
    """Replaces, deletes or adds values at random places of a JSON document (in place)."""
    for _ in range(rounds):
        spots: list = []

        def walk(node: Any, depth: int) -> None:
            if depth > 12 or len(spots) > 500 or any(node is x for x in spots):
                return
            if isinstance(node, dict):
                spots.append(node)
                for v in node.values():
                    walk(v, depth + 1)
            elif isinstance(node, list):
                spots.append(node)
                for v in node:
                    walk(v, depth + 1)

        walk(doc, 0)
        if not spots:
            return json_value(src)
        node = pick(src, spots)
        op = src.int_in(0, 4)
        if isinstance(node, dict):
            if node and op <= 2:
                key = pick(src, list(node))
                node[key] = json_value(src) if op < 2 else node[key] if not isinstance(node[key], list) else node[key] * 2
            elif node and op == 3:
                del node[pick(src, list(node))]
            else:
                node[pick(src, ["key", "status", "variants", "weight", "traffic", "salt", "layer", "range", "targeting", "op", "value", "attribute", "payload", "overrides", "holdouts", "share", "experiments", "layers", "factors", "levels"]) if src.bool() else text(src)] = json_value(src)
        else:
            if node and op <= 2:
                node[src.int_in(0, len(node) - 1)] = json_value(src)
            elif node and op == 3:
                node.pop(src.int_in(0, len(node) - 1))
            else:
                try:
                    node.append(json.loads(json.dumps(node[0])) if node and src.bool() else json_value(src))
                except (TypeError, ValueError, RecursionError):  # not JSON: no copy
                    node.append(json_value(src))
    return doc


def config(src: Any) -> Any:
    """A config argument: mostly a mutated fixture or a generated document, as a dict, JSON
    text or bytes, sometimes anything at all."""
    k = src.int_in(0, 9)
    if k == 0:
        return value(src)
    if k <= 4:
        doc: Any = json.loads(json.dumps(pick(src, CONFIGS)))
        doc = mutate(src, doc, src.int_in(0, 4))
    else:
        doc = generated_config(src)
    form = src.int_in(0, 5)
    if form <= 2:
        return doc
    try:
        text_doc = json.dumps(doc, allow_nan=True, ensure_ascii=src.bool())
    except (TypeError, ValueError, RecursionError):
        return doc
    if form == 3:
        return text_doc
    if form == 4:  # a damaged text
        if text_doc:
            i = src.int_in(0, len(text_doc))
            text_doc = text_doc[:i] + src.text(4) + text_doc[i + src.int_in(0, 3):]
        return text_doc if src.bool() else text_doc.encode("utf-8", "surrogatepass")
    return text_doc.encode("utf-8", "surrogatepass") if src.bool() else src.bytes(8) + text_doc.encode("utf-8", "surrogatepass")


# ---- the property ----------------------------------------------------------------------------

litmus: Any = None
stats: Any = None
bandit: Any = None
hashing: Any = None
native: Any = None
events: Any = None
sse: Any = None
openfeature: Any = None
ALLOWED: tuple = ()
COUNTS: collections.Counter = collections.Counter()
STATE: dict = {}


def setup() -> None:
    """Imports the package (once) and makes the shared objects."""
    global litmus, stats, bandit, hashing, native, events, sse, openfeature, ALLOWED
    if litmus is not None:
        return
    import litmus as _litmus  # noqa: PLC0415
    import litmus._events as _events  # noqa: PLC0415
    import litmus._litmus as _native  # noqa: PLC0415
    import litmus.bandit as _bandit  # noqa: PLC0415
    import litmus.hashing as _hashing  # noqa: PLC0415
    import litmus.stats as _stats  # noqa: PLC0415

    litmus, stats, bandit, hashing, native, events = _litmus, _stats, _bandit, _hashing, _native, _events
    try:
        import litmus.openfeature as _of  # noqa: PLC0415

        openfeature = _of
    except ImportError:
        openfeature = None
    ALLOWED = (litmus.LitmusError, TypeError, ValueError, OverflowError, UserError)
    # A background thread of the tracker or config client that dies logs an error ("... thread
    # stopped"): a finding, reported by the next input.
    class Died(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "stopped" in record.getMessage():
                STATE.setdefault("died", []).append(f"{record.name}: {record.getMessage()}: {record.exc_info and record.exc_info[1]!r}")

    log = logging.getLogger("litmus")
    STATE["restore"] = (log.level, log.propagate, sys.unraisablehook)
    log.setLevel(logging.ERROR)
    log.propagate = False
    STATE["handler"] = Died(logging.ERROR)
    log.addHandler(STATE["handler"])
    CONFIGS[:] = _fixture_configs()
    STATE["tmp"] = tempfile.mkdtemp(prefix="litmus-fuzz-")
    STATE["sentinel"] = litmus.Engine(SENTINEL_CONFIG)
    STATE["sentinel_answer"] = [STATE["sentinel"].assign("checkout", f"user-{i}").variant for i in range(8)]
    STATE["sentinel_p"] = stats.norm_sf(1.96)
    STATE["tracker"] = litmus.EventTracker(
        "http://127.0.0.1:9", "fuzz-key", flush_interval=1e9, max_batch=2500, max_queue=64, on_error=lambda e: None
    )
    STATE["unraisable"] = 0

    def unraisable(info: Any) -> None:
        STATE["unraisable"] += 1

    sys.unraisablehook = unraisable
    check_coverage_of_exports()


def teardown() -> None:
    """Undoes setup()'s process-wide changes (the pytest sweep runs among other tests)."""
    global litmus
    if litmus is None:
        return
    STATE["tracker"].close(0)
    level, propagate, hook = STATE["restore"]
    log = logging.getLogger("litmus")
    log.removeHandler(STATE["handler"])
    log.setLevel(level)
    log.propagate = propagate
    sys.unraisablehook = hook
    shutil.rmtree(STATE["tmp"], ignore_errors=True)
    STATE.clear()
    litmus = None


def call(fn: Callable, *args: Any, allow: tuple = (), **kwargs: Any) -> Any:
    """Calls ``fn``; the allowed exceptions give None, any other is a Finding."""
    try:
        return fn(*args, **kwargs)
    except BaseException as e:  # noqa: BLE001 - PanicException is a BaseException
        name = getattr(fn, "__qualname__", repr(fn))
        if type(e).__name__ == "PanicException":
            raise Finding(f"{name} raised PanicException: {e}") from e
        if isinstance(e, litmus.InternalError):
            raise Finding(f"{name} raised InternalError (a caught Rust panic): {e}") from e
        if isinstance(e, ALLOWED + allow):
            return None
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        raise Finding(f"{name} raised {type(e).__name__}: {e!s:.300}") from e


def arg(src: Any, plausible: Callable[[], Any], one_in: int = 8) -> Any:
    """A plausible argument, or (1 time in ``one_in``) anything at all."""
    return value(src) if chance(src, one_in) else plausible()


# ---- drivers: one per entry point or group ---------------------------------------------------


def hostile_store(src: Any) -> Any:
    k = src.int_in(0, 4)
    if k == 0:
        return {}
    if k == 1:
        return {f"{len(e)}:{e}:{u}": pick(src, ["control", "treatment", "nope", ""]) for e in ("checkout", "e0") for u in ("u", "user-1")}

    class Store:
        def __init__(self) -> None:
            self.d: dict = {}

        def get(self, key: str) -> Any:
            r = src.int_in(0, 9)
            if r == 0:
                raise UserError("store get")
            if r == 1:
                return pick(src, [1, b"\xff\xfe", b"control", [], 2.5, "x" * 10_000, "\ud800", Hostile()])
            return self.d.get(key)

        def set(self, key: str, v: str) -> None:
            if chance(src, 6):
                raise UserError("store set")
            self.d[key] = v

    if k == 2:
        return Store()
    if k == 3:
        return Hostile()
    return pick(src, [object(), 5, "store", {"get": 1}])


def on_exposure(src: Any) -> Any:
    k = src.int_in(0, 3)
    if k == 0:
        return None
    if k == 1:
        return lambda e: None
    if k == 2:
        def boom(e: Any) -> None:
            raise UserError("callback")
        return boom
    return STATE["tracker"].on_exposure


def make_engine(src: Any) -> Any:
    kwargs: dict = {}
    if src.bool():
        kwargs["on_exposure"] = arg(src, lambda: on_exposure(src), 12)
    if chance(src, 3):
        kwargs["exposure_dedupe_size"] = arg(src, lambda: pick(src, [0, 1, 2, 3, 10, 250_000, 2**63, 2**64 - 1]))
    if chance(src, 3):
        kwargs["strict"] = arg(src, src.bool, 10)
    if chance(src, 3):
        kwargs["sticky_store"] = hostile_store(src)
    return call(litmus.Engine, config(src), **kwargs)


def attributes(src: Any) -> Any:
    k = src.int_in(0, 5)
    if k == 0:
        return None
    if k == 1:
        return value(src)
    return {(pick(src, ATTRIBUTE_NAMES) if src.bool() else text(src)): value(src) if chance(src, 2) else json_value(src) for _ in range(src.int_in(0, 5))}


def now(src: Any) -> Any:
    return pick(src, [None, False, True, 0, -1, 1.7e9, 1e14, 1e15, NAN, INF, 2**64, "2026-06-15T00:00:00Z", pick(src, WORDS), instant(src), number(src), value(src)])


def use_engine(src: Any, engine: Any) -> None:
    keys = call(engine.experiment_keys) or []
    for _ in range(src.int_in(1, 6)):
        op = src.int_in(0, 11)
        exp = arg(src, lambda: pick(src, keys) if keys and src.int_in(0, 3) else text(src), 10)
        unit = arg(src, lambda: text(src), 10)
        kw = {"now": now(src)} if src.bool() else {}
        if op <= 4:
            a = call(engine.assign, exp, unit, attributes(src), **kw)
            if a is not None:
                check_assignment(src, a)
        elif op == 5:
            for a in call(engine.assign_all, unit, attributes(src), **kw) or []:
                check_assignment(src, a)
        elif op == 6:
            call(engine.update, config(src))
        elif op == 7:
            for p in call(lambda: engine.problems) or []:
                if not isinstance(p, litmus.ConfigError):
                    raise Finding(f"Engine.problems holds {type(p).__name__}, not ConfigError")
        elif op == 8:
            call(lambda: (engine.version, engine.exposures_remembered, engine.experiment_keys()))
        elif op == 9:
            call(engine.assign, exp, unit, {"country": "DE"}, now=False)
        else:
            use_flags(src, engine, unit, kw)


def use_flags(src: Any, engine: Any, unit: Any, kw: dict) -> None:
    """The flag entry points: evaluate (typed or not), evaluate_all, the typed values."""
    keys = call(engine.flag_keys) or []
    flag = arg(src, lambda: pick(src, keys) if keys and src.int_in(0, 3) else text(src), 10)
    op = src.int_in(0, 6)
    if op <= 2:
        typed = {"type": pick(src, ["boolean", "string", "number", "json", "object", 5])} if src.bool() else {}
        e = call(engine.evaluate, flag, unit, attributes(src), **kw, **typed)
        if e is not None:
            check_evaluation(src, e)
    elif op == 3:
        for e in (call(engine.evaluate_all, unit, attributes(src), **kw) or {}).values():
            check_evaluation(src, e)
    else:
        meth = pick(src, ["boolean_value", "string_value", "number_value", "json_value"])
        default = {"default": value(src)} if src.bool() else {}
        call(getattr(engine, meth), flag, unit, attributes(src), **kw, **default)
        call(engine.flag_metadata, flag)
    if src.int_in(0, 3) == 0:
        usage = call(engine.flag_usage, arg(src, lambda: src.bool()))
        if usage is not None and (not isinstance(usage, dict) or not all(isinstance(n, int) and n > 0 for n in usage.values())):
            raise Finding(f"flag_usage gave {usage!r:.200}")


def check_evaluation(src: Any, e: Any) -> None:
    d = call(e.to_dict)
    call(lambda: (e.value, e.flag_metadata, repr(e), e.reason, e.rule, e.variant, e.error, e.assignment))
    if d is not None and d["reason"] not in ("STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT", "ERROR"):
        raise Finding(f"flag reason {d['reason']!r}")
    if d is not None and (d["reason"] == "ERROR") != (d["error"] is not None):
        raise Finding(f"flag error {d['error']!r} with reason {d['reason']!r}")


def check_assignment(src: Any, a: Any) -> None:
    d = call(a.to_dict)
    call(lambda: (a.payload, a.factors, repr(a), hash(a), a == a, a == value(src), a.reason, a.miss, a.in_experiment))
    if d is not None and d["variant"] is not None and not isinstance(d["variant"], str):
        raise Finding(f"variant {d['variant']!r} is not a str")


def drv_engine(src: Any) -> None:
    engine = make_engine(src)
    if engine is not None:
        use_engine(src, engine)


def drv_engine_file(src: Any) -> None:
    path = os.path.join(STATE["tmp"], "config.json")
    doc = config(src)
    try:
        data = doc if isinstance(doc, bytes) else doc.encode("utf-8", "surrogatepass") if isinstance(doc, str) else json.dumps(doc, default=repr).encode("utf-8", "surrogatepass")
    except Exception:  # noqa: BLE001 - not something a file can hold
        data = src.bytes(64)
    with open(path, "wb") as f:
        f.write(data)
    k = src.int_in(0, 5)
    if k == 0:  # an odd path, kept inside the temporary directory
        name = text(src).replace("/", "_").replace("..", "__")
        target: Any = os.path.join(STATE["tmp"], name) if src.bool() else name.encode("utf-8", "surrogatepass")
        if isinstance(target, bytes):
            target = os.path.join(STATE["tmp"].encode(), target)
    elif k == 1:
        target = PathLike(pick(src, [path, path.encode(), 5, None, UserError("fspath")]))
    elif k == 2:
        target = pick(src, [STATE["tmp"], 5, None, Hostile(), pathlib.Path(path)])
    else:
        target = path
    loader = litmus.load_engine if src.bool() else litmus.Engine.from_file
    kwargs = {"strict": src.bool()} if src.bool() else {}
    engine = call(loader, target, allow=(OSError,), **kwargs)
    if engine is not None:
        use_engine(src, engine)


def drv_engine_args(src: Any) -> None:
    """The Engine's methods with arguments of any type, on a good engine."""
    engine = STATE["sentinel"] if src.bool() else call(litmus.Engine, pick(src, CONFIGS), on_exposure=on_exposure(src), sticky_store=hostile_store(src) if src.bool() else None)
    if engine is None:
        return
    args = [value(src) for _ in range(src.int_in(0, 4))]
    kwargs = {pick(src, ["now", "attributes", "unit_id", "experiment", text(src)]): value(src) for _ in range(src.int_in(0, 2))}
    meth = pick(src, ["assign", "assign_all", "update", "experiment_keys", "evaluate", "evaluate_all", "boolean_value", "string_value", "number_value", "json_value", "flag_keys", "flag_metadata", "flag_usage"])
    if meth == "update" and engine is STATE["sentinel"]:
        return
    call(getattr(engine, meth), *args, **kwargs)


def drv_hashing(src: Any) -> None:
    salt = arg(src, lambda: text(src))
    purpose = arg(src, lambda: pick(src, ["traffic", "variant", "layer", "holdout", "factor:" + text(src), text(src)]))
    unit = arg(src, lambda: text(src))
    k = src.int_in(0, 4)
    if k == 0:
        call(hashing.seed, salt, purpose)
    elif k == 1:
        call(hashing.unit_hash, salt, purpose, unit)
    elif k == 2:
        call(hashing.bucket, salt, purpose, unit)
    elif k == 3:
        call(hashing.pick_variant, arg(src, lambda: integer(src)), arg(src, lambda: [number(src) for _ in range(src.int_in(0, 6))]))
    else:
        call(hashing.in_traffic, arg(src, lambda: integer(src)), arg(src, lambda: number(src)))


def floats(src: Any, n: int = 12) -> Any:
    k = src.int_in(0, 4)
    if k == 0:
        return []
    if k == 1:
        return [number(src) for _ in range(src.int_in(0, n))]
    if k == 2:
        return [float(src.int_in(0, 100)) for _ in range(src.int_in(1, n))]
    if k == 3:
        return [src.float() for _ in range(src.int_in(0, n))]
    np = _np()
    return np.array([number(src) for _ in range(src.int_in(0, n))]) if np is not None else []


def sample(src: Any) -> Any:
    """A sample or a Summary, as litmus.stats takes them."""
    k = src.int_in(0, 4)
    if k == 0:
        return stats.Summary(arg(src, lambda: integer(src)), arg(src, lambda: number(src)), arg(src, lambda: number(src)))
    if k == 1:
        return value(src)
    return floats(src)


def cosample(src: Any) -> Any:
    k = src.int_in(0, 3)
    if k == 0:
        return stats.CoSummary(*[integer(src)] + [number(src) for _ in range(5)])
    if k == 1:
        n = src.int_in(0, 6)
        return ([number(src) for _ in range(n)], [number(src) for _ in range(n + (1 if chance(src, 5) else 0))])
    if k == 2:
        return value(src)
    return (floats(src), floats(src))


def drv_stats(src: Any) -> None:
    f = lambda: number(src)  # noqa: E731
    cnt = lambda: integer(src) if chance(src, 3) else src.int_in(0, 500)  # noqa: E731
    alt = lambda: pick(src, ["two-sided", "less", "greater", "smaller", "larger", text(src)])  # noqa: E731
    a = lambda g: arg(src, g)  # noqa: E731
    name = pick(src, STATS_FUNCTIONS)
    fn = getattr(stats, name)
    if name == "describe":
        call(fn, a(lambda: floats(src)))
    elif name == "describe_pairs":
        call(fn, a(lambda: floats(src)), a(lambda: floats(src)))
    elif name == "ttest_ind":
        call(fn, sample(src), sample(src), a(src.bool), a(alt))
    elif name == "ttest_ind_from_stats":
        call(fn, a(f), a(f), a(cnt), a(f), a(f), a(cnt), a(src.bool), a(alt))
    elif name in ("chisquare", "srm_check"):
        extra = [a(f)] if name == "srm_check" and src.bool() else []
        call(fn, a(lambda: floats(src)), a(lambda: None if src.bool() else floats(src)), *extra)
    elif name == "chi2_contingency":
        rows = src.int_in(0, 4)
        table = [[number(src) if chance(src, 4) else float(src.int_in(0, 50)) for _ in range(src.int_in(0, 4))] for _ in range(rows)]
        call(fn, a(lambda: table), a(src.bool))
    elif name == "proportions_ztest":
        call(fn, a(lambda: [cnt(), cnt()]), a(lambda: [cnt(), cnt()]), *([a(lambda: pick(src, [None, 0, 0.1]))] if src.bool() else []), alternative=a(alt))
    elif name == "proportion_confint":
        call(fn, a(cnt), a(cnt), a(f), a(lambda: pick(src, ["normal", "wilson", "agresti_coull", "beta", text(src)])))
    elif name == "multipletests":
        call(fn, a(lambda: floats(src)), a(f), a(lambda: pick(src, ["bonferroni", "holm", "fdr_bh", "hs", text(src)])))
    elif name == "f_oneway":
        call(fn, *[sample(src) for _ in range(src.int_in(0, 4))])
    elif name == "factorial_anova":
        levels = [src.int_in(0, 4) if src.int_in(0, 5) else integer(src) for _ in range(src.int_in(0, 3))]
        n = math.prod(x for x in levels if 0 <= x <= 4) if levels else 0
        call(fn, a(lambda: levels), a(lambda: [sample(src) for _ in range(min(n + src.int_in(-1, 1), 40))]))
    elif name in ("mean_confint",):
        call(fn, sample(src), a(f))
    elif name in ("diff_means_confint",):
        call(fn, sample(src), sample(src), a(f), a(src.bool))
    elif name in ("relative_lift_confint",):
        call(fn, sample(src), sample(src), a(f))
    elif name == "newcombe_confint":
        call(fn, a(cnt), a(cnt), a(cnt), a(cnt), a(f))
    elif name in ("power", "sample_size", "minimum_detectable_effect"):
        call(fn, a(f), a(f), a(f), a(f), a(alt))
    elif name == "proportion_effectsize":
        call(fn, a(f), a(f))
    elif name == "msprt":
        call(fn, sample(src), sample(src), a(f), a(f))
    elif name == "msprt_proportions":
        call(fn, a(cnt), a(cnt), a(cnt), a(cnt), a(f), a(f))
    elif name in ("cuped", "ratio_ztest"):
        call(fn, cosample(src), cosample(src), a(f), a(alt))
    elif name in ("beta_prob_beats", "beta_expected_loss", "normal_prob_beats", "normal_expected_loss"):
        call(fn, a(f), a(f), a(f), a(f))
    elif name == "beta_prob_best":
        call(fn, a(lambda: [(number(src), number(src)) if src.int_in(0, 5) else value(src) for _ in range(src.int_in(0, 5))]))
    elif name == "QuantileSketch":
        use_sketch(src, make_sketch(src))
    elif name in ("quantile_interval", "quantile_ztest"):
        groups = [quantile_sample(src) for _ in range(1 if name == "quantile_interval" else 2)]
        kw = {"relative_accuracy": a(lambda: pick(src, [0.001, 0.01, 0.05, number(src)]))} if chance(src, 4) else {}
        call(fn, *groups, a(lambda: pick(src, [0.0, 0.5, 0.9, 0.99, 1.0, number(src)])), *([a(f)] if src.bool() else []), **kw)
    elif name == "exact_quantile":
        call(fn, a(lambda: floats(src)), a(lambda: pick(src, [0.0, 0.5, 1.0, number(src)])))
    elif name == "sketch_key":
        call(fn, a(f), *([a(lambda: pick(src, [0.001, 0.01, 0.05, number(src)]))] if src.bool() else []))
    elif name == "sketch_value":
        call(fn, a(lambda: pick(src, [0, 32_768 + src.int_in(-20_000, 400_000), -40_000, integer(src)])), *([a(lambda: pick(src, [0.001, 0.01, 0.05, number(src)]))] if src.bool() else []))
    elif name in ("Summary",):
        s = call(fn, a(cnt), a(f), a(f))
        if s is not None:
            call(lambda: (s.variance, repr(s)))
    elif name in STATS_RESULT_TYPES:
        call(fn, *[value(src) for _ in range(src.int_in(0, 10))])
    else:  # a distribution function
        call(fn, *[a(f) for _ in range(src.int_in(1, 3) if chance(src, 6) else DIST_ARITY.get(name, 1))])


DIST_ARITY = {"t_sf": 2, "t_cdf": 2, "t_pdf": 2, "t_isf": 2, "chi2_sf": 2, "chi2_cdf": 2, "f_sf": 3, "beta_cdf": 3}
STATS_RESULT_TYPES = {"TtestResult", "Chi2ContingencyResult", "Power_divergenceResult", "SrmResult", "F_onewayResult", "Term", "FactorialResult", "Interval", "SequentialResult", "CoSummary", "CupedResult", "RatioResult", "QuantileEstimate", "QuantileResult"}
STATS_FUNCTIONS: list[str] = []


def moments_tuple(src: Any) -> Any:
    return arg(src, lambda: (integer(src) if chance(src, 3) else src.int_in(0, 100), number(src), number(src) if chance(src, 2) else abs(number(src))))


def co_tuple(src: Any) -> Any:
    return arg(src, lambda: (integer(src) if chance(src, 3) else src.int_in(0, 100), *[number(src) for _ in range(5)]))


def f64_bytes(src: Any) -> Any:
    return arg(src, lambda: b"".join(struct.pack("d", number(src)) for _ in range(src.int_in(0, 40))) + (src.bytes(7) if chance(src, 6) else b""))


def webhook_header(src: Any) -> str:
    """A Litmus-Signature value: entries of t, v1, v0 and others, well formed or not."""
    entries = []
    for _ in range(src.int_in(0, 5)):
        name = pick(src, ["t", "v1", "v1", "v0", "", " t", "T"])
        if name.strip() == "t":
            value = pick(src, [str(src.int_in(0, 2**40)), str(integer(src)), text(src)])
        else:
            value = src.bytes(32).hex() if src.bool() else text(src)
        entries.append(f"{name}={value}" if src.int_in(0, 8) else name + value)
    return pick(src, [",", ", ", ";"]).join(entries)


def drv_native(src: Any) -> None:
    """The raw native functions, without the Python wrappers' coercions."""
    f = lambda: arg(src, lambda: number(src))  # noqa: E731
    u = lambda: arg(src, lambda: integer(src) if chance(src, 3) else src.int_in(0, 500))  # noqa: E731
    s = lambda: arg(src, lambda: text(src))  # noqa: E731
    b = lambda: arg(src, src.bool)  # noqa: E731
    fl = lambda: arg(src, lambda: [number(src) for _ in range(src.int_in(0, 8))])  # noqa: E731
    m = lambda: moments_tuple(src)  # noqa: E731
    c = lambda: co_tuple(src)  # noqa: E731
    name = pick(src, NATIVE_FUNCTIONS)
    fn = getattr(native, name)
    table: dict[str, Callable[[], list]] = {
        "seed": lambda: [s(), s()],
        "unit_hash": lambda: [s(), s(), s()],
        "bucket": lambda: [s(), s(), s()],
        "pick_variant": lambda: [u(), fl()],
        "in_traffic": lambda: [u(), f()],
        "moments_from_f64_bytes": lambda: [f64_bytes(src)],
        "comoments_from_f64_bytes": lambda: [f64_bytes(src), f64_bytes(src)],
        "ttest_ind_from_stats": lambda: [f(), f(), u(), f(), f(), u(), b(), s()],
        "ttest_ind_moments": lambda: [m(), m(), b(), s()],
        "proportions_ztest": lambda: [u(), u(), u(), u(), s(), b()],
        "proportion_confint": lambda: [u(), u(), f(), s()],
        "chisquare": lambda: [fl(), fl()],
        "chi2_contingency": lambda: [fl(), u(), b()],
        "multipletests": lambda: [fl(), f(), s()],
        "distribution": lambda: [s(), fl()],
        "srm_check": lambda: [fl(), fl(), f()],
        "f_oneway": lambda: [arg(src, lambda: [moments_tuple(src) for _ in range(src.int_in(0, 5))])],
        "factorial_anova": lambda: [arg(src, lambda: [src.int_in(0, 4) if src.int_in(0, 4) else integer(src) for _ in range(src.int_in(0, 4))]), arg(src, lambda: [moments_tuple(src) for _ in range(src.int_in(0, 30))])],
        "mean_confint": lambda: [m(), f()],
        "diff_means_confint": lambda: [m(), m(), f(), b()],
        "relative_lift_confint": lambda: [m(), m(), f()],
        "newcombe_confint": lambda: [u(), u(), u(), u(), f()],
        "planning": lambda: [s(), f(), f(), f(), f(), s()],
        "msprt_means": lambda: [m(), m(), f(), f()],
        "msprt_proportions": lambda: [u(), u(), u(), u(), f(), f()],
        "cuped": lambda: [c(), c(), f(), s()],
        "ratio_ztest": lambda: [c(), c(), f(), s()],
        "beta_compare": lambda: [f(), f(), f(), f()],
        "beta_prob_best": lambda: [arg(src, lambda: [(number(src), number(src)) for _ in range(src.int_in(0, 6))])],
        "normal_compare": lambda: [f(), f(), f(), f()],
        "quantile_interval": lambda: [arg(src, lambda: make_sketch(src)), f(), f()],
        "quantile_ztest": lambda: [arg(src, lambda: make_sketch(src)), arg(src, lambda: make_sketch(src)), f(), f()],
        "exact_quantile_from_f64_bytes": lambda: [f64_bytes(src), f()],
        "sketch_key": lambda: [f(), f()],
        "sketch_value": lambda: [u(), f()],
        "validate_metrics": lambda: [catalogue(src)],
        "validate_analysis": lambda: [analysis_settings(src)],
        "plan_experiment": lambda: [planning_request(src)],
        "bandit_stratified": lambda: [mutated(src, STRATIFIED_REQUEST)],
        "decode_error_reply": lambda: [u(), arg(src, lambda: text(src).encode("utf-8", "surrogatepass"))],
        "retry_after_ms": lambda: [s(), u()],
        "is_retryable": lambda: [u()],
        "format_millis": lambda: [u()],
        "message_id": lambda: [arg(src, lambda: bytes(src.int_in(0, 20)))],
        "encode_exposure": lambda: [s(), s(), s(), u(), s(), arg(src, lambda: pick(src, [None, "{}", '{"country":"FR"}', '{"a b":"x"}', '{"c":3}', "[1]"]))],
        "encode_track": lambda: [s(), s(), f(), arg(src, lambda: pick(src, [None, "{}", '{"a":1}', "[1]"])), u(), s()],
        "sticky_key": lambda: [s(), s()],
        "webhook_sign": lambda: [s(), arg(src, lambda: text(src).encode("utf-8", "surrogatepass")), u()],
        "webhook_verify": lambda: [s(), arg(src, lambda: webhook_header(src)), arg(src, lambda: text(src).encode("utf-8", "surrogatepass")), u(), u()],
    }
    args = table[name]()
    if chance(src, 12):  # the wrong number of arguments
        args = args[: src.int_in(0, len(args))] if src.bool() else args + [value(src)]
    call(fn, *args)


def arm(src: Any) -> Any:
    k = src.int_in(0, 4)
    if k == 0:
        return bandit.Arm()
    if k == 1:
        return call(bandit.Arm.from_counts, arg(src, lambda: src.int_in(0, 100)), arg(src, lambda: src.int_in(0, 100))) or bandit.Arm()
    if k == 2:
        state = {"pulls": arg(src, lambda: integer(src)), "mean": arg(src, lambda: number(src)), "m2": arg(src, lambda: number(src))}
        if chance(src, 5):
            state.pop(pick(src, list(state)))
        return call(bandit.Arm.from_dict, state if src.int_in(0, 6) else value(src)) or bandit.Arm()
    a = bandit.Arm()
    for _ in range(src.int_in(0, 5)):
        call(a.update, arg(src, lambda: number(src) if src.bool() else float(src.int_in(0, 1))))
    if src.bool():
        call(a.update_batch, arg(src, lambda: [number(src) for _ in range(src.int_in(0, 5))]))
    return a


def policy(src: Any) -> Any:
    f = lambda: arg(src, lambda: number(src), 10)  # noqa: E731
    opts: dict = {}
    if src.bool():
        opts["burn_in"] = arg(src, lambda: pick(src, [0, 1, 5, 2**64 - 1, -1, 2**64]))
    if src.bool():
        opts["floor"] = f()
    if src.bool():
        opts["optimistic"] = arg(src, lambda: pick(src, [None, number(src)]))
    k = src.int_in(0, 4)
    if k == 0:
        return call(bandit.Policy.thompson_beta, *[f() for _ in range(src.int_in(0, 2))], **opts)
    if k == 1:
        return call(bandit.Policy.thompson_normal, *[f() for _ in range(src.int_in(0, 4))], **opts)
    if k == 2:
        return call(bandit.Policy.ucb1, *[f() for _ in range(src.int_in(0, 1))], **opts)
    if k == 3:
        return call(bandit.Policy.kl_ucb, *[f() for _ in range(src.int_in(0, 1))], **opts)
    return call(bandit.Policy.epsilon_greedy, *[f() if i == 0 else arg(src, lambda: pick(src, [None, number(src)])) for i in range(src.int_in(0, 2))], **opts)


def draws(src: Any) -> Any:
    return arg(src, lambda: pick(src, [0, 1, 2, 100, 1000, 10_000, 10_000_001, 2**64 - 1, 2**64, -1]))


def drv_bandit(src: Any) -> None:
    k = src.int_in(0, 4)
    if k == 0:
        a, b = arm(src), arm(src)
        call(a.merge, b if src.int_in(0, 5) else value(src))
        call(lambda: (a.pulls, a.mean, a.reward_sum, a.m2, a.to_dict(), repr(a)))
        d = call(a.to_dict)
        if d is not None:
            call(bandit.Arm.from_dict, d)
    elif k == 1:
        r = call(bandit.Random, arg(src, lambda: integer(src)))
        if r is not None:
            call(lambda: (r.next_u64(), r.random()))
    elif k in (2, 3):
        p = policy(src)
        if p is None:
            return
        arms = [arm(src) for _ in range(src.int_in(0, 5))]
        if chance(src, 10):
            arms.append(value(src))
        seed = arg(src, lambda: integer(src))
        op = src.int_in(0, 2)
        if op == 0:
            rng = bandit.Random(7) if src.int_in(0, 8) else value(src)
            call(p.choose, arms, rng)
        elif op == 1:
            call(p.weights, arms, draws(src), seed)
        else:
            call(p.weights_monte_carlo, arms, draws(src), seed)
        call(repr, p)
    else:
        p = policy(src) or bandit.Policy.thompson_beta()
        keys = arg(src, lambda: [pick(src, ["red", "blue", "green", text(src)]) for _ in range(src.int_in(0, 4))])
        bd = call(bandit.Bandit, p if src.int_in(0, 8) else value(src), keys, *([arg(src, lambda: integer(src))] if src.bool() else []))
        if bd is None:
            return
        for _ in range(src.int_in(1, 6)):
            op = src.int_in(0, 4)
            if op == 0:
                call(bd.choose)
            elif op == 1:
                call(bd.update, arg(src, lambda: pick(src, bd.keys) if src.bool() else text(src)), arg(src, lambda: number(src) if src.bool() else float(src.int_in(0, 1))))
            elif op == 2:
                call(bd.weights, draws(src), arg(src, lambda: integer(src)))
            else:
                call(lambda: (bd.arms(), bd.keys))


def drv_tracker(src: Any) -> None:
    tracker = STATE["tracker"]
    k = src.int_in(0, 5)
    ts = lambda: arg(src, lambda: pick(src, [None, instant(src)]))  # noqa: E731
    if k == 0:
        props = arg(src, lambda: pick(src, [None, {text(src): json_value(src) for _ in range(src.int_in(0, 4))}, BadMapping(), {"big": "x" * 40_000}]))
        val = arg(src, lambda: pick(src, [None, number(src), integer(src), decimal.Decimal("1.5"), fractions.Fraction(1, 3), True]))
        call(tracker.track, arg(src, lambda: text(src)), arg(src, lambda: text(src)), val, props, timestamp=ts())
    elif k == 1:
        call(
            tracker.exposure,
            arg(src, lambda: text(src)),
            arg(src, lambda: text(src)),
            arg(src, lambda: text(src)),
            timestamp=ts(),
            dimensions=arg(src, lambda: pick(src, [None, {}, {"country": text(src)}, {text(src): "x"}, {"c": 3}])),
        )
        call(
            tracker.holdout_exposure,
            arg(src, lambda: text(src)),
            arg(src, lambda: text(src)),
            arg(src, lambda: pick(src, ["holdout", "exposed", text(src)])),
            timestamp=ts(),
        )
    elif k == 2:  # the Engine callback: never raises
        event = arg(src, lambda: {"unit_id": arg(src, lambda: text(src)), "experiment": arg(src, lambda: text(src)), "variant": arg(src, lambda: text(src)), "timestamp": arg(src, lambda: pick(src, [None, number(src), integer(src), 1.7e9]))}, 5)
        try:
            tracker.on_exposure(event)
        except BaseException as e:  # noqa: BLE001
            raise Finding(f"EventTracker.on_exposure raised {type(e).__name__}: {e!s:.200}") from e
    elif k == 3:  # the wire format
        op = src.int_in(0, 4)
        ms = arg(src, lambda: integer(src) if src.bool() else src.int_in(-(10**15), 10**15))
        if op == 0:
            props = call(events.properties_json, arg(src, lambda: {text(src): json_value(src)}))
            call(native.encode_track, arg(src, lambda: text(src)), arg(src, lambda: text(src)), call(events.number, arg(src, lambda: number(src))), props, ms, arg(src, lambda: text(src)))
        elif op == 1:
            call(native.encode_exposure, arg(src, lambda: text(src)), arg(src, lambda: text(src)), arg(src, lambda: text(src)), ms, arg(src, lambda: text(src)))
        elif op == 2:
            call(native.format_millis, ms)
        elif op == 3:
            call(events.millis_of_seconds, arg(src, lambda: number(src)))
        else:
            call(events.millis_of, arg(src, lambda: pick(src, [None, instant(src)])))
    elif k == 4:  # constructors
        kwargs = {}
        for name in ("flush_interval", "max_batch", "max_queue", "timeout", "max_backoff", "gzip_min_bytes"):
            if chance(src, 3):
                kwargs[name] = arg(src, lambda: pick(src, [number(src), integer(src), 1, 0, -1]), 3)
        if src.bool():
            t = call(litmus.EventTracker, arg(src, lambda: pick(src, ["http://127.0.0.1:9", "https://x", "ftp://x", "http://", "http://[::1", "http://h:99999", text(src)])), arg(src, lambda: pick(src, ["k", "", "a\nb", text(src)])), **kwargs)
            if t is not None:
                # An event the thread tries (and fails) to send, unless close() may wait forever.
                wait = arg(src, lambda: pick(src, [0, 0.0, 0.01, -1, NAN, INF, 1e12]))
                if isinstance(wait, (int, float)) and wait < 1:
                    call(t.track, "u", "e")
                call(lambda: (t.queued, t.sent, t.dropped, t.last_error, repr(t)))
                call(t.close, wait)
        else:
            ckw = {}
            for name in ("mode", "poll_interval", "timeout", "max_backoff", "idle_timeout", "bootstrap", "cache_path", "usage_interval"):
                if chance(src, 3):
                    ckw[name] = arg(src, lambda: pick(src, ["stream", "poll", number(src), None]), 3)
            c = call(litmus.ConfigClient, arg(src, lambda: pick(src, ["http://127.0.0.1:9", "https://x/p/", "ftp://x", "http://h:99999", text(src)])), arg(src, lambda: pick(src, ["k", "", "a\rb", text(src)])), **ckw)
            if c is not None:
                call(lambda: (c.version, c.stale, c.last_error, repr(c)))
                call(lambda: c.engine)
                if c._base_url == "http://127.0.0.1:9" and chance(src, 4):  # refused at once
                    call(c.start)
                call(c.wait_ready, 0)
                call(c.close)
    else:  # the SDK protocol machines, fed arbitrary answers in any order
        chunks = ["data: x\n\n", "id: 3\r\n", "retry: 10\r", "\r", "\n", ":keep\n", "event: config\ndata: {}\n\n", "\ufeff", "id: \x00\n", "retry: \u0661\n"]
        which = src.int_in(0, 3)
        if which == 0:
            decoder = native.SseDecoder()
            for _ in range(src.int_in(1, 6)):
                chunk = arg(src, lambda: pick(src, chunks + [text(src)]).encode("utf-8", "surrogatepass"))
                call(decoder.feed, chunk)
        elif which == 1:
            sync = call(native.ConfigSync, "http://x", arg(src, lambda: pick(src, ["stream", "poll"])), poll_interval_ms=arg(src, lambda: number(src)))
            if sync is None:
                return
            call(sync.start, arg(src, lambda: pick(src, [None, "{}", text(src)])))
            for _ in range(src.int_in(1, 12)):
                now = arg(src, lambda: number(src))
                op = src.int_in(0, 9)
                status = arg(src, lambda: pick(src, [200, 304, 401, 403, 429, 500, 0, 65535]))
                body = arg(src, lambda: pick(src, [b"", b"{}", b'{"error":{"code":"x"}}', b"\xff", text(src).encode("utf-8", "surrogatepass")]))
                if op == 0:
                    call(sync.fetched, status, arg(src, lambda: pick(src, [None, '"e"'])), body, now)
                elif op == 1:
                    call(sync.unreachable, arg(src, lambda: text(src)), now)
                elif op == 2:
                    call(sync.stream_opened, status, arg(src, lambda: pick(src, [None, "text/event-stream", text(src)])), body, now)
                elif op == 3:
                    call(sync.stream_data, arg(src, lambda: pick(src, chunks).encode()), now)
                elif op == 4:
                    call(sync.stream_ended, now)
                elif op == 5:
                    call(sync.timer_fired, now)
                elif op == 6:
                    call(sync.loaded, arg(src, lambda: pick(src, [None, "v1", text(src)])), now)
                elif op == 7:
                    call(sync.refused, arg(src, lambda: text(src)), arg(src, lambda: text(src)), now)
                elif op == 8:
                    call(sync.cache_read, arg(src, lambda: pick(src, [None, '{"version":"v9"}', text(src)])), now)
                else:
                    call(sync.resume, now)
                while call(sync.poll_action) is not None:
                    pass
        elif which == 3:
            sender = call(native.UsageSender, "http://x", interval_ms=arg(src, lambda: pick(src, [1000.0, 60000.0, 0.0, NAN, number(src)])))
            if sender is None:
                return
            for _ in range(src.int_in(1, 16)):
                now = arg(src, lambda: number(src))
                op = src.int_in(0, 5)
                if op == 0:
                    call(sender.record, arg(src, lambda: pick(src, ["a", "b", "", text(src)])), arg(src, lambda: pick(src, [0, 1, 7, 2**64 - 1, -1, 2**64])))
                elif op == 1:
                    call(sender.record_all, arg(src, lambda: {text(src): integer(src) for _ in range(src.int_in(0, 4))}))
                elif op == 2:
                    action = call(sender.tick, now)
                    if isinstance(action, dict) and action.get("type") == "send":
                        status = arg(src, lambda: pick(src, [204, 200, 400, 401, 404, 413, 422, 429, 503, 0, 65535]))
                        retry_after = arg(src, lambda: pick(src, [None, "1", "Sun, 06 Nov 1994 08:49:37 GMT", text(src)]))
                        call(sender.sent, status, retry_after, arg(src, lambda: pick(src, [b"", b'{"error":{"code":"x"}}', text(src).encode("utf-8", "surrogatepass")])), now)
                elif op == 3:
                    call(sender.unreachable, arg(src, lambda: text(src)), now)
                elif op == 4:
                    call(sender.close, arg(src, lambda: number(src)), now)
                else:
                    call(lambda: (sender.pending, sender.stored, sender.dropped, sender.stopped))
        else:
            core = call(native.TrackerCore, "http://x", max_batch=arg(src, lambda: pick(src, [1, 2, 500, 0, 9999])), max_queue=arg(src, lambda: pick(src, [1, 3, 10, 0])))
            if core is None:
                return
            for _ in range(src.int_in(1, 16)):
                now = arg(src, lambda: number(src))
                op = src.int_in(0, 6)
                if op == 0:
                    call(core.enqueue, arg(src, lambda: text(src).encode("utf-8", "surrogatepass")), now)
                elif op == 1:
                    call(core.flush)
                elif op == 2:
                    call(core.close, arg(src, lambda: number(src)), now)
                elif op == 3:
                    action = call(core.next_action, now)
                    if isinstance(action, dict) and action.get("type") == "send":
                        call(core.answered, action["id"], arg(src, lambda: pick(src, [200, 202, 400, 401, 413, 429, 503, 0])), arg(src, lambda: pick(src, [None, "1", "Sun, 06 Nov 1994 08:49:37 GMT", text(src)])), arg(src, lambda: pick(src, [b"", b"{}", b'{"rejected":[{"index":0}]}', text(src).encode("utf-8", "surrogatepass")])), now)
                elif op == 4:
                    call(core.unreachable, arg(src, lambda: integer(src)), arg(src, lambda: text(src)), now)
                elif op == 5:
                    call(core.take_for_keepalive, arg(src, lambda: integer(src)), now)
                else:
                    call(lambda: (core.queued, core.sent, core.dropped, core.settled, core.enqueued, core.closing))


def drv_openfeature(src: Any) -> None:
    if openfeature is None:
        return
    from openfeature.evaluation_context import EvaluationContext  # noqa: PLC0415

    engine = STATE["sentinel"] if src.bool() else litmus.Engine(pick(src, CONFIGS))
    provider = openfeature.LitmusProvider(engine)
    try:
        ctx = EvaluationContext(arg(src, lambda: pick(src, [None, "", "user-1", text(src)])), {text(src): value(src) for _ in range(src.int_in(0, 4))}) if src.int_in(0, 5) else None
    except Exception:  # the SDK's own validation, not Litmus'
        return
    kind = pick(src, ["boolean", "string", "integer", "float", "object"])
    keys = engine.experiment_keys()
    flag = arg(src, lambda: pick(src, keys) if keys and src.bool() else text(src))
    call(getattr(provider, f"resolve_{kind}_details"), flag, value(src), ctx)


def make_sketch(src: Any) -> Any:
    """A QuantileSketch: empty, of some values, from buckets (sometimes odd ones)."""
    accuracy = arg(src, lambda: pick(src, [0.001, 0.01, 0.05]), 10)
    k = src.int_in(0, 3)
    if k == 0:
        return call(litmus.QuantileSketch, accuracy) or litmus.QuantileSketch()
    if k == 1:
        s = call(litmus.QuantileSketch, accuracy) or litmus.QuantileSketch()
        call(s.extend, arg(src, lambda: floats(src, 40)))
        return s
    if k == 2:
        pairs = [(pick(src, [0, 32_768 + src.int_in(-20_000, 400_000), -(32_768 + src.int_in(-20_000, 400_000)), src.int_in(-(2**31), 2**31 - 1)]), pick(src, [1, 2, -1, 0, integer(src)])) for _ in range(src.int_in(0, 6))]
        return call(litmus.QuantileSketch.from_buckets, arg(src, lambda: pairs), *([accuracy] if src.bool() else [])) or litmus.QuantileSketch()
    s = litmus.QuantileSketch()
    for x in (float(src.int_in(0, 100)) for _ in range(src.int_in(0, 20))):
        s.add(x)
    return s


def quantile_sample(src: Any) -> Any:
    """A group as the quantile functions take it: a sketch or values."""
    return make_sketch(src) if src.bool() else arg(src, lambda: floats(src, 40))


def use_sketch(src: Any, s: Any) -> None:
    """The sketch's methods with plausible and arbitrary arguments."""
    x = lambda: arg(src, lambda: number(src) if chance(src, 3) else float(src.int_in(-50, 50)))  # noqa: E731
    for _ in range(src.int_in(1, 8)):
        op = src.int_in(0, 8)
        if op == 0:
            call(s.add, x())
        elif op == 1:
            call(s.remove, x())
        elif op == 2:
            call(s.extend, arg(src, lambda: floats(src, 20) if src.bool() else (number(src) for _ in range(src.int_in(0, 5)))))
        elif op == 3:
            call(s.merge, arg(src, lambda: make_sketch(src) if src.int_in(0, 5) else s))
        elif op == 4:
            call(s.quantile, arg(src, lambda: pick(src, [0.0, 0.5, 0.9, 1.0, number(src)])))
        elif op == 5:
            back = call(litmus.QuantileSketch.from_buckets, s.buckets(), s.alpha)
            if back is not None and back.buckets() != s.buckets():
                raise Finding("QuantileSketch.from_buckets(s.buckets()) differs from s")
        elif op == 6:
            call(lambda: (s.count, s.alpha, repr(s), len(s.buckets())))
        else:
            call(stats.quantile_interval, s, arg(src, lambda: pick(src, [0.5, 0.99, number(src)])))
    # A call that raised changed nothing: add(x) then remove(x) of a finite x is a no-op.
    snapshot = s.buckets()
    if call(s.add, 1.5) is None and call(s.remove, 1.5) is None and s.buckets() != snapshot:
        raise Finding("add(1.5) then remove(1.5) changed the sketch")


def drv_quantiles(src: Any) -> None:
    use_sketch(src, make_sketch(src))


def mutated(src: Any, base: Any) -> Any:
    """`base` (a fixture's JSON), mutated or not, as a value, JSON text or UTF-8 bytes; or anything."""
    k = src.int_in(0, 7)
    if k == 0:
        return value(src)
    doc: Any = json.loads(json.dumps(base))
    if k <= 5:
        doc = mutate(src, doc, src.int_in(0, 4))
    if src.int_in(0, 3):
        return doc
    try:
        text_doc = json.dumps(doc, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return doc
    return text_doc if src.bool() else text_doc.encode("utf-8", "surrogatepass")


def catalogue(src: Any) -> Any:
    """A metric catalogue: the shared fixture's, mutated, as a list or JSON text; or anything."""
    return mutated(src, METRIC_CATALOGUE)


def analysis_settings(src: Any) -> Any:
    """Analysis settings: the shared fixture's fullest, mutated; or anything."""
    return mutated(src, ANALYSIS_SETTINGS)


def planning_request(src: Any) -> Any:
    """A planning request: one of the shared fixture's, mutated; or anything."""
    return mutated(src, pick(src, PLANNING_REQUESTS))


def drv_metrics(src: Any) -> None:
    out = call(litmus.validate_metrics, catalogue(src))
    if out is not None and not all(isinstance(m, dict) and set(m) == {"key", "kind", "rollup"} for m in out):
        raise Finding(f"validate_metrics returned {out!r:.200}")
    settings = call(litmus.validate_analysis, analysis_settings(src))
    if settings is not None and not (isinstance(settings, dict) and 0 < settings["alpha"] <= 0.5 and settings["test"] in ("two_sided", "one_sided")):
        raise Finding(f"validate_analysis returned {settings!r:.200}")
    plan = call(litmus.plan_experiment, planning_request(src))
    if plan is not None and not (isinstance(plan, dict) and plan["plan"]["units_per_variant"] >= 1):
        raise Finding(f"plan_experiment returned {plan!r:.200}")
    inference = call(bandit.stratified, mutated(src, STRATIFIED_REQUEST))
    if inference is not None and not (isinstance(inference, dict) and inference["method"] == "stratified_by_weight_period"):
        raise Finding(f"bandit.stratified returned {inference!r:.200}")


def _metric_catalogue() -> list:
    with open(REPO / "fixtures" / "metrics" / "catalogues.json", encoding="utf-8") as f:
        return json.load(f)["valid"]["catalogue"]


METRIC_CATALOGUE = _metric_catalogue()

# A stratified bandit inference request (as fixtures/stats/bandit_inference.json's).
STRATIFIED_REQUEST = {
    "variants": ["control", "b"],
    "units": {"variant": ["control", "b", "control", "b", "b", "control"], "first_ms": [1, 2, 50, 60, 70, 80], "value": [0, 1, 1, 0, 1, 0]},
    "changes_ms": [40],
    "metric": {"key": "m", "kind": "conversion", "goal": "increase"},
    "analysis": {"alpha": 0.05, "correction": "holm"},
}


def _analysis_settings() -> dict:
    with open(REPO / "fixtures" / "analysis" / "settings.json", encoding="utf-8") as f:
        return json.load(f)["valid"][1]["analysis"]


ANALYSIS_SETTINGS = _analysis_settings()


def _planning_requests() -> list:
    with open(REPO / "fixtures" / "planning" / "cases.json", encoding="utf-8") as f:
        return [c["request"] for c in json.load(f)["valid"]]


PLANNING_REQUESTS = _planning_requests()

DRIVERS = [drv_engine, drv_engine, drv_engine, drv_engine_file, drv_engine_args, drv_hashing, drv_stats, drv_stats, drv_native, drv_native, drv_bandit, drv_bandit, drv_tracker, drv_openfeature, drv_quantiles, drv_metrics]

# What each driver covers, checked against the modules' __all__ at start-up.
COVERED = {
    "litmus": {"Engine", "Assignment", "FlagEvaluation", "load_engine", "ConfigClient", "EventTracker", "ERROR_CODES", "__version__", "validate_metrics", "validate_analysis", "plan_experiment", "QuantileSketch"},
    "litmus.bandit": {"Arm", "Bandit", "Policy", "Random", "stratified"},
    "litmus.hashing": {"seed", "unit_hash", "bucket", "pick_variant", "in_traffic"},
}
NATIVE_FUNCTIONS: list[str] = []


def check_coverage_of_exports() -> None:
    errors = {"LitmusError", "ConfigError", "InvalidArgumentError", "DegenerateDataError", "InternalError", "NotReadyError", "ServerError", "AuthError", "UnavailableError", "EventsRejectedError", "SignatureError"}
    missing = [n for n in litmus.__all__ if n not in COVERED["litmus"] | errors]
    missing += [f"bandit.{n}" for n in bandit.__all__ if n not in COVERED["litmus.bandit"]]
    missing += [f"hashing.{n}" for n in hashing.__all__ if n not in COVERED["litmus.hashing"]]
    STATS_FUNCTIONS[:] = [n for n in stats.__all__]
    native_classes = {"Engine", "Assignment", "FlagEvaluation", "Arm", "Random", "Policy", "Bandit", "QuantileSketch", "__version__", "ERROR_CODES", "_panic_for_tests"}
    # The SDK protocol machines (drv_tracker_client) and their constants.
    native_classes |= {"ConfigSync", "TrackerCore", "SseDecoder", "UsageSender", "MAX_EVENT_BYTES", "MAX_BODY_BYTES", "MAX_BATCH_EVENTS", "ENVELOPE_BYTES"}
    NATIVE_FUNCTIONS[:] = [n for n in native.__all__ if n not in native_classes]
    known_native = set(drv_native.__code__.co_consts) | {c for const in drv_native.__code__.co_consts if isinstance(const, tuple) for c in const}
    missing += [f"_litmus.{n}" for n in NATIVE_FUNCTIONS if n not in known_native]
    handled_stats = set(drv_stats.__code__.co_consts) | {c for const in drv_stats.__code__.co_consts if isinstance(const, (tuple, frozenset)) for c in const} | STATS_RESULT_TYPES | set(DIST_TO_NAME)
    missing += [f"stats.{n}" for n in STATS_FUNCTIONS if n not in handled_stats]
    if missing:
        raise SystemExit(f"exports not fuzzed (add a driver): {', '.join(missing)}")


DIST_TO_NAME = {"norm_sf", "norm_cdf", "norm_pdf", "norm_ppf", "norm_isf", "t_sf", "t_cdf", "t_pdf", "t_isf", "chi2_sf", "chi2_cdf", "f_sf", "beta_cdf"}


def one_input(src: Any) -> None:
    """One fuzz input: a driver, then the sentinel checks."""
    setup()
    driver = pick(src, DRIVERS)
    COUNTS[driver.__name__] += 1
    driver(src)
    sentinel = STATE["sentinel"]
    got = [sentinel.assign("checkout", f"user-{i}").variant for i in range(8)]
    if got != STATE["sentinel_answer"]:
        raise Finding(f"the sentinel engine changed its answers: {got} != {STATE['sentinel_answer']}")
    if stats.norm_sf(1.96) != STATE["sentinel_p"]:
        raise Finding("norm_sf(1.96) changed")
    if STATE.get("died"):
        died = STATE.pop("died")
        raise Finding(f"a background thread died: {died[0]}")


# ---- running ---------------------------------------------------------------------------------


def native_env() -> dict:
    """Builds (when missing or older than the sources) the SanitizerCoverage build of the native
    module, unpacks it with the package's Python files in target/fuzz-py/site, and returns the
    environment that runs against it."""
    site = WORK / "site"
    so = site / "litmus" / "_litmus.abi3.so"
    sources = [p for d in ("litmus-core/src", "litmus-py/src", "litmus-py/python") for p in (REPO / d).rglob("*") if p.is_file()]
    newest = max(p.stat().st_mtime for p in sources)
    if not so.exists() or so.stat().st_mtime < newest:
        flags = " ".join(
            [
                "-Cpasses=sancov-module",
                "-Cllvm-args=-sanitizer-coverage-level=4",
                "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
                "-Cllvm-args=-sanitizer-coverage-pc-table",
                "-Cllvm-args=-sanitizer-coverage-trace-compares",
                "-Coverflow-checks=on",
                "--cfg fuzzing",
            ]
        )
        venv_bin = pathlib.Path(sys.executable).parent
        env = dict(os.environ, RUSTFLAGS=flags, PATH=f"{venv_bin}:{os.environ['PATH']}")
        wheels = WORK / "wheels"
        shutil.rmtree(wheels, ignore_errors=True)
        print("fuzz: building the instrumented native module (target/fuzz-py)...", file=sys.stderr, flush=True)
        # An explicit --target keeps RUSTFLAGS off build scripts and proc macros.
        subprocess.run(
            ["nice", "-n", "10", str(venv_bin / "maturin"), "build", "--release", "--locked", "-m", "litmus-py/Cargo.toml",
             "--target", "x86_64-unknown-linux-gnu", "--target-dir", str(WORK), "--out", str(wheels)],
            cwd=REPO, env=env, check=True,
        )
        shutil.rmtree(site, ignore_errors=True)
        with zipfile.ZipFile(next(wheels.glob("*.whl"))) as z:
            z.extractall(site)
    import atheris  # noqa: PLC0415

    runtime = pathlib.Path(atheris.path()) / "ubsan_with_fuzzer.so"
    if not runtime.exists():
        raise SystemExit(f"no {runtime}: atheris did not install libFuzzer's runtime library")
    return dict(os.environ, LD_PRELOAD=str(runtime), PYTHONPATH=str(site), LITMUS_FUZZ_CHILD="native", UBSAN_OPTIONS="silence_unsigned_overflow=1")


def report(seconds_run: float) -> None:
    total = sum(COUNTS.values())
    by = ", ".join(f"{k[4:]} {v}" for k, v in sorted(COUNTS.items()))
    print(f"fuzz: {total} inputs in {seconds_run:.0f} s ({total / max(seconds_run, 1e-9):.0f}/s): {by}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=600, help="how long to fuzz (default 600)")
    parser.add_argument("--native", action="store_true", help="instrument the Rust code too (builds target/fuzz-py)")
    parser.add_argument("--reproduce", metavar="FILE", help="run one input (a crash file) and print what it does")
    parser.add_argument("--random", type=int, metavar="SEED", help="no atheris: a seeded random sweep of --seconds")
    parser.add_argument("libfuzzer", nargs="*", help="more libFuzzer flags (after --)")
    args = parser.parse_args()
    import warnings  # noqa: PLC0415

    warnings.simplefilter("ignore")  # numpy's overflow warnings on the odd input

    if args.native and os.environ.get("LITMUS_FUZZ_CHILD") != "native":
        env = native_env()
        os.execve(sys.executable, [sys.executable, *sys.argv], env)

    if args.random is not None:
        start = time.monotonic()
        i = 0
        seen: dict = {}
        while time.monotonic() - start < args.seconds:
            seed = args.random * 1_000_003 + i
            i += 1
            try:
                one_input(RandomSource(seed))
            except Finding as e:
                key = str(e)[:80]
                if key not in seen:
                    seen[key] = seed
                    print(f"fuzz: FINDING (RandomSource({seed})): {e}", file=sys.stderr, flush=True)
        report(time.monotonic() - start)
        sys.exit(1 if seen else 0)

    import atheris  # noqa: PLC0415

    with atheris.instrument_imports(include=["litmus"]):
        setup()
    print(f"fuzz: litmus from {pathlib.Path(litmus.__file__).parent}", file=sys.stderr, flush=True)

    start = time.monotonic()
    last = [start]

    def target(data: bytes) -> None:
        one_input(AtherisSource(atheris.FuzzedDataProvider(data)))
        t = time.monotonic()
        if t - last[0] >= 60:
            last[0] = t
            report(t - start)

    if args.reproduce:
        with open(args.reproduce, "rb") as f:
            data = f.read()
        try:
            target(data)
        except Finding:
            traceback.print_exc()
            sys.exit(1)
        print("fuzz: the input passes", file=sys.stderr)
        return

    mode = "native" if args.native else "python"
    corpus = WORK / f"corpus-{mode}"
    artifacts = WORK / "artifacts"
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    flags = [
        sys.argv[0],
        f"-max_total_time={args.seconds}",
        "-timeout=60",
        "-rss_limit_mb=4096",
        "-max_len=4096",
        "-len_control=0",  # the provider consumes long inputs from the start
        "-print_final_stats=1",
        f"-artifact_prefix={artifacts}/",
        *args.libfuzzer,
        str(corpus),
    ]
    atheris.Setup(flags, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
