#!/usr/bin/env bash
# chroot.sh [-d DIR] CMD [ARGS...] — run CMD inside the Debian wasm build root (setup.sh).
#
# DIR (default: the current directory) is bind-mounted into the root at the same path and CMD
# runs there, so paths and build outputs (DIR/target/wasm/...) are the host's. All mounts live in
# a private mount namespace and vanish when CMD exits; parallel runs are fine. The host's CA
# bundle is laid over the root's on every run (registry TLS may go through a proxy whose CA only
# the host has). The host environment is not passed in (no CARGO_*/RUSTUP_* leaks): pass
# variables explicitly, e.g. chroot.sh env RUSTFLAGS=... cargo build ...
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"
usage() { echo "usage: $0 [-d DIR] CMD [ARGS...]" >&2; exit 2; }

DIR=$PWD
case ${1:-} in
  -d) [ $# -ge 2 ] || usage; DIR=$2; shift 2 ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || usage
[ -d "$DIR" ] || die "no such directory: $DIR"
DIR=$(realpath "$DIR")
[ "$DIR" != / ] || die "refusing to bind-mount / into the root"
case $DIR/ in "$WASM_ROOT"/*) die "DIR is inside the root $WASM_ROOT" ;; esac
[ -f "$WASM_ROOT/.wasm-setup-ok" ] \
  || die "the wasm root $WASM_ROOT is missing or incomplete: run scripts/wasm/setup.sh first"
[ "$(id -u)" = 0 ] || die "chroot.sh must run as root (mount, chroot)"

root_run "$WASM_ROOT" -b "$DIR" CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}" \
  PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin -- "$@"
