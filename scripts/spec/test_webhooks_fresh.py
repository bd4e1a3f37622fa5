"""The committed webhook fixtures (fixtures/webhooks/signatures.json) are exactly what
gen_webhooks.py writes, and they cover what docs/webhooks.md promises."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import gen_webhooks

HERE = pathlib.Path(__file__).resolve().parent
COMMITTED = gen_webhooks.REPO / "fixtures" / "webhooks"


def committed() -> dict:
    return json.loads((COMMITTED / gen_webhooks.FILE).read_text(encoding="utf-8"))


def test_fixtures_are_fresh(tmp_path: pathlib.Path) -> None:
    """Running the generator into a temporary directory reproduces the committed file byte for
    byte (so the fixtures cannot drift from the generator)."""
    subprocess.run([sys.executable, str(HERE / "gen_webhooks.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    assert sorted(p.name for p in COMMITTED.iterdir()) == [gen_webhooks.FILE], \
        "fixtures/webhooks holds files the generator does not write"
    assert (tmp_path / gen_webhooks.FILE).read_bytes() == (COMMITTED / gen_webhooks.FILE).read_bytes(), \
        "stale fixtures: regenerate with python scripts/spec/gen_webhooks.py"


def test_generator_is_deterministic() -> None:
    assert gen_webhooks.generate() == gen_webhooks.generate()


def test_every_outcome_is_covered() -> None:
    doc = committed()
    verify = {c["expected"].get("error", "ok") for c in doc["verify"]}
    assert verify == {"ok", *gen_webhooks.ERRORS}
    assert {c["expected"].get("error", "ok") for c in doc["sign"]} == {"ok", "invalid_argument"}
    retry = [c["expected"] for c in doc["retry"]]
    assert None in retry and any(isinstance(e, int) for e in retry)


def test_the_retry_schedule_spans_a_day() -> None:
    """docs/webhooks.md promises at least 24 h of retries and nothing past 30 h, whatever the
    jitter: checked on the reference at the jitter's extremes."""
    for jitter in (0.0, 0.5, gen_webhooks.MAX_JITTER):
        first = now = 0
        n = 1
        while (nxt := gen_webhooks.reference_next_attempt_ms(n, first, now, jitter)) is not None:
            now, n = nxt, n + 1
        assert 24 * 3_600_000 <= now <= gen_webhooks.GIVE_UP_AFTER_MS, (jitter, now)
