#!/usr/bin/env bash
# Create (or reuse) the Python venv for the independent spec checks in scripts/spec/.
#
#   scripts/python-env.sh            # venv at $REPO/.venv
#   LITMUS_VENV=/some/dir scripts/python-env.sh
#
# Idempotent: the venv is created only if missing, and pip runs only when the pinned
# versions in scripts/spec/requirements.txt are not already installed. Prints the venv
# path on its last line.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/.." && pwd)"
VENV="${LITMUS_VENV:-$REPO/.venv}"
REQS="$REPO/scripts/spec/requirements.txt"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "python-env: creating venv at $VENV" >&2
    "$PYTHON" -m venv "$VENV" || {
        # Debian's own python3 ships the venv module as a separate package.
        rm -rf "$VENV"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        "$PYTHON" -m venv "$VENV"
    }
fi

# Check the installed versions against the pins (lines "name==version") without pip.
pins_satisfied() {
    "$VENV/bin/python" - "$REQS" <<'PY'
import sys
from importlib import metadata

ok = True
with open(sys.argv[1], encoding="utf-8") as fh:
    for line in fh:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, version = line.partition("==")
        try:
            installed = metadata.version(name.strip())
        except metadata.PackageNotFoundError:
            ok = False
            continue
        if installed != version.strip():
            ok = False
sys.exit(0 if ok else 1)
PY
}

if ! pins_satisfied; then
    echo "python-env: installing $(grep -v '^#' "$REQS" | grep -v '^$' | tr '\n' ' ')" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
    if ! pins_satisfied; then
        echo "python-env: installed versions do not match $REQS" >&2
        exit 1
    fi
fi

echo "$VENV"
