#!/usr/bin/env bash
# python-env.sh — the project's Python virtual environment (default: REPO/.venv, or
# LITMUS_VENV), with the pinned packages of scripts/spec/requirements.txt. Idempotent: pip runs
# only when the requirements changed since the last install. Prints the venv path.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=${LITMUS_VENV:-$REPO/.venv}
REQ=$REPO/scripts/spec/requirements.txt
PY=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV" || {
    # Debian's python3 needs the venv module as a package.
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    "$PY" -m venv "$VENV"
  }
fi
STAMP=$VENV/.litmus-requirements
if ! cmp -s "$REQ" "$STAMP"; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$STAMP"
fi
echo "$VENV"
