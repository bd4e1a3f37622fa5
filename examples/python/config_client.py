"""Keep an Engine in sync with a Litmus server (``litmus.ConfigClient``).

    LITMUS_ADMIN_KEY=dev-key cargo run -p litmus-server &
    LITMUS_URL=http://127.0.0.1:8080 LITMUS_SDK_KEY=dev-key python examples/python/config_client.py

Without a server it still assigns at once, from the bootstrap file (examples/config.json),
and reports the config as stale. Set LITMUS_WAIT=60 to watch changes arrive for a minute
(publish one with the admin API meanwhile).

Type-checked with ``mypy --strict`` (scripts/test-python.sh).
"""

from __future__ import annotations

import logging
import os
import pathlib
import tempfile
import time

import litmus

BOOTSTRAP = pathlib.Path(__file__).resolve().parents[1] / "config.json"


def on_update(engine: litmus.Engine) -> None:
    print(f"config {engine.version}: {', '.join(engine.experiment_keys()) or 'no experiments'}")


def on_error(error: Exception) -> None:
    code = error.code if isinstance(error, litmus.LitmusError) else type(error).__name__
    print(f"config client: {code}: {error}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    url = os.environ.get("LITMUS_URL", "http://127.0.0.1:8080")
    key = os.environ.get("LITMUS_SDK_KEY", "dev-key")
    cache = pathlib.Path(tempfile.gettempdir()) / "litmus-example-config.json"
    client = litmus.ConfigClient(
        url,
        key,
        mode="stream",  # or "poll", every poll_interval seconds
        bootstrap=BOOTSTRAP,  # served when the server cannot be reached at start
        cache_path=cache,  # the last good config, written after every change
        on_update=on_update,
        on_error=on_error,
    )
    with client:  # start(): one fetch (at most `timeout` s), else the cache or bootstrap file
        deadline = time.monotonic() + float(os.environ.get("LITMUS_WAIT", "0"))
        while True:
            # Take the engine once per request: it is one consistent config.
            engine = client.engine
            a = engine.assign("checkout-button", "user-1", {"country": "DE"})
            print(f"version={client.version} stale={client.stale} variant={a.variant} ({a.reason})")
            if time.monotonic() >= deadline:
                break
            time.sleep(5)


if __name__ == "__main__":
    main()
