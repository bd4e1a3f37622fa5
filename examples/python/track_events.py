"""Send exposures and metric events to a Litmus server (``litmus.EventTracker``).

    LITMUS_ADMIN_KEY=dev-key cargo run -p litmus-server &
    LITMUS_URL=http://127.0.0.1:8080 LITMUS_SDK_KEY=dev-key python examples/python/track_events.py

The engine reports each exposure to the tracker (``on_exposure=tracker.on_exposure``); the app
tracks what the users then do. A background thread sends both in batches. Without a server
the events are retried until ``close()`` gives up (after LITMUS_CLOSE_TIMEOUT seconds, 2 by
default), and the errors are printed.

Type-checked with ``mypy --strict`` (scripts/test-python.sh).
"""

from __future__ import annotations

import logging
import os
import pathlib
import random

import litmus

CONFIG = pathlib.Path(__file__).resolve().parents[1] / "config.json"


def on_error(error: Exception) -> None:
    code = error.code if isinstance(error, litmus.LitmusError) else type(error).__name__
    print(f"event tracker: {code}: {error}")


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # on_error prints the errors already
    url = os.environ.get("LITMUS_URL", "http://127.0.0.1:8080")
    key = os.environ.get("LITMUS_SDK_KEY", "dev-key")
    tracker = litmus.EventTracker(url, key, flush_interval=1.0, on_error=on_error)
    with tracker:  # close() at the end: sends what is left (also done at exit)
        engine = litmus.load_engine(CONFIG, on_exposure=tracker.on_exposure)
        rng = random.Random(7)
        for i in range(200):
            user = f"user-{i}"
            a = engine.assign("checkout-button", user, {"country": "DE"})  # an exposure, once per user
            if a.in_experiment and rng.random() < (0.12 if a.variant == "treatment" else 0.10):
                tracker.track(user, "purchase", round(rng.uniform(5, 80), 2), {"variant": a.variant})
        delivered = tracker.flush(timeout=float(os.environ.get("LITMUS_CLOSE_TIMEOUT", "2")))
        print(f"flushed: {delivered}; sent={tracker.sent} queued={tracker.queued} dropped={tracker.dropped}")
        if not delivered:
            tracker.close(timeout=0)  # give up now: the server is not there
    print(f"sent={tracker.sent} dropped={tracker.dropped}")


if __name__ == "__main__":
    main()
