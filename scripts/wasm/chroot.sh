#!/usr/bin/env bash
# chroot.sh [-d DIR] CMD [ARGS...] — run CMD inside the Debian wasm build root (setup.sh).
#
# DIR (default: the current directory) is bind-mounted into the root at the same path and CMD
# runs there, so paths and build outputs are the host's. All mounts live in a private mount
# namespace and vanish when CMD exits. The host environment is not passed in (no CARGO_* or
# RUSTUP_* leaks); pass variables explicitly: chroot.sh env FOO=1 cargo build ...
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
DIR=$PWD
if [ "${1:-}" = "-d" ]; then DIR=$2; shift 2; fi
DIR=$(realpath "$DIR")
[ $# -gt 0 ] || { echo "usage: $0 [-d DIR] CMD [ARGS...]" >&2; exit 2; }
[ -f "$WASM_ROOT/.wasm-setup-ok" ] || { echo "wasm root $WASM_ROOT is not set up: run scripts/wasm/setup.sh" >&2; exit 1; }

exec unshare --mount --propagation private -- /bin/bash -c '
set -e
R=$1 D=$2; shift 2
mkdir -p "$R$D"
mount --bind "$D" "$R$D"
mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
cp -L /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
# Registry TLS may go through a proxy whose CA is only in the host bundle: lay it over the root one.
B=/etc/ssl/certs/ca-certificates.crt
[ -f "$B" ] && [ -f "$R$B" ] && mount --bind -o ro "$(readlink -f $B)" "$R$B"
exec chroot "$R" /usr/bin/env -i \
  HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
  PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  CARGO_TERM_COLOR=never \
  /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$D" "$@"
' wasm-chroot "$WASM_ROOT" "$DIR" "$@"
