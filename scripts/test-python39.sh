#!/usr/bin/env bash
# test-python39.sh — the cp39-abi3 wheel on a real CPython 3.9: build it on the host (maturin
# with zig as the linker, manylinux2014, so glibc 2.17 suffices), then in a Debian bullseye root
# (its python3 is 3.9; made with debootstrap from this machine's Debian mirror, kept in
# $PY39_ROOT, first run a few minutes) install it with the 3.9 test requirements and run
# litmus-py/tests against the installed package. Exits non-zero on any failure, and when pytest
# collected no test (its exit code 5).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=wasm/common.sh
. "$HERE/wasm/common.sh"   # log, die, run, debian_mirror, debian_security_mirror, REPO_ROOT
ROOT=$(realpath -m "${PY39_ROOT:-/opt/py39-root}")
SUITE=bullseye
PKGS="python3 python3-venv ca-certificates"
REQ=litmus-py/tests/requirements-py39.txt
[ "$(id -u)" = 0 ] || die "test-python39.sh must run as root (debootstrap, mount, chroot)"
case $ROOT in /|/bin|/boot|/dev|/etc|/home|/lib|/lib64|/opt|/proc|/root|/run|/sbin|/srv|/sys|/tmp|/usr|/var)
  die "refusing PY39_ROOT=$ROOT" ;;
esac

# Runs a command in the root, in the repository (bind-mounted at its own path), with the venv
# first on PATH (common.sh's root_run: private mounts, env -i).
in_root() {
  root_run "$ROOT" -b "$REPO_ROOT" DEBIAN_FRONTEND=noninteractive \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin -- "$@"
}

mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock -w 900 9 || die "another run holds $ROOT.lock"
if [ "$(cat "$ROOT/.root-ok" 2>/dev/null)" != "$SUITE $PKGS" ]; then
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || {
    log "apt-get install debootstrap (host)"
    run host-apt-update apt-get update
    run host-apt-install env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap
  }
  MIRROR=${DEBIAN_MIRROR:-$(debian_mirror)}
  if [ -e "$ROOT" ]; then
    findmnt -rn -o TARGET | grep -q "^$ROOT/" && die "something is mounted under $ROOT; unmount it first"
    [ -d "$ROOT/debootstrap" ] || [ -f "$ROOT/.debootstrap-ok" ] || [ -z "$(ls -A "$ROOT")" ] \
      || die "$ROOT exists and is not a root made by this script: move it away or set PY39_ROOT"
    rm -rf --one-file-system "$ROOT"
  fi
  log "debootstrap --variant=minbase $SUITE -> $ROOT (mirror $MIRROR)"
  run py39-debootstrap "$(command -v debootstrap || echo /usr/sbin/debootstrap)" --variant=minbase \
    --include="${PKGS// /,}" "$SUITE" "$ROOT" "$MIRROR"
  touch "$ROOT/.debootstrap-ok"
  log "python venv in the root"
  in_root python3 -m venv /opt/venv
  echo "$SUITE $PKGS" >"$ROOT/.root-ok"
fi
log "root $ROOT: $(in_root python3 --version)"

# The test requirements for 3.9 (the last releases that support it), when not installed yet.
if ! cmp -s "$REQ" "$ROOT/opt/venv/requirements.txt"; then
  log "pip install -r $REQ (in the root)"
  run py39-pip in_root pip install -q -r "$REQ"
  cp "$REQ" "$ROOT/opt/venv/requirements.txt"
fi

log "maturin build --features abi3-py39 --zig --compatibility manylinux2014"
VENV=$(bash "$HERE/python-env.sh")
PATH="$VENV/bin:$PATH" maturin build --release --locked -m litmus-py/Cargo.toml \
  --features abi3-py39 --zig --compatibility manylinux2014 --out target/wheels39 2>&1 | tail -1
WHEEL=$(ls -t target/wheels39/litmus_experiments-*-cp39-abi3-*.whl | head -1)
in_root pip install -q --force-reinstall --no-deps "$WHEEL"

set +e
in_root python -m pytest -q -p no:cacheprovider --rootdir litmus-py/tests litmus-py/tests "$@"
rc=$?
set -e
[ "$rc" = 0 ] || { echo "python 3.9 tests failed (pytest exit $rc; 5 means no test ran)" >&2; exit 1; }
