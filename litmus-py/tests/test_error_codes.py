"""``litmus.errors`` copies core's error codes into its class table by hand: this keeps the copy
in step with core's list (``docs/errors.md``, which ``litmus-core/tests/docs.rs`` checks against
``litmus_core::Error::CODES``) and with the native module's ``ERROR_CODES`` (core's own list)."""

from __future__ import annotations

import pathlib
import re

import litmus
from litmus import errors

REPO = pathlib.Path(__file__).resolve().parents[2]


def documented_core_codes() -> set[str]:
    """The codes of the first table of docs/errors.md: core's ``Error`` codes."""
    text = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
    core_section = text.split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", core_section, re.MULTILINE))


def test_the_documented_list_is_cores_list() -> None:
    assert documented_core_codes() == set(litmus.ERROR_CODES)


def test_every_core_code_has_its_exception_class() -> None:
    special = {
        "invalid_argument": errors.InvalidArgumentError,
        "event_too_large": errors.InvalidArgumentError,
        "type_mismatch": errors.InvalidArgumentError,
        "flag_unavailable": errors.InvalidArgumentError,
        "degenerate_data": errors.DegenerateDataError,
        "signature_missing": errors.SignatureError,
        "signature_malformed": errors.SignatureError,
        "signature_expired": errors.SignatureError,
        "signature_mismatch": errors.SignatureError,
    }
    for code in litmus.ERROR_CODES:
        expected = special.get(code, errors.ConfigError)
        assert errors.error_class(code) is expected, code


def test_the_table_names_no_code_core_lacks() -> None:
    assert errors._CONFIG_CODES <= set(litmus.ERROR_CODES)
    assert errors._SIGNATURE_CODES <= set(litmus.ERROR_CODES)
