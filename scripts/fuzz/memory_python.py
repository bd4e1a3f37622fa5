#!/usr/bin/env python3
"""Memory of the litmus-experiments wheel over 10 million distinct unit ids: does any per-unit
state grow without bound?

The per-unit state the SDK keeps in process: the engine's exposure deduplication (at most
``exposure_dedupe_size`` (experiment, unit) pairs, 8-byte hashes in a table that grows to that) and the event
tracker's queue (at most ``max_queue`` events). Sticky stores are the application's own (a dict
given as ``sticky_store`` holds a variant per unit by design) and are not used here.

Each unit is assigned to two experiments (one with targeting attributes), every exposure goes to
an ``EventTracker`` through ``on_exposure``, and every fourth unit also tracks a purchase. The
tracker sends to a local sink server (a thread answering ``{}``), so its queue, batches and gzip
buffers cycle as in production; when it cannot keep up, events are dropped and counted.

Every ``--every`` units (after ``gc.collect()``) the script samples VmRSS from
/proc/self/status, prints a table and ends with a verdict: bounded when the RSS at the last
sample is within ``--margin-mib`` (64 MiB) of the RSS at the first.

    .venv/bin/python scripts/fuzz/memory_python.py                    # 10M units, ~5-10 min
    .venv/bin/python scripts/fuzz/memory_python.py --units 2000000 --every 200000
"""

from __future__ import annotations

import argparse
import gc
import http.server
import logging
import sys
import threading
import time

import litmus

CONFIG = {
    "schema_version": 1,
    "version": "v1",
    "experiments": [
        {"key": "checkout", "status": "running", "variants": [{"key": "control"}, {"key": "treatment"}]},
        {
            "key": "search",
            "status": "running",
            "traffic": 0.8,
            "variants": [{"key": "a"}, {"key": "b"}, {"key": "c"}],
            "targeting": {"attribute": "country", "op": "in", "value": ["DE", "AT", "CH", "US"]},
        },
    ],
}
COUNTRIES = ["DE", "AT", "CH", "US", "FR"]


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class Sink(http.server.BaseHTTPRequestHandler):
    """POST /events: reads the body, answers 200 {} (every event taken)."""

    requests = 0
    bytes = 0
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        Sink.requests += 1
        Sink.bytes += n
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10_000_000)
    parser.add_argument("--every", type=int, default=1_000_000)
    parser.add_argument("--margin-mib", type=float, default=64.0)
    parser.add_argument("--no-tracker", action="store_true", help="engine only (no on_exposure, no tracker)")
    args = parser.parse_args()

    # A full queue is logged as a warning after each batch that goes through: the drops are
    # counted in the table instead.
    logging.getLogger("litmus").setLevel(logging.ERROR)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tracker = None
    if not args.no_tracker:
        tracker = litmus.EventTracker(
            f"http://127.0.0.1:{server.server_address[1]}", "memory-check", flush_interval=1.0, max_queue=10_000
        )
    engine = litmus.Engine(CONFIG, on_exposure=tracker.on_exposure if tracker else None)

    print(f"litmus {litmus.__version__} (Python {sys.version.split()[0]}): {args.units:,} distinct unit ids, "
          f"exposure_dedupe_size 250,000, tracker max_queue {'10,000' if tracker else '-'}", flush=True)
    header = f"{'units':>12} {'RSS MiB':>9} {'vs first':>9} {'remembered':>11} {'queued':>7} {'sent':>11} {'dropped':>11} {'requests':>9} {'s':>6}"
    print(header)
    print("-" * len(header), flush=True)
    samples: list[tuple[int, float]] = []
    start = time.monotonic()
    assign = engine.assign
    for i in range(args.units):
        unit = f"unit-{i:09d}"
        assign("checkout", unit)
        assign("search", unit, {"country": COUNTRIES[i % 5], "plan": "pro"})
        if tracker is not None and i % 4 == 0:
            tracker.track(unit, "purchase", 9.99, {"currency": "EUR"})
        if (i + 1) % args.every == 0:
            gc.collect()
            rss = rss_mib()
            samples.append((i + 1, rss))
            delta = rss - samples[0][1]
            q, sent, dropped = (tracker.queued, tracker.sent, tracker.dropped) if tracker else (0, 0, 0)
            print(f"{i + 1:>12,} {rss:>9.1f} {delta:>+9.1f} {engine.exposures_remembered:>11,} {q:>7,} {sent:>11,} "
                  f"{dropped:>11,} {Sink.requests:>9,} {time.monotonic() - start:>6.0f}", flush=True)
    if tracker is not None:
        tracker.close(10)
    server.shutdown()
    if len(samples) < 2:
        print("verdict: too few samples (raise --units or lower --every)")
        return 2
    growth = samples[-1][1] - samples[0][1]
    bounded = growth < args.margin_mib
    print(f"verdict: {'BOUNDED' if bounded else 'GROWING'}: RSS {samples[0][1]:.1f} MiB at {samples[0][0]:,} units, "
          f"{samples[-1][1]:.1f} MiB at {samples[-1][0]:,} ({growth:+.1f} MiB; margin {args.margin_mib:g} MiB)")
    return 0 if bounded else 1


if __name__ == "__main__":
    sys.exit(main())
