#!/usr/bin/env bash
# test-python.sh — build the litmus-experiments wheel (maturin, release), install it into the
# project venv (.venv, made by python-env.sh), build litmus-server (debug) for the ConfigClient
# tests that run against the real server (LITMUS_SERVER_BIN), and run litmus-py/tests against
# the INSTALLED package, then mypy --strict on the Python examples and the pure-Python config
# client and event tracker, and mypy.stubtest on the installed package. Prints pytest's summary;
# exits non-zero on any failure, and when pytest collected no test (its exit code 5).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV=$(bash scripts/python-env.sh)
PY="$VENV/bin/python"
REQ=litmus-py/tests/requirements.txt
if ! "$PY" - "$REQ" <<'PYEOF'
import sys
from importlib.metadata import version, PackageNotFoundError
ok = True
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    try:
        ok &= version(name) == want
    except PackageNotFoundError:
        ok = False
sys.exit(0 if ok else 1)
PYEOF
then
  "$PY" -m pip install -q -r "$REQ"
fi
rm -rf target/wheels
# zig links against glibc 2.17 symbols, so the wheel is manylinux2014: it installs on any Linux
# of the last ten years, not only on this machine's glibc.
PATH="$VENV/bin:$PATH" "$VENV/bin/maturin" build --release --locked -m litmus-py/Cargo.toml \
  --zig --compatibility manylinux2014 --out target/wheels
"$PY" -m pip install -q --force-reinstall --no-deps target/wheels/litmus_experiments-*.whl
# The real server, for test_client.py (its tests are skipped when LITMUS_SERVER_BIN is unset).
cargo build -p litmus-server --locked
export LITMUS_SERVER_BIN="$ROOT/target/debug/litmus-server"
# Run from a directory without the source package, with the tests' own directory on the path.
set +e
"$PY" -m pytest -q -p no:cacheprovider --rootdir litmus-py/tests litmus-py/tests "$@"
rc=$?
set -e
[ "$rc" = 0 ] || { echo "python tests failed (pytest exit $rc; 5 means no test ran)" >&2; exit 1; }
# The stubs: a typed example passes mypy --strict, and stubtest finds no mismatch between the
# stubs and the installed module (run outside the source tree).
"$PY" -m mypy --strict --no-incremental examples/python/quickstart.py examples/python/config_client.py \
  examples/python/track_events.py
"$PY" -m mypy --strict --no-incremental --follow-imports=silent \
  litmus-py/python/litmus/client.py litmus-py/python/litmus/errors.py \
  litmus-py/python/litmus/tracker.py litmus-py/python/litmus/_events.py litmus-py/python/litmus/_reporting.py
(cd "$(mktemp -d)" && "$PY" -m mypy.stubtest litmus)
"$PY" examples/python/quickstart.py >/dev/null
